"""Test-session settings shared by nbval, the unit tests and the doctests.

Notebooks run in kernels started by nbval; they inherit this process's
environment, so the settings below must be in place before collection.
"""

import os
import sys
import tempfile
from pathlib import Path

_SESSION_DIR = Path(tempfile.mkdtemp(prefix="course-tests-"))

# Tools installed beside this Python (alembic for nbgrader, jupyter) are on PATH
# even when the virtual environment is not activated (make test does not).
os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
os.environ.setdefault("COURSE_MODE", "smoke")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Results, checkpoints and figures of this run go to a fresh folder, so the band
# tests see only what this session's notebooks recorded.
os.environ["COURSE_RESULTS_DIR"] = str(_SESSION_DIR / "results")
os.environ.setdefault("COURSE_CHECKPOINT_DIR", str(_SESSION_DIR / "checkpoints"))


def pytest_collection_modifyitems(session, config, items):
    config.executed_notebooks = {
        Path(str(item.fspath)).stem
        for item in items
        if str(item.fspath).endswith(".ipynb")
    }
