"""The Colab setup cell, run for real in a virtual environment that looks like Colab.

The look-alike (``make colab-venv``, build/colab-venv) has Python 3.12, a
``google.colab`` module, TensorFlow, Keras and a lesson's libraries preinstalled, and
no course package. The course repository is served from a local bare repository (a
snapshot of this working tree) that git substitutes for the cell's GitHub address. The
cell runs twice in one interpreter (a re-run), then once in a new one (a restart);
after that the lesson 01 setup cells run there. Nothing is mocked: git clones, Python
imports what the cell put on ``sys.path``.

.ci/run builds the look-alike while it installs .venv and exports
``COURSE_REQUIRE_COLAB_VENV=1``; under CI a missing one fails. Locally the test builds
it (about 50 s with pip's cache, 1.9 GB) when it is missing or stale.
"""

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest

import utils
from scripts.normalize_notebooks import COLAB_CELL
from utils import REPO_ROOT

ROOT = REPO_ROOT
COLAB_VENV = ROOT / "build" / "colab-venv"
COLAB_PYTHON = COLAB_VENV / "bin" / "python"
REQUIRED = (
    os.environ.get("COURSE_REQUIRE_COLAB_VENV") == "1" or os.environ.get("CI") == "true"
)

# Runs in the look-alike: the cell twice, then (first run only) the lesson's setup
# cells, as a notebook would, and reports what a learner would see.
DRIVER = textwrap.dedent(
    """
    import ast, json, sys
    import google.colab  # Colab's kernel imports it at start-up.

    cells = json.load(open(sys.argv[1]))
    namespace = {}
    for run in range(cells["colab_runs"]):
        exec(compile(cells["colab"], f"colab-cell-run-{run + 1}", "exec"), namespace)
    import utils
    import keras

    print("REPORT", json.dumps({
        "utils": utils.__file__,
        "course_dir_on_path": sys.path.count(namespace["COURSE_DIR"]),
        "keras": keras.__version__,
        "keras_file": keras.__file__,
    }))
    for number, source in enumerate(cells["setup"], start=1):
        # Like a notebook: the last expression of a cell is shown.
        tree = ast.parse(source)
        last = tree.body.pop() if isinstance(tree.body[-1], ast.Expr) else None
        exec(compile(tree, f"setup-cell-{number}", "exec"), namespace)
        if last is not None:
            shown = eval(compile(ast.Expression(last.value), "last", "eval"), namespace)
            print(f"SETUP-CELL-{number}", shown)
    """
)


