"""The Colab setup cell, run as Colab would run it (with git and pip recorded)."""

import importlib.util
import subprocess
import sys
import types

import keras
import pytest

from scripts.normalize_notebooks import COLAB_CELL


def run_colab_cell(monkeypatch, *, keras_version: str, missing: set[str]) -> list:
    commands = []
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    monkeypatch.setattr(
        subprocess, "run", lambda command, **_: commands.append(command)
    )
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *rest: None if name in missing else real_find_spec(name, *rest),
    )
    monkeypatch.setattr(keras, "__version__", keras_version)
    monkeypatch.setattr(sys, "path", list(sys.path))
    exec(compile(COLAB_CELL, "colab-cell", "exec"), {})
    return commands


def test_outside_colab_the_cell_does_nothing(monkeypatch):
    monkeypatch.setattr(subprocess, "run", lambda *_, **__: pytest.fail("ran"))
    exec(compile(COLAB_CELL, "colab-cell", "exec"), {})


def test_in_colab_it_clones_and_installs_only_what_is_missing(monkeypatch):
    commands = run_colab_cell(
        monkeypatch, keras_version="3.10.0", missing={"tensorflow_datasets"}
    )
    assert commands[0][:3] == ["git", "clone", "--depth=1"]
    installs = [command[5:] for command in commands[1:]]
    assert installs == [["tensorflow-datasets"], ["--no-deps", "-e", "/content/course"]]


def test_in_colab_with_keras_2_it_stops_with_a_clear_message(monkeypatch):
    with pytest.raises(RuntimeError, match=r"needs Keras 3.*Keras 2\.15\.0.*runtime"):
        run_colab_cell(monkeypatch, keras_version="2.15.0", missing=set())
