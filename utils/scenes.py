"""Scenes of MNIST digits on a larger canvas, with boxes and masks exact by design.

Lesson 06 (localisation, detection and segmentation) needs images whose boxes and
per-pixel labels are known exactly, without a download. :func:`make_scenes` builds
them from the embedded MNIST digits: each digit is cropped to its ink, resized to a
random size, dimmed at random and pasted where it overlaps no other digit, on a
background with a brightness gradient, small stroke fragments (clutter that is *not*
a digit) and Gaussian noise. Because the generator places every digit itself, the
box of each digit and the label of each pixel are exact.

Conventions:

- Boxes are ``(x_min, y_min, x_max, y_max)`` in pixels, with continuous coordinates:
  pixel ``(row, column)`` covers ``[column, column + 1) x [row, row + 1)``, so a box
  around the single pixel ``(3, 5)`` is ``(5, 3, 6, 4)`` and has area 1.
- Masks hold ``0`` for background and ``1 + digit`` for a digit's pixels (a pixel is
  the digit's when the resized digit's ink there is at least 0.5 before dimming).

Example:
    >>> import numpy as np
    >>> digits = np.zeros((1, 28, 28), dtype=np.uint8)
    >>> digits[0, 4:24, 10:18] = 255  # A crude "1".
    >>> scenes = make_scenes((digits, np.array([1])), num_scenes=2, seed=0)
    >>> scenes.images.shape, scenes.masks.shape
    ((2, 64, 64), (2, 64, 64))
    >>> [labels.tolist() for labels in scenes.labels]
    [[1], [1]]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

if TYPE_CHECKING:
    from matplotlib.figure import Figure

NUM_CLASSES = (
    10  # Digits 0-9; masks use 1 + digit, so 11 pixel classes with background.
)
INK_THRESHOLD = 0.5  # A pixel belongs to a digit where its resized ink is >= this.
BRIGHTNESS_RANGE = (0.6, 1.0)  # Each digit is dimmed by a factor drawn from this.
GRADIENT_MAX = 0.25  # Largest brightness ramp of the background across the canvas.
NOISE_STD = 0.06  # Standard deviation of the Gaussian pixel noise.
CLUTTER_RANGE = (1, 4)  # Stroke fragments per scene (inclusive bounds).
CLUTTER_SIZE = (5, 9)  # Side of a fragment in pixels (inclusive bounds).
MARGIN = 1  # Pixels kept free between the boxes of two digits and around fragments.
MAX_PLACEMENT_TRIES = 200  # Random positions tried per scene before giving up.


@dataclass(frozen=True)
class Scenes:
    """A batch of generated scenes with their ground truth.

    Attributes:
        images: Float32 array (num_scenes, size, size), pixel values in [0, 1].
        masks: Uint8 array (num_scenes, size, size): 0 background, 1 + digit.
        boxes: One float32 array (num_digits, 4) per scene, rows
            ``(x_min, y_min, x_max, y_max)`` in pixels, tight around the mask.
        labels: One int64 array (num_digits,) per scene, the digit classes 0-9.
    """

    images: np.ndarray
    masks: np.ndarray
    boxes: list[np.ndarray]
    labels: list[np.ndarray]

    def __len__(self) -> int:
        """Return the number of scenes."""
        return len(self.images)


def _check_range(name: str, value: Sequence[int], low: int, high: int) -> None:
    if len(value) != 2 or not low <= value[0] <= value[1] <= high:
        raise ValueError(
            f"{name} is {tuple(value)}; expected (minimum, maximum) with "
            f"{low} <= minimum <= maximum <= {high}. Fix: pass for example "
            f"{name}=({low}, {high})."
        )


def _check_digits(digits: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, ...]:
    if not isinstance(digits, tuple | list) or len(digits) != 2:
        raise ValueError(
            "digits must be a pair (images, labels), such as the training split "
            "of utils.data.load_mnist(); got "
            f"{type(digits).__name__}. Fix: (x_train, y_train), _ = load_mnist()."
        )
    images, labels = (np.asarray(array) for array in digits)
    if images.ndim != 3 or images.shape[0] == 0:
        raise ValueError(
            f"digit images have shape {images.shape}; expected a non-empty batch "
            "(num_digits, height, width) of grayscale digits, e.g. (60000, 28, 28)."
        )
    if labels.shape != (len(images),):
        raise ValueError(
            f"labels have shape {labels.shape}; expected ({len(images)},), one "
            "label per digit image."
        )
    if labels.min() < 0 or labels.max() >= NUM_CLASSES:
        raise ValueError(
            f"labels range over [{labels.min()}, {labels.max()}]; expected digit "
            f"classes 0..{NUM_CLASSES - 1}."
        )
    return images, labels


def _ink(image: np.ndarray) -> np.ndarray:
    # Scale a digit to [0, 1] (uint8 digits are divided by 255).
    image = image.astype(np.float32)
    return image / 255.0 if image.max() > 1.0 else image


def _resized_digit(image: np.ndarray, size: int, index: int) -> np.ndarray:
    """Crop a digit to its ink and resize it so that its longer side is ``size``."""
    ink = _ink(image)
    rows, columns = np.nonzero(ink >= INK_THRESHOLD)
    if rows.size == 0:
        raise ValueError(
            f"digit image {index} has no pixel with ink >= {INK_THRESHOLD}, so it "
            "has no box (an empty box). Fix: drop blank images from the digits."
        )
    crop = ink[rows.min() : rows.max() + 1, columns.min() : columns.max() + 1]
    scale = size / max(crop.shape)
    height = max(1, round(crop.shape[0] * scale))
    width = max(1, round(crop.shape[1] * scale))
    resized = Image.fromarray(crop).resize((width, height), Image.Resampling.BILINEAR)
    return np.clip(np.asarray(resized, dtype=np.float32), 0.0, 1.0)


def _overlaps(box: tuple[int, int, int, int], taken: list[tuple]) -> bool:
    x_min, y_min, x_max, y_max = box
    return any(
        x_min < other[2] + MARGIN
        and other[0] < x_max + MARGIN
        and y_min < other[3] + MARGIN
        and other[1] < y_max + MARGIN
        for other in taken
    )


def _backgrounds(
    rng: np.random.Generator, num_scenes: int, canvas_size: int
) -> np.ndarray:
    # A linear brightness ramp in a random direction, as uneven lighting would give:
    # 0 in one corner, `amplitude` in the opposite one.
    angles = rng.uniform(0.0, 2.0 * np.pi, size=num_scenes)
    amplitudes = rng.uniform(0.0, GRADIENT_MAX, size=num_scenes)
    cosines, sines = np.cos(angles), np.sin(angles)
    scale = (amplitudes / (np.abs(cosines) + np.abs(sines))).astype(np.float32)
    offset = (0.5 * amplitudes).astype(np.float32)
    coordinates = np.linspace(-0.5, 0.5, canvas_size, dtype=np.float32)
    across = (scale * cosines)[:, None, None] * coordinates[None, None, :]
    down = (scale * sines)[:, None, None] * coordinates[None, :, None]
    return (across + down + offset[:, None, None]).astype(np.float32)


def _one_scene(
    image: np.ndarray,
    digits: tuple[np.ndarray, np.ndarray],
    rng: np.random.Generator,
    num_digits: int,
    digit_size: tuple[int, int],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Paste digits and clutter into ``image`` in place; return mask, boxes, labels."""
    images, labels = digits
    canvas_size = image.shape[0]
    for _ in range(MAX_PLACEMENT_TRIES):
        picks = rng.integers(0, len(images), size=num_digits)
        sizes = rng.integers(digit_size[0], digit_size[1] + 1, size=num_digits)
        glyphs = [
            _resized_digit(images[pick], int(size), int(pick))
            for pick, size in zip(picks, sizes, strict=True)
        ]
        placed: list[tuple[int, int, int, int]] = []
        for glyph in glyphs:
            height, width = glyph.shape
            for _ in range(MAX_PLACEMENT_TRIES):
                top = int(rng.integers(0, canvas_size - height + 1))
                left = int(rng.integers(0, canvas_size - width + 1))
                box = (left, top, left + width, top + height)
                if not _overlaps(box, placed):
                    placed.append(box)
                    break
            else:
                break
        if len(placed) == num_digits:
            break
    else:
        raise ValueError(
            f"could not place {num_digits} digits of {digit_size[0]}-{digit_size[1]} "
            f"pixels without overlap on a {canvas_size} x {canvas_size} canvas. "
            "Fix: use fewer or smaller digits, or a larger canvas_size."
        )
    mask = np.zeros((canvas_size, canvas_size), dtype=np.uint8)
    boxes = np.zeros((num_digits, 4), dtype=np.float32)
    for index, (glyph, (left, top, right, bottom)) in enumerate(
        zip(glyphs, placed, strict=True)
    ):
        brightness = rng.uniform(*BRIGHTNESS_RANGE)
        window = image[top:bottom, left:right]
        np.maximum(window, brightness * glyph, out=window)
        inked = glyph >= INK_THRESHOLD
        mask[top:bottom, left:right][inked] = 1 + labels[picks[index]]
        rows, columns = np.nonzero(inked)
        boxes[index] = (
            left + columns.min(),
            top + rows.min(),
            left + columns.max() + 1,
            top + rows.max() + 1,
        )
    _add_clutter(image, images, rng, [tuple(box) for box in boxes.astype(int)])
    return mask, boxes, labels[picks].astype(np.int64)


