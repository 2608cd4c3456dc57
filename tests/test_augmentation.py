"""Lesson 07's augmentation draws independently and its range test reads batch losses.

The augmentation tests measure decisions from the layers' outputs (which photos come
out mirrored, which way a dot turns), so they do not rely on how a layer stores its
seed. The range-test tests define the class from the lesson's own cell
(``lesson_definitions``), so they check the code the learner reads, on a problem
whose best learning rate is known.
"""

import functools

import keras
import numpy as np
import pytest
from keras import layers

from scripts.export_models import lesson_definitions
from utils import models

NUM_PHOTOS = 400


def mirrored_decisions(flip: layers.Layer) -> np.ndarray:
    """Which of NUM_PHOTOS left-to-right ramps `flip` mirrors (measured on outputs)."""
    ramp = np.broadcast_to(
        np.linspace(0.0, 255.0, 32, dtype="float32")[None, None, :, None],
        (NUM_PHOTOS, 32, 32, 3),
    ).copy()
    outputs = keras.ops.convert_to_numpy(flip(ramp, training=True))
    mirrored = np.all(np.isclose(outputs, ramp[:, :, ::-1]), axis=(1, 2, 3))
    unchanged = np.all(np.isclose(outputs, ramp), axis=(1, 2, 3))
    assert np.all(mirrored | unchanged), "a flip either mirrors a photo or keeps it"
    return mirrored


def clockwise_decisions(rotation: layers.Layer) -> np.ndarray:
    """Which of NUM_PHOTOS dots above the centre `rotation` turns clockwise."""
    dots = np.zeros((NUM_PHOTOS, 33, 33, 3), "float32")
    dots[:, 6:9, 15:18] = 255.0  # A dot 9 pixels above the centre (16, 16).
    turned = keras.ops.convert_to_numpy(rotation(dots, training=True))[..., 0]
    columns = np.arange(33)
    centroid = (turned.sum(axis=1) * columns).sum(axis=1) / turned.sum(axis=(1, 2))
    return centroid > 16.0  # Turned clockwise: the dot moves right.


def agreement(flip: layers.Layer, rotation: layers.Layer) -> float:
    """Share of photos where 'mirrored' and 'turned clockwise' coincide."""
    return float(np.mean(mirrored_decisions(flip) == clockwise_decisions(rotation)))


def test_the_measurement_sees_decisions_tied_by_a_shared_seed():
    tied = agreement(
        layers.RandomFlip("horizontal", seed=7), layers.RandomRotation(0.05, seed=7)
    )
    assert tied > 0.95 or tied < 0.05, f"one shared seed should tie them: {tied}"


@pytest.mark.parametrize("seed", [0, 42])
def test_flip_and_rotation_of_build_augmentation_decide_independently(seed):
    augmentation = models.build_augmentation(seed=seed)
    flip, rotation = augmentation.layers[0], augmentation.layers[1]
    assert isinstance(flip, layers.RandomFlip)
    assert isinstance(rotation, layers.RandomRotation)
    share = agreement(flip, rotation)
    # Independent fair coins agree on half of 400 photos, give or take 2.5%.
    assert 0.4 < share < 0.6, f"flip and rotation agree on {share:.0%} of photos"


def test_every_pair_of_layers_draws_uncorrelated_numbers():
    photos = np.zeros((NUM_PHOTOS, 32, 32, 3), "float32")
    draws = []  # (layer number, one column of that layer's random draws)
    for number, layer in enumerate(models.build_augmentation(seed=42).layers):
        drawn = layer.get_random_transformation(photos, training=True)
        for value in drawn.values():
            if (
                value is not None
                and np.ndim(value)
                and np.shape(value)[0] == NUM_PHOTOS
            ):
                value = keras.ops.convert_to_numpy(value).reshape(NUM_PHOTOS, -1)
                draws += [(number, column) for column in value.T if column.std() > 0]
    owners = np.array([number for number, _ in draws])
    assert set(owners) == set(range(len(models.build_augmentation().layers)))
    correlations = np.abs(np.corrcoef([column for _, column in draws]))
    correlations[owners[:, None] == owners[None, :]] = 0.0  # Pairs of layers only.
    assert correlations.max() < 0.2, np.round(correlations, 2)


