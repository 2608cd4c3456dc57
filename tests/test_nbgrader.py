"""nbgrader round trip, through scripts/nbgrader_course.py.

Every lesson is released: the generated student version holds no solution code.
Two quick lessons go all the way round on every run: the solution version scores
full marks and the unanswered student version zero. Every lesson's grading is
covered by the mutation record (results/mutants.json, re-checked by
tests/test_mutants.py), made through the same autograder: there the unmutated
solutions score full marks and wrong answers zero; and nbval runs every solution
against its hidden tests on every test run.
"""

import json
import os

import pytest

from scripts import nbgrader_course
from scripts.editions import leaked_lines

NOTEBOOKS = sorted(nbgrader_course.SOURCE_DIR.glob("[0-9][0-9]_*.ipynb"))
# Some lessons only: ROUND_TRIP_LESSONS=07_augmentation pytest tests/test_nbgrader.py
if os.environ.get("ROUND_TRIP_LESSONS", "all") != "all":
    ONLY = set(os.environ["ROUND_TRIP_LESSONS"].split(","))
    NOTEBOOKS = [path for path in NOTEBOOKS if path.stem in ONLY]
ASSIGNMENT = "course"
# Autograded on every run (seconds each); ROUND_TRIP_LESSONS=all grades every lesson.
GRADED = [path for path in NOTEBOOKS if path.stem in {"01_background", "02_cnn_math"}]
if os.environ.get("ROUND_TRIP_LESSONS"):
    GRADED = NOTEBOOKS


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = tmp_path_factory.mktemp("nbgrader-course")
    release = nbgrader_course.release(course, ASSIGNMENT, NOTEBOOKS)
    nbgrader_course.submit(course, "solution", ASSIGNMENT, GRADED)
    nbgrader_course.submit(
        course, "blank", ASSIGNMENT, [release / path.name for path in GRADED]
    )
    nbgrader_course.autograde(course, ASSIGNMENT)
    return release, nbgrader_course.scores(course, ASSIGNMENT)


def test_leak_check_catches_an_unstripped_notebook():
    original = json.loads(NOTEBOOKS[0].read_text())
    assert leaked_lines(original, original), "the leak check must be able to fail"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_student_version_has_no_solutions(graded, path):
    release, _ = graded
    released = json.loads((release / path.name).read_text())
    released_text = "\n".join("".join(cell["source"]) for cell in released["cells"])
    assert "BEGIN SOLUTION" not in released_text
    assert "BEGIN HIDDEN TESTS" not in released_text
    leaked = leaked_lines(json.loads(path.read_text()), released)
    assert not leaked, f"solution code left in the student version: {leaked[:3]}"
    assert "raise NotImplementedError()" in released_text


@pytest.mark.parametrize("path", GRADED, ids=lambda path: path.stem)
def test_solution_version_scores_full_marks(graded, path):
    _, scores = graded
    score, max_score = scores["solution", path.stem]
    assert max_score >= 3
    assert score == max_score


@pytest.mark.parametrize("path", GRADED, ids=lambda path: path.stem)
def test_unanswered_version_scores_zero(graded, path):
    _, scores = graded
    score, max_score = scores["blank", path.stem]
    assert max_score >= 3
    assert score == 0
