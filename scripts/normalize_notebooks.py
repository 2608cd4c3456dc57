"""Bring notebooks in line with CONTRIBUTING.md's mechanical rules.

- The first code cell becomes the standard Colab cell from CONTRIBUTING.md.
- Markdown nbgrader solution cells (which nbgrader only accepts when manually graded)
  become ungraded code solution cells holding the explanation as comments.
- Outputs and execution counts are removed.

Usage: python scripts/normalize_notebooks.py instructor/NN_topic.ipynb ...
"""

import re
import sys
import textwrap
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
COLAB_CELL = (
    re.search(
        r"```python\n(# Runs only in Colab.*?)```",
        (ROOT / "CONTRIBUTING.md").read_text(),
        re.S,
    )
    .group(1)
    .strip()
)


def normalize(path: Path) -> None:
    """Rewrite one notebook in place."""
    notebook = nbformat.read(path, as_version=4)
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    code_cells[0].source = COLAB_CELL
    for index, cell in enumerate(notebook.cells):
        grading = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type == "markdown" and grading.get("solution"):
            paragraphs = cell.source.strip().split("\n\n")
            comments = "\n#\n".join(
                textwrap.fill(
                    " ".join(paragraph.split()),
                    width=86,
                    initial_indent="# ",
                    subsequent_indent="# ",
                )
                for paragraph in paragraphs
            )
            replacement = nbformat.v4.new_code_cell(
                f"### BEGIN SOLUTION\n{comments}\n### END SOLUTION"
            )
            replacement.metadata["nbgrader"] = {
                "grade": False,
                "grade_id": grading["grade_id"],
                "locked": False,
                "schema_version": 3,
                "solution": True,
                "task": False,
            }
            replacement.id = cell.get("id", replacement.id)
            notebook.cells[index] = replacement
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    nbformat.write(notebook, path)


if __name__ == "__main__":
    for argument in sys.argv[1:]:
        normalize(Path(argument))
