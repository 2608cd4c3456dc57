"""The exercises' hidden tests reject plausible wrong answers (issue 11, item 6).

`make mutants` (`python -m scripts.mutants`) submits wrong answers made from every
solution through the real autograder and records what it rejects in
`results/mutants.json`. These tests keep that record honest: it covers every lesson
and every exercise as they are now, it rejects at least 90% of the mutants, and
every survivor is an equivalent answer with a stated reason. They also check each
mutation operator, and run the whole machinery (mutants + nbgrader autograde) on a
tiny notebook made here.
"""

import ast
import json
import re

import nbformat
import pytest

from scripts import mutants

RECORD = json.loads(mutants.RECORD.read_text()) if mutants.RECORD.is_file() else {}
SOURCES = mutants.sources()
RERUN = "run `make mutants LESSONS={}` and commit results/mutants.json"


def recorded_lesson(stem: str) -> dict:
    lessons = RECORD.get("lessons", {})
    assert stem in lessons, f"{stem} has no mutation record: " + RERUN.format(stem)
    return lessons[stem]


# ----------------------------------------------------------------- the record


def test_record_covers_exactly_the_current_lessons():
    recorded = set(RECORD.get("lessons", {}))
    current = {path.stem for path in SOURCES}
    assert recorded == current, (
        f"lessons without a record: {sorted(current - recorded)}; records without "
        f"a lesson: {sorted(recorded - current)}. "
        + RERUN.format(" ".join(sorted(current - recorded)) or "...")
    )


@pytest.mark.parametrize("path", SOURCES, ids=lambda path: path.stem)
def test_record_matches_the_current_exercises(path):
    lesson = recorded_lesson(path.stem)
    notebook = nbformat.read(path, as_version=4)
    current = {exercise.grade_id: exercise for exercise in mutants.exercises(notebook)}
    assert set(lesson["exercises"]) == set(current), RERUN.format(path.stem)
    for grade_id, exercise in current.items():
        entry = lesson["exercises"][grade_id]
        assert entry["fingerprint"] == exercise.fingerprint, (
            f"{path.stem} {grade_id}: its solution or check cell changed since the "
            "mutation check ran; " + RERUN.format(path.stem)
        )
        assert [result["diff"] for result in entry["results"]] == [
            mutant.diff
            for mutant in mutants.select(mutants.all_mutants(exercise.solution))
        ], f"{path.stem} {grade_id}: the mutants changed; " + RERUN.format(path.stem)


@pytest.mark.parametrize("path", SOURCES, ids=lambda path: path.stem)
def test_unmutated_solutions_scored_full_marks(path):
    for grade_id, grade in recorded_lesson(path.stem)["sanity"].items():
        assert grade["score"] == grade["max_score"] > 0, (path.stem, grade_id, grade)


def test_at_least_90_percent_of_the_mutants_are_rejected():
    totals = mutants.totals(RECORD.get("lessons", {}))
    assert totals == RECORD.get("totals"), "totals out of step with the lessons"
    assert totals["mutants"] >= 5 * len(SOURCES), totals
    assert totals["kill_rate"] >= 0.9, (
        f"the hidden tests reject {totals['killed']} of {totals['mutants']} mutants "
        f"({totals['kill_rate']:.0%}); strengthen them (see the survivors in "
        "results/mutants.json) and run `make mutants`."
    )


def test_readme_quotes_the_recorded_counts():
    readme = (mutants.ROOT / "README.md").read_text(encoding="utf-8")
    quoted = re.search(r"The recorded runs reject (\d+) of (\d+)", readme)
    assert quoted, "README's instructor section should quote the mutation counts"
    totals = RECORD.get("totals", {})
    assert (int(quoted[1]), int(quoted[2])) == (totals["killed"], totals["mutants"]), (
        f"README quotes {quoted[0]!r}; results/mutants.json has {totals['killed']} of "
        f"{totals['mutants']}: update the paragraph"
    )


