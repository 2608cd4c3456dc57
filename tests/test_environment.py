"""requirements.txt, requirements-gpu.txt and environment.yml pin the same packages."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^\s*(?:-\s+)?([A-Za-z0-9_.\-\[\]]+)==([^\s#]+)")


def pins(path: Path) -> dict[str, str]:
    found = {}
    for line in path.read_text().splitlines():
        match = PIN.match(line)
        if match:
            name = re.sub(r"[-_.]+", "-", match.group(1).lower())
            found[name] = match.group(2)
    return found


def test_requirements_pin_every_package_exactly():
    lines = [
        line.split("#")[0].strip()
        for line in (ROOT / "requirements.txt").read_text().splitlines()
    ]
    packages = [line for line in lines if line and not line.startswith("-e")]
    assert packages and all("==" in line for line in packages), packages


def test_environment_yml_matches_requirements():
    requirements = pins(ROOT / "requirements.txt")
    environment = pins(ROOT / "environment.yml")
    assert environment == requirements
    text = (ROOT / "environment.yml").read_text()
    assert "python=3.11" in text and "- -e ." in text


def test_gpu_requirements_differ_only_in_tensorflow_build():
    cpu = pins(ROOT / "requirements.txt")
    gpu = pins(ROOT / "requirements-gpu.txt")
    assert cpu.pop("tensorflow-cpu") == gpu.pop("tensorflow[and-cuda]")
    assert cpu == gpu


def test_installed_versions_match_pins():
    from importlib.metadata import version

    for name, pinned in pins(ROOT / "requirements.txt").items():
        assert version(name) == pinned, (
            f"{name}: installed {version(name)}, pinned {pinned}"
        )


def test_core_stack():
    pinned = pins(ROOT / "requirements.txt")
    assert pinned["tensorflow-cpu"].startswith("2.21")
    assert pinned["keras"].startswith("3.")
    for name in (
        "tensorflow-datasets",
        "matplotlib",
        "jupyterlab",
        "ipywidgets",
        "nbval",
        "nbgrader",
        "pytest",
        "importlib-resources",
    ):
        assert name in pinned, name
