"""Bring lesson sources in line with CONTRIBUTING.md's mechanical rules.

- The first code cell becomes the standard Colab cell from CONTRIBUTING.md (run this
  after changing that cell; tests/test_notebook_structure.py fails until then).
- Outputs and execution counts are removed.

Usage: python -m scripts.normalize_notebooks instructor/NN_topic.ipynb ...
"""

import re
import sys
from pathlib import Path

import nbformat

from utils import REPO_ROOT

COLAB_CELL = (
    re.search(
        r"```python\n(# Runs only in Colab.*?)```",
        (REPO_ROOT / "CONTRIBUTING.md").read_text(),
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
    for cell in code_cells:
        cell.outputs = []
        cell.execution_count = None
    nbformat.write(notebook, path)


if __name__ == "__main__":
    for argument in sys.argv[1:]:
        normalize(Path(argument))