def _add_clutter(
    image: np.ndarray, images: np.ndarray, rng: np.random.Generator, taken: list
) -> None:
    """Paste small stroke fragments of random digits where no digit is."""
    canvas_size = image.shape[0]
    for _ in range(int(rng.integers(CLUTTER_RANGE[0], CLUTTER_RANGE[1] + 1))):
        size = int(rng.integers(CLUTTER_SIZE[0], CLUTTER_SIZE[1] + 1))
        source = _ink(images[int(rng.integers(0, len(images)))])
        top, left = (
            int(value) for value in rng.integers(0, source.shape[0] - size + 1, size=2)
        )
        fragment = source[top : top + size, left : left + size]
        if fragment.max() < INK_THRESHOLD:
            continue
        for _ in range(10):
            row, column = (
                int(value) for value in rng.integers(0, canvas_size - size + 1, size=2)
            )
            if not _overlaps((column, row, column + size, row + size), taken):
                window = image[row : row + size, column : column + size]
                np.maximum(
                    window, rng.uniform(*BRIGHTNESS_RANGE) * fragment, out=window
                )
                break


def make_scenes(
    digits: tuple[np.ndarray, np.ndarray],
    *,
    num_scenes: int,
    canvas_size: int = 64,
    num_digits: tuple[int, int] = (1, 1),
    digit_size: tuple[int, int] = (14, 28),
    seed: int = 0,
) -> Scenes:
    """Build seeded scenes of digits with exact boxes and per-pixel labels.

    Each scene holds between ``num_digits[0]`` and ``num_digits[1]`` digits (drawn
    uniformly), each resized so that its longer side spans ``digit_size[0]`` to
    ``digit_size[1]`` pixels, placed without overlap. The same arguments and seed
    always give the same scenes.

    Args:
        digits: ``(images, labels)``: grayscale digits (num_digits, height, width),
            uint8 in [0, 255] or float in [0, 1], and their classes 0-9. Pass the
            training split for training scenes and the test split for held-out ones.
        num_scenes: How many scenes to build (0 or more).
        canvas_size: Side of the square canvas in pixels.
        num_digits: Inclusive (minimum, maximum) digits per scene; 0 is allowed.
        digit_size: Inclusive (minimum, maximum) longer side of a digit in pixels.
        seed: Seed of the random generator.

    Returns:
        The :class:`Scenes`.

    Raises:
        ValueError: If ``digits`` is not a non-empty (images, labels) pair of
            matching shapes, a digit has no ink (an empty box), a size or count is
            out of range (a digit larger than the canvas, a box outside it), or the
            digits cannot be placed without overlap.

    Example:
        >>> from utils import data
        >>> train, _ = data.load_mnist()
        >>> scenes = make_scenes(train, num_scenes=3, num_digits=(0, 3), seed=1)
        >>> len(scenes), scenes.images.dtype.name, int(scenes.masks.max()) <= 10
        (3, 'float32', True)
        >>> all(len(b) == len(l) for b, l in zip(scenes.boxes, scenes.labels))
        True
    """
    images, labels = _check_digits(digits)
    if num_scenes < 0:
        raise ValueError(f"num_scenes is {num_scenes}; expected 0 or more scenes.")
    if canvas_size < 8:
        raise ValueError(f"canvas_size is {canvas_size}; expected at least 8 pixels.")
    _check_range("num_digits", num_digits, 0, 16)
    _check_range("digit_size", digit_size, 2, canvas_size)
    rng = np.random.default_rng(seed)
    scene_images = _backgrounds(rng, num_scenes, canvas_size)
    masks = np.zeros((num_scenes, canvas_size, canvas_size), dtype=np.uint8)
    boxes, scene_labels = [], []
    for index in range(num_scenes):
        count = int(rng.integers(num_digits[0], num_digits[1] + 1))
        masks[index], scene_boxes, classes = _one_scene(
            scene_images[index], (images, labels), rng, count, digit_size
        )
        boxes.append(scene_boxes)
        scene_labels.append(classes)
    noise = rng.standard_normal(size=scene_images.shape, dtype=np.float32)
    scene_images += NOISE_STD * noise
    np.clip(scene_images, 0.0, 1.0, out=scene_images)
    return Scenes(images=scene_images, masks=masks, boxes=boxes, labels=scene_labels)


