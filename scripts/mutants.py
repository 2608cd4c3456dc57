"""Mutation check of the exercises: do the hidden tests reject plausible wrong answers?

For every exercise of every lesson source (``instructor/NN_topic.ipynb``) this makes
wrong answers from the solution's syntax tree, deterministically:

- ``operator``: ``+``/``-``, ``*``/``/``, ``/``/``//``, ``<``/``<=``, ``>``/``>=``,
  ``==``/``!=``, ``and``/``or``, a dropped unary minus or ``not``;
- ``constant``: an integer ±1 (+1; 0 and 1 become 2 when that is an exponent), a
  float ×1.1 (0.0 becomes 0.1);
- ``index``: an index +1 (a negative one -1), a slice's start +1 or stop -1;
- ``axis``: ``axis=k`` becomes another axis (k-1, or 1 for 0; one member of a tuple);
- ``function``: ``min``/``max``, ``argmin``/``argmax``, ``minimum``/``maximum``,
  ``sum``/``mean``, ``prod`` → ``sum``, ``ceil``/``floor``;
- ``statement``: a dropped statement that leaves the code runnable (a call made for
  its effect, an update such as ``x += ...`` or ``x = f(x)``, a validation that
  raises).

At most ``CAP`` (6) mutants per exercise, taken from the categories in turn so that
every category that applies is covered. Each mutant goes through the real
autograder: the lesson becomes one nbgrader assignment, every submission is the
source with mutated solution cells, ``nbgrader autograde`` executes them, and a
mutant is *killed* when its exercise's check cell scores 0. One submission carries
one mutant of several exercises at once when no exercise's check depends on another
batched exercise (checked on the notebook's names, see :func:`dependencies`). The
unmutated source is graded in the same run and must score full marks.

A surviving mutant is either equivalent (the answer is still right; the reason is
listed in ``EQUIVALENT``) or a gap in the hidden tests. The record goes to
``results/mutants.json``; ``tests/test_mutants.py`` checks it against the sources.

Usage::

    python -m scripts.mutants [--lessons 01_background 02_cnn_math ...]
    python -m scripts.mutants --list [--lessons ...]   # print the mutants only
    python -m scripts.mutants --annotate   # re-mark survivors after editing EQUIVALENT
"""

from __future__ import annotations

import argparse
import ast
import copy
import difflib
import hashlib
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import nbformat

from scripts import nbgrader_course
from utils import REPO_ROOT

ROOT = REPO_ROOT
SOURCE_DIR = nbgrader_course.SOURCE_DIR
RECORD = ROOT / "results" / "mutants.json"
LESSON_GLOB = "[0-9][0-9]_*.ipynb"
CAP = 6
CATEGORIES = ("operator", "constant", "index", "axis", "function", "statement")
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"

# Surviving mutants whose answer is still right, with the reason. Key: lesson,
# exercise and the mutant's diff (the changed lines, stripped, "-" then "+"); see
# `python -m scripts.mutants --list` for the diffs.
EQUIVALENT: dict[tuple[str, str, str], str] = {}


def _equivalent(
    lesson: str, exercise: str, before: str, after: str | None, why: str
) -> None:
    """Record why a mutant is a right answer; ``after=None`` for a dropped line."""
    diff = f"-{before}" if after is None else f"-{before}\n+{after}"
    EQUIVALENT[lesson, exercise, diff] = why


# 07 exercise 2 asks for label-preserving augmentation: two or more geometric layers,
# no flip, rotation at most ±0.05 of a turn, repeatable, every layer drawing
# independently. It sets no bound on zoom or translation, 0.033 is inside the
# rotation bound, and any distinct seeds per layer make independent draws.
for _before, _after in (
    (
        "layers.RandomRotation(0.03, seed=seeds[0]),",
        "layers.RandomRotation(0.033, seed=seeds[0]),",
    ),
    (
        "layers.RandomTranslation(0.1, 0.1, seed=seeds[2]),",
        "layers.RandomTranslation(0.11, 0.1, seed=seeds[2]),",
    ),
):
    _equivalent(
        "07_augmentation",
        "exercise_2",
        _before,
        _after,
        "Still a right answer: a 10% larger rotation or shift range keeps the "
        "digits readable and meets every rule of the exercise (rotation at most 0.05 "
        "of a turn; zoom and translation are the learner's choice).",
    )
_SEEDS = "seeds = [None if seed is None else seed + index for index in range(3)]"
for _after, _why in (
    (
        _SEEDS.replace("seed + index", "seed - index"),
        "Still a right answer: seeds seed, seed - 1, seed - 2 are distinct, so the "
        "layers draw independently, and the same seed still gives the same pipeline.",
    ),
    (
        _SEEDS.replace("range(3)", "range(4)"),
        "Same pipeline: a fourth seed is computed but never used.",
    ),
):
    _equivalent("07_augmentation", "exercise_2", _SEEDS, _after, _why)

