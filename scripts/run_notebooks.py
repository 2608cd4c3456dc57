"""Execute lessons headless in one mode, time them and publish their figures.

Used by ``make results`` (cpu mode) and the GPU workflow, and the only writer of
``results/``. Each notebook runs in a fresh kernel and records its figures under
``build/publish/`` (via ``utils.report``); once it has finished, the record, with
the wall seconds and slow cells measured here, is published atomically to
``results/<mode>/<lesson>.json``. The executed
notebooks (with outputs) go to ``build/executed/<mode>/`` for ``make html``.

Usage::

    python scripts/run_notebooks.py --mode cpu [instructor/04_mnist_cnn.ipynb ...]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
SLOW_CELL_SECONDS = 10.0  # Cells slower than this must state their expected time.


def slow_cells(notebook: nbformat.NotebookNode) -> dict[str, float]:
    """Seconds of every code cell that ran longer than SLOW_CELL_SECONDS, by cell id.

    Reads the timestamps nbclient stores in each executed cell's metadata.
    """
    slow = {}
    for cell in notebook.cells:
        timing = cell.get("metadata", {}).get("execution", {})
        if "iopub.execute_input" in timing and "shell.execute_reply" in timing:
            start, end = (
                datetime.datetime.fromisoformat(timing[key].replace("Z", "+00:00"))
                for key in ("iopub.execute_input", "shell.execute_reply")
            )
            seconds = (end - start).total_seconds()
            if seconds > SLOW_CELL_SECONDS:
                slow[cell.id] = round(seconds, 1)
    return slow


def run(path: Path, mode: str, timeout: int) -> float:
    """Execute one notebook in ``mode``; return its wall seconds."""
    os.environ["COURSE_MODE"] = mode
    # Kernels use Jupyter's inline backend, so figures land in the executed copies.
    os.environ.pop("MPLBACKEND", None)
    # The run records into build/; only a finished run is published to results/.
    os.environ["COURSE_RESULTS_DIR"] = str(ROOT / "build" / "publish")
    record = ROOT / "build" / "publish" / mode / f"{path.stem}.json"
    record.unlink(missing_ok=True)
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.perf_counter()
    try:
        client.execute()
    finally:
        seconds = time.perf_counter() - start
        executed = ROOT / "build" / "executed" / mode / path.name
        executed.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, executed)
    import utils

    utils.report(
        path.stem,
        wall_seconds=round(seconds, 1),
        machine=f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()}",
    )
    figures = json.loads(record.read_text())
    figures["slow_cells"] = slow_cells(notebook)  # report() takes numbers only.
    utils.write_json_atomically(ROOT / "results" / mode / record.name, figures)
    return seconds


def summary(mode: str) -> str:
    """Return the results table (markdown) of every lesson recorded in ``mode``."""
    import keras
    import tensorflow as tf

    lines = [
        f"# Results in `{mode}` mode",
        "",
        f"TensorFlow {tf.__version__}, Keras {keras.__version__}, Python "
        f"{platform.python_version()}, {platform.machine()} with {os.cpu_count()} "
        "cores. Written by `scripts/run_notebooks.py`; do not edit by hand.",
        "",
        "| lesson | wall seconds | key figures |",
        "|---|---:|---|",
    ]
    for record in sorted((ROOT / "results" / mode).glob("[0-9][0-9]_*.json")):
        figures = json.loads(record.read_text())
        key = ", ".join(
            f"{name} = {value:.4g}" if isinstance(value, float) else f"{name} = {value}"
            for name, value in figures.items()
            if not name.startswith("_")
            and name not in ("wall_seconds", "machine", "slow_cells")
        )
        lines.append(f"| {record.stem} | {figures.get('wall_seconds', '')} | {key} |")
    return "\n".join(lines) + "\n"


TABLE_START = "<!-- lesson-table:start -->"
TABLE_END = "<!-- lesson-table:end -->"
KEY_RESULTS = {
    # lesson -> the README's key result, filled from results/cpu/<lesson>.json
    "01_background": "JPEG quality 90: {jpeg_q90_bytes_ratio_vs_png:.0%} of the PNG "
    "bytes at {jpeg_q90_psnr_db:.1f} dB PSNR",
    "02_cnn_math": "NumPy convolution = Keras to {conv_max_relative_error:.0e} "
    "(relative); output-size formula right in {num_output_size_settings_checked} "
    "settings",
    "04_mnist_cnn": "article's CNN {article_test_accuracy:.2%}; improved CNN "
    "{improved_test_accuracy:.2%}, 99 % test accuracy after {seconds_to_99:.0f} s",
    "05_architectures": "best Fashion-MNIST test accuracy {best_test_accuracy:.2%} "
    "({best_model})",
    "07_augmentation": "best regularised ({best_variant}) val. accuracy "
    "{best_val_accuracy:.1%} vs baseline {baseline_val_accuracy:.1%} "
    "(+{improvement_points:.1f} points, 95% interval {improvement_low:.1f} to "
    "{improvement_high:.1f}); test {best_test_accuracy:.1%}",
    "08_transfer_learning": "fine-tuned MobileNet {fine_tuned_test_accuracy:.1%}, "
    "frozen {frozen_test_accuracy:.1%} (fine-tuned − frozen "
    "{fine_tuned_minus_frozen_points:+.1f} points, 95% interval "
    "{fine_tuned_minus_frozen_low:+.1f} to {fine_tuned_minus_frozen_high:+.1f}), "
    "lesson 07's CNN from scratch {scratch_test_accuracy:.1%} test accuracy",
    "09_dcgan": "InfoGAN: {confident_share:.0%} of generated digits confident (floor "
    "80 %), classes {min_class_share:.0%}-{max_class_share:.0%}, Fréchet "
    "{frechet_distance:.0f} vs real-data floor {frechet_distance_real_floor:.1f}",
    "11_trends": "10 photos/class with pretrained features "
    "{flowers_pretrained_accuracy_10_per_class:.1%} vs from scratch on all "
    "{flowers_scratch_accuracy_418_per_class:.1%}; MNIST error ∝ "
    "n^-{power_law_exponent:.2f}",
}


def expected_gpu_runtime(path: Path) -> str:
    """The GPU runtime a lesson's title cell promises ("Runtime: ~N min (GPU), ...")."""
    title = nbformat.read(path, as_version=4).cells[0].source
    match = re.search(r"Runtime: (~[\d.]+ (?:s|min)) \(GPU, estimated\)", title)
    return match.group(1) if match else "not stated"


