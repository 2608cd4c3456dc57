"""Lesson 09's DCGAN (utils.models) resumes after a disconnect; its quality measures.

The measures (squared Frechet distance, class shares) are taken from lesson 09's own
cells, which export them for lesson 10.
"""

import keras
import numpy as np
import pytest
import scipy.linalg
import tensorflow as tf

from scripts.export_models import lesson_definitions
from utils import callbacks, data, models

EPOCHS = 4
INTERRUPT_AFTER = 2
BATCH_SIZE = 32
NUM_DIGITS = 128  # 4 steps per epoch.


class SimulatedDisconnect(Exception):
    pass


class DisconnectAfter(keras.callbacks.Callback):
    def __init__(self, epoch):
        super().__init__()
        self.disconnect_epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 == self.disconnect_epoch:
            raise SimulatedDisconnect


def state_of(gan):
    """Both networks' weights and both optimizers' variables, as arrays."""
    variables = (
        gan.generator.weights
        + gan.discriminator.weights
        + gan.d_optimizer.variables
        + gan.g_optimizer.variables
    )
    return [np.array(variable) for variable in variables]


class StateAtEpochEnd(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        self.state = state_of(self.model)


class StateAtStart(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.state = state_of(self.model)
        self.steps = (
            int(self.model.d_optimizer.iterations),
            int(self.model.g_optimizer.iterations),
        )


@pytest.fixture(scope="module")
def digits():
    (images, _), _ = data.load_mnist()
    return (images[:NUM_DIGITS, ..., None] / 127.5 - 1.0).astype("float32")


def tiny_gan():
    keras.utils.set_random_seed(0)
    gan = models.DCGAN(
        models.build_generator(8, (8, 4)), models.build_discriminator((4, 8))
    )
    gan.compile(
        d_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5),
        g_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5),
    )
    return gan


def fit(gan, digits, epochs=EPOCHS, extra=()):
    dataset = tf.data.Dataset.from_tensor_slices(digits).batch(BATCH_SIZE)
    return gan.fit(dataset, epochs=epochs, verbose=0, callbacks=list(extra))


def weights_of(gan):
    return [np.array(v) for v in gan.generator.weights + gan.discriminator.weights]


@pytest.fixture(scope="module")
def runs(digits):
    """An uninterrupted run, and an interrupted one resumed in a new 'session'."""
    uninterrupted = tiny_gan()
    fit(uninterrupted, digits)
    folder = callbacks.training_directory("test_dcgan_resume", fresh=True)
    first = tiny_gan()
    at_disconnect = StateAtEpochEnd()
    with pytest.raises(SimulatedDisconnect):
        fit(
            first,
            digits,
            extra=[
                keras.callbacks.BackupAndRestore(backup_dir=str(folder)),
                at_disconnect,
                DisconnectAfter(INTERRUPT_AFTER),
            ],
        )
    resumed = tiny_gan()
    at_start = StateAtStart()
    history = fit(
        resumed,
        digits,
        extra=[keras.callbacks.BackupAndRestore(backup_dir=str(folder)), at_start],
    )
    fresh = tiny_gan()
    fit(fresh, digits, epochs=EPOCHS - INTERRUPT_AFTER)
    return {
        "uninterrupted": uninterrupted,
        "resumed": resumed,
        "fresh": fresh,
        "history": history,
        "at_start": at_start,
        "at_disconnect": at_disconnect,
        "folder": folder,
    }


def test_the_resumed_fit_runs_only_the_remaining_epochs(runs):
    assert runs["history"].epoch == list(range(INTERRUPT_AFTER, EPOCHS))
    assert not runs["folder"].exists()  # A complete run deletes its backup.


def test_both_optimizers_continue_counting(runs):
    steps_per_epoch = NUM_DIGITS // BATCH_SIZE
    assert runs["at_start"].steps == (INTERRUPT_AFTER * steps_per_epoch,) * 2
    gan = runs["resumed"]
    assert int(gan.d_optimizer.iterations) == EPOCHS * steps_per_epoch
    assert int(gan.g_optimizer.iterations) == EPOCHS * steps_per_epoch


def test_the_restore_brings_back_both_networks_and_both_optimizers(runs):
    saved, restored = runs["at_disconnect"].state, runs["at_start"].state
    assert len(saved) == len(restored)
    for before, after in zip(saved, restored, strict=True):
        np.testing.assert_array_equal(after, before)


def test_resumed_weights_continue_rather_than_restart(runs):
    resumed = weights_of(runs["resumed"])
    uninterrupted = weights_of(runs["uninterrupted"])
    fresh = weights_of(runs["fresh"])

    def distance(first, second):
        return sum(np.abs(a - b).sum() for a, b in zip(first, second, strict=True))

    # The random generators' states are not in the backup, so the resumed run draws
    # other noise than the uninterrupted one: close to it, but not bit for bit.
    assert distance(resumed, uninterrupted) < 0.5 * distance(resumed, fresh)


def test_dcgan_needs_a_generator_whose_first_input_is_z():
    gan = models.DCGAN(models.build_generator(12), models.build_discriminator())
    assert gan.latent_dim == 12


@pytest.fixture(scope="module")
def measures():
    return lesson_definitions(
        "09_dcgan", "frechet_distance", "classify_digits", "measure_digits"
    )


def test_frechet_distance_matches_scipy(measures):
    frechet_distance = measures["frechet_distance"]
    rng = np.random.default_rng(0)
    a = rng.normal(size=(200, 4)) @ rng.normal(size=(4, 4))
    b = rng.normal(size=(200, 4)) @ rng.normal(size=(4, 4)) + 1.0
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    reference = np.sum((a.mean(0) - b.mean(0)) ** 2) + np.trace(
        cov_a + cov_b - 2 * scipy.linalg.sqrtm(cov_a @ cov_b).real
    )
    np.testing.assert_allclose(frechet_distance(a, b), reference, rtol=1e-6)
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-8)


def test_measure_digits_reports_shares_that_sum_to_one(measures):
    classifier = models.build_cnn()
    images = np.random.default_rng(0).uniform(-1, 1, size=(30, 28, 28, 1))
    _, reference = measures["classify_digits"](classifier, images)
    measured = measures["measure_digits"](classifier, images, reference)
    assert measured["class_shares"].sum() == pytest.approx(1.0)
    assert 0.0 <= measured["confident_share"] <= 1.0
    assert measured["min_class_share"] <= 0.1 <= measured["max_class_share"]
    assert measured["frechet_distance"] == pytest.approx(0.0, abs=1e-6)