_equivalent(
    "11_trends",
    "exercise_2",
    "sizes = np.asarray(sizes, dtype=float)",
    None,
    "Same fit: curve_fit converts the sizes to a float array itself, and "
    "fit_power_law (the starting point) converts its inputs too.",
)
_equivalent(
    "08_transfer_learning",
    "exercise_3",
    "np.add.at(confusion, (labels, predictions), 1)",
    "np.add.at(confusion, (labels, predictions), 2)",
    "Same answer for every input: counting each pair twice doubles every count, the "
    "diagonal is zeroed all the same, and argmax picks the same pair (ties included).",
)

_equivalent(
    "09_dcgan",
    "exercise_1",
    'queries = images.reshape(len(images), -1).astype("float64")',
    'queries = images.reshape(len(images), -2).astype("float64")',
    "Same array: NumPy reads any negative size in reshape as the one unknown "
    "dimension, so reshape(n, -2) flattens each image exactly as reshape(n, -1) does.",
)


# --------------------------------------------------------------------------- cells


@dataclass
class Exercise:
    """One exercise of a lesson: its solution cell and its check cell."""

    grade_id: str
    solution_index: int
    check_index: int
    solution: str
    check: str

    @property
    def fingerprint(self) -> str:
        """Hash of the solution and check cells' sources (changes when either does)."""
        text = self.solution + "\n\x00\n" + self.check
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _grading(cell: dict) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def exercises(notebook: nbformat.NotebookNode) -> list[Exercise]:
    """Return the exercises of a lesson source, in order.

    An exercise is a code solution cell with grade_id ``exercise_N`` and a graded
    check cell ``exercise_N_check``; ``exercise_N_explained`` cells are worked
    solutions, not exercises.

    Raises:
        ValueError: If an exercise has no check cell, or a check no exercise.
    """
    solutions, checks = {}, {}
    for index, cell in enumerate(notebook.cells):
        grade_id = _grading(cell).get("grade_id", "")
        if cell.cell_type != "code" or not grade_id.startswith("exercise_"):
            continue
        if grade_id.endswith("_check") and _grading(cell).get("grade"):
            checks[grade_id.removesuffix("_check")] = index
        elif _grading(cell).get("solution") and not grade_id.endswith("_explained"):
            solutions[grade_id] = index
    if set(solutions) != set(checks):
        raise ValueError(
            f"exercises {sorted(solutions)} and checks {sorted(checks)} do not pair "
            "up; each solution cell exercise_N needs a graded cell exercise_N_check."
        )
    return [
        Exercise(
            grade_id,
            solutions[grade_id],
            checks[grade_id],
            notebook.cells[solutions[grade_id]].source,
            notebook.cells[checks[grade_id]].source,
        )
        for grade_id in sorted(solutions, key=lambda name: solutions[name])
    ]


def solution_lines(source: str) -> set[int]:
    """Return the 1-based line numbers strictly inside solution regions."""
    lines, inside = set(), False
    for number, line in enumerate(source.splitlines(), start=1):
        if line.strip() == BEGIN:
            inside = True
        elif line.strip() == END:
            inside = False
        elif inside:
            lines.add(number)
    return lines


# ----------------------------------------------------------------------- mutations


@dataclass(frozen=True)
class Mutant:
    """One wrong answer: a solution cell's source with one change."""

    category: str
    source: str
    diff: str

    @property
    def key(self) -> str:
        """The changed lines, stripped: what ``EQUIVALENT`` is keyed by."""
        return diff_key(self.diff)


def diff_key(diff: str) -> str:
    """Return the changed lines of a diff, stripped, without its @@ headers."""
    return "\n".join(
        line[0] + line[1:].strip()
        for line in diff.splitlines()
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    )


_BINARY_SWAPS: dict[type, tuple[type, ...]] = {
    ast.Add: (ast.Sub,),
    ast.Sub: (ast.Add,),
    ast.Mult: (ast.Div,),
    ast.Div: (ast.Mult, ast.FloorDiv),
    ast.FloorDiv: (ast.Div,),
}
_COMPARE_SWAPS: dict[type, type] = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
}
_FUNCTION_SWAPS = {
    "min": "max",
    "max": "min",
    "argmin": "argmax",
    "argmax": "argmin",
    "amin": "amax",
    "amax": "amin",
    "nanmin": "nanmax",
    "nanmax": "nanmin",
    "minimum": "maximum",
    "maximum": "minimum",
    "sum": "mean",
    "mean": "sum",
    "nansum": "nanmean",
    "nanmean": "nansum",
    "ceil": "floor",
    "floor": "ceil",
    "prod": "sum",
}
# Python's own sum() has no mean() counterpart; these swaps need a library's function.
_ATTRIBUTE_ONLY = {"sum", "mean", "nansum", "nanmean", "ceil", "floor", "prod"}


