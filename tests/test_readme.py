"""The README states what the recorded results say, and the commands CI runs."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def load_runner():
    spec = importlib.util.spec_from_file_location(
        "run_notebooks", ROOT / "scripts" / "run_notebooks.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_lesson_table_matches_recorded_results():
    runner = load_runner()
    readme = (ROOT / "README.md").read_text()
    table = readme.split(runner.TABLE_START)[1].split(runner.TABLE_END)[0].strip()
    assert table == runner.lesson_table(), (
        "README lesson table is stale: run "
        "`python scripts/run_notebooks.py --readme-only`"
    )
    assert "not measured" not in table


def test_readme_gives_the_two_commands_and_ci_uses_the_test_one():
    readme = (ROOT / "README.md").read_text()
    assert "make lab" in readme and "make test" in readme
    assert "make test" in (ROOT / ".ci" / "run").read_text()
