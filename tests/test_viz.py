"""utils.viz: figures render headless, with titles, labels and clear errors."""

import matplotlib
import numpy as np
import pytest
from matplotlib.figure import Figure

from utils import viz


def test_backend_is_headless():
    assert matplotlib.get_backend().lower() == "agg"


def test_show_images_grid_and_captions():
    figure = viz.show_images(
        np.random.rand(10, 28, 28, 1),
        titles=list("abcdefghij"),
        num_cols=4,
        suptitle="Digits",
    )
    assert isinstance(figure, Figure)
    assert len(figure.axes) == 10
    assert figure.axes[3].get_title() == "d"
    assert not figure.axes[0].axison


def test_show_images_respects_value_range():
    images = np.full((1, 4, 4), -1.0)
    figure = viz.show_images(images, value_range=(-1.0, 1.0))
    shown = figure.axes[0].images[0].get_array()
    assert float(shown.min()) == 0.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"images": np.zeros((28, 28))}, "expected \\(num_images, height, width\\)"),
        (
            {"images": np.zeros((2, 8, 8)), "titles": ["one"]},
            "titles has 1 entries for 2",
        ),
        ({"images": np.zeros((2, 8, 8)), "value_range": (1.0, 0.0)}, "high > low"),
        ({"images": np.zeros((2, 8, 8, 2))}, "expected \\(num_images"),
    ],
)
def test_show_images_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        viz.show_images(**kwargs)


def test_plot_history_and_missing_metric():
    history = {"loss": [1.0, 0.5], "val_loss": [1.2, 0.8], "accuracy": [0.5, 0.7]}
    figure = viz.plot_history(history)
    assert len(figure.axes) == 2
    assert len(figure.axes[0].lines) == 2  # training and validation
    assert figure.axes[0].get_xlabel() == "Epoch"
    with pytest.raises(ValueError, match="history has no \\['auc'\\]"):
        viz.plot_history(history, metrics=["auc"])


def test_confusion_matrix_counts_and_errors():
    figure = viz.plot_confusion_matrix(
        np.array([0, 1, 1, 2]), np.array([0, 1, 2, 2]), class_names=["a", "b", "c"]
    )
    texts = [text.get_text() for text in figure.axes[0].texts]
    assert texts == ["1", "0", "0", "0", "1", "1", "0", "0", "1"]
    with pytest.raises(ValueError, match="expected the same"):
        viz.plot_confusion_matrix(np.zeros(3), np.zeros(2), class_names=["a"])
    with pytest.raises(ValueError, match="expected 0..1 for 2 class names"):
        viz.plot_confusion_matrix(
            np.array([0, 5]), np.array([0, 1]), class_names=["a", "b"]
        )


def test_filters_and_feature_maps():
    assert len(viz.show_filters(np.random.rand(3, 3, 1, 6)).axes) == 6
    assert len(viz.show_feature_maps(np.random.rand(1, 8, 8, 32), num_maps=5).axes) == 5
    with pytest.raises(ValueError, match="expected \\(height, width, in_channels"):
        viz.show_filters(np.zeros((3, 3, 8)))
    with pytest.raises(ValueError, match="for one image"):
        viz.show_feature_maps(np.zeros((2, 8, 8, 4)))


def test_save_figure(tmp_path):
    path = viz.save_figure(
        viz.show_images(np.zeros((1, 4, 4))), "grid", directory=str(tmp_path)
    )
    assert path.read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(ValueError, match="plain file stem"):
        viz.save_figure(Figure(), "figures/grid")