def check_boxes(boxes: np.ndarray, *, canvas_size: int | None = None) -> np.ndarray:
    """Return ``boxes`` as a float array (num_boxes, 4) after checking them.

    Args:
        boxes: Rows ``(x_min, y_min, x_max, y_max)``; an empty list is allowed.
        canvas_size: If given, every box must lie inside ``[0, canvas_size]``.

    Returns:
        The boxes as float64, shape (num_boxes, 4).

    Raises:
        ValueError: If the shape is not (num_boxes, 4), a box is inverted
            (``x_max < x_min`` or ``y_max < y_min``; a box of zero width is allowed
            and overlaps nothing), or a box leaves the canvas.

    Example:
        >>> check_boxes([[2, 3, 10, 12]], canvas_size=64).tolist()
        [[2.0, 3.0, 10.0, 12.0]]
        >>> check_boxes([]).shape
        (0, 4)
    """
    array = np.asarray(boxes, dtype=np.float64)
    if array.size == 0:
        return array.reshape(0, 4)
    if array.ndim != 2 or array.shape[1] != 4:
        raise ValueError(
            f"boxes have shape {array.shape}; expected (num_boxes, 4) with rows "
            "(x_min, y_min, x_max, y_max). Fix: for one box pass [[x0, y0, x1, y1]]."
        )
    inverted = (array[:, 2] < array[:, 0]) | (array[:, 3] < array[:, 1])
    if inverted.any():
        raise ValueError(
            f"box {array[np.argmax(inverted)].tolist()} is inverted; expected "
            "x_max >= x_min and y_max >= y_min (rows are x_min, y_min, x_max, y_max). "
            "Fix: swap the corners, or convert from (x, y, width, height) first."
        )
    if canvas_size is not None and (array.min() < 0 or array.max() > canvas_size):
        outside = array[(array < 0).any(axis=1) | (array > canvas_size).any(axis=1)]
        raise ValueError(
            f"box {outside[0].tolist()} lies outside the {canvas_size} x "
            f"{canvas_size} canvas; expected coordinates in [0, {canvas_size}]. "
            "Fix: clip predicted boxes with np.clip(boxes, 0, canvas_size)."
        )
    return array