@pytest.mark.parametrize("path", SOURCES, ids=lambda path: path.stem)
def test_every_survivor_is_an_equivalent_answer_with_a_reason(path):
    lesson = recorded_lesson(path.stem)
    for grade_id, entry in lesson["exercises"].items():
        assert entry["killed"] == sum(result["killed"] for result in entry["results"])
        for survivor in entry["survivors"]:
            key = mutants.diff_key(survivor["diff"])
            reason = mutants.EQUIVALENT.get((path.stem, grade_id, key))
            assert survivor.get("equivalent") and survivor.get("reason") == reason, (
                f"{path.stem} {grade_id} accepts a wrong answer:\n{survivor['diff']}\n"
                "Strengthen its hidden tests, or, if the answer is still right, say "
                "why in scripts.mutants.EQUIVALENT; then run `make mutants`."
            )
            assert len(reason or "") > 20, f"say why it is equivalent: {reason!r}"


def test_every_listed_equivalent_is_still_a_mutant():
    current = {
        (path.stem, exercise.grade_id, mutant.key)
        for path in SOURCES
        for exercise in mutants.exercises(nbformat.read(path, as_version=4))
        for mutant in mutants.select(mutants.all_mutants(exercise.solution))
    }
    stale = sorted(set(mutants.EQUIVALENT) - current)
    assert not stale, f"reasons for mutants no longer made: remove them: {stale}"


# ------------------------------------------------------ the mutation operators


def cell(body: str, prelude: str = "") -> str:
    """A solution cell: ``body`` (4-space indented) inside a function's region."""
    lines = [f"    {line}" if line else "" for line in body.splitlines()]
    return "\n".join(
        [prelude, "def f(x, y, k):", "    ### BEGIN SOLUTION", *lines]
        + ["    ### END SOLUTION"]
    )


def changed(body: str, category: str) -> list[str]:
    """The changed line of each mutant of one category, stripped."""
    found = [m for m in mutants.all_mutants(cell(body)) if m.category == category]
    return [
        line[1:].strip()
        for mutant in found
        for line in mutant.diff.splitlines()
        if line.startswith("+")
    ]


@pytest.mark.parametrize(
    ("body", "category", "expected"),
    [
        ("return x + y", "operator", ["return x - y"]),
        ("return x - y", "operator", ["return x + y"]),
        ("return x * y", "operator", ["return x / y"]),
        ("return x / y", "operator", ["return x * y", "return x // y"]),
        ("return x // y", "operator", ["return x / y"]),
        ("return x < y", "operator", ["return x <= y"]),
        ("return x <= y", "operator", ["return x < y"]),
        ("return x > y", "operator", ["return x >= y"]),
        ("return x >= y", "operator", ["return x > y"]),
        ("return x == y", "operator", ["return x != y"]),
        ("return x and y", "operator", ["return x or y"]),
        ("return x or y", "operator", ["return x and y"]),
        ("return -x", "operator", ["return x"]),
        ("x += y\nreturn x", "operator", ["x -= y"]),
        ("return x + 3", "constant", ["return x + 4"]),
        ("return x * 0.5", "constant", ["return x * 0.55"]),
        ("return x * 0.0", "constant", ["return x * 0.1"]),
        ("return x ** 1", "constant", ["return x ** 2"]),
        ("return x[0]", "index", ["return x[1]"]),
        ("return x[-1]", "index", ["return x[-2]"]),
        ("return x[k]", "index", ["return x[k + 1]"]),
        ("return x[:, :k]", "index", ["return x[:, :k - 1]"]),
        ("return x[1:]", "index", ["return x[2:]"]),
        ("return x.sum(axis=1)", "axis", ["return x.sum(axis=0)"]),
        ("return x.sum(axis=0)", "axis", ["return x.sum(axis=1)"]),
        ("return x.sum(axis=-1)", "axis", ["return x.sum(axis=-2)"]),
        ("return x.max(axis=(2, 4))", "axis", ["return x.max(axis=(2, 3))"]),
        ("return np.argmin(x)", "function", ["return np.argmax(x)"]),
        ("return x.max()", "function", ["return x.min()"]),
        ("return min(x, y)", "function", ["return max(x, y)"]),
        ("return np.sum(x)", "function", ["return np.mean(x)"]),
        ("return x.mean()", "function", ["return x.sum()"]),
        ("return math.ceil(x)", "function", ["return math.floor(x)"]),
        ("return np.prod(x)", "function", ["return np.sum(x)"]),
        ("return sum(x)", "function", []),  # Python's sum has no mean
    ],
)
def test_each_operator_makes_the_expected_mutant(body, category, expected):
    assert changed(body, category) == expected