def test_the_contrast_range_is_symmetric_as_the_lesson_states():
    contrast = models.build_augmentation(seed=42).layers[-1]
    photos = np.zeros((1_000, 8, 8, 3), "float32")
    factors = keras.ops.convert_to_numpy(
        contrast.get_random_transformation(photos, training=True)["contrast_factor"]
    )
    assert 0.8 - 1e-6 <= factors.min() < 0.82 and 1.18 < factors.max() <= 1.2 + 1e-6


@functools.cache
def range_test_class() -> type:
    """Lesson 07's LearningRateRangeTest, defined by the lesson's own cell."""
    return lesson_definitions("07_augmentation", "LearningRateRangeTest")[
        "LearningRateRangeTest"
    ]


def linear_regression(seed: int, num_samples: int, dim: int = 8):
    """Inputs x ~ N(0, I), targets x.w + noise; the MSE's Hessian is 2 I."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(num_samples, dim)).astype("float32")
    w = rng.normal(size=(dim, 1)).astype("float32")
    y = x @ w + 0.1 * rng.normal(size=(num_samples, 1)).astype("float32")
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input((dim,)),
            layers.Dense(1, use_bias=False, kernel_initializer="zeros"),
        ]
    )
    return model, x, y


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_range_test_finds_the_known_best_rate_of_a_quadratic(seed):
    # Plain SGD on a quadratic with Hessian 2 I: the error shrinks by |1 - 2 lr| per
    # step, so lr = 0.5 is the best rate and anything above 1 diverges.
    best_rate, divergence = 0.5, 1.0
    range_test = range_test_class()(min_lr=1e-4, max_lr=10.0, num_steps=100)
    model, x, y = linear_regression(seed, num_samples=100 * 64)
    model.compile(optimizer=keras.optimizers.SGD(), loss="mse")
    model.fit(x, y, batch_size=64, shuffle=False, callbacks=[range_test], verbose=0)
    assert len(range_test.losses) < 100, "it must stop once the loss diverges"
    assert range_test.learning_rates[-1] > divergence, "it stopped before diverging"
    suggestion = range_test.suggestion()
    assert best_rate / 10 <= suggestion <= best_rate, suggestion


def test_the_recovered_losses_are_the_batch_losses():
    # At a learning rate of 1e-12 the weights stay put, so every batch loss can be
    # computed directly; Keras' own logs["loss"] is their running mean instead.
    range_test = range_test_class()(min_lr=1e-12, max_lr=1e-12, num_steps=20)
    model, x, y = linear_regression(seed=3, num_samples=20 * 32)
    model.layers[0].kernel.assign(np.ones((8, 1), "float32"))
    model.compile(optimizer=keras.optimizers.SGD(), loss="mse")
    model.fit(x, y, batch_size=32, shuffle=False, callbacks=[range_test], verbose=0)
    predictions = keras.ops.convert_to_numpy(model(x))
    direct = ((predictions - y) ** 2).reshape(20, 32).mean(axis=1)
    np.testing.assert_allclose(range_test.losses, direct, rtol=1e-4)
    running_mean = np.cumsum(direct) / np.arange(1, 21)
    assert not np.allclose(range_test.losses, running_mean, rtol=1e-2)


def test_the_smoothing_is_bias_corrected():
    range_test = range_test_class()(min_lr=1e-3, max_lr=1.0, num_steps=50)
    range_test.on_epoch_begin(0)
    for batch in range(5):  # A constant batch loss of 2: the running mean is 2 too.
        range_test.on_train_batch_end(batch, logs={"loss": 2.0})
    np.testing.assert_allclose(range_test.smoothed, [2.0] * 5, rtol=1e-12)
