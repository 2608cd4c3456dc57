"""Lessons speak of their subject, not of how the course checks itself.

A learner needs what they should see and why. How the figures are checked (test
files, bands, floors, `make` targets, machine load, how a lesson was built) belongs
in README.md, CONTRIBUTING.md and the instructor guide. Estimated figures are labelled
as estimates, each lesson records its figures in one cell at its end, and no public
file sends a reader outside the repository.
"""

import json
import re
from pathlib import Path

import pytest

from scripts import editions
from utils import REPO_ROOT

SOURCES = editions.sources()

# (pattern, what to write instead). Case-insensitive unless the pattern says (?-i:).
MAKING_OF = [
    (r"\btests?/|\btest_\w+\.py", "name no test file"),
    (r"\bbands\b|\bevery band\b|accepted ranges?", "say what the learner should see"),
    (r"(?<!real-data )\bfloors?\b(?! division)", "give the expected range instead"),
    (r"`?\bmake (results|test|lab|html|assignments|install)\b", "no make targets"),
    (r"\b(free|shared)[ -]cores?\b|\bunder load\b|machine load", "no machine load"),
    (r"while (building|writing) this lesson|\btrials?\b", "no story of the making"),
    (r"course's tests|\btests? (check|compare)|fails the test", "no test talk"),
    (r"(?-i:\bCI\b)|\bnbval\b|\bnbgrader\b|student version", "no tooling"),
    (r"\btest run\b", "say `smoke` mode"),
    (r"\bresults/|results file", "no repository paths for results"),
    (r"\.\./|\bshared/", "nothing outside the repository"),
]
PUBLIC_DOCS = ["README.md", "CONTRIBUTING.md", "data/README.md"]


def markdown_cells(path: Path) -> list[tuple[int, str]]:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return [
        (index, "".join(cell["source"]))
        for index, cell in enumerate(cells)
        if cell["cell_type"] == "markdown"
    ]


def making_of_hits(text: str) -> list[str]:
    hits = []
    for pattern, advice in MAKING_OF:
        for match in re.finditer(pattern, text, flags=re.IGNORECASE):
            context = text[max(0, match.start() - 40) : match.end() + 20]
            hits.append(f"{match.group(0)!r} ({advice}): …{' '.join(context.split())}…")
    return hits


def test_the_scan_finds_making_of_words():
    sample = "The tests check the floor in `tests/bands/x.json` after `make results`."
    assert len(making_of_hits(sample)) >= 4
    assert making_of_hits("Its real-data floor is 8.5; a narrow band of gray.") == []


@pytest.mark.parametrize("path", SOURCES, ids=lambda path: path.stem)
def test_lesson_prose_speaks_of_the_subject(path):
    hits = [
        f"cell {index}: {hit}"
        for index, text in markdown_cells(path)
        for hit in making_of_hits(text)
    ]
    assert not hits, "\n".join(hits)


@pytest.mark.parametrize("path", SOURCES, ids=lambda path: path.stem)
def test_gpu_figures_are_labelled_estimates(path):
    cells = markdown_cells(path)
    title = cells[0][1]
    assert re.search(r"Runtime: ~[\d.]+ (s|min) \(GPU, estimated\)", title), (
        "the title's GPU runtime is an estimate: write 'Runtime: ~N min (GPU, "
        "estimated), ~N min (CPU), ~N s (smoke)'"
    )
    for index, text in cells:
        for line in text.splitlines():
            header = line.lower()
            if line.startswith("|") and "gpu" in header and "---" not in line:
                assert "estimate" in header or "estimate" in text.lower(), (
                    f"cell {index}: a table with a GPU column must label it as an "
                    f"estimate: {line}"
                )


@pytest.mark.parametrize("path", SOURCES, ids=lambda path: path.stem)
def test_figures_are_recorded_in_one_cell_at_the_end(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    summary = next(
        index
        for index, cell in enumerate(cells)
        if cell["cell_type"] == "markdown"
        and "".join(cell["source"]).startswith("## Summary")
    )
    code = [
        (index, "".join(cell["source"]))
        for index, cell in enumerate(cells)
        if cell["cell_type"] == "code"
    ]
    reporting = [index for index, text in code if "utils.report(" in text]
    assert len(reporting) == 1, f"utils.report( in cells {reporting}; use one cell"
    last_before_summary = max(index for index, _ in code if index < summary)
    assert reporting[0] == last_before_summary, (
        "record the figures in the last code cell before '## Summary'"
    )


@pytest.mark.parametrize("name", PUBLIC_DOCS)
def test_public_docs_stay_inside_the_repository(name):
    text = (REPO_ROOT / name).read_text(encoding="utf-8")
    outside = re.findall(r".{0,30}\.\./shared.{0,30}", text)
    assert not outside, f"{name} sends readers outside the repository: {outside}"