def _int_constant(node: ast.AST) -> int | None:
    """The value of an integer literal (``3`` or ``-3``), else None."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _int_constant(node.operand)
        return None if inner is None else -inner
    if (
        isinstance(node, ast.Constant)
        and isinstance(node.value, int)
        and not isinstance(node.value, bool)
    ):
        return node.value
    return None


def _nudged(value: int | float) -> int | float:
    if isinstance(value, int):
        return value + 1
    return 0.1 if value == 0 else float(f"{value * 1.1:.12g}")


def _plus(node: ast.expr, amount: int) -> ast.expr:
    value = _int_constant(node)
    if value is not None:
        new_value = value + amount
        constant = ast.Constant(abs(new_value))
        return ast.UnaryOp(ast.USub(), constant) if new_value < 0 else constant
    op = ast.Add() if amount > 0 else ast.Sub()
    return ast.BinOp(copy.deepcopy(node), op, ast.Constant(abs(amount)))


def _other_axis(node: ast.expr) -> ast.expr | None:
    value = _int_constant(node)
    if value is not None:
        new = 1 if value == 0 else value - 1
        return _plus(node, new - value)
    if isinstance(node, ast.Tuple):
        values = [_int_constant(element) for element in node.elts]
        if None in values:
            return None
        for position in reversed(range(len(values))):
            for candidate in (values[position] - 1, values[position] + 1):
                if candidate >= 0 and candidate not in values:
                    elements = [copy.deepcopy(element) for element in node.elts]
                    elements[position] = ast.Constant(candidate)
                    return ast.Tuple(elements, ast.Load())
    return None


def _is_index(node: ast.expr) -> bool:
    """Whether an expression in a subscript can be an integer index."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, int) and not isinstance(node.value, bool)
    if isinstance(node, ast.Attribute) and node.attr == "newaxis":
        return False
    return not isinstance(node, ast.Slice | ast.Tuple | ast.List | ast.Dict)


@dataclass
class _Change:
    """A node, what replaces it (None: the statement goes), and its category."""

    category: str
    node: ast.AST
    replacement: ast.AST | None


def _changes(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> Iterator[_Change]:
    """Every mutation of one node (not of its children)."""
    parent = parents.get(node)
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY_SWAPS:
        for op in _BINARY_SWAPS[type(node.op)]:
            yield _Change("operator", node, ast.BinOp(node.left, op(), node.right))
    elif isinstance(node, ast.AugAssign) and type(node.op) in _BINARY_SWAPS:
        for op in _BINARY_SWAPS[type(node.op)]:
            yield _Change(
                "operator", node, ast.AugAssign(node.target, op(), node.value)
            )
    elif isinstance(node, ast.Compare):
        for position, op in enumerate(node.ops):
            if type(op) in _COMPARE_SWAPS:
                ops = list(node.ops)
                ops[position] = _COMPARE_SWAPS[type(op)]()
                yield _Change(
                    "operator", node, ast.Compare(node.left, ops, node.comparators)
                )
    elif isinstance(node, ast.BoolOp):
        op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        yield _Change("operator", node, ast.BoolOp(op, node.values))
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not | ast.USub):
        if not (
            isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant)
        ):
            yield _Change("operator", node, node.operand)
    elif isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        if isinstance(node.value, bool) or _in_index_or_axis(node, parents):
            return
        value = node.value
        if isinstance(parent, ast.BinOp) and isinstance(parent.op, ast.Pow):
            if parent.right is node and value in (0, 1):
                value = 1  # x**0 and x**1 → x**2
        yield _Change("constant", node, ast.Constant(_nudged(value)))
    elif isinstance(node, ast.Subscript):
        elements = (
            node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        )
        for position, element in enumerate(elements):
            mutated: list[ast.expr] = []
            if isinstance(element, ast.Slice):
                if element.lower is not None:
                    mutated.append(
                        ast.Slice(_plus(element.lower, 1), element.upper, element.step)
                    )
                if element.upper is not None:
                    mutated.append(
                        ast.Slice(element.lower, _plus(element.upper, -1), element.step)
                    )
            elif _is_index(element):  # x[i] → x[i + 1], x[-1] → x[-2]
                value = _int_constant(element)
                mutated.append(
                    _plus(element, -1 if value is not None and value < 0 else 1)
                )
            for new_element in mutated:
                new_elements = list(elements)
                new_elements[position] = new_element
                new_slice = (
                    ast.Tuple(new_elements, ast.Load())
                    if isinstance(node.slice, ast.Tuple)
                    else new_element
                )
                yield _Change(
                    "index", node, ast.Subscript(node.value, new_slice, node.ctx)
                )
    elif isinstance(node, ast.keyword) and node.arg in ("axis", "axes"):
        other = _other_axis(node.value)
        if other is not None:
            yield _Change("axis", node.value, other)
    elif isinstance(node, ast.Call):
        function = node.func
        if isinstance(function, ast.Attribute) and function.attr in _FUNCTION_SWAPS:
            swapped = ast.Attribute(
                function.value, _FUNCTION_SWAPS[function.attr], function.ctx
            )
            yield _Change("function", function, swapped)
        elif (
            isinstance(function, ast.Name)
            and function.id in _FUNCTION_SWAPS
            and function.id not in _ATTRIBUTE_ONLY
        ):
            swapped = ast.Name(_FUNCTION_SWAPS[function.id], function.ctx)
            yield _Change("function", function, swapped)


