"""Generate the learner and solutions editions of every lesson from its source.

Authors edit one file per lesson, the nbgrader source ``instructor/NN_topic.ipynb``
(solutions between ``### BEGIN SOLUTION`` / ``### END SOLUTION``, hidden tests between
``### BEGIN HIDDEN TESTS`` / ``### END HIDDEN TESTS``). From it this script writes:

- ``notebooks/NN_topic.ipynb``, the learner edition that the Colab badge and
  ``make lab`` open: nbgrader's own preprocessors replace each solution by a stub
  that raises ``NotImplementedError`` with what to do, and remove the hidden tests;
  the worked solutions are replaced by a link.
- ``solutions/NN_topic.ipynb``, the worked solutions: the whole lesson with every
  exercise solved and explained, hidden tests removed.

Usage::

    python -m scripts.editions            # rewrite both editions of every lesson
    python -m scripts.editions --check    # exit 1 and name the stale files
"""

from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path

import nbformat
from nbgrader.preprocessors import ClearHiddenTests, ClearSolutions
from traitlets.config import Config

from utils import REPO_ROOT

SOURCE_DIR = REPO_ROOT / "instructor"
LEARNER_DIR = REPO_ROOT / "notebooks"
SOLUTIONS_DIR = REPO_ROOT / "solutions"
LESSON_GLOB = "[0-9][0-9]_*.ipynb"
SOLUTIONS_HEADING = "## Solutions"


def sources() -> list[Path]:
    """Return the lesson sources in reading order."""
    return sorted(SOURCE_DIR.glob(LESSON_GLOB))


def code_stub(stem: str) -> str:
    """Return what replaces a solution in the learner edition."""
    return (
        "# Your code here: replace the next line, run this cell, then run the check.\n"
        "raise NotImplementedError(\n"
        '    "Exercise not answered yet: replace this line with your code, run the "\n'
        '    "cell, then run the check cell below it. Stuck? The worked solution is "\n'
        f'    "in solutions/{stem}.ipynb."\n'
        ")"
    )


def _retarget_badge(notebook: nbformat.NotebookNode, folder: str) -> None:
    title = notebook.cells[0]
    title.source = title.source.replace(
        f"/blob/main/{SOURCE_DIR.name}/", f"/blob/main/{folder}/"
    )


def _solutions_start(notebook: nbformat.NotebookNode) -> int:
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "markdown" and cell.source.startswith(SOLUTIONS_HEADING):
            return index
    return len(notebook.cells)


def _strip_hidden_tests(notebook: nbformat.NotebookNode) -> None:
    ClearHiddenTests().preprocess(notebook, {})


def learner_edition(source: nbformat.NotebookNode, stem: str) -> nbformat.NotebookNode:
    """Return the learner edition of one lesson source."""
    notebook = copy.deepcopy(source)
    _retarget_badge(notebook, LEARNER_DIR.name)
    start = _solutions_start(notebook)
    link = f"[solutions/{stem}.ipynb](../{SOLUTIONS_DIR.name}/{stem}.ipynb)"
    solutions_cell = nbformat.v4.new_markdown_cell(
        f"{SOLUTIONS_HEADING}\n\nTry each exercise before you look. The worked "
        f"solutions, each explained and run, are in {link}."
    )
    solutions_cell.id = f"{stem[:2]}-solutions-link"
    notebook.cells = notebook.cells[:start] + [solutions_cell]
    for index, cell in enumerate(notebook.cells):
        grading = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type == "code" and grading.get("solution") and index:
            previous = notebook.cells[index - 1]
            if previous.cell_type == "markdown":
                previous.source += f"\n\n*Worked solution:* {link} (try it first)."
    config = Config()
    config.ClearSolutions.code_stub = {"python": code_stub(stem)}
    ClearSolutions(config=config).preprocess(notebook, {})
    _strip_hidden_tests(notebook)
    return notebook


def solutions_edition(
    source: nbformat.NotebookNode, stem: str
) -> nbformat.NotebookNode:
    """Return the worked-solutions edition of one lesson source."""
    notebook = copy.deepcopy(source)
    _retarget_badge(notebook, SOLUTIONS_DIR.name)
    learner = f"[notebooks/{stem}.ipynb](../{LEARNER_DIR.name}/{stem}.ipynb)"
    notebook.cells[0].source += (
        f"\n\n**Worked solutions.** This copy has every exercise solved; the lesson "
        f"to work through yourself is {learner}."
    )
    _strip_hidden_tests(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            lines = cell.source.split("\n")
            cell.source = "\n".join(
                line for line in lines if line.strip() not in _SOLUTION_MARKERS
            )
    return notebook


_SOLUTION_MARKERS = {"### BEGIN SOLUTION", "### END SOLUTION"}


def leaked_lines(original: dict, released: dict) -> list[str]:
    """Return lines found only in solution or hidden-test regions that were released."""
    solution_lines, public_lines = set(), set()
    for cell in original["cells"]:
        text = "".join(cell["source"])
        public = text
        if "### BEGIN SOLUTION" in text:
            before, rest = text.split("### BEGIN SOLUTION", 1)
            inside, after = rest.split("### END SOLUTION", 1)
            solution_lines |= {line.strip() for line in inside.splitlines()}
            public = before + after
        if "### BEGIN HIDDEN TESTS" in public:
            before, rest = public.split("### BEGIN HIDDEN TESTS", 1)
            hidden, after = rest.split("### END HIDDEN TESTS", 1)
            solution_lines |= {line.strip() for line in hidden.splitlines()}
            public = before + after
        public_lines |= {line.strip() for line in public.splitlines()}
    secret_lines = {line for line in solution_lines - public_lines if len(line) > 12}
    released_lines = {
        line.strip()
        for cell in released["cells"]
        for line in "".join(cell["source"]).splitlines()
    }
    return sorted(secret_lines & released_lines)


def editions(path: Path) -> dict[Path, str]:
    """Return the text of both editions of one source, by destination path."""
    source = nbformat.read(path, as_version=4)
    stem = path.stem
    return {
        LEARNER_DIR / path.name: nbformat.writes(learner_edition(source, stem)) + "\n",
        SOLUTIONS_DIR / path.name: nbformat.writes(solutions_edition(source, stem))
        + "\n",
    }


def expected_files() -> dict[Path, str]:
    """Return every generated edition, by destination path."""
    files: dict[Path, str] = {}
    for path in sources():
        files.update(editions(path))
    return files


def stale_files() -> list[str]:
    """Return the editions that differ from their sources, or have no source."""
    expected = expected_files()
    stale = [
        str(path.relative_to(REPO_ROOT))
        for path, text in expected.items()
        if not path.is_file() or path.read_text(encoding="utf-8") != text
    ]
    for folder in (LEARNER_DIR, SOLUTIONS_DIR):
        stale += [
            str(path.relative_to(REPO_ROOT))
            for path in sorted(folder.glob(LESSON_GLOB))
            if path not in expected
        ]
    return stale


def main() -> int:
    """Write the editions, or with --check report the stale ones."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only report")
    arguments = parser.parse_args()
    if arguments.check:
        stale = stale_files()
        if stale:
            print(
                "Stale editions (run `python -m scripts.editions`): " + ", ".join(stale)
            )
            return 1
        return 0
    for folder in (LEARNER_DIR, SOLUTIONS_DIR):
        folder.mkdir(exist_ok=True)
        for path in folder.glob(LESSON_GLOB):
            if not (SOURCE_DIR / path.name).is_file():
                path.unlink()
    for path, text in expected_files().items():
        path.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
