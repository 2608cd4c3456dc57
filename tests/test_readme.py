"""The README states what the recorded results say."""

import json

from scripts import run_notebooks, time_autograde
from utils import REPO_ROOT


def test_lesson_table_matches_recorded_results():
    table = run_notebooks.readme_section(
        run_notebooks.TABLE_START, run_notebooks.TABLE_END
    )
    assert table == run_notebooks.lesson_table(), (
        "README lesson table is stale: run "
        "`python scripts/run_notebooks.py --readme-only`"
    )
    assert "not measured" not in table


def test_instructor_table_matches_measured_autograde_times():
    record = json.loads(time_autograde.RECORD.read_text())
    lessons = sorted(
        path.stem for path in (REPO_ROOT / "notebooks").glob("[0-9][0-9]_*")
    )
    assert set(record["lessons"]) <= set(lessons), (
        "results/autograde.json times lessons that are gone: run make autograde-timing"
    )
    table = run_notebooks.readme_section(
        time_autograde.TABLE_START, time_autograde.TABLE_END
    )
    assert table == time_autograde.table(record), (
        "README instructor table is stale: python -m scripts.time_autograde "
        "--readme-only"
    )
