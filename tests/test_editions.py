"""The learner and solutions editions are generated from the sources and leak nothing.

`instructor/NN_topic.ipynb` (solutions and hidden tests) is what authors edit;
`python -m scripts.editions` writes `notebooks/` (what learners open: blank
exercises, visible checks) and `solutions/` (worked solutions, no hidden tests).
"""

import json
import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from scripts import editions

SOURCES = editions.sources()


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def is_solution(cell: dict) -> bool:
    return bool(cell.get("metadata", {}).get("nbgrader", {}).get("solution"))


def test_editions_are_generated_from_the_current_sources():
    stale = editions.stale_files()
    assert not stale, f"stale editions {stale}: run `python -m scripts.editions`"


def test_drift_is_detected(tmp_path, monkeypatch):
    (tmp_path / "instructor").mkdir()
    source = tmp_path / "instructor" / SOURCES[0].name
    source.write_bytes(SOURCES[0].read_bytes())
    monkeypatch.setattr(editions, "REPO_ROOT", tmp_path)
    monkeypatch.setattr(editions, "SOURCE_DIR", tmp_path / "instructor")
    monkeypatch.setattr(editions, "LEARNER_DIR", tmp_path / "notebooks")
    monkeypatch.setattr(editions, "SOLUTIONS_DIR", tmp_path / "solutions")
    assert len(editions.stale_files()) == 2, "missing editions are stale"
    for path, text in editions.expected_files().items():
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert editions.stale_files() == []
    learner = tmp_path / "notebooks" / source.name
    learner.write_text(learner.read_text().replace("Exercise", "Exercice", 1))
    (tmp_path / "solutions" / "99_orphan.ipynb").write_text("{}")
    assert editions.stale_files() == [
        f"notebooks/{source.name}",
        "solutions/99_orphan.ipynb",
    ]


@pytest.mark.parametrize("source", SOURCES, ids=lambda path: path.stem)
def test_learner_edition_leaks_no_solution_or_hidden_test(source):
    original = load(source)
    learner = load(editions.LEARNER_DIR / source.name)
    text = "\n".join("".join(cell["source"]) for cell in learner["cells"])
    assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text
    leaked = editions.leaked_lines(original, learner)
    assert not leaked, f"solution or hidden-test lines in the learner edition: {leaked}"
    stubs = [c for c in learner["cells"] if is_solution(c)]
    assert len(stubs) >= 3
    assert all("raise NotImplementedError(" in "".join(c["source"]) for c in stubs)
    assert f"../solutions/{source.name}" in text, "link the worked solutions"


@pytest.mark.parametrize("source", SOURCES, ids=lambda path: path.stem)
def test_solutions_edition_has_solutions_but_no_hidden_tests(source):
    solved = load(editions.SOLUTIONS_DIR / source.name)
    text = "\n".join(
        "".join(cell["source"])
        for cell in solved["cells"]
        if cell["cell_type"] == "code"
    )
    assert "HIDDEN TESTS" not in text
    hidden_only = editions.leaked_lines(load(source), solved)
    solution_lines = {
        line.strip()
        for cell in load(source)["cells"]
        if is_solution(cell)
        for line in "".join(cell["source"]).splitlines()
    }
    assert set(hidden_only) <= solution_lines, "a hidden test reached solutions/"
    assert "raise NotImplementedError(" not in text


@pytest.mark.parametrize("source", SOURCES, ids=lambda path: path.stem)
def test_learner_edition_teaches_the_same_lesson(source):
    """Everything before the first exercise's text is the source's, cell for cell."""
    original, learner = load(source)["cells"], load(editions.LEARNER_DIR / source.name)
    learner = learner["cells"]
    first = next(index for index, cell in enumerate(original) if is_solution(cell))
    assert [c["source"] for c in learner[1 : first - 1]] == [
        c["source"] for c in original[1 : first - 1]
    ]
    assert "blob/main/notebooks/" in "".join(learner[0]["source"])


def test_learner_edition_runs_until_the_first_exercise(tmp_path):
    """Run all on a learner edition: the lesson runs, the first exercise stops it."""
    path = editions.LEARNER_DIR / SOURCES[0].name
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    os.environ.setdefault("COURSE_MODE", "smoke")
    with pytest.raises(CellExecutionError) as stopped:
        client.execute()
    assert "NotImplementedError" in str(stopped.value)
    assert "replace this line with your code" in str(stopped.value)
    executed = [
        index
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and cell.execution_count is not None
    ]
    first_stub = next(
        index
        for index, cell in enumerate(notebook.cells)
        if is_solution(cell) and cell.cell_type == "code"
    )
    first_check = next(
        index
        for index, cell in enumerate(notebook.cells)
        if index > first_stub and cell.metadata.get("nbgrader", {}).get("grade")
    )
    # A stub inside a function raises when the check calls it.
    assert executed[-1] in (first_stub, first_check), "stopped elsewhere"
    code_before = [
        index
        for index, cell in enumerate(notebook.cells[: executed[-1]])
        if cell.cell_type == "code"
    ]
    assert executed[:-1] == code_before, "a lesson cell did not run"
