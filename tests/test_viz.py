"""utils.viz: figures render headless, with titles, labels and clear errors."""

import keras
import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch

from utils import viz


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


def test_plot_history_draws_a_resumed_run_at_its_real_epochs():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    features = np.zeros((8, 2), dtype="float32")
    history = model.fit(
        features,
        np.zeros(8),
        validation_data=(features, np.zeros(8)),
        initial_epoch=5,  # As after BackupAndRestore brings back 5 finished epochs.
        epochs=8,
        verbose=0,
    )
    assert history.epoch == [5, 6, 7]
    figure = viz.plot_history(history, metrics=["loss"])
    for line in figure.axes[0].lines:  # Training and validation.
        assert line.get_xdata().tolist() == [6, 7, 8]


def test_plot_history_of_a_plain_dict_counts_from_one():
    figure = viz.plot_history({"loss": [3.0, 2.0, 1.0]}, metrics=["loss"])
    assert figure.axes[0].lines[0].get_xdata().tolist() == [1, 2, 3]


def test_show_images_maps_each_value_range_to_the_full_gray_scale():
    pixels = np.array([[[0, 255]]], dtype="uint8")
    shown = viz.show_images(pixels, value_range=(0, 255)).axes[0].images[0]
    np.testing.assert_allclose(shown.get_array(), [[0.0, 1.0]])
    tanh = np.array([[[-1.0, 0.0, 2.0]]])  # Out-of-range values are clipped.
    shown = viz.show_images(tanh, value_range=(-1.0, 1.0)).axes[0].images[0]
    np.testing.assert_allclose(shown.get_array(), [[0.0, 0.5, 1.0]])


def test_filters_and_feature_maps_scale_each_tile_on_its_own():
    kernels = np.zeros((2, 2, 1, 3))
    kernels[..., 0, 0] = [[0.0, 0.1], [0.2, 0.4]]  # A faint filter...
    kernels[..., 0, 1] = [[0.0, 100.0], [0.0, 0.0]]  # ...beside a strong one...
    kernels[..., 0, 2] = [[-2.0, 1.0], [0.0, 0.0]]  # ...and a signed one.
    tiles = [axis.images[0].get_array() for axis in viz.show_filters(kernels).axes]
    # Zero is mid-grey in every filter: dark means negative, bright positive.
    np.testing.assert_allclose(tiles[0], [[0.5, 0.625], [0.75, 1.0]])
    np.testing.assert_allclose(tiles[1], [[0.5, 1.0], [0.5, 0.5]])
    np.testing.assert_allclose(tiles[2], [[0.0, 0.75], [0.5, 0.5]])
    maps = np.stack([np.full((3, 3), 7.0), np.eye(3), 5 * np.eye(3)], axis=-1)
    figure = viz.show_feature_maps(maps, num_maps=2)
    assert [axis.get_title() for axis in figure.axes] == ["channel 0", "channel 1"]
    np.testing.assert_allclose(figure.axes[0].images[0].get_array(), np.zeros((3, 3)))
    np.testing.assert_allclose(figure.axes[1].images[0].get_array(), np.eye(3))


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


def test_draw_flow_puts_boxes_in_order_with_arrows_and_captions():
    figure = viz.draw_flow(
        ["Capture", "Storage", "Display"], captions=["a", "b", "c"], title="Pipeline"
    )
    axis = figure.axes[0]
    texts = [text.get_text() for text in axis.texts]
    assert texts == ["Capture", "a", "Storage", "b", "Display", "c"]
    box_x = [text.get_position()[0] for text in axis.texts[::2]]
    assert box_x == sorted(box_x) and len(set(box_x)) == 3  # Left to right.
    arrows = [patch for patch in axis.patches if isinstance(patch, FancyArrowPatch)]
    assert len(arrows) == 2  # One arrow between each pair of neighbours.
    assert axis.get_title() == "Pipeline"
    with pytest.raises(ValueError, match="expected one caption per box"):
        viz.draw_flow(["a", "b"], captions=["only one"])
    with pytest.raises(ValueError, match="labels is empty"):
        viz.draw_flow([])