def _in_index_or_axis(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    """Whether a constant is an index, a slice bound or an axis (other categories)."""
    child, parent = node, parents.get(node)
    while parent is not None:
        if isinstance(parent, ast.keyword) and parent.arg in ("axis", "axes"):
            return True
        if isinstance(parent, ast.Subscript) and child is parent.slice:
            return True
        if isinstance(parent, ast.stmt):
            return False
        child, parent = parent, parents.get(parent)
    return False


def _bound_names(node: ast.AST) -> set[str]:
    """Names a statement binds at its own level (targets, defs, imports)."""
    names: set[str] = set()
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return {node.name}
    if isinstance(node, ast.Import | ast.ImportFrom):
        return {(alias.asname or alias.name).split(".")[0] for alias in node.names}
    targets: list[ast.AST] = []
    if isinstance(node, ast.Assign):
        targets = list(node.targets)
    elif isinstance(node, ast.AugAssign | ast.AnnAssign | ast.For | ast.AsyncFor):
        targets = [node.target]
    elif isinstance(node, ast.With):
        targets = [item.optional_vars for item in node.items if item.optional_vars]
    for target in targets:
        names |= {
            name.id
            for name in ast.walk(target)
            if isinstance(name, ast.Name) and isinstance(name.ctx, ast.Store)
        }
    return names


def _droppable_statements(tree: ast.Module, lines: set[int]) -> list[ast.stmt]:
    """Statements in solution regions whose removal leaves the code runnable."""
    droppable = []
    bound: set[str] = set()

    def visit(body: list[ast.stmt], scope: set[str]) -> None:
        for statement in body:
            inside = statement.lineno in lines and statement.end_lineno in lines
            targets = _bound_names(statement)
            if inside and not isinstance(statement, ast.Return):
                if isinstance(statement, ast.Expr):
                    sensible = isinstance(statement.value, ast.Call)
                elif isinstance(statement, ast.AugAssign):
                    sensible = True
                elif isinstance(statement, ast.Assign | ast.AnnAssign):
                    sensible = bool(targets) and targets <= scope
                    sensible &= all(
                        isinstance(target, ast.Name | ast.Tuple)
                        for target in (
                            statement.targets
                            if isinstance(statement, ast.Assign)
                            else [statement.target]
                        )
                    )
                elif isinstance(statement, ast.If):
                    sensible = not statement.orelse and all(
                        isinstance(inner, ast.Raise) for inner in statement.body
                    )
                else:
                    sensible = False
                if sensible:
                    droppable.append(statement)
            if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
                arguments = statement.args
                parameters = {
                    argument.arg
                    for argument in (
                        *arguments.posonlyargs,
                        *arguments.args,
                        *arguments.kwonlyargs,
                        *filter(None, (arguments.vararg, arguments.kwarg)),
                    )
                }
                scope.add(statement.name)
                visit(statement.body, scope | parameters)
                continue
            if isinstance(statement, ast.For | ast.AsyncFor):
                scope |= targets
            for block in ("body", "orelse", "finalbody"):
                inner = getattr(statement, block, None)
                if isinstance(inner, list) and inner and isinstance(inner[0], ast.stmt):
                    visit(inner, scope)
            if isinstance(statement, ast.ClassDef):
                continue
            scope |= targets

    visit(tree.body, bound)
    return droppable


def _span(source_lines: list[str], node: ast.AST) -> tuple[int, int]:
    """Character offsets of a node in the joined source."""
    starts = [0]
    for line in source_lines:
        starts.append(starts[-1] + len(line))
    return (
        starts[node.lineno - 1]
        + len(source_lines[node.lineno - 1].encode()[: node.col_offset].decode()),
        starts[node.end_lineno - 1]
        + len(
            source_lines[node.end_lineno - 1].encode()[: node.end_col_offset].decode()
        ),
    )


def _replace_child(
    parent: ast.AST, old: ast.AST, new: ast.AST | None
) -> tuple[list | None, str, int | None]:
    """Put ``new`` where ``old`` is in ``parent``; return where, to undo it."""
    for name, value in ast.iter_fields(parent):
        if value is old:
            setattr(parent, name, new)
            return None, name, None
        if isinstance(value, list) and any(item is old for item in value):
            position = next(i for i, item in enumerate(value) if item is old)
            if new is None:
                del value[position]
                if not value and name in ("body", "orelse", "finalbody"):
                    value.append(ast.Pass())
            else:
                value[position] = new
            return value, name, position
    raise ValueError(f"{ast.dump(old)[:60]} is not a child of {type(parent).__name__}")


def _apply(source: str, tree: ast.Module, parents: dict, change: _Change) -> str | None:
    """The source with one change applied, or None if it cannot be made cleanly."""
    source_lines = source.splitlines(keepends=True)
    original_dump = ast.dump(tree)
    parent = parents[change.node]
    fields = {
        name: list(value) if isinstance(value, list) else value
        for name, value in ast.iter_fields(parent)
    }
    _replace_child(parent, change.node, change.replacement)
    expected = ast.dump(tree)
    for name, value in fields.items():  # undo
        setattr(parent, name, value)
    if expected == original_dump:
        return None
    if change.replacement is None:
        first, last = change.node.lineno, change.node.end_lineno
        head, tail = "".join(source_lines[: first - 1]), "".join(source_lines[last:])
        indent = source_lines[first - 1][: change.node.col_offset]
        siblings = [
            value
            for _, value in ast.iter_fields(parent)
            if isinstance(value, list) and change.node in value
        ][0]
        middle = f"{indent}pass\n" if len(siblings) == 1 else ""
        candidates = [head + middle + tail]
    else:
        start, end = _span(source_lines, change.node)
        text = ast.unparse(change.replacement)
        candidates = [
            source[:start] + text + source[end:],
            source[:start] + f"({text})" + source[end:],
        ]
    for candidate in candidates:
        try:
            if ast.dump(ast.parse(candidate)) == expected:
                return candidate
        except SyntaxError:
            continue
    return None


def _diff(before: str, after: str) -> str:
    lines = difflib.unified_diff(
        before.splitlines(), after.splitlines(), lineterm="", n=0
    )
    return "\n".join(line for line in lines if not line.startswith(("---", "+++")))


def all_mutants(source: str) -> list[Mutant]:
    r"""Every mutant of a solution cell's regions, in source order.

    Example:
        >>> cell = "def f(x):\n    ### BEGIN SOLUTION\n    return x + 1\n"
        >>> cell += "    ### END SOLUTION"
        >>> [mutant.key for mutant in all_mutants(cell)]
        ['-return x + 1\n+return x - 1', '-return x + 1\n+return x + 2']
    """
    lines = solution_lines(source)
    tree = ast.parse(source)
    parents = {
        child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)
    }
    changes: list[_Change] = []
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in lines and node.end_lineno in lines:
            changes.extend(_changes(node, parents))
    changes += [
        _Change("statement", statement, None)
        for statement in _droppable_statements(tree, lines)
    ]
    changes.sort(
        key=lambda change: (
            change.node.lineno,
            change.node.col_offset,
            CATEGORIES.index(change.category),
        )
    )
    mutants, seen = [], {source}
    for change in changes:
        mutated = _apply(source, tree, parents, change)
        if mutated is not None and mutated not in seen:
            seen.add(mutated)
            mutants.append(Mutant(change.category, mutated, _diff(source, mutated)))
    return mutants


