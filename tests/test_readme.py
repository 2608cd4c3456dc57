"""The README states what the recorded results say, and the commands CI runs."""

import json
from pathlib import Path

from scripts import run_notebooks

ROOT = Path(__file__).resolve().parents[1]


def test_lesson_table_matches_recorded_results():
    table = run_notebooks.readme_section(
        run_notebooks.TABLE_START, run_notebooks.TABLE_END
    )
    assert table == run_notebooks.lesson_table(), (
        "README lesson table is stale: run "
        "`python scripts/run_notebooks.py --readme-only`"
    )
    assert "not measured" not in table


def test_readme_gives_the_two_commands_and_ci_uses_the_test_one():
    readme = (ROOT / "README.md").read_text()
    assert "make lab" in readme and "make test" in readme
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_instructor_table_matches_measured_autograde_times():
    from scripts import time_autograde

    record = json.loads(time_autograde.RECORD.read_text())
    lessons = sorted(path.stem for path in (ROOT / "notebooks").glob("[0-9][0-9]_*"))
    assert sorted(record["lessons"]) == lessons, (
        "results/autograde.json does not cover every lesson: run make autograde-timing"
    )
    table = run_notebooks.readme_section(
        time_autograde.TABLE_START, time_autograde.TABLE_END
    )
    assert table == time_autograde.table(record), (
        "README instructor table is stale: python -m scripts.time_autograde "
        "--readme-only"
    )
