"""Recorded figures fall inside the bands each lesson states.

Each lesson has ``tests/bands/NN_topic.json``: per mode, ``{figure: [low, high]}``,
and under ``"key_result"`` the README's one-line summary of its record.

- this run (COURSE_MODE, smoke in CI, gpu on the GPU runner): what the notebooks
  recorded in *this* pytest session (conftest.py points COURSE_RESULTS_DIR at a
  fresh folder); a lesson that was not executed in this session is skipped, one
  that ran but recorded nothing fails.
- cpu: the committed results/cpu/*.json of measured CPU runs (make results).
"""

import json
import os
from pathlib import Path

import pytest

from utils import REPO_ROOT

LESSONS = sorted((REPO_ROOT / "instructor").glob("[0-9][0-9]_*.ipynb"))
MODES = ("smoke", "cpu", "gpu")


def bands_of(lesson: str) -> dict:
    path = REPO_ROOT / "tests" / "bands" / f"{lesson}.json"
    assert path.is_file(), f"{lesson} states no bands: write {path.name}"
    return json.loads(path.read_text())


def check(recorded, bands, label):
    problems = []
    for name, (low, high) in bands.items():
        if name not in recorded:
            problems.append(f"{label}: {name} not recorded")
        elif not low <= recorded[name] <= high:
            value = recorded[name]
            problems.append(f"{label}: {name} = {value} outside [{low}, {high}]")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("lesson", [path.stem for path in LESSONS])
def test_figures_of_this_run(lesson, request):
    if lesson not in getattr(request.config, "executed_notebooks", set()):
        pytest.skip(f"{lesson}.ipynb was not executed in this pytest session")
    mode = os.environ["COURSE_MODE"]
    results = Path(os.environ["COURSE_RESULTS_DIR"]) / mode / f"{lesson}.json"
    assert results.is_file(), f"{lesson} ran but recorded no figures in {results}"
    check(json.loads(results.read_text()), bands_of(lesson)[mode], f"{lesson} ({mode})")


@pytest.mark.parametrize("lesson", [path.stem for path in LESSONS])
def test_committed_cpu_figures(lesson):
    results = REPO_ROOT / "results" / "cpu" / f"{lesson}.json"
    assert results.is_file(), f"no measured cpu results for {lesson}: run make results"
    check(json.loads(results.read_text()), bands_of(lesson)["cpu"], f"{lesson} (cpu)")


@pytest.mark.parametrize("lesson", [path.stem for path in LESSONS])
def test_bands_are_well_formed(lesson):
    bands = bands_of(lesson)
    assert set(bands) == {"key_result", *MODES}, f"{lesson}: keys {sorted(bands)}"
    assert isinstance(bands["key_result"], str) and "{" in bands["key_result"]
    for mode in MODES:
        assert bands[mode], f"{lesson} states no {mode} bands"
        for name, band in bands[mode].items():
            assert len(band) == 2 and band[0] <= band[1], (lesson, mode, name)
