"""nbgrader round trip over every lesson with exercises.

The generated student version holds no solution code; the solution version scores
full marks; the unanswered student version scores zero; the grader does not crash.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from scripts.editions import leaked_lines

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "instructor").glob("[0-9][0-9]_*.ipynb"))
# One lesson only: ROUND_TRIP_LESSONS=07_augmentation pytest tests/test_nbgrader.py
if os.environ.get("ROUND_TRIP_LESSONS"):
    ONLY = set(os.environ["ROUND_TRIP_LESSONS"].split(","))
    NOTEBOOKS = [path for path in NOTEBOOKS if path.stem in ONLY]
ASSIGNMENT = "course"


def nbgrader(course: Path, *arguments: str) -> subprocess.CompletedProcess:
    command = [
        sys.executable,
        "-m",
        "nbgrader",
        *arguments,
        f"--CourseDirectory.root={course}",
        "--Execute.timeout=900",
    ]
    result = subprocess.run(
        command, cwd=course, capture_output=True, text=True, timeout=3600
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = tmp_path_factory.mktemp("nbgrader-course")
    source = course / "source" / ASSIGNMENT
    source.mkdir(parents=True)
    for path in NOTEBOOKS:
        shutil.copy(path, source / path.name)
    nbgrader(course, "db", "assignment", "add", ASSIGNMENT)
    for student in ("solution", "blank"):
        nbgrader(course, "db", "student", "add", student)
    nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")
    release = course / "release" / ASSIGNMENT
    for student, origin in (("solution", source), ("blank", release)):
        submitted = course / "submitted" / student / ASSIGNMENT
        submitted.mkdir(parents=True)
        for path in NOTEBOOKS:
            shutil.copy(origin / path.name, submitted / path.name)
    nbgrader(course, "autograde", ASSIGNMENT, "--force")
    from nbgrader.api import Gradebook

    scores = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for student in ("solution", "blank"):
            for path in NOTEBOOKS:
                notebook = gradebook.find_submission_notebook(
                    path.stem, ASSIGNMENT, student
                )
                scores[student, path.stem] = (notebook.score, notebook.max_score)
    return course, scores


def test_leak_check_catches_an_unstripped_notebook():
    original = json.loads(NOTEBOOKS[0].read_text())
    assert leaked_lines(original, original), "the leak check must be able to fail"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_student_version_has_no_solutions(graded, path):
    course, _ = graded
    released = json.loads((course / "release" / ASSIGNMENT / path.name).read_text())
    released_text = "\n".join("".join(cell["source"]) for cell in released["cells"])
    assert "BEGIN SOLUTION" not in released_text
    assert "BEGIN HIDDEN TESTS" not in released_text
    leaked = leaked_lines(json.loads(path.read_text()), released)
    assert not leaked, f"solution code left in the student version: {leaked[:3]}"
    assert "raise NotImplementedError()" in released_text


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_solution_version_scores_full_marks(graded, path):
    _, scores = graded
    score, max_score = scores["solution", path.stem]
    assert max_score >= 3
    assert score == max_score


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_unanswered_version_scores_zero(graded, path):
    _, scores = graded
    score, max_score = scores["blank", path.stem]
    assert max_score >= 3
    assert score == 0