def select(mutants: list[Mutant], cap: int = CAP) -> list[Mutant]:
    """At most ``cap`` mutants: categories in turn, spread over each category.

    Example:
        >>> picks = select([Mutant("operator", str(n), "") for n in range(9)], cap=3)
        >>> [mutant.source for mutant in picks]
        ['0', '3', '6']
    """
    by_category = {
        category: [mutant for mutant in mutants if mutant.category == category]
        for category in CATEGORIES
    }
    counts = dict.fromkeys(CATEGORIES, 0)
    while sum(counts.values()) < min(cap, len(mutants)):
        for category in CATEGORIES:
            if counts[category] < len(by_category[category]) and sum(
                counts.values()
            ) < min(cap, len(mutants)):
                counts[category] += 1
    chosen = []
    for category in CATEGORIES:
        pool, count = by_category[category], counts[category]
        chosen += [pool[index * len(pool) // count] for index in range(count)]
    return sorted(chosen, key=mutants.index)


def lesson_mutants(notebook: nbformat.NotebookNode) -> dict[str, list[Mutant]]:
    """The selected mutants of every exercise of a lesson, by grade_id."""
    return {
        exercise.grade_id: select(all_mutants(exercise.solution))
        for exercise in exercises(notebook)
    }


# ----------------------------------------------------------------------- batching


# Methods that only read their object: calling them does not change it.
_READ_ONLY_METHODS = {
    "astype", "copy", "count", "count_params", "get", "get_config", "get_layer",
    "get_weights", "index", "item", "items", "keys", "max", "mean", "min", "numpy",
    "predict", "reshape", "sum", "summary", "tolist", "values",
}  # fmt: skip


class _Names(NamedTuple):
    """What one cell does with names at its top level."""

    bound: set[str]  # assigned, defined or imported
    changed: set[str]  # changed in place: x.append(...), x[i] = ..., x.fit(...)
    read: set[str]  # read from earlier cells (before the cell binds them itself)
    imports: set[str]


def _cell_names(source: str) -> _Names:
    """The names a cell binds, changes in place, reads from outside and imports."""
    names = _Names(set(), set(), set(), set())
    try:
        tree = ast.parse(source)
    except SyntaxError:  # IPython magics: no names we can follow
        return names
    for statement in tree.body:
        names.read.update(_free_reads([statement]) - names.bound)
        names.bound.update(_bound_names(statement))
        if isinstance(statement, ast.Import | ast.ImportFrom):
            names.imports.update(_bound_names(statement))
        if isinstance(statement, ast.FunctionDef | ast.ClassDef):
            continue  # a definition changes nothing until it is called
        for node in ast.walk(statement):
            if isinstance(node, ast.Attribute | ast.Subscript) and isinstance(
                node.ctx, ast.Store
            ):
                root = node
                while isinstance(root, ast.Attribute | ast.Subscript):
                    root = root.value
                if isinstance(root, ast.Name):
                    names.changed.add(root.id)
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.attr not in _READ_ONLY_METHODS
            ):
                names.changed.add(node.func.value.id)
    return names


def _free_reads(body: list[ast.stmt], local: frozenset[str] = frozenset()) -> set[str]:
    """Names a block reads from outside: a function's own locals do not count."""
    read: set[str] = set()
    for statement in body:
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
            arguments = statement.args
            parameters = {
                argument.arg
                for argument in (
                    *arguments.posonlyargs,
                    *arguments.args,
                    *arguments.kwonlyargs,
                    *filter(None, (arguments.vararg, arguments.kwarg)),
                )
            }
            assigned = {
                node.id
                for node in ast.walk(statement)
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)
            }
            inner = frozenset(parameters | assigned)
            read |= _free_reads(statement.body, inner)
            for default in (*arguments.defaults, *arguments.kw_defaults):
                if default is not None:
                    read |= _free_reads([ast.Expr(default)], local)
            for decorator in statement.decorator_list:
                read |= _free_reads([ast.Expr(decorator)], local)
            continue
        for node in ast.walk(statement):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                read.add(node.id)
    return read - local


