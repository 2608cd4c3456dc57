"""utils.models holds one copy of each taught function, equal to the notebook's."""

import ast
import inspect
from pathlib import Path

import nbformat
import pytest

from utils import models

ROOT = Path(__file__).resolve().parents[1]
MODULE_TREE = ast.parse(inspect.getsource(models))


Definition = ast.FunctionDef | ast.ClassDef


def top_level_functions(tree: ast.Module) -> dict[str, Definition]:
    """Functions and classes defined at the top level of a module or notebook."""
    return {
        node.name: node
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.ClassDef)
    }


def notebook_tree(stem: str) -> ast.Module:
    """All code cells of a notebook as one module (cells with magics skipped)."""
    notebook = nbformat.read(ROOT / "instructor" / f"{stem}.ipynb", as_version=4)
    body = []
    for cell in notebook.cells:
        if cell.cell_type == "code" and not cell.source.lstrip().startswith(("%", "!")):
            body.extend(ast.parse(cell.source).body)
    return ast.Module(body=body, type_ignores=[])


def without_docstring(definition: Definition) -> str:
    """The definition's AST minus every docstring in it (methods' included)."""
    copy = ast.parse(ast.unparse(definition)).body[0]
    for node in ast.walk(copy):
        if isinstance(node, ast.FunctionDef | ast.ClassDef | ast.AsyncFunctionDef):
            if ast.get_docstring(node) is not None:
                node.body = node.body[1:] or [ast.Pass()]
    return ast.dump(copy, include_attributes=False)


def read_constants(function: Definition) -> set[str]:
    """UPPER_CASE global names the function reads."""
    return {
        node.id
        for node in ast.walk(function)
        if isinstance(node, ast.Name) and node.id.isupper() and len(node.id) > 1
    }


def literal_assignments(tree: ast.Module) -> dict[str, object]:
    """NAME = literal assignments at the top level (last one wins)."""
    values = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name):
                try:
                    values[target.id] = ast.literal_eval(node.value)
                except ValueError:
                    values[target.id] = node.value
    return values


MODULE_FUNCTIONS = top_level_functions(MODULE_TREE)


@pytest.mark.parametrize("name", sorted(models.TAUGHT_IN))
def test_the_notebook_and_utils_models_hold_the_same_function(name):
    stem = models.TAUGHT_IN[name]
    tree = notebook_tree(stem)
    in_notebook = top_level_functions(tree)
    assert name in in_notebook, f"instructor/{stem}.ipynb no longer defines {name}()"
    assert name in MODULE_FUNCTIONS, f"utils/models.py does not define {name}()"
    assert without_docstring(in_notebook[name]) == without_docstring(
        MODULE_FUNCTIONS[name]
    ), (
        f"{name}() in instructor/{stem}.ipynb and in utils/models.py differ; "
        "copy the notebook's version into utils/models.py (docstrings may differ)"
    )
    notebook_values = literal_assignments(tree)
    for constant in read_constants(MODULE_FUNCTIONS[name]):
        module_value = getattr(models, constant)
        assert constant in notebook_values, f"{stem} does not set {constant}"
        assert notebook_values[constant] == module_value, (
            f"{constant} is {notebook_values[constant]!r} in {stem} but "
            f"{module_value!r} in utils/models.py"
        )


def test_every_public_function_of_utils_models_is_taught_somewhere():
    public = {name for name in MODULE_FUNCTIONS if not name.startswith("_")}
    assert public == set(models.TAUGHT_IN), (
        "list each function of utils/models.py in TAUGHT_IN with its notebook"
    )


def test_the_comparison_notices_a_changed_line():
    original = MODULE_FUNCTIONS["build_lenet5"]
    changed = ast.parse(ast.unparse(original).replace("Dense(84", "Dense(85"))
    assert without_docstring(changed.body[0]) != without_docstring(original)


def test_a_later_lesson_can_build_every_model_it_reuses():
    assert models.build_lenet5().count_params() == 61_706
    assert models.count_macs(models.build_lenet5()) == 833_040 // 2


def test_docstrings_are_ignored_but_method_bodies_are_not():
    def first_class(source: str) -> ast.ClassDef:
        return ast.parse(source).body[0]

    plain = first_class("class A:\n    def f(self):\n        return 1\n")
    documented = first_class(
        'class A:\n    """Doc."""\n\n    def f(self):\n        """Doc."""\n'
        "        return 1\n"
    )
    changed = first_class("class A:\n    def f(self):\n        return 2\n")
    assert without_docstring(plain) == without_docstring(documented)
    assert without_docstring(plain) != without_docstring(changed)
