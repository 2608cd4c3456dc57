"""Recorded figures fall inside the bands each lesson states.

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

ROOT = Path(__file__).resolve().parents[1]
BANDS = sorted((ROOT / "tests" / "bands").glob("*.json"))
# Floors an issue sets that the recorded cpu run does not reach yet. The band stays
# the floor; the test reports the gap as an expected failure, and fails outright when
# the figure reaches the floor (then delete the entry) or misses any other band.
KNOWN_SHORTFALLS: dict[tuple[str, str], str] = {}


def problems_with(recorded, bands, label):
    """{figure name: what is wrong} for every band the recorded figures miss."""
    problems = {}
    for name, (low, high) in bands.items():
        if name not in recorded:
            problems[name] = f"{label}: {name} not recorded"
        elif not low <= recorded[name] <= high:
            problems[name] = (
                f"{label}: {name} = {recorded[name]} outside [{low}, {high}]"
            )
    return problems


def check(recorded, bands, label):
    problems = problems_with(recorded, bands, label)
    assert not problems, "\n".join(problems.values())


@pytest.mark.parametrize("band_file", BANDS, ids=lambda path: path.stem)
def test_figures_of_this_run(band_file, request):
    lesson = band_file.stem
    if lesson not in getattr(request.config, "executed_notebooks", set()):
        pytest.skip(f"{lesson}.ipynb was not executed in this pytest session")
    mode = os.environ["COURSE_MODE"]
    results = Path(os.environ["COURSE_RESULTS_DIR"]) / mode / f"{lesson}.json"
    assert results.is_file(), f"{lesson} ran but recorded no figures in {results}"
    check(
        json.loads(results.read_text()),
        json.loads(band_file.read_text())[mode],
        f"{lesson} ({mode})",
    )


@pytest.mark.parametrize("band_file", BANDS, ids=lambda path: path.stem)
def test_committed_cpu_figures(band_file):
    lesson = band_file.stem
    results = ROOT / "results" / "cpu" / f"{lesson}.json"
    assert results.is_file(), f"no measured cpu results for {lesson}: run make results"
    problems = problems_with(
        json.loads(results.read_text()),
        json.loads(band_file.read_text())["cpu"],
        f"{lesson} (cpu)",
    )
    known = {
        name for (known_lesson, name) in KNOWN_SHORTFALLS if known_lesson == lesson
    }
    unexpected = {name: text for name, text in problems.items() if name not in known}
    assert not unexpected, "\n".join(unexpected.values())
    reached = known - set(problems)
    assert not reached, f"{lesson}: {sorted(reached)} now meet their floor; delete "
    "them from KNOWN_SHORTFALLS"
    if known:
        pytest.xfail("; ".join(KNOWN_SHORTFALLS[lesson, name] for name in known))


def test_bands_are_well_formed():
    for band_file in BANDS:
        bands = json.loads(band_file.read_text())
        assert set(bands) == {"smoke", "cpu", "gpu"}, band_file.name
        for mode_bands in bands.values():
            for name, band in mode_bands.items():
                assert len(band) == 2 and band[0] <= band[1], (band_file.name, name)