def dependencies(notebook: nbformat.NotebookNode) -> dict[str, set[str]]:
    """For each exercise, the other exercises whose solutions its check depends on.

    Follows names through the notebook: the names an exercise's solution cell binds
    are tainted; a later cell that reads a tainted name taints what it binds or
    changes in place (a random generator it draws from, a model it trains), and a
    cell that rebinds a name from untainted values cleans it. A check cell that
    reads a name tainted by exercise N depends on N. Imported modules are never
    tainted.
    """
    cells = [
        _cell_names(cell.source) if cell.cell_type == "code" else _cell_names("")
        for cell in notebook.cells
    ]
    modules = set().union(*(names.imports for names in cells))
    found = exercises(notebook)
    depends: dict[str, set[str]] = {exercise.grade_id: set() for exercise in found}
    checks = {exercise.check_index: exercise.grade_id for exercise in found}
    for exercise in found:
        solution = cells[exercise.solution_index]
        tainted = (solution.bound | solution.changed) - modules
        for index in range(exercise.solution_index + 1, len(cells)):
            names = cells[index]
            if names.read & tainted:
                if index in checks and checks[index] != exercise.grade_id:
                    depends[checks[index]].add(exercise.grade_id)
                tainted |= (names.bound | names.changed) - modules
            else:
                tainted -= names.bound
    return depends


def batches(depends: dict[str, set[str]]) -> list[list[str]]:
    """Groups of exercises whose mutants can share a submission.

    Example:
        >>> batches({"exercise_1": set(), "exercise_2": {"exercise_1"},
        ...          "exercise_3": set()})
        [['exercise_1', 'exercise_3'], ['exercise_2']]
    """
    groups: list[list[str]] = []
    for exercise in depends:
        for group in groups:
            if not any(
                other in depends[exercise] or exercise in depends[other]
                for other in group
            ):
                group.append(exercise)
                break
        else:
            groups.append([exercise])
    return groups


