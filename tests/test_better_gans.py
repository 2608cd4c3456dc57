"""Lesson 10's measures and augmentations, taken from the lesson's own cells.

Precision and recall (Kynkaanniemi et al., 2019) are checked against the lesson's
loop over their definition and on sets whose answer is known; DiffAugment's
translation and cutout against what they must do to a single bright pixel; the
InfoGAN's and the "more noise" GAN's noise against their shapes.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from scripts.export_models import lesson_definitions

STEM = "10_better_gans"


@pytest.fixture(scope="module")
def lesson():
    return lesson_definitions(
        STEM,
        "knn_radii",
        "precision_recall",
        "translate",
        "cutout",
        "InfoDCGAN",
        "add_code_head",
        "MoreNoiseGAN",
        "FAKES_PER_REAL",
        "inside_any_ball",
    )


@pytest.mark.parametrize("k", [1, 3, 5])
def test_precision_recall_follow_their_definition(lesson, k):
    rng = np.random.default_rng(k)
    real, fake = rng.normal(size=(40, 3)), rng.normal(0.7, 1.2, size=(25, 3))
    inside_any_ball = lesson[
        "inside_any_ball"
    ]  # The lesson's loop over the definition.
    expected = (
        np.mean([inside_any_ball(point, real, k) for point in fake]),
        np.mean([inside_any_ball(point, fake, k) for point in real]),
    )
    np.testing.assert_allclose(lesson["precision_recall"](real, fake, k), expected)


def test_radii_skip_the_point_itself(lesson):
    points = np.array([[0.0], [1.0], [3.0], [6.0]])
    np.testing.assert_allclose(lesson["knn_radii"](points, 1), [1.0, 1.0, 2.0, 3.0])
    np.testing.assert_allclose(lesson["knn_radii"](points, 2), [3.0, 2.0, 3.0, 5.0])


def test_half_a_square_has_full_precision_and_about_half_the_recall(lesson):
    rng = np.random.default_rng(0)
    real = rng.uniform(size=(2_000, 2))
    fake = rng.uniform(size=(1_000, 2)) * [0.5, 1.0]
    precision, recall = lesson["precision_recall"](real, fake, 3)
    assert precision > 0.97
    assert 0.48 < recall < 0.6


def test_copies_of_few_samples_have_almost_no_recall(lesson):
    rng = np.random.default_rng(1)
    real = rng.normal(size=(500, 4))
    copies = np.repeat(real[:10], 50, axis=0)  # Ten samples, 50 copies each.
    precision, recall = lesson["precision_recall"](real, copies, 3)
    assert precision == 1.0
    assert recall <= 10 / 500


def one_bright_pixel(row=14, column=14):
    images = -np.ones((1, 28, 28, 1), dtype="float32")
    images[0, row, column, 0] = 1.0
    return tf.constant(images)


def test_translate_moves_a_pixel_at_most_three_places_and_fills_background(lesson):
    seeds = keras.random.SeedGenerator(0)
    moved = set()
    for _ in range(60):
        shifted = lesson["translate"](one_bright_pixel(), seeds).numpy()[0, :, :, 0]
        assert shifted.shape == (28, 28)
        (rows, columns) = np.nonzero(shifted > 0)
        assert len(rows) == 1, "the bright pixel must stay one pixel"
        assert set(np.unique(shifted)) == {-1.0, 1.0}, "padding must be background"
        moved.add((int(rows[0]) - 14, int(columns[0]) - 14))
    assert max(max(abs(r), abs(c)) for r, c in moved) == 3
    assert len(moved) > 20, "shifts in x and y must be drawn independently"


def test_cutout_blanks_one_square_and_passes_gradients(lesson):
    seeds = keras.random.SeedGenerator(1)
    images = tf.ones((16, 28, 28, 1))
    with tf.GradientTape() as tape:
        tape.watch(images)
        cut = lesson["cutout"](images, seeds)
        total = tf.reduce_sum(cut)
    gradients = tape.gradient(total, images).numpy()
    blanked = cut.numpy()[..., 0] == -1.0
    np.testing.assert_array_equal(gradients[..., 0], (~blanked).astype("float32"))
    for mask in blanked:
        rows, columns = np.nonzero(mask)
        assert len(rows) > 0
        height, width = np.ptp(rows) + 1, np.ptp(columns) + 1
        assert height <= 13 and width <= 13
        assert mask.sum() == height * width, "the cut must be one rectangle"


def test_infogan_noise_ends_in_one_hot_codes(lesson):
    images = keras.Input((28, 28, 1))
    discriminator = keras.Model(
        images, keras.layers.Dense(1)(keras.layers.Flatten()(images))
    )
    noise = keras.Input((30,))
    generator = keras.Model(noise, keras.layers.Dense(1)(noise))
    gan = lesson["InfoDCGAN"](generator, lesson["add_code_head"](discriminator, 8))
    z = gan.sample_z(4_000).numpy()
    assert z.shape == (4_000, 30)
    codes = z[:, -8:]
    np.testing.assert_array_equal(codes.sum(axis=1), 1.0)
    assert set(np.unique(codes)) == {0.0, 1.0}
    shares = codes.mean(axis=0)
    assert np.all(np.abs(shares - 1 / 8) < 0.03), f"codes not uniform: {shares}"
    assert abs(z[:, :-8].std() - 1.0) < 0.05


def test_more_noise_draws_several_fakes_per_real(lesson):
    noise, image = keras.Input((5,)), keras.Input((1,))
    generator = keras.Model(noise, keras.layers.Dense(1)(noise))
    discriminator = keras.Model(image, keras.layers.Dense(1)(image))
    gan = lesson["MoreNoiseGAN"](generator, discriminator)
    assert lesson["FAKES_PER_REAL"] > 1
    assert gan.sample_z(6).shape == (6 * lesson["FAKES_PER_REAL"], 5)
