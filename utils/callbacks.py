"""Keras callbacks and folders for timing and resumable training.

- :class:`Throughput` measures seconds per epoch and training images per second.
- :class:`TimeToTarget` records the training seconds until a metric first reaches a
  target (e.g. validation accuracy 0.99).
- :func:`training_directory` gives each run a folder for
  ``keras.callbacks.BackupAndRestore`` and ``ModelCheckpoint``, outside the data
  directory, so an interrupted run resumes where it stopped.

Example:
    >>> throughput = Throughput(batch_size=128)
    >>> throughput.epoch_seconds
    []
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

import keras

from utils import REPO_ROOT, mode


class _TrainingClock(keras.callbacks.Callback):
    # Times the training part of each epoch: from its start to its last batch,
    # so validation at the end of the epoch is not counted.

    def __init__(self) -> None:
        super().__init__()
        self._start = 0.0
        self._train_end = 0.0
        self._steps = 0

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Start the clock."""
        self._start = time.perf_counter()
        self._steps = 0

    def on_train_batch_end(
        self, batch: int, logs: dict[str, Any] | None = None
    ) -> None:
        """Count a step and remember when training work last finished."""
        self._steps += 1
        self._train_end = time.perf_counter()

    def _epoch_training_seconds(self) -> float:
        return self._train_end - self._start


class Throughput(_TrainingClock):
    """Measure wall seconds per training epoch and training images per second.

    Time spent on validation at the end of an epoch is excluded.

    Args:
        batch_size: Images per training batch (to turn steps into images).
        num_images: Training images per epoch, if known; without it every step
            counts as a full batch, which overstates a last partial batch.

    Attributes:
        epoch_seconds: Training seconds of each epoch.
        images_per_second: Training throughput of each epoch.

    Example:
        >>> throughput = Throughput(batch_size=32)
        >>> throughput.median_images_per_second()
        0.0
    """

    def __init__(self, batch_size: int, *, num_images: int | None = None) -> None:
        super().__init__()
        self.num_images = num_images
        if batch_size < 1:
            raise ValueError(
                f"batch_size must be a positive integer, got {batch_size}; pass the "
                "batch size given to fit()."
            )
        self.batch_size = batch_size
        self.epoch_seconds: list[float] = []
        self.images_per_second: list[float] = []

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Record this epoch's training seconds and images per second."""
        seconds = max(self._epoch_training_seconds(), 1e-9)
        self.epoch_seconds.append(seconds)
        images = self.num_images or self._steps * self.batch_size
        self.images_per_second.append(images / seconds)

    def median_images_per_second(self) -> float:
        """Return the median throughput over the recorded epochs (0.0 if none)."""
        if not self.images_per_second:
            return 0.0
        ordered = sorted(self.images_per_second)
        return ordered[len(ordered) // 2]


class TimeToTarget(_TrainingClock):
    """Record training seconds until ``monitor`` first reaches ``target``.

    Counts only training time (validation excluded), summed over epochs.

    Args:
        monitor: A metric in the epoch logs, e.g. ``"val_accuracy"``.
        target: The value to reach.

    Attributes:
        seconds: Training seconds when the target was first reached, else None.
        epoch: The 1-based epoch at which it was reached, else None.

    Example:
        >>> TimeToTarget(monitor="val_accuracy", target=0.99).seconds is None
        True
    """

    def __init__(self, *, monitor: str = "val_accuracy", target: float = 0.99) -> None:
        super().__init__()
        self.monitor = monitor
        self.target = target
        self.seconds: float | None = None
        self.epoch: int | None = None
        self._elapsed = 0.0

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Add this epoch's training time and check the target."""
        logs = logs or {}
        if self.monitor not in logs:
            raise ValueError(
                f"TimeToTarget monitors {self.monitor!r}, but the epoch logs hold "
                f"{sorted(logs)}. Fix: pass validation_data to fit() or pick a "
                "monitor from that list."
            )
        self._elapsed += max(self._epoch_training_seconds(), 0.0)
        if self.seconds is None and logs[self.monitor] >= self.target:
            self.seconds = self._elapsed
            self.epoch = epoch + 1


def training_directory(name: str, *, fresh: bool = False) -> Path:
    """Return a folder for one training run's backups and checkpoints.

    The folder is ``COURSE_CHECKPOINT_DIR/<mode>/<name>`` (default
    ``build/checkpoints/<mode>/<name>`` in the repository), never inside the data
    directory. Pass it to ``keras.callbacks.BackupAndRestore(backup_dir=...)``.

    Args:
        name: A short run name, e.g. ``"04_improved_cnn"``.
        fresh: Delete what an earlier run left, to start from scratch.

    Returns:
        The folder (created).

    Raises:
        ValueError: If ``name`` is empty or contains a path separator.

    Example:
        >>> folder = training_directory("demo", fresh=True)
        >>> folder.is_dir(), list(folder.iterdir())
        (True, [])
    """
    if not name or "/" in name or "\\" in name or name in (".", ".."):
        raise ValueError(
            f"name is {name!r}; expected a short folder name such as "
            "'04_improved_cnn' (no slashes)."
        )
    root = os.environ.get("COURSE_CHECKPOINT_DIR")
    base = Path(root) if root else REPO_ROOT / "build" / "checkpoints"
    folder = base / mode() / name
    if fresh and folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return folder