# ----------------------------------------------------------------------- grading


@dataclass
class _Submission:
    student: str
    mutants: dict[str, Mutant] = field(default_factory=dict)


def _failure(cell: dict) -> str:
    """The first line of a graded cell's error, or '' when it ran cleanly."""
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            message = f"{output.get('ename', '')}: {output.get('evalue', '')}"
            return message.strip().splitlines()[0][:200] if message.strip() else "error"
    return ""


def grade_lesson(
    path: Path, course: Path, cap: int = CAP, log: Any = print
) -> dict[str, Any]:
    """Autograde a lesson's mutants and its unmutated source; return its record.

    Args:
        path: The lesson source (nbgrader format).
        course: An empty folder for the nbgrader course (gradebook, submissions).
        cap: Most mutants per exercise.
        log: Where progress lines go.

    Returns:
        The lesson's entry of ``results/mutants.json``.

    Raises:
        RuntimeError: If nbgrader fails, or the unmutated source misses full marks.
    """
    notebook = nbformat.read(path, as_version=4)
    stem = path.stem
    found = {exercise.grade_id: exercise for exercise in exercises(notebook)}
    chosen = {
        grade_id: select(all_mutants(exercise.solution), cap)
        for grade_id, exercise in found.items()
    }
    depends = dependencies(notebook)
    groups = batches(depends)
    submissions = [_Submission("sanity")]
    for group in groups:
        for round_ in range(max(len(chosen[grade_id]) for grade_id in group)):
            submission = _Submission(f"mutants{len(submissions):02d}")
            for grade_id in group:
                if round_ < len(chosen[grade_id]):
                    submission.mutants[grade_id] = chosen[grade_id][round_]
            if submission.mutants:
                submissions.append(submission)
    source_dir = course / "source" / stem
    source_dir.mkdir(parents=True)
    shutil.copy(path, source_dir / path.name)
    for submission in submissions:
        mutated = copy.deepcopy(notebook)
        for grade_id, mutant in submission.mutants.items():
            mutated.cells[found[grade_id].solution_index].source = mutant.source
        folder = course / "submitted" / submission.student / stem
        folder.mkdir(parents=True)
        nbformat.write(mutated, folder / path.name)
    # Both commands add the assignment and the students to the gradebook themselves.
    nbgrader_course.nbgrader(course, "generate_assignment", stem, "--force")
    log(f"{stem}: autograding {len(submissions)} submissions", flush=True)
    start = time.perf_counter()
    nbgrader_course.nbgrader(course, "autograde", stem, "--force")
    seconds = time.perf_counter() - start

    from nbgrader.api import Gradebook

    scores: dict[tuple[str, str], tuple[float, float]] = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for submission in submissions:
            for grade_id in found:
                grade = gradebook.find_grade(
                    f"{grade_id}_check", stem, stem, submission.student
                )
                scores[submission.student, grade_id] = (
                    float(grade.score),
                    float(grade.max_score),
                )
    graded = {
        submission.student: nbformat.read(
            course / "autograded" / submission.student / stem / path.name, as_version=4
        )
        for submission in submissions
    }
    sanity = {grade_id: scores["sanity", grade_id] for grade_id in found}
    missed = {
        grade_id: _failure(graded["sanity"].cells[found[grade_id].check_index])
        for grade_id, (score, maximum) in sanity.items()
        if score != maximum
    }
    if missed:
        raise RuntimeError(
            f"{stem}: the unmutated solutions miss full marks, so no mutant can be "
            f"judged: {missed}. Fix the lesson (run it in smoke mode) first."
        )
    record: dict[str, Any] = {
        "autograde_seconds": round(seconds, 1),
        "submissions": len(submissions),
        "batches": groups,
        "sanity": {
            grade_id: {"score": score, "max_score": maximum}
            for grade_id, (score, maximum) in sanity.items()
        },
        "exercises": {},
    }
    for grade_id, exercise in found.items():
        results = []
        for submission in submissions:
            mutant = submission.mutants.get(grade_id)
            if mutant is None:
                continue
            score, _ = scores[submission.student, grade_id]
            check_cell = graded[submission.student].cells[exercise.check_index]
            entry: dict[str, Any] = {
                "category": mutant.category,
                "diff": mutant.diff,
                "killed": score == 0,
                "submission": submission.student,
            }
            if score == 0:
                entry["failure"] = _failure(check_cell)
            results.append(entry)
        killed = sum(entry["killed"] for entry in results)
        record["exercises"][grade_id] = {
            "fingerprint": exercise.fingerprint,
            "mutants": len(results),
            "killed": killed,
            "results": results,
        }
        log(f"  {grade_id}: {killed}/{len(results)} killed", flush=True)
    annotate(stem, record)
    return record


