"""GitHub workflow files validate against GitHub's schema, offline."""

import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))


def test_workflows_match_github_schema():
    assert WORKFLOWS, "no workflow files"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.github-workflows",
            *map(str, WORKFLOWS),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_cpu_and_gpu_jobs():
    jobs = {}
    for path in WORKFLOWS:
        jobs.update(yaml.safe_load(path.read_text())["jobs"])
    runs_on = {name: job["runs-on"] for name, job in jobs.items()}
    assert any(on == "ubuntu-latest" for on in runs_on.values())
    gpu = [name for name, on in runs_on.items() if isinstance(on, list) and "gpu" in on]
    assert gpu, "a job for a self-hosted runner labelled gpu"
    gpu_steps = " ".join(str(step) for step in jobs[gpu[0]]["steps"])
    assert "COURSE_MODE" in gpu_steps and "gpu" in gpu_steps
