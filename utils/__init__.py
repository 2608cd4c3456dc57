"""Plumbing for the course notebooks: modes, seeding, environment report, results.

Teaching code (models, losses, training steps) stays in the notebooks. This package
holds what every lesson needs and none of them teaches:

- :func:`mode` and :func:`by_mode` size the work (``smoke``, ``cpu`` or ``gpu``).
- :func:`setup_notebook` seeds everything, styles plots and reports the environment.
- :func:`report` records a lesson's figures (under build/results/ unless
  ``COURSE_RESULTS_DIR`` says otherwise; ``results/`` holds the published ones).
- Submodules: ``utils.data`` (checksummed data), ``utils.viz`` (figures),
  ``utils.callbacks`` (timing, resumable training), ``utils.exercises`` (checks),
  ``utils.models`` (the code later lessons reuse, generated from the lessons' cells
  marked ``#| export`` by ``python -m scripts.export_models``). They load on first
  use; ``dir(utils)`` and tab completion list them before that.

Note: PyPI has an unrelated package called ``utils``; install the course in its own
environment (``make lab``) so that ours is the one imported.

Example:
    >>> import utils
    >>> utils.by_mode(smoke=1, cpu=5, gpu=20) in (1, 5, 20)
    True
"""

from __future__ import annotations

import importlib
import json
import numbers
import os
import platform
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

MODES = ("smoke", "cpu", "gpu")
REPO_SLUG = "dl-images-course/deep-learning-for-images"
REPO_URL = f"https://github.com/{REPO_SLUG}"
REPO_ROOT = Path(__file__).resolve().parents[1]
_SUBMODULES = ("data", "viz", "callbacks", "exercises", "models", "scenes")

T = TypeVar("T")


def __getattr__(name: str) -> Any:
    # Submodules load on first use, so `import utils` stays fast and TF-free.
    if name in _SUBMODULES:
        return importlib.import_module(f"utils.{name}")
    raise AttributeError(
        f"module 'utils' has no attribute {name!r}; its submodules are "
        f"{', '.join(_SUBMODULES)}."
    )


def __dir__() -> list[str]:
    # Tab completion and dir() list the submodules before they are loaded.
    return sorted(set(globals()) | set(_SUBMODULES))


def _gpu_visible() -> bool:
    try:
        import tensorflow as tf
    except ImportError:
        return False
    return bool(tf.config.list_physical_devices("GPU"))


def mode() -> str:
    """Return the course mode: ``"smoke"``, ``"cpu"`` or ``"gpu"``.

    ``COURSE_MODE`` decides; unset, it is ``"gpu"`` when TensorFlow sees a GPU and
    ``"cpu"`` otherwise. Modes change sizes (epochs, subsets), never which cells run.

    Returns:
        The mode name.

    Raises:
        ValueError: If ``COURSE_MODE`` holds anything else.

    Example:
        >>> mode() in ("smoke", "cpu", "gpu")
        True
    """
    configured = os.environ.get("COURSE_MODE", "").strip().lower()
    if not configured:
        return "gpu" if _gpu_visible() else "cpu"
    if configured not in MODES:
        raise ValueError(
            f"COURSE_MODE is {os.environ['COURSE_MODE']!r}; expected one of {MODES}. "
            "Fix: export COURSE_MODE=smoke (CI), cpu (a laptop) or gpu (Colab), "
            "or unset it to choose from the hardware."
        )
    return configured


def by_mode(*, smoke: T, cpu: T, gpu: T) -> T:
    """Pick a size for the current mode.

    Args:
        smoke: Value for CI smoke runs (seconds per lesson).
        cpu: Value for a laptop CPU (minutes per lesson).
        gpu: Value for the full run on a GPU.

    Returns:
        The value for :func:`mode`.

    Example:
        >>> epochs = by_mode(smoke=1, cpu=8, gpu=30)
        >>> epochs in (1, 8, 30)
        True
    """
    return {"smoke": smoke, "cpu": cpu, "gpu": gpu}[mode()]


@dataclass
class EnvironmentReport:
    """What a lesson runs on: mode, versions and devices. Displays as a short table."""

    mode: str
    seed: int
    python: str
    versions: dict[str, str] = field(default_factory=dict)
    devices: list[str] = field(default_factory=list)
    data_dir: str = ""

    def __repr__(self) -> str:
        """Return one line per fact, for the setup cell's output."""
        lines = [
            f"mode        {self.mode}  (set COURSE_MODE=smoke|cpu|gpu to change)",
            f"seed        {self.seed}",
            f"python      {self.python}",
        ]
        lines += [f"{name:11s} {version}" for name, version in self.versions.items()]
        lines.append(f"devices     {', '.join(self.devices) or 'CPU'}")
        lines.append(f"data        {self.data_dir}")
        return "\n".join(lines)


def environment_report(*, seed: int = 42) -> EnvironmentReport:
    """Collect the mode, library versions, devices and data directory.

    Args:
        seed: The seed in use, shown in the report.

    Returns:
        An :class:`EnvironmentReport`.

    Example:
        >>> report = environment_report()
        >>> report.mode in MODES
        True
    """
    from utils import data

    versions = {}
    for package in ("tensorflow", "keras", "numpy", "matplotlib"):
        try:
            versions[package] = importlib.import_module(package).__version__
        except ImportError:
            versions[package] = "not installed"
    devices = []
    try:
        import tensorflow as tf

        devices = [
            f"{device.device_type}:{device.name.rsplit(':', 1)[-1]}"
            for device in tf.config.list_physical_devices()
        ]
    except ImportError:
        pass
    return EnvironmentReport(
        mode=mode(),
        seed=seed,
        python=platform.python_version(),
        versions=versions,
        devices=devices,
        data_dir=str(data.data_dir()),
    )