def annotate(stem: str, lesson: dict[str, Any]) -> None:
    """Mark a lesson record's survivors equivalent or not, from ``EQUIVALENT``.

    Each exercise's ``survivors`` lists its surviving mutants with ``equivalent``
    and, for equivalent ones, the ``reason``.
    """
    for grade_id, exercise in lesson["exercises"].items():
        survivors = []
        for entry in exercise["results"]:
            entry.pop("equivalent", None)
            entry.pop("reason", None)
            if entry["killed"]:
                continue
            reason = EQUIVALENT.get((stem, grade_id, diff_key(entry["diff"])))
            entry["equivalent"] = reason is not None
            if reason:
                entry["reason"] = reason
            survivors.append(entry)
        exercise["survivors"] = survivors


def totals(lessons: dict[str, Any]) -> dict[str, Any]:
    """Course-wide counts of a record's lessons."""
    entries = [
        exercise
        for lesson in lessons.values()
        for exercise in lesson["exercises"].values()
    ]
    mutants = sum(entry["mutants"] for entry in entries)
    killed = sum(entry["killed"] for entry in entries)
    survivors = [survivor for entry in entries for survivor in entry["survivors"]]
    equivalent = sum(bool(survivor.get("equivalent")) for survivor in survivors)
    return {
        "mutants": mutants,
        "killed": killed,
        "kill_rate": round(killed / mutants, 4) if mutants else 0.0,
        "equivalent_survivors": equivalent,
        "non_equivalent_survivors": len(survivors) - equivalent,
        "autograde_seconds": round(
            sum(lesson["autograde_seconds"] for lesson in lessons.values()), 1
        ),
        "wall_seconds": round(
            sum(lesson.get("wall_seconds", 0) for lesson in lessons.values()), 1
        ),
    }


def sources() -> list[Path]:
    """The lesson sources, in reading order."""
    return sorted(SOURCE_DIR.glob(LESSON_GLOB))


def main(argv: list[str] | None = None) -> int:
    """Grade the chosen lessons' mutants and update results/mutants.json."""
    from utils import write_json_atomically

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lessons", nargs="+", help="lesson stems (default: all)")
    parser.add_argument("--list", action="store_true", help="print the mutants only")
    parser.add_argument(
        "--annotate",
        action="store_true",
        help="only mark the recorded survivors from EQUIVALENT (after editing it)",
    )
    arguments = parser.parse_args(argv)
    paths = sources()
    if arguments.lessons:
        known = {path.stem: path for path in paths}
        unknown = sorted(set(arguments.lessons) - set(known))
        if unknown:
            parser.error(f"unknown lessons {unknown}; expected some of {sorted(known)}")
        paths = [known[stem] for stem in arguments.lessons]
    if arguments.list:
        for path in paths:
            notebook = nbformat.read(path, as_version=4)
            print(f"== {path.stem}  batches: {batches(dependencies(notebook))}")
            for grade_id, mutants in lesson_mutants(notebook).items():
                for mutant in mutants:
                    print(f"-- {grade_id} [{mutant.category}]\n{mutant.diff}")
        return 0
    os.environ.setdefault("COURSE_MODE", "smoke")
    os.environ.setdefault("MPLBACKEND", "Agg")
    record = json.loads(RECORD.read_text()) if RECORD.is_file() else {}
    lessons = {
        stem: entry
        for stem, entry in record.get("lessons", {}).items()
        if (SOURCE_DIR / f"{stem}.ipynb").is_file()
    }

    graded: set[str] = set()

    def write() -> None:
        # Another run may have recorded other lessons meanwhile: keep them.
        if RECORD.is_file():
            latest = json.loads(RECORD.read_text()).get("lessons", {})
            for stem, entry in latest.items():
                if stem not in graded and (SOURCE_DIR / f"{stem}.ipynb").is_file():
                    lessons[stem] = entry
        for stem, lesson in lessons.items():
            annotate(stem, lesson)
        write_json_atomically(
            RECORD,
            {
                "cap_per_exercise": CAP,
                "lessons": dict(sorted(lessons.items())),
                "totals": totals(lessons),
            },
        )

    if arguments.annotate:
        write()
        paths = []
    for path in paths:
        start = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="mutants-") as directory:
            os.environ["COURSE_RESULTS_DIR"] = str(Path(directory) / "results")
            lesson = grade_lesson(path, Path(directory) / "course")
        lesson["wall_seconds"] = round(time.perf_counter() - start, 1)
        lesson["mode"] = os.environ["COURSE_MODE"]
        lesson["machine"] = f"{platform.machine()}, {os.cpu_count()} cores"
        lessons[path.stem] = lesson
        graded.add(path.stem)
        write()
    print(json.dumps(totals(lessons), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