def colab_venv() -> Path:
    """Return the look-alike's python: built by CI, built here when missing."""
    built = COLAB_VENV / ".built"
    if REQUIRED:
        assert built.is_file(), (
            f"{COLAB_VENV} is missing: .ci/run builds it with `make colab-venv` "
            "(see build/colab-venv.log)."
        )
        return COLAB_PYTHON
    result = subprocess.run(
        ["make", "--no-print-directory", "colab-venv"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, (
        f"make colab-venv failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
    )
    return COLAB_PYTHON


def git(*args: str, **kwargs) -> str:
    return subprocess.run(
        ["git", *args], check=True, capture_output=True, text=True, **kwargs
    ).stdout


def snapshot_repository(bare: Path) -> str:
    """Commit this working tree (tracked and new files) into a bare repository."""
    git("init", "--quiet", "--bare", str(bare))
    files = [
        name
        for name in git(
            "ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=ROOT
        ).split("\0")
        if name and (ROOT / name).is_file()
    ]
    tree = ["--git-dir", str(bare), "--work-tree", str(ROOT)]
    subprocess.run(
        ["git", *tree, "add", "--pathspec-from-file=-", "--pathspec-file-nul"],
        input="\0".join(files),
        check=True,
        text=True,
    )
    identity = {
        f"GIT_{role}_{field}": value
        for role in ("AUTHOR", "COMMITTER")
        for field, value in (("NAME", "Course test"), ("EMAIL", "test@localhost"))
    }
    git(*tree, "commit", "--quiet", "-m", "snapshot", env={**os.environ, **identity})
    return git("--git-dir", str(bare), "rev-parse", "HEAD").strip()


def lesson_setup_cells() -> list[str]:
    """Return lesson 01's imports and configuration cells (after the Colab cell)."""
    sources = sorted(ROOT.glob("instructor/01_*.ipynb")) or sorted(
        ROOT.glob("notebooks/01_*.ipynb")
    )
    assert sources, "no lesson 01 source in instructor/ or notebooks/"
    code = [
        cell.source
        for cell in nbformat.read(sources[0], as_version=4).cells
        if cell.cell_type == "code"
    ]
    ends = [
        index
        for index, source in enumerate(code)
        if source.strip().endswith("utils.setup_notebook(seed=SEED)")
    ]
    assert ends, f"{sources[0].name}: no setup cell ends with utils.setup_notebook"
    return code[1 : ends[0] + 1]


@pytest.fixture(scope="module")
def colab(tmp_path_factory):
    """A Colab-like session: look-alike venv, local GitHub, /content, environment."""
    python = colab_venv()
    base = tmp_path_factory.mktemp("colab")
    bare = base / "course.git"
    commit = snapshot_repository(bare)
    url = re.search(r'"(https://github\.com/[^"]+)"', COLAB_CELL).group(1)
    assert url == utils.REPO_URL, f"the cell clones {url}; the course: {utils.REPO_URL}"
    gitconfig = base / "gitconfig"
    gitconfig.write_text(f'[url "file://{bare}"]\n\tinsteadOf = {url}\n')
    content = base / "content"
    content.mkdir()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTHON", "VIRTUAL_ENV", "COURSE_", "GIT_"))
    }
    env.update(
        GIT_CONFIG_GLOBAL=str(gitconfig),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_ALLOW_PROTOCOL="file",  # The https address must be redirected, or fail.
        COURSE_DIR=str(content / "course"),
        COURSE_MODE="smoke",
        COURSE_RESULTS_DIR=str(base / "results"),
        MPLBACKEND="Agg",
        TF_CPP_MIN_LOG_LEVEL="2",
    )
    return {"python": python, "commit": commit, "content": content, "env": env}


def run_session(colab, *, colab_runs: int, setup: list[str]) -> dict:
    cells = colab["content"].parent / f"cells-{colab_runs}.json"
    cells.write_text(
        json.dumps({"colab": COLAB_CELL, "colab_runs": colab_runs, "setup": setup})
    )
    result = subprocess.run(
        [str(colab["python"]), "-c", DRIVER, str(cells)],
        cwd=colab["content"],
        env=colab["env"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    print(result.stdout[-4000:], result.stderr[-4000:])
    assert result.returncode == 0, f"the session failed:\n{result.stderr[-4000:]}"
    report = re.search(r"^REPORT (.*)$", result.stdout, re.M)
    return {**json.loads(report.group(1)), "stdout": result.stdout}


def installed(python: Path) -> str:
    return subprocess.run(
        [str(python), "-m", "pip", "freeze", "--all"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def test_the_cell_clones_once_runs_again_and_after_a_restart_then_a_lesson_starts(
    colab,
):
    before = installed(colab["python"])
    course = colab["content"] / "course"

    first = run_session(colab, colab_runs=2, setup=lesson_setup_cells())
    cloned = git("-C", str(course), "rev-parse", "HEAD").strip()
    assert cloned == colab["commit"], "the cell did not clone the course repository"
    assert first["utils"] == str(course / "utils" / "__init__.py")
    assert first["course_dir_on_path"] == 1, "a re-run added the course twice"
    shown = re.search(r"^SETUP-CELL-2 (.*)", first["stdout"], re.M | re.S)
    assert shown and "smoke" in shown.group(1), first["stdout"]

    (course / "restart-marker").write_text("the clone must survive a restart")
    restarted = run_session(colab, colab_runs=1, setup=[])
    assert (course / "restart-marker").is_file(), "a restart cloned again"
    assert restarted["utils"] == first["utils"]

    # Colab's own packages are left alone: nothing installed, upgraded or removed.
    assert installed(colab["python"]) == before
    assert first["keras_file"].startswith(str(COLAB_VENV)), first["keras_file"]


def test_outside_colab_the_cell_does_nothing():
    path = list(sys.path)
    namespace = {}
    exec(compile(COLAB_CELL, "colab-cell", "exec"), namespace)
    assert "COURSE_DIR" not in namespace and sys.path == path


def test_on_a_runtime_with_keras_2_it_stops_with_what_to_do(tmp_path):
    # A runtime whose `keras` is Keras 2: a stand-in package ahead of the real one,
    # and the google.colab module; the course folder exists, so nothing is cloned.
    (tmp_path / "keras").mkdir()
    (tmp_path / "keras" / "__init__.py").write_text('__version__ = "2.15.0"\n')
    (tmp_path / "google" / "colab").mkdir(parents=True)
    (tmp_path / "google" / "__init__.py").write_text("")
    (tmp_path / "google" / "colab" / "__init__.py").write_text("")
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "COURSE_DIR": str(ROOT)}
    code = f"import google.colab\nexec({COLAB_CELL!r})"
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    message = result.stderr.strip().splitlines()[-1]
    assert re.search(
        r"needs Python 3\.10\+ and Keras 3.*Keras 2\.15\.0.*Change runtime type",
        message,
    ), message
