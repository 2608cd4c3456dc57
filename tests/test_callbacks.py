"""utils.callbacks: timing, time-to-target, training folders, resumable fit()."""

import time

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


VALIDATION_SECONDS = 0.3


class ScriptedScore(keras.callbacks.Callback):
    """Writes a scripted 'val_score' into each epoch's logs (before the timers read
    them) and makes validation slow, as a large validation set does."""

    def __init__(self, scores):
        super().__init__()
        self.scores = scores
        self.epoch_wall_seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_test_begin(self, logs=None):
        time.sleep(VALIDATION_SECONDS)

    def on_epoch_end(self, epoch, logs=None):
        logs["val_score"] = self.scores[epoch]
        self.epoch_wall_seconds.append(time.perf_counter() - self._start)


def test_time_to_target_counts_training_time_until_the_first_hit():
    features = np.random.rand(64, 4).astype("float32")
    labels = (features[:, 0] > 0.5).astype("int32")
    scores = ScriptedScore([0.5, 0.9, 0.995, 0.98, 0.999])
    throughput = callbacks.Throughput(batch_size=16, num_images=64)
    to_target = callbacks.TimeToTarget(monitor="val_score", target=0.99)
    tiny_model().fit(
        features,
        labels,
        batch_size=16,
        epochs=5,
        verbose=0,
        validation_data=(features, labels),
        callbacks=[scores, throughput, to_target],
    )
    assert to_target.epoch == 3  # The first epoch at or above 0.99, counted from 1.
    assert to_target.seconds == pytest.approx(
        sum(throughput.epoch_seconds[:3]), abs=1e-3
    )
    for wall, training in zip(
        scores.epoch_wall_seconds, throughput.epoch_seconds, strict=True
    ):
        assert wall - training >= VALIDATION_SECONDS  # Validation is not counted.
    for seconds, speed in zip(
        throughput.epoch_seconds, throughput.images_per_second, strict=True
    ):
        assert speed * seconds == pytest.approx(64)


def test_time_to_target_stays_unset_when_the_target_is_missed():
    features = np.random.rand(16, 4).astype("float32")
    to_target = callbacks.TimeToTarget(monitor="val_score", target=0.99)
    tiny_model().fit(
        features,
        np.zeros(16),
        epochs=2,
        verbose=0,
        validation_data=(features, np.zeros(16)),
        callbacks=[ScriptedScore([0.5, 0.98]), to_target],
    )
    assert to_target.seconds is None and to_target.epoch is None


def test_throughput_counts_full_batches_without_num_images_and_takes_the_median():
    features = np.random.rand(64, 4).astype("float32")
    throughput = callbacks.Throughput(batch_size=16)
    tiny_model().fit(
        features,
        np.zeros(64),
        batch_size=16,
        epochs=1,
        verbose=0,
        callbacks=[throughput],
    )
    [seconds], [speed] = throughput.epoch_seconds, throughput.images_per_second
    assert speed * seconds == pytest.approx(64)  # 4 steps of 16 images.
    throughput.images_per_second = [30.0, 10.0, 20.0]
    assert throughput.median_images_per_second() == 20.0


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


def test_training_directory_keeps_a_backup_unless_asked_for_a_fresh_start(
    monkeypatch, tmp_path
):
    monkeypatch.setenv("COURSE_CHECKPOINT_DIR", str(tmp_path))
    monkeypatch.setenv("COURSE_MODE", "cpu")
    folder = callbacks.training_directory("04_run")
    assert folder == tmp_path / "cpu" / "04_run"
    (folder / "backup").write_text("epoch 3")
    assert (callbacks.training_directory("04_run") / "backup").is_file()
    assert list(callbacks.training_directory("04_run", fresh=True).iterdir()) == []


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
