"""Drive nbgrader the one way the course uses it.

An nbgrader course folder holds ``source/<assignment>/`` (copies of lesson sources),
``release/`` (the student versions nbgrader generates), ``submitted/`` and the
gradebook. ``make assignments`` (this module's command line),
``scripts/time_autograde.py`` and ``tests/test_nbgrader.py`` all go through these
functions, so they run nbgrader with the same options and report its failures the
same way.

Usage::

    python -m scripts.nbgrader_course release   # make assignments: release/NN_topic/
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

from utils import REPO_ROOT

SOURCE_DIR = REPO_ROOT / "instructor"
CELL_TIMEOUT = 900  # Seconds a cell may run while nbgrader executes a notebook.


def nbgrader(course: Path, *arguments: str) -> subprocess.CompletedProcess:
    """Run one nbgrader command in the course folder ``course``.

    nbgrader runs ``alembic`` (installed beside this Python) to create its
    gradebook, so that folder goes first on the command's PATH.

    Args:
        course: The nbgrader course folder.
        *arguments: The command and its options, e.g. ``"autograde", "04_mnist_cnn"``.

    Returns:
        The finished process.

    Raises:
        RuntimeError: If nbgrader fails; the message holds the end of its output.
    """
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "nbgrader",
            *arguments,
            f"--CourseDirectory.root={course}",
            f"--Execute.timeout={CELL_TIMEOUT}",
        ],
        cwd=course,
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": path},
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"nbgrader {' '.join(arguments)} failed in {course}:\n"
            f"{result.stdout[-3000:]}{result.stderr[-3000:]}"
        )
    return result


def release(course: Path, assignment: str, lessons: list[Path]) -> Path:
    """Add lesson sources to ``course`` as one assignment and generate its release.

    Args:
        course: The nbgrader course folder (created if needed).
        assignment: The assignment's name, e.g. ``"04_mnist_cnn"``.
        lessons: Lesson sources (``instructor/NN_topic.ipynb``) it holds.

    Returns:
        The folder of the student versions, ``course/release/<assignment>``.
    """
    source = course / "source" / assignment
    source.mkdir(parents=True, exist_ok=True)
    for lesson in lessons:
        shutil.copy(lesson, source / lesson.name)
    nbgrader(course, "db", "assignment", "add", assignment)
    nbgrader(course, "generate_assignment", assignment, "--force")
    return course / "release" / assignment


def submit(course: Path, student: str, assignment: str, notebooks: list[Path]) -> None:
    """Put notebooks where nbgrader finds a student's submission of an assignment."""
    submitted = course / "submitted" / student / assignment
    submitted.mkdir(parents=True, exist_ok=True)
    for notebook in notebooks:
        shutil.copy(notebook, submitted / notebook.name)


def autograde(course: Path, assignment: str) -> None:
    """Execute and grade every submission of an assignment."""
    nbgrader(course, "autograde", assignment, "--force")


def scores(course: Path, assignment: str) -> dict[tuple[str, str], tuple[float, float]]:
    """Return (score, max score) by (student, notebook stem) from the gradebook."""
    from nbgrader.api import Gradebook

    found = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for submission in gradebook.assignment_submissions(assignment):
            for notebook in submission.notebooks:
                found[submission.student_id, notebook.name] = (
                    notebook.score,
                    notebook.max_score,
                )
    return found


def release_every_lesson(course: Path, destination: Path) -> None:
    """Release each lesson as its own assignment; copy the releases to destination."""
    shutil.rmtree(course, ignore_errors=True)
    for lesson in sorted(SOURCE_DIR.glob("[0-9][0-9]_*.ipynb")):
        release(course, lesson.stem, [lesson])
    shutil.rmtree(destination, ignore_errors=True)
    shutil.copytree(course / "release", destination)


def main() -> None:
    """Command line: ``release`` writes every lesson's student version."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["release"])
    parser.parse_args()
    release_every_lesson(REPO_ROOT / "build" / "nbgrader", REPO_ROOT / "release")
    print("Student versions: release/NN_topic/NN_topic.ipynb")


if __name__ == "__main__":
    main()
