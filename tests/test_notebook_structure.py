"""Every lesson source (instructor/) follows the house anatomy (CONTRIBUTING.md)."""

import json
import re

import pytest

import utils
from scripts.normalize_notebooks import COLAB_CELL

NOTEBOOKS = sorted((utils.REPO_ROOT / "instructor").glob("[0-9][0-9]_*.ipynb"))
REQUIRED_H2 = ("What you will learn", "Setup", "Exercises", "Summary", "Solutions")


def load(path):
    return json.loads(path.read_text(encoding="utf-8"))


def source(cell):
    return (
        "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
    )


# The course map (README): lesson number -> the topic its notebook name starts with.
COURSE_MAP = {
    1: "background",
    2: "cnn_math",
    3: "how_networks_learn",
    4: "mnist_cnn",
    5: "architectures",
    6: "detection_segmentation",
    7: "augmentation",
    8: "transfer_learning",
    9: "dcgan",
    10: "better_gans",
    11: "trends",
}


def test_lessons_follow_the_course_map():
    found = {int(path.name[:2]): path.stem[3:] for path in NOTEBOOKS}
    assert found == COURSE_MAP, f"lessons {found} differ from the course map"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_anatomy(path):
    cells = load(path)["cells"]
    markdown = [source(cell) for cell in cells if cell["cell_type"] == "markdown"]
    h1 = [
        line for text in markdown for line in text.splitlines() if line.startswith("# ")
    ]
    assert len(h1) == 1, f"expected one H1, found {h1}"
    title = source(cells[0])
    assert title.startswith("# "), "the first cell is the title"
    badge = (
        f"https://colab.research.google.com/github/{utils.REPO_SLUG}/blob/main/"
        f"instructor/{path.name}"
    )
    assert badge in title, f"Colab badge must point to {badge}"
    assert "Runtime:" in title
    h2 = [
        line[3:].strip()
        for text in markdown
        for line in text.splitlines()
        if line.startswith("## ")
    ]
    positions = []
    for heading in REQUIRED_H2:
        matches = [index for index, text in enumerate(h2) if text.startswith(heading)]
        assert matches, f"missing '## {heading}' (found {h2})"
        positions.append(matches[0])
    assert positions == sorted(positions), f"headings out of order: {h2}"
    assert not any(
        line.startswith("#### ") for text in markdown for line in text.splitlines()
    ), "no headings below H3"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_setup_cells(path):
    code = [source(cell) for cell in load(path)["cells"] if cell["cell_type"] == "code"]
    assert code[0].strip() == COLAB_CELL, (
        "first code cell must be the standard Colab cell"
    )
    assert utils.REPO_URL in code[0]
    assert any("utils.setup_notebook(seed=SEED)" in cell for cell in code[:4])
    assert any("utils.by_mode(" in cell for cell in code), "size the work with by_mode"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_no_stored_outputs(path):
    for cell in load(path)["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [], "strip outputs (nbstripout)"
            assert cell["execution_count"] is None


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_exercises_are_graded(path):
    cells = load(path)["cells"]
    solutions = [
        cell
        for cell in cells
        if cell["cell_type"] == "code"
        and cell.get("metadata", {}).get("nbgrader", {}).get("solution")
    ]
    checks = [
        cell
        for cell in cells
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade")
    ]
    assert len(solutions) >= 3 and len(checks) >= 3
    for cell in solutions:
        assert "### BEGIN SOLUTION" in source(cell) and "### END SOLUTION" in source(
            cell
        )
    for cell in checks:
        assert cell["metadata"]["nbgrader"].get("points", 0) > 0
    ids = [
        cell["metadata"]["nbgrader"]["grade_id"]
        for cell in cells
        if "nbgrader" in cell.get("metadata", {})
    ]
    assert len(ids) == len(set(ids)), "grade_id values must be unique"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_links_to_lessons_resolve(path):
    markdown = "\n".join(
        source(cell) for cell in load(path)["cells"] if cell["cell_type"] == "markdown"
    )
    for target in re.findall(r"\]\((\d\d_[a-z0-9_]+\.ipynb)\)", markdown):
        assert (utils.REPO_ROOT / "instructor" / target).is_file(), (
            f"broken link to {target}"
        )


DURATION = r"~[\d.]+ (s|min)"
EXPECTED_TIME = re.compile(
    rf"# Expected time: {DURATION} smoke, {DURATION} cpu, {DURATION} gpu\."
)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_slow_cells_state_their_expected_time(path):
    """Cells over 10 s in the recorded cpu run open with '# Expected time: ...'."""
    record = utils.REPO_ROOT / "results" / "cpu" / f"{path.stem}.json"
    assert record.is_file(), f"no cpu run recorded for {path.stem}: run make results"
    slow = json.loads(record.read_text()).get("slow_cells")
    assert slow is not None, f"{record.name} predates cell timing: run make results"
    cells = {cell.get("id"): cell for cell in load(path)["cells"]}
    for cell_id, seconds in slow.items():
        assert cell_id in cells, (
            f"cell {cell_id} ({seconds} s in the cpu run) is gone from {path.name}: "
            "the notebook changed since its cpu run; run make results"
        )
        first_line = source(cells[cell_id]).split("\n", 1)[0]
        assert EXPECTED_TIME.fullmatch(first_line), (
            f"cell {cell_id} of {path.name} took {seconds} s in cpu mode; start it "
            "with '# Expected time: ~N s smoke, ~N min cpu, ~N s gpu.'"
        )
    for cell in cells.values():
        first_line = source(cell).split("\n", 1)[0]
        if first_line.startswith("# Expected time"):
            assert EXPECTED_TIME.fullmatch(first_line), f"malformed: {first_line}"
