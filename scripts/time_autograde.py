"""Measure what autograding costs an instructor, one lesson at a time.

Each lesson is its own nbgrader assignment, as in the README's instructor guide.
For each one this releases the student version, submits the solution notebook for
one student, and times ``nbgrader autograde`` (which executes the notebook). The
times go to ``results/autograde.json`` and the README's instructor table.

Usage::

    COURSE_MODE=smoke python -m scripts.time_autograde [--readme-only] [LESSON ...]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import utils
from scripts import nbgrader_course
from scripts.run_notebooks import replace_readme_section
from utils import REPO_ROOT

RECORD = REPO_ROOT / "results" / "autograde.json"
TABLE_START = "<!-- autograde-table:start -->"
TABLE_END = "<!-- autograde-table:end -->"


def time_lesson(course: Path, lesson: Path) -> dict[str, float]:
    """Release one lesson, submit its solutions, and time the autograder."""
    nbgrader_course.release(course, lesson.stem, [lesson])
    nbgrader_course.submit(course, "student", lesson.stem, [lesson])
    start = time.perf_counter()
    nbgrader_course.autograde(course, lesson.stem)
    return {"autograde_seconds": round(time.perf_counter() - start, 1)}


def table(record: dict) -> str:
    """The README's instructor table from ``results/autograde.json``."""
    lines = [
        f"Autograding one submission (`COURSE_MODE={record['mode']}`, "
        f"{record['machine']}; `scripts/time_autograde.py`):",
        "",
        "| lesson | seconds per submission |",
        "|---|---:|",
    ]
    sources = sorted(nbgrader_course.SOURCE_DIR.glob("[0-9][0-9]_*.ipynb"))
    for lesson in [path.stem for path in sources]:
        figures = record["lessons"].get(lesson)
        seconds = "not measured yet"
        if figures:
            seconds = f"{figures['autograde_seconds']:.0f}"
        lines.append(f"| {lesson} | {seconds} |")
    total = sum(figures["autograde_seconds"] for figures in record["lessons"].values())
    complete = len(record["lessons"]) == len(sources)
    label = "all lessons" if complete else "measured lessons"
    lines.append(f"| {label} | {total:.0f} |")
    return "\n".join(lines)


def main() -> None:
    """Time the lessons' autograding, then write the record and the README."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readme-only", action="store_true")
    parser.add_argument(
        "lessons",
        nargs="*",
        help="lesson stems to (re)time, e.g. 03_how_networks_learn; default: all. "
        "The others keep their recorded times; lessons that are gone are dropped.",
    )
    arguments = parser.parse_args()
    sources = sorted(nbgrader_course.SOURCE_DIR.glob("[0-9][0-9]_*.ipynb"))
    if not arguments.readme_only:
        os.environ.setdefault("COURSE_MODE", "smoke")
        chosen = set(arguments.lessons) or {path.stem for path in sources}
        unknown = chosen - {path.stem for path in sources}
        if unknown:
            parser.error(f"no lesson source for {sorted(unknown)} in instructor/")
        previous = json.loads(RECORD.read_text()) if RECORD.is_file() else {}
        timed = previous.get("lessons", {}) if arguments.lessons else {}
        with tempfile.TemporaryDirectory() as directory:
            for lesson in sources:
                if lesson.stem in chosen:
                    timed[lesson.stem] = time_lesson(Path(directory), lesson)
                    print(lesson.stem, timed[lesson.stem], flush=True)
        record = {
            "mode": os.environ["COURSE_MODE"],
            "machine": f"{platform.machine()}, {os.cpu_count()} cores",
            "lessons": {
                path.stem: timed[path.stem] for path in sources if path.stem in timed
            },
        }
        utils.write_json_atomically(RECORD, record)
    record = json.loads(RECORD.read_text())
    replace_readme_section(TABLE_START, TABLE_END, table(record))


if __name__ == "__main__":
    main()
