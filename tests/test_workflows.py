"""GitHub workflow files validate against GitHub's schema, offline."""

import subprocess
import sys

import yaml

from utils import REPO_ROOT

WORKFLOWS = sorted((REPO_ROOT / ".github" / "workflows").glob("*.yml"))


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


def test_the_jobs_run_the_readme_test_command_and_the_gpu_mode():
    jobs = {}
    for path in WORKFLOWS:
        jobs.update(yaml.safe_load(path.read_text())["jobs"])

    def runs(job):
        return [step["run"] for step in job["steps"] if "run" in step]

    hosted = [job for job in jobs.values() if job["runs-on"] == "ubuntu-latest"]
    assert any("make test" in runs(job) for job in hosted), (
        "a hosted job runs `make test`, the README's test command"
    )
    gpu = [job for job in jobs.values() if "gpu" in job["runs-on"]]
    assert gpu, "a job for a self-hosted runner labelled gpu"
    assert gpu[0]["env"]["COURSE_MODE"] == "gpu", "the GPU job runs in gpu mode"