def test_dropped_statements_leave_runnable_code():
    body = "\n".join(
        [
            "total = 0",  # first binding: dropping it would only raise NameError
            "for item in x:",
            "    total += item",  # an update: dropped
            "    x = abs(x)",  # rebinding a parameter: dropped
            "np.fill_diagonal(y, 0)",  # a call made for its effect: dropped
            "if k < 0:",
            "    raise ValueError(k)",  # a validation: dropped
            "return total",  # never dropped
        ]
    )
    dropped = [
        mutant.diff.splitlines()[1:]
        for mutant in mutants.all_mutants(cell(body))
        if mutant.category == "statement"
    ]
    assert dropped == [
        ["-        total += item"],
        ["-        x = abs(x)"],
        ["-    np.fill_diagonal(y, 0)"],
        ["-    if k < 0:", "-        raise ValueError(k)"],
    ]
    only_statement = mutants.all_mutants(cell("for item in x:\n    y.append(item)"))
    assert "+        pass" in only_statement[-1].diff  # an emptied body gets `pass`


def test_only_solution_regions_are_mutated():
    source = "SCALE = 2\n" + cell("return x * SCALE + 1") + "\nOFFSET = 3 + 4"
    for mutant in mutants.all_mutants(source):
        assert mutant.diff.count("\n") == 2, mutant.diff
        assert "return" in mutant.diff, mutant.diff


def test_every_mutant_parses_and_differs_from_the_solution():
    for path in SOURCES:
        for exercise in mutants.exercises(nbformat.read(path, as_version=4)):
            tree = ast.dump(ast.parse(exercise.solution))
            for mutant in mutants.all_mutants(exercise.solution):
                assert ast.dump(ast.parse(mutant.source)) != tree, mutant.diff


def test_selection_is_capped_and_covers_every_category():
    body = "\n".join(
        [
            "y = x[0] + 1 + 2 + 3 + 4",
            "z = np.argmax(y, axis=1) - 1",
            "y = y * 2",
            "return z / y",
        ]
    )
    everything = mutants.all_mutants(cell(body))
    chosen = mutants.select(everything)
    assert len(chosen) == mutants.CAP < len(everything)
    assert {mutant.category for mutant in chosen} == set(mutants.CATEGORIES)
    assert chosen == mutants.select(everything), "the choice must be deterministic"


def test_batches_keep_dependent_checks_apart():
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        solution_cell("exercise_1", "def double(x):\n    return 2 * x"),
        check_cell(
            "exercise_1",
            "rng = np.random.default_rng(0)\nassert double(rng.integers(3)) % 2 == 0",
        ),
        nbformat.v4.new_code_cell("table = [double(n) for n in range(3)]"),
        solution_cell("exercise_2", "def last(items):\n    return items[-1]"),
        check_cell("exercise_2", "assert last(table) == 4"),
        solution_cell("exercise_3", "def first(items):\n    return items[0]"),
        # A generator that an earlier check drew from: a mutant of exercise 1 that
        # stops that check early leaves it in another state.
        check_cell("exercise_3", "assert first([rng.integers(3)]) >= 0"),
        solution_cell("exercise_4", "def halve(table):\n    return table / 2"),
        # `table` is halve's own parameter; a generator seeded afresh owes nothing
        # to an earlier check.
        check_cell(
            "exercise_4",
            "rng = np.random.default_rng(1)\nassert halve(2 * rng.integers(1, 3)) >= 1",
        ),
    ]
    depends = mutants.dependencies(notebook)
    assert depends == {
        "exercise_1": set(),
        "exercise_2": {"exercise_1"},
        "exercise_3": {"exercise_1"},
        "exercise_4": set(),
    }
    assert mutants.batches(depends) == [
        ["exercise_1", "exercise_4"],
        ["exercise_2", "exercise_3"],
    ]