def setup_notebook(*, seed: int = 42) -> EnvironmentReport:
    """Prepare a lesson: check Keras 3, seed every generator, style plots.

    Call it at the end of the setup cell and leave its result as the cell's last
    expression: it shows the mode, the versions and the devices.

    Args:
        seed: Seed for Python, NumPy and the Keras backend.

    Returns:
        The :class:`EnvironmentReport`.

    Raises:
        RuntimeError: If the runtime has Keras 2, which this course cannot use.

    Example:
        >>> setup_notebook(seed=0).seed
        0
    """
    import keras
    import matplotlib

    major = int(keras.__version__.split(".")[0])
    if major != 3:
        raise RuntimeError(
            "This course needs Keras 3, but this runtime has Keras "
            f"{keras.__version__}."
            " Fix: pip install -r requirements.txt, then restart the kernel (in "
            "Colab: choose the latest runtime version under Runtime > Change "
            "runtime type)."
        )
    keras.utils.set_random_seed(seed)
    matplotlib.rcParams.update(
        {
            "figure.figsize": (6.0, 4.0),
            "figure.dpi": 100,
            "axes.grid": False,
            "image.cmap": "gray",
            "font.size": 10,
        }
    )
    return environment_report(seed=seed)


def results_dir() -> Path:
    """Return where a run records its figures: ``COURSE_RESULTS_DIR`` or build/results/.

    The default folder is ignored by git, so a learner's runs never touch the
    published figures in ``results/``; only the maintainer command that publishes
    results (``scripts/run_notebooks.py``) copies records there.

    Returns:
        The folder (created if needed).

    Example:
        >>> results_dir().is_dir()
        True
    """
    configured = os.environ.get("COURSE_RESULTS_DIR")
    path = Path(configured) if configured else REPO_ROOT / "build" / "results"
    path.mkdir(parents=True, exist_ok=True)
    return path


def write_json_atomically(path: Path, data: Any) -> None:
    """Write ``data`` as JSON so that readers see the old file or the new one, whole.

    The text goes to a temporary file in the same folder, which then replaces
    ``path`` in one step (``os.replace``): a run killed mid-write leaves the previous
    record intact instead of a truncated one.

    Args:
        path: The JSON file to write.
        data: Anything ``json.dumps`` accepts.

    Example:
        >>> import tempfile
        >>> target = Path(tempfile.mkdtemp()) / "record.json"
        >>> write_json_atomically(target, {"accuracy": 0.5})
        >>> json.loads(target.read_text())
        {'accuracy': 0.5}
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(
        "w", dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False
    ) as temporary:
        temporary.write(json.dumps(data, indent=1, sort_keys=True))
    os.replace(temporary.name, path)


def _read_record(path: Path) -> dict[str, Any]:
    # A damaged record (from an older, non-atomic write) is moved aside, not fatal.
    if not path.is_file():
        return {}
    try:
        recorded = json.loads(path.read_text())
    except json.JSONDecodeError:
        path.replace(path.with_name(path.name + ".damaged"))
        return {}
    return recorded if isinstance(recorded, dict) else {}


def report(lesson: str, **metrics: float | int | str) -> dict[str, Any]:
    """Record a lesson's key figures in ``<results_dir>/<mode>/<lesson>.json``.

    Later calls for the same lesson add to the file. Each write is atomic, and a
    damaged earlier record is renamed to ``<lesson>.json.damaged`` and started afresh.

    Args:
        lesson: The notebook's stem, e.g. ``"02_cnn_math"``.
        **metrics: Named numbers (or short strings) to record.

    Returns:
        Everything recorded so far for this lesson in this mode.

    Raises:
        ValueError: If a metric is not a number or string, or no metric is given.

    Example:
        >>> import os, tempfile
        >>> saved = os.environ.get("COURSE_RESULTS_DIR")
        >>> os.environ["COURSE_RESULTS_DIR"] = tempfile.mkdtemp()
        >>> report("00_demo", accuracy=0.5)["accuracy"]
        0.5
        >>> if saved is None:
        ...     del os.environ["COURSE_RESULTS_DIR"]
        ... else:
        ...     os.environ["COURSE_RESULTS_DIR"] = saved
    """
    if not metrics:
        raise ValueError(
            "report() got no metrics; expected at least one, e.g. "
            "report('04_mnist_cnn', test_accuracy=0.99)."
        )
    for name, value in metrics.items():
        if not isinstance(value, numbers.Real | str):
            raise ValueError(
                f"Metric {name!r} is {type(value).__name__} ({value!r}); expected a "
                "number or a string. Fix: pass float(value)."
            )
    path = results_dir() / mode() / f"{lesson}.json"
    recorded = _read_record(path)
    recorded.update({name: _plain(value) for name, value in metrics.items()})
    recorded["_mode"] = mode()
    recorded["_updated"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    write_json_atomically(path, recorded)
    return recorded


def _plain(value: float | int | str) -> float | int | str:
    # NumPy scalars become plain Python numbers so JSON can hold them.
    if hasattr(value, "item"):
        return value.item()  # type: ignore[union-attr]
    return value
