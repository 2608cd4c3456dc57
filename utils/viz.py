"""Figures for the course: image grids, curves, confusion matrices, filters, diagrams.

Every helper returns a Matplotlib ``Figure`` and never calls ``plt.show()``, so it
works headless (tests, CI) and the notebook displays the figure once when it is the
cell's last expression. Pixel ranges are always explicit.

Example:
    >>> import numpy as np
    >>> figure = show_images(np.zeros((4, 28, 28)), num_cols=2)
    >>> len(figure.axes)
    4
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch

from utils import REPO_ROOT

FIGURES_DIR = REPO_ROOT / "figures"


def _check_images(images: np.ndarray) -> np.ndarray:
    images = np.asarray(images)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim not in (3, 4) or (images.ndim == 4 and images.shape[-1] != 3):
        raise ValueError(
            f"images has shape {images.shape}; expected (num_images, height, width) "
            "or (num_images, height, width, 1 or 3). Fix: add a batch axis with "
            "images[None] for a single image."
        )
    return images


def _scale_each_to_unit(tiles: np.ndarray) -> np.ndarray:
    # Min-max scale every tile of (num_tiles, height, width) on its own to [0, 1].
    low = tiles.min(axis=(1, 2), keepdims=True)
    spread = np.ptp(tiles, axis=(1, 2), keepdims=True)
    return (tiles - low) / np.where(spread == 0, 1, spread)


def _scale_each_symmetric(tiles: np.ndarray) -> np.ndarray:
    # Scale every tile by its largest |value| to [0, 1], with zero at 0.5 (mid-grey).
    peak = np.abs(tiles).max(axis=(1, 2), keepdims=True)
    return 0.5 + 0.5 * tiles / np.where(peak == 0, 1, peak)


def show_images(
    images: np.ndarray,
    *,
    titles: Sequence[str] | None = None,
    num_cols: int = 8,
    value_range: tuple[float, float] = (0.0, 1.0),
    suptitle: str | None = None,
) -> Figure:
    """Plot a batch of images as a captioned grid.

    Args:
        images: Array of shape (num_images, height, width[, channels]).
        titles: Optional caption per image, e.g. true and predicted labels.
        num_cols: Number of grid columns.
        value_range: Pixel range of ``images``; use (-1.0, 1.0) for tanh outputs
            and (0, 255) for raw uint8 pixels.
        suptitle: Optional title over the whole grid.

    Returns:
        The figure, so the caller can save it.

    Raises:
        ValueError: If the shape is not a batch of images, ``titles`` does not have
            one entry per image, or ``value_range`` is empty.

    Example:
        >>> figure = show_images(np.zeros((3, 8, 8)), titles=["a", "b", "c"])
        >>> [axis.get_title() for axis in figure.axes]
        ['a', 'b', 'c']
    """
    images = _check_images(images)
    num_images = len(images)
    if titles is not None and len(titles) != num_images:
        raise ValueError(
            f"titles has {len(titles)} entries for {num_images} images; expected "
            "one caption per image. Fix: pass a list as long as the batch, or None."
        )
    low, high = value_range
    if not high > low:
        raise ValueError(
            f"value_range is {value_range}; expected (low, high) with high > low, "
            "e.g. (0.0, 1.0) or (-1.0, 1.0)."
        )
    if num_cols < 1:
        raise ValueError(f"num_cols must be >= 1, got {num_cols}.")
    num_cols = min(num_cols, max(num_images, 1))
    num_rows = max(1, -(-num_images // num_cols))
    figure, axes = plt.subplots(
        num_rows,
        num_cols,
        figsize=(1.3 * num_cols, 1.4 * num_rows + (0.3 if suptitle else 0)),
        squeeze=False,
    )
    for index, axis in enumerate(axes.flat):
        if index >= num_images:
            figure.delaxes(axis)
            continue
        image = (np.clip(images[index], low, high) - low) / (high - low)
        axis.imshow(image, cmap="gray" if image.ndim == 2 else None, vmin=0, vmax=1)
        axis.set_axis_off()
        if titles is not None:
            axis.set_title(str(titles[index]), fontsize=8)
    if suptitle:
        figure.suptitle(suptitle)
    figure.tight_layout()
    return figure


def plot_history(
    history: Mapping[str, Sequence[float]] | object,
    *,
    metrics: Sequence[str] = ("loss", "accuracy"),
    title: str = "Training curves",
) -> Figure:
    """Plot training and validation curves, one panel per metric.

    Epochs are numbered from 1. A ``History`` knows its epochs (``history.epoch``),
    so a run that resumed after a disconnect, or started at ``initial_epoch``, is
    drawn at its real epochs rather than from 1 again.

    Args:
        history: A Keras ``History`` or its ``.history`` dict.
        metrics: Metric names; ``val_<name>`` is drawn beside each when present.
        title: Figure title.

    Returns:
        The figure.

    Raises:
        ValueError: If a metric is missing from the history.

    Example:
        >>> figure = plot_history({"loss": [1.0, 0.5], "val_loss": [1.1, 0.7]},
        ...                       metrics=["loss"])
        >>> figure.axes[0].get_xlabel(), figure.axes[0].lines[0].get_xdata().tolist()
        ('Epoch', [1, 2])
    """
    values = getattr(history, "history", history)
    recorded_epochs = list(getattr(history, "epoch", []))
    missing = [name for name in metrics if name not in values]
    if missing:
        raise ValueError(
            f"history has no {missing}; it holds {sorted(values)}. Fix: pass "
            "metrics=[...] with names from that list."
        )
    figure, axes = plt.subplots(
        1, len(metrics), figsize=(4.5 * len(metrics), 3.2), squeeze=False
    )
    for axis, name in zip(axes.flat, metrics, strict=True):
        epochs = np.arange(1, len(values[name]) + 1)
        if len(recorded_epochs) == len(values[name]):
            epochs = np.asarray(recorded_epochs) + 1  # Keras counts from 0.
        axis.plot(epochs, values[name], marker="o", label="training")
        if f"val_{name}" in values:
            axis.plot(epochs, values[f"val_{name}"], marker="o", label="validation")
        axis.set_xlabel("Epoch")
        axis.set_ylabel(name.replace("_", " ").capitalize())
        axis.set_title(name.replace("_", " ").capitalize())
        axis.legend()
    figure.suptitle(title)
    figure.tight_layout()
    return figure


def plot_confusion_matrix(
    true_labels: np.ndarray,
    predicted_labels: np.ndarray,
    *,
    class_names: Sequence[str],
    title: str = "Confusion matrix",
) -> Figure:
    """Plot a confusion matrix with counts in each cell.

    Args:
        true_labels: Integer labels, shape (num_examples,).
        predicted_labels: Integer predictions, same shape.
        class_names: One name per class.
        title: Figure title.

    Returns:
        The figure.

    Raises:
        ValueError: If the label arrays differ in length or hold a label outside
            ``range(len(class_names))``.

    Example:
        >>> figure = plot_confusion_matrix(np.array([0, 1, 1]), np.array([0, 1, 0]),
        ...                                class_names=["cat", "dog"])
        >>> figure.axes[0].get_xlabel()
        'Predicted class'
    """
    true_labels = np.asarray(true_labels).astype(int)
    predicted_labels = np.asarray(predicted_labels).astype(int)
    num_classes = len(class_names)
    if true_labels.shape != predicted_labels.shape:
        raise ValueError(
            f"true_labels has shape {true_labels.shape} but predicted_labels has "
            f"{predicted_labels.shape}; expected the same. Fix: pass "
            "predictions.argmax(axis=1) for probability outputs."
        )
    for name, labels in (("true_labels", true_labels), ("predicted", predicted_labels)):
        if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
            raise ValueError(
                f"{name} holds labels in [{labels.min()}, {labels.max()}], expected "
                f"0..{num_classes - 1} for {num_classes} class names."
            )
    counts = np.zeros((num_classes, num_classes), dtype=int)
    np.add.at(counts, (true_labels, predicted_labels), 1)
    figure, axis = plt.subplots(figsize=(0.55 * num_classes + 2.5,) * 2)
    axis.imshow(counts, cmap="Blues")
    for row in range(num_classes):
        for column in range(num_classes):
            color = "white" if counts[row, column] > counts.max() / 2 else "black"
            axis.text(
                column,
                row,
                counts[row, column],
                ha="center",
                va="center",
                fontsize=7,
                color=color,
            )
    axis.set_xticks(range(num_classes), class_names, rotation=45, ha="right")
    axis.set_yticks(range(num_classes), class_names)
    axis.set_xlabel("Predicted class")
    axis.set_ylabel("True class")
    axis.set_title(title)
    figure.tight_layout()
    return figure


def show_filters(kernels: np.ndarray, *, title: str = "Learned filters") -> Figure:
    """Show the first-layer kernels of a ``Conv2D`` layer, one tile per filter.

    Args:
        kernels: Weights of shape (height, width, in_channels, num_filters); the
            channels are averaged. Each filter is scaled by its own largest
            absolute weight so that zero is mid-grey: bright tiles are positive
            weights, dark ones negative.
        title: Figure title.

    Returns:
        The figure.

    Raises:
        ValueError: If ``kernels`` is not 4-D.

    Example:
        >>> figure = show_filters(np.random.rand(3, 3, 1, 8))
        >>> len(figure.axes)
        8
    """
    kernels = np.asarray(kernels)
    if kernels.ndim != 4:
        raise ValueError(
            f"kernels has shape {kernels.shape}; expected (height, width, "
            "in_channels, num_filters) as in conv_layer.get_weights()[0]."
        )
    tiles = kernels.mean(axis=2).transpose(2, 0, 1)
    tiles = _scale_each_symmetric(tiles)
    titles = [f"filter {index}" for index in range(len(tiles))]
    return show_images(tiles, titles=titles, value_range=(0.0, 1.0), suptitle=title)


def show_feature_maps(
    feature_maps: np.ndarray, *, num_maps: int = 16, title: str = "Feature maps"
) -> Figure:
    """Show the channels of one image's activations, each scaled to its own range.

    Args:
        feature_maps: Array (height, width, channels) or (1, height, width, channels).
        num_maps: How many channels to show.
        title: Figure title.

    Returns:
        The figure.

    Raises:
        ValueError: If the shape is not one image's activations.

    Example:
        >>> figure = show_feature_maps(np.random.rand(1, 26, 26, 32), num_maps=4)
        >>> len(figure.axes)
        4
    """
    feature_maps = np.asarray(feature_maps)
    if feature_maps.ndim == 4 and feature_maps.shape[0] == 1:
        feature_maps = feature_maps[0]
    if feature_maps.ndim != 3:
        raise ValueError(
            f"feature_maps has shape {feature_maps.shape}; expected (height, width, "
            "channels) for one image. Fix: pass activations[0]."
        )
    maps = feature_maps[..., :num_maps].transpose(2, 0, 1)
    maps = _scale_each_to_unit(maps)
    titles = [f"channel {index}" for index in range(len(maps))]
    return show_images(maps, titles=titles, value_range=(0.0, 1.0), suptitle=title)


def save_figure(figure: Figure, name: str, *, directory: str | None = None) -> Path:
    """Save a figure as PNG under ``figures/`` (git-ignored).

    Args:
        figure: The figure to save.
        name: File stem, e.g. ``"04_confusion_matrix"``.
        directory: Another folder, if not ``figures/``.

    Returns:
        The written path.

    Raises:
        ValueError: If ``name`` contains a path separator.

    Example:
        >>> import tempfile
        >>> save_figure(plt.figure(), "demo", directory=tempfile.mkdtemp()).suffix
        '.png'
    """
    if "/" in name or "\\" in name:
        raise ValueError(
            f"name is {name!r}; expected a plain file stem such as "
            "'04_confusion_matrix'. Fix: pass the folder as directory=..."
        )
    folder = Path(directory) if directory else FIGURES_DIR
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    figure.savefig(path, dpi=120, bbox_inches="tight")
    return path


def draw_flow(
    labels: Sequence[str],
    *,
    captions: Sequence[str] | None = None,
    title: str | None = None,
) -> Figure:
    """Draw boxes joined by arrows from left to right: a pipeline or a layer stack.

    Args:
        labels: Text inside each box, in order; a newline character breaks a line.
        captions: Optional text under each box, e.g. a layer's output shape.
        title: Optional title over the diagram.

    Returns:
        The figure: one axis, one text per label and caption, one arrow patch
        between each pair of neighbouring boxes.

    Raises:
        ValueError: If ``labels`` is empty or ``captions`` does not have one entry
            per label.

    Example:
        >>> figure = draw_flow(["Input", "Conv2D"], captions=["28x28x1", "26x26x32"])
        >>> [text.get_text() for text in figure.axes[0].texts]
        ['Input', '28x28x1', 'Conv2D', '26x26x32']
    """
    labels = list(labels)
    if not labels:
        raise ValueError(
            "labels is empty; expected one text per box, e.g. ['Input', 'Conv2D']."
        )
    if captions is not None and len(captions) != len(labels):
        raise ValueError(
            f"captions has {len(captions)} entries for {len(labels)} labels; "
            "expected one caption per box. Fix: pass a list as long as labels, "
            "or None."
        )
    num_boxes = len(labels)
    figure, axis = plt.subplots(figsize=(2.3 * num_boxes, 2.2))
    axis.set(xlim=(0, 3 * num_boxes - 1), ylim=(-1.4, 1.0))
    axis.set_axis_off()
    box_style = {"boxstyle": "round,pad=0.4", "facecolor": "#e8eef7"}
    for index, label in enumerate(labels):
        centre = 3 * index + 1
        axis.text(centre, 0.2, label, ha="center", va="center", bbox=box_style)
        if captions is not None:
            axis.text(centre, -0.9, captions[index], ha="center", va="center")
        if index + 1 < num_boxes:
            arrow = FancyArrowPatch(
                (centre + 0.9, 0.2),
                (centre + 2.1, 0.2),
                arrowstyle="-|>",
                mutation_scale=18,
                color="0.3",
            )
            axis.add_patch(arrow)
    if title:
        axis.set_title(title)
    figure.tight_layout()
    return figure