def show_scenes(
    images: np.ndarray,
    *,
    boxes: Sequence[np.ndarray] | None = None,
    captions: Sequence[Sequence[str]] | None = None,
    masks: np.ndarray | None = None,
    title: str | None = None,
) -> Figure:
    """Draw scenes with their boxes, box captions and (beside each) their masks.

    Args:
        images: Scenes (num_scenes, size, size) with values in [0, 1].
        boxes: Optional boxes per scene, each (num_boxes, 4) in pixels.
        captions: Optional caption per box (e.g. the digit, or "7 0.93").
        masks: Optional label maps (num_scenes, size, size): 0 background,
            1 + digit; drawn in a second row, one colour per digit class.
        title: Optional title over the figure.

    Returns:
        The figure.

    Raises:
        ValueError: If the shapes disagree or a box is invalid or off the canvas.

    Example:
        >>> figure = show_scenes(np.zeros((2, 64, 64)),
        ...                      boxes=[np.array([[4, 4, 20, 30]]), np.zeros((0, 4))],
        ...                      captions=[["7"], []], masks=np.zeros((2, 64, 64)))
        >>> len(figure.axes)
        4
    """
    import matplotlib.patches
    import matplotlib.pyplot as plt

    images = np.asarray(images)
    if images.ndim != 3:
        raise ValueError(
            f"images have shape {images.shape}; expected (num_scenes, size, size)."
        )
    num_scenes, canvas_size = len(images), images.shape[1]
    for name, values in (("boxes", boxes), ("captions", captions), ("masks", masks)):
        if values is not None and len(values) != num_scenes:
            raise ValueError(
                f"{name} has {len(values)} entries for {num_scenes} images; expected "
                "one per image."
            )
    rows = 2 if masks is not None else 1
    figure, axes = plt.subplots(
        rows, num_scenes, figsize=(1.6 * num_scenes, 1.7 * rows + 0.3), squeeze=False
    )
    colours = plt.get_cmap("tab10")
    for index in range(num_scenes):
        axis = axes[0, index]
        axis.imshow(images[index], cmap="gray", vmin=0.0, vmax=1.0)
        scene_boxes = (
            check_boxes(boxes[index], canvas_size=canvas_size)
            if boxes is not None
            else np.zeros((0, 4))
        )
        for number, (x_min, y_min, x_max, y_max) in enumerate(scene_boxes):
            axis.add_patch(
                matplotlib.patches.Rectangle(
                    (x_min - 0.5, y_min - 0.5),
                    x_max - x_min,
                    y_max - y_min,
                    fill=False,
                    edgecolor="tab:orange",
                    linewidth=1.2,
                )
            )
            if captions is not None and number < len(captions[index]):
                axis.text(
                    x_min - 0.5,
                    y_min - 1.5,
                    captions[index][number],
                    color="tab:orange",
                    fontsize=7,
                )
        axis.set_axis_off()
        if masks is not None:
            label_map = np.asarray(masks[index])
            coloured = np.ones((*label_map.shape, 3))
            for digit in range(NUM_CLASSES):
                coloured[label_map == digit + 1] = colours(digit)[:3]
            axes[1, index].imshow(coloured)
            axes[1, index].set_axis_off()
    if masks is not None:
        axes[1, 0].set_title("mask (colour = digit)", fontsize=7, loc="left")
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    return figure
