"""utils.callbacks: timing, time-to-target, training folders, resumable fit()."""

import keras
import numpy as np
import pytest

from utils import callbacks


def tiny_model():
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(2, activation="softmax")]
    )
    model.compile(
        optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    return model


def test_throughput_and_time_to_target():
    features = np.random.rand(64, 4).astype("float32")
    labels = (features[:, 0] > 0.5).astype("int32")
    throughput = callbacks.Throughput(batch_size=16)
    to_target = callbacks.TimeToTarget(monitor="val_accuracy", target=0.0)
    tiny_model().fit(
        features,
        labels,
        batch_size=16,
        epochs=2,
        verbose=0,
        validation_data=(features, labels),
        callbacks=[throughput, to_target],
    )
    assert len(throughput.epoch_seconds) == 2
    assert throughput.median_images_per_second() > 0
    assert to_target.epoch == 1 and to_target.seconds > 0


def test_time_to_target_needs_its_metric():
    features = np.random.rand(8, 4).astype("float32")
    with pytest.raises(ValueError, match="monitors 'val_accuracy'.*validation_data"):
        tiny_model().fit(
            features,
            np.zeros(8),
            epochs=1,
            verbose=0,
            callbacks=[callbacks.TimeToTarget()],
        )


def test_throughput_bad_batch_size():
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        callbacks.Throughput(batch_size=0)


@pytest.mark.parametrize("name", ["", "a/b", ".."])
def test_training_directory_bad_name(name):
    with pytest.raises(ValueError, match="expected a short folder name"):
        callbacks.training_directory(name)


def test_backup_and_restore_resumes_without_losing_an_epoch():
    """The course's resumable-training recipe: interrupt after 2 epochs, resume to 4."""
    folder = callbacks.training_directory("test_resume", fresh=True)
    features = np.random.rand(32, 4).astype("float32")
    labels = np.zeros(32, dtype="int32")

    class Interrupt(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise KeyboardInterrupt("simulated disconnect")

    model = tiny_model()
    backup = keras.callbacks.BackupAndRestore(backup_dir=str(folder))
    with pytest.raises(KeyboardInterrupt):
        model.fit(
            features, labels, epochs=4, verbose=0, callbacks=[backup, Interrupt()]
        )
    resumed = tiny_model()
    history = resumed.fit(
        features,
        labels,
        epochs=4,
        verbose=0,
        callbacks=[keras.callbacks.BackupAndRestore(backup_dir=str(folder))],
    )
    assert history.epoch == [2, 3]