# ------------------------------------------------ end to end through nbgrader


def solution_cell(grade_id: str, code: str) -> nbformat.NotebookNode:
    """An nbgrader solution cell whose whole body is the solution region."""
    head, _, body = code.partition("\n")
    indented = "\n".join(f"    {line.strip()}" for line in body.splitlines())
    source = f"{head}\n    ### BEGIN SOLUTION\n{indented}\n    ### END SOLUTION"
    new = nbformat.v4.new_code_cell(source)
    new.metadata["nbgrader"] = {
        "grade": False,
        "grade_id": grade_id,
        "locked": False,
        "schema_version": 3,
        "solution": True,
        "task": False,
    }
    return new


def check_cell(grade_id: str, visible: str, hidden: str = "") -> nbformat.NotebookNode:
    """An nbgrader check cell (1 point) with optional hidden tests."""
    source = visible
    if hidden:
        source += f"\n### BEGIN HIDDEN TESTS\n{hidden}\n### END HIDDEN TESTS"
    new = nbformat.v4.new_code_cell(source)
    new.metadata["nbgrader"] = {
        "grade": True,
        "grade_id": f"{grade_id}_check",
        "locked": True,
        "points": 1,
        "schema_version": 3,
        "solution": False,
        "task": False,
    }
    return new


def test_the_autograder_rejects_mutants_a_good_check_catches(tmp_path):
    """Two exercises, two mutants each, graded by nbgrader in one run.

    ``perimeter``'s check pins the formula; ``is_small``'s check lets ``<`` → ``<=``
    through (it never tries 2), which the record must show as a survivor.
    """
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    notebook.cells = [
        nbformat.v4.new_markdown_cell("# Tiny lesson"),
        solution_cell(
            "exercise_1",
            "def perimeter(width, height):\n    return 2 * (width + height)",
        ),
        check_cell(
            "exercise_1", "assert perimeter(2, 3) == 10", "assert perimeter(4, 5) == 18"
        ),
        solution_cell("exercise_2", "def is_small(x):\n    return x < 2"),
        check_cell("exercise_2", "assert is_small(1) and not is_small(2.5)"),
    ]
    path = tmp_path / "00_tiny.ipynb"
    nbformat.write(notebook, path)
    record = mutants.grade_lesson(
        path, tmp_path / "course", cap=2, log=lambda *a, **k: None
    )

    assert record["sanity"] == {
        "exercise_1": {"score": 1.0, "max_score": 1.0},
        "exercise_2": {"score": 1.0, "max_score": 1.0},
    }
    assert record["batches"] == [["exercise_1", "exercise_2"]]
    # The unmutated source, then one submission per round of mutants.
    assert record["submissions"] == 3
    perimeter = record["exercises"]["exercise_1"]
    assert [result["diff"].splitlines()[-1] for result in perimeter["results"]] == [
        "+    return 2 / (width + height)",
        "+    return 3 * (width + height)",
    ]
    assert perimeter["killed"] == perimeter["mutants"] == 2
    assert all("AssertionError" in result["failure"] for result in perimeter["results"])
    small = record["exercises"]["exercise_2"]
    assert (small["mutants"], small["killed"]) == (2, 1)
    (survivor,) = small["survivors"]
    assert survivor["diff"].endswith("+    return x <= 2")
    assert survivor["equivalent"] is False