def lesson_table() -> str:
    """Return the README's lesson table, built from results/cpu/*.json."""
    lines = [
        "| lesson | cpu runtime (2 cores) | key result (cpu mode) "
        "| Colab GPU runtime (estimate) |",
        "|---|---:|---|---:|",
    ]
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        record = ROOT / "results" / "cpu" / f"{path.stem}.json"
        figures = json.loads(record.read_text()) if record.is_file() else {}
        seconds = figures.get("wall_seconds")
        if seconds is None:
            runtime = "not measured"
        elif seconds < 90:
            runtime = f"{seconds:.0f} s"
        else:
            runtime = f"{seconds / 60:.1f} min"
        try:
            key = KEY_RESULTS[path.stem].format_map(figures)
        except (KeyError, ValueError):
            key = "not measured"
        gpu = expected_gpu_runtime(path)
        lines.append(
            f"| [{path.stem}](notebooks/{path.name}) | {runtime} | {key} | {gpu} |"
        )
    return "\n".join(lines)


def readme_section(start: str, end: str) -> str:
    """The README's text between two marker comments, stripped."""
    return (ROOT / "README.md").read_text().split(start)[1].split(end)[0].strip()


def replace_readme_section(start: str, end: str, body: str) -> None:
    """Put ``body`` between two marker comments of the README."""
    readme = ROOT / "README.md"
    head, rest = readme.read_text().split(start)
    _, tail = rest.split(end)
    readme.write_text(f"{head}{start}\n{body}\n{end}{tail}")


def update_readme() -> None:
    """Rewrite the lesson table between the README's markers."""
    replace_readme_section(TABLE_START, TABLE_END, lesson_table())


def main() -> None:
    """Parse arguments, run the notebooks, write the summary table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("smoke", "cpu", "gpu"), default="cpu")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    parser.add_argument(
        "--readme-only",
        action="store_true",
        help="only rewrite the README table from results/cpu",
    )
    parser.add_argument("notebooks", nargs="*", type=Path)
    arguments = parser.parse_args()
    if arguments.readme_only:
        (ROOT / "results" / "cpu" / "SUMMARY.md").write_text(summary("cpu"))
        update_readme()
        return
    paths = arguments.notebooks or sorted(
        (ROOT / "instructor").glob("[0-9][0-9]_*.ipynb")
    )
    for path in paths:
        seconds = run(path.resolve(), arguments.mode, arguments.timeout)
        print(f"{path.name}: {seconds:.1f} s in {arguments.mode} mode", flush=True)
    (ROOT / "results" / arguments.mode / "SUMMARY.md").write_text(
        summary(arguments.mode)
    )
    if arguments.mode == "cpu":
        update_readme()


if __name__ == "__main__":
    main()
