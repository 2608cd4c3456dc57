"""utils: modes, setup, environment report, results recording."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import utils


def test_mode_rejects_unknown_value(monkeypatch):
    monkeypatch.setenv("COURSE_MODE", "fast")
    with pytest.raises(ValueError, match=r"COURSE_MODE is 'fast'; expected one of"):
        utils.mode()


@pytest.mark.parametrize("name", ["smoke", "cpu", "gpu", " CPU "])
def test_mode_and_by_mode(monkeypatch, name):
    monkeypatch.setenv("COURSE_MODE", name)
    expected = name.strip().lower()
    assert utils.mode() == expected
    assert utils.by_mode(smoke="s", cpu="c", gpu="g") == expected[0]


def test_mode_defaults_to_hardware(monkeypatch):
    monkeypatch.delenv("COURSE_MODE", raising=False)
    monkeypatch.setattr(utils, "_gpu_visible", lambda: False)
    assert utils.mode() == "cpu"
    monkeypatch.setattr(utils, "_gpu_visible", lambda: True)
    assert utils.mode() == "gpu"


def test_setup_notebook_seeds_and_reports(monkeypatch):
    monkeypatch.setenv("COURSE_MODE", "smoke")
    report = utils.setup_notebook(seed=7)
    first = np.random.rand()
    utils.setup_notebook(seed=7)
    assert np.random.rand() == first
    text = repr(report)
    assert "mode        smoke" in text and "keras" in text and "devices" in text


def test_setup_notebook_rejects_keras_2(monkeypatch):
    import keras

    monkeypatch.setattr(keras, "__version__", "2.15.0")
    with pytest.raises(RuntimeError, match="needs Keras 3.*Keras 2.15.0"):
        utils.setup_notebook()


def test_report_writes_and_merges(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_RESULTS_DIR", str(tmp_path))
    monkeypatch.setenv("COURSE_MODE", "cpu")
    utils.report("99_demo", accuracy=np.float32(0.5))
    recorded = utils.report("99_demo", seconds=12)
    on_disk = json.loads((tmp_path / "cpu" / "99_demo.json").read_text())
    assert on_disk["accuracy"] == 0.5 and on_disk["seconds"] == 12
    assert recorded["_mode"] == "cpu"


def test_report_bad_input(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_RESULTS_DIR", str(tmp_path))
    with pytest.raises(ValueError, match="got no metrics"):
        utils.report("99_demo")
    with pytest.raises(ValueError, match=r"Metric 'curve' is list .*expected a number"):
        utils.report("99_demo", curve=[1, 2])


def test_unknown_attribute_names_the_submodules():
    with pytest.raises(AttributeError, match="no attribute 'dataa'; its submodules"):
        utils.dataa  # noqa: B018


def test_tab_completion_lists_the_submodules_before_they_load():
    code = (
        "import sys, utils; "
        "print(sorted({'data', 'viz', 'callbacks', 'exercises', 'models'} "
        "- set(dir(utils)))); "
        "print(sorted(name for name in ('tensorflow', 'keras', 'matplotlib') "
        "if name in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    missing, loaded = result.stdout.splitlines()
    assert missing == "[]", f"dir(utils) lacks {missing}"
    assert loaded == "[]", f"`import utils` loads {loaded}; keep it light"
    assert "report" in dir(utils) and "models" in dir(utils)


def test_environment_report_names_versions_and_data(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    report = utils.environment_report(seed=3)
    assert report.versions["numpy"] == np.__version__
    assert report.data_dir == str(tmp_path)
    assert f"data        {tmp_path}" in repr(report) and "seed        3" in repr(report)


def test_a_learners_run_records_outside_the_published_results(monkeypatch):
    monkeypatch.delenv("COURSE_RESULTS_DIR")
    assert utils.results_dir() == utils.REPO_ROOT / "build" / "results"
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", "build/results/cpu/04_mnist_cnn.json"],
        cwd=utils.REPO_ROOT,
    )
    assert ignored.returncode == 0, "build/results/ must be ignored by git"


def test_report_survives_a_damaged_record(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_RESULTS_DIR", str(tmp_path))
    record = tmp_path / utils.mode() / "00_demo.json"
    record.parent.mkdir()
    record.write_text('{"accuracy": 0.9, "loss')  # What a killed write used to leave.
    assert utils.report("00_demo", loss=0.1) == {
        "loss": 0.1,
        "_mode": utils.mode(),
        "_updated": json.loads(record.read_text())["_updated"],
    }
    assert record.with_name("00_demo.json.damaged").read_text().endswith('"loss')


def test_report_writes_atomically(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_RESULTS_DIR", str(tmp_path))
    utils.report("00_demo", accuracy=0.5)
    replaced = []
    real_replace = os.replace

    def watch(source, target):
        # The new text is complete in its temporary file before it replaces the record.
        replaced.append(json.loads(Path(source).read_text()))
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", watch)
    utils.report("00_demo", loss=0.25)
    assert replaced and replaced[0]["loss"] == 0.25 and replaced[0]["accuracy"] == 0.5
    assert sorted(path.name for path in (tmp_path / utils.mode()).iterdir()) == [
        "00_demo.json"
    ]
