"""Lesson 11 reuses the earlier lessons' code instead of keeping second copies.

Every function that ``utils.models.TAUGHT_IN`` lists is imported by 11_trends, not
redefined there (``tests/test_models.py`` keeps the helper's copy equal to the
teaching notebook's).
"""

import ast
from pathlib import Path

import nbformat
import pytest

from utils import models

ROOT = Path(__file__).resolve().parents[1]
LESSON = ROOT / "instructor" / "11_trends.ipynb"

pytestmark = pytest.mark.skipif(not LESSON.is_file(), reason="no 11_trends yet")


def notebook_definitions(stem: str) -> dict[str, str]:
    """Top-level functions and classes of a notebook, as AST dumps."""
    notebook = nbformat.read(ROOT / "instructor" / f"{stem}.ipynb", as_version=4)
    definitions = {}
    for cell in notebook.cells:
        if cell.cell_type != "code" or cell.source.lstrip().startswith(("%", "!")):
            continue
        for node in ast.parse(cell.source).body:
            if isinstance(node, ast.FunctionDef | ast.ClassDef):
                definitions[node.name] = ast.dump(node, include_attributes=False)
    return definitions


def imported_from_utils_models(stem: str) -> set[str]:
    """Names a notebook imports with ``from utils.models import ...``."""
    notebook = nbformat.read(ROOT / "instructor" / f"{stem}.ipynb", as_version=4)
    names = set()
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        for node in ast.walk(ast.parse(cell.source)):
            if isinstance(node, ast.ImportFrom) and node.module == "utils.models":
                names.update(alias.name for alias in node.names)
    return names


def test_lesson_08_redefines_no_taught_function():
    redefined = set(notebook_definitions("11_trends")) & set(models.TAUGHT_IN)
    assert not redefined, (
        f"11_trends redefines {sorted(redefined)}; import them from utils.models"
    )


def test_lesson_08_imports_what_it_reuses_from_utils_models():
    imported = imported_from_utils_models("11_trends")
    unknown = imported - set(models.TAUGHT_IN) - {"NUM_CLASSES", "BN_MOMENTUM"}
    assert not unknown, f"utils.models has no taught {sorted(unknown)}"
    assert {"build_article_cnn", "count_macs", "build_resnet_style"} <= imported
