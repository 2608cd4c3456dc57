"""The requirement files install the course everywhere the README says, one way each.

- requirements/common.txt: what the lessons import, apart from TensorFlow;
- requirements.txt (learners): common + the platform's TensorFlow build + ``-e .``;
- requirements-gpu.txt: common + ``tensorflow[and-cuda]`` + ``-e .``;
- requirements-dev.txt (maintainers, CI): requirements.txt + the test and build tools;
- environment.yml: conda's Python, then pip with requirements.txt.

Resolution for other platforms uses uv (``uv pip compile --python-platform``), which
evaluates the target's markers; pip's ``--platform`` evaluates them for this machine.
Those tests need PyPI (CI has it); uv caches what it fetched in build/uv-cache.
"""

import ast
import json
import re
import shutil
import subprocess
import sys
import time
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
import yaml
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

import utils
from scripts.tensorflow_build import (
    BUILDS,
    installed_builds,
    read_requirements,
    selected,
    selected_builds,
)
from utils import REPO_ROOT

ROOT = REPO_ROOT
COMMON = ROOT / "requirements" / "common.txt"
LEARNER = ROOT / "requirements.txt"
GPU = ROOT / "requirements-gpu.txt"
DEV = ROOT / "requirements-dev.txt"
FILES = sorted([*ROOT.glob("requirements*.txt"), *ROOT.glob("requirements/*.txt")])

# The Pythons the pins support together (README: "Set up and run").
PYTHONS = ("3.11", "3.12", "3.13")
# Platform: marker variables, uv's target, the TensorFlow build that has wheels there.
PLATFORMS = {
    "Linux x86_64": (
        {"sys_platform": "linux", "platform_machine": "x86_64", "os_name": "posix"},
        "x86_64-manylinux_2_28",
        "tensorflow-cpu",
    ),
    "Linux aarch64": (
        {"sys_platform": "linux", "platform_machine": "aarch64", "os_name": "posix"},
        "aarch64-manylinux_2_28",
        "tensorflow",
    ),
    "macOS arm64": (
        {"sys_platform": "darwin", "platform_machine": "arm64", "os_name": "posix"},
        "aarch64-apple-darwin",
        "tensorflow",
    ),
    "Windows amd64": (
        {"sys_platform": "win32", "platform_machine": "AMD64", "os_name": "nt"},
        "x86_64-pc-windows-msvc",
        "tensorflow-cpu",
    ),
}
# What the README's tests resolve: every Python on Linux x86_64, 3.12 elsewhere.
TARGETS = [("Linux x86_64", python) for python in PYTHONS] + [
    (platform, "3.12") for platform in PLATFORMS if platform != "Linux x86_64"
]


TENSORFLOW_VERSION = next(
    str(r.specifier).removeprefix("==")
    for _, r in read_requirements(LEARNER)
    if canonicalize_name(r.name) in BUILDS
)


def pins(requirements) -> dict[str, str]:
    return {canonicalize_name(r.name): str(r.specifier) for r in requirements}


def test_every_requirement_is_pinned_to_one_version():
    for path in FILES:
        for _, requirement in read_requirements(path, follow_includes=False):
            (specifier, *more) = requirement.specifier
            assert specifier.operator == "==" and not more, (
                f"{path.name}: {requirement} is not pinned to one version "
                "(write NAME==VERSION)"
            )


def test_each_package_is_pinned_in_one_file_only():
    """A version lives in one place, so no two files can disagree."""
    owners: dict[str, list[str]] = {}
    versions = {}
    for path in FILES:
        for _, requirement in read_requirements(path, follow_includes=False):
            name = canonicalize_name(requirement.name)
            owners.setdefault(name, []).append(path.name)
            versions.setdefault(name, set()).add(str(requirement.specifier))
    repeated = {
        name: files
        for name, files in owners.items()
        if len(files) > 1 and name not in BUILDS
    }
    assert not repeated, f"pinned in several files: {repeated}"
    tensorflow = set().union(*(versions.get(build, set()) for build in BUILDS))
    assert len(tensorflow) == 1, f"the TensorFlow builds disagree: {tensorflow}"


@pytest.mark.parametrize("platform", PLATFORMS)
def test_markers_choose_one_tensorflow_that_has_wheels_on_each_platform(platform):
    environment, _, build = PLATFORMS[platform]
    for path in (LEARNER, DEV):
        chosen = selected_builds(path, environment)
        assert chosen == [build], f"{path.name} on {platform}: {chosen}, not [{build}]"
    linux = PLATFORMS["Linux x86_64"][0]
    gpu = [r for r in selected(GPU, linux) if canonicalize_name(r.name) in BUILDS]
    assert [(r.name, r.extras) for r in gpu] == [("tensorflow", {"and-cuda"})]


def test_gpu_file_installs_the_learners_list_with_the_cuda_build():
    linux = PLATFORMS["Linux x86_64"][0]

    def others(path):
        return {
            name: version
            for name, version in pins(selected(path, linux)).items()
            if name not in BUILDS
        }

    assert others(GPU) == others(LEARNER)

    def options(path):  # -e . (the course package), index options, ...
        lines = (line.split(" #")[0].strip() for line in path.read_text().splitlines())
        return [line for line in lines if line[:1] == "-" and line[:2] != "-r"]

    assert options(GPU) == options(LEARNER) == ["-e ."]


# Pinned for learners although no lesson imports them, and why.
NOT_IMPORTED = {
    "jupyterlab": "make lab",
    "ipykernel": "the notebooks' kernel",
}


def imported_modules(source: str) -> set[str]:
    lines = [line for line in source.splitlines() if line.lstrip()[:1] not in "%!"]
    found = set()
    for node in ast.walk(ast.parse("\n".join(lines))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def test_learners_get_what_the_lessons_import_and_nothing_else():
    sources = [path.read_text() for path in (ROOT / "utils").glob("*.py")]
    for path in sorted(ROOT.glob("instructor/[0-9][0-9]_*.ipynb")):
        notebook = json.loads(path.read_text())
        sources += [
            "".join(cell["source"])
            for cell in notebook["cells"]
            if cell["cell_type"] == "code"
        ]
    modules = set().union(*map(imported_modules, sources))
    modules -= set(sys.stdlib_module_names) | {"utils", "__future__"}
    owners = metadata.packages_distributions()
    needed = {
        canonicalize_name(owners[module][0]) for module in modules if module in owners
    }
    assert modules <= set(owners), (
        f"imported but not installed: {modules - set(owners)}"
    )
    learner = set(pins(selected(LEARNER)))
    assert needed <= learner, f"imported, not in requirements.txt: {needed - learner}"
    common = {canonicalize_name(r.name) for _, r in read_requirements(COMMON)}
    unused = common - needed - set(NOT_IMPORTED)
    assert not unused, f"pinned for learners, imported by no lesson: {unused}"


def test_environment_yml_installs_requirements_txt_on_a_supported_python():
    spec = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = [item for item in spec["dependencies"] if isinstance(item, str)]
    python = next(item for item in conda if item.startswith("python"))
    assert python.split("=", 1)[1] in PYTHONS, f"{python}: expected one of {PYTHONS}"
    (pip,) = [item["pip"] for item in spec["dependencies"] if isinstance(item, dict)]
    included = [ROOT / item.split(maxsplit=1)[1] for item in pip if item[:2] == "-r"]
    assert len(included) == len(pip), f"environment.yml pins packages itself: {pip}"
    assert included == [LEARNER], included


def test_requires_python_admits_every_python_tensorflow_supports():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requires = SpecifierSet(project["requires-python"])
    build = installed_builds()[0]
    classifiers = metadata.metadata(build).get_all("Classifier")
    supported = [
        match.group(1)
        for classifier in classifiers
        if (
            match := re.fullmatch(
                r"Programming Language :: Python :: (3\.\d+)", classifier
            )
        )
    ]
    assert len(supported) >= 3, classifiers
    refused = [version for version in supported if version not in requires]
    assert not refused, (
        f"requires-python {requires} refuses {refused}, which {build} supports"
    )
    assert all(python in requires for python in PYTHONS)


def installed_set() -> Path:
    """The requirement file that `make` last installed into this environment."""
    stamps = sorted(Path(sys.prefix).glob(".installed-requirements*.txt"))
    names = [stamp.name.removeprefix(".installed-") for stamp in stamps]
    return GPU if GPU.name in names else DEV


def test_installed_versions_are_the_pinned_ones():
    path = installed_set()
    wrong = {}
    for requirement in selected(path):
        name = canonicalize_name(requirement.name)
        if name in BUILDS:
            continue
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            version = "missing"
        if f"=={version}" != str(requirement.specifier):
            wrong[name] = f"installed {version}, pinned {requirement.specifier}"
    assert not wrong, f"{wrong}; fix: make install-dev (or pip install -r {path.name})"

    (wanted,) = selected_builds(path)
    assert installed_builds() == [wanted], (
        f"TensorFlow builds installed: {installed_builds()}; {path.name} selects "
        f"{wanted}. Fix: python -m scripts.tensorflow_build {path.name}, then "
        f"pip install -r {path.name}"
    )
    pinned = next(r for r in selected(path) if canonicalize_name(r.name) == wanted)
    assert f"=={metadata.version(wanted)}" == str(pinned.specifier)
    assert Path(utils.__file__).is_relative_to(ROOT / "utils"), (
        f"`import utils` finds {utils.__file__}, not this course's utils/"
    )


def fake_build(site: Path, name: str, version: str) -> None:
    """Register a stand-in distribution (the real ones are 0.3-0.6 GB downloads)."""
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (site / "tensorflow").mkdir(exist_ok=True)
    (site / "tensorflow" / "__init__.py").write_text(f"# {name}\n")
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    )
    (info / "INSTALLER").write_text("pip\n")
    files = [
        "tensorflow/__init__.py",
        *(f"{info.name}/{f}" for f in ("METADATA", "INSTALLER", "RECORD")),
    ]
    (info / "RECORD").write_text("".join(f"{f},,\n" for f in files))


def test_switching_cpu_and_gpu_builds_leaves_one_tensorflow(tmp_path):
    """What `make install` runs before pip, in a real venv with both builds in it."""
    subprocess.run([sys.executable, "-m", "venv", str(tmp_path / "venv")], check=True)
    python = tmp_path / "venv" / "bin" / "python"
    site = Path(
        subprocess.run(
            [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            check=True, capture_output=True, text=True,
        ).stdout.strip()
    )  # fmt: skip

    def switch_to(path: Path) -> list[str]:
        subprocess.run(
            [python, "-m", "scripts.tensorflow_build", path.name], cwd=ROOT, check=True
        )
        code = "from scripts.tensorflow_build import installed_builds; "
        return subprocess.run(
            [python, "-c", code + "print(*installed_builds())"],
            cwd=ROOT, check=True, capture_output=True, text=True,
        ).stdout.split()  # fmt: skip

    for build in BUILDS:  # As after `pip install` of one file over the other.
        fake_build(site, build, TENSORFLOW_VERSION)
    assert switch_to(GPU) == ["tensorflow"]
    for build in set(BUILDS) - {"tensorflow"}:
        fake_build(site, build, TENSORFLOW_VERSION)
    assert switch_to(LEARNER) == selected_builds(LEARNER)


# Resolution and the README's commands: they need PyPI and run side by side.


def readme_block(language: str) -> list[str]:
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(rf"```{language}\n(.*?)```", readme, re.S)
    (block,) = [block for block in blocks if "-m venv" in block]
    return [line.strip() for line in block.strip().splitlines()]


@pytest.fixture(scope="module")
def resolutions(tmp_path_factory):
    """Start every resolution at once; tests wait for the ones they need."""
    uv = shutil.which("uv", path=str(Path(sys.executable).parent))
    assert uv, "uv is missing: pip install -r requirements-dev.txt"
    cache = ROOT / "build" / "uv-cache"
    started = time.perf_counter()
    running = {}
    for platform, python in TARGETS:
        command = [
            uv, "pip", "compile", "--quiet", "--no-config", "--no-python-downloads",
            "--cache-dir", str(cache), "--python-platform", PLATFORMS[platform][1],
            "--python-version", python, str(LEARNER),
        ]  # fmt: skip
        running[platform, python] = subprocess.Popen(
            command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )

    # The README's macOS/Linux commands in a copy of what they need, pip in dry-run
    # mode (resolves and fetches metadata; the 1.3 GB of wheels stay on PyPI).
    here = tmp_path_factory.mktemp("readme")
    for name in ("requirements", "utils"):
        shutil.copytree(
            ROOT / name, here / name, ignore=shutil.ignore_patterns("__pycache__")
        )
    for name in (
        "requirements.txt",
        "pyproject.toml",
        "README.md",
        "LICENSE",
        "LICENSE-CONTENT.md",
    ):
        shutil.copy(ROOT / name, here / name)
    *steps, lab = readme_block("bash")
    report = here / "report.json"
    dry_run = f" --dry-run --quiet --report {report}"
    script = "set -e\n" + "\n".join(
        step + dry_run * step.endswith("-r requirements.txt") for step in steps
    )
    running["readme"] = subprocess.Popen(
        ["bash", "-c", script], cwd=here, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip

    results = {}
    for key, process in running.items():
        stdout, stderr = process.communicate(timeout=600)
        results[key] = (process.returncode, stdout, stderr)
    print(f"resolutions: {time.perf_counter() - started:.0f} s")
    results["readme-report"] = json.loads(report.read_text()) if report.exists() else {}
    return results


def test_learner_requirements_resolve_on_every_platform_and_python(resolutions):
    table = ["| platform | Python | resolves | TensorFlow build |", "|---|---|---|---|"]
    failures = []
    for platform, python in TARGETS:
        code, stdout, stderr = resolutions[platform, python]
        builds = re.findall(r"^(tensorflow(?:-cpu)?)==(\S+)", stdout, re.M)
        table.append(f"| {platform} | {python} | {code == 0} | {builds} |")
        expected = [(PLATFORMS[platform][2], TENSORFLOW_VERSION)]
        if code != 0 or builds != expected:
            failures.append(f"{platform}, Python {python}: {builds} {stderr[-2000:]}")
    print("\n".join(table))
    assert not failures, "\n".join(failures)


def test_readme_commands_set_up_the_course_here(resolutions):
    bash, powershell = readme_block("bash"), readme_block("powershell")
    # The Windows commands are the same steps with Windows paths and launcher.
    translated = [
        line.replace("py -3.12", "python3").replace("\\Scripts\\", "/bin/")
        for line in powershell
    ]
    assert translated == bash, (powershell, bash)
    assert bash[-1].startswith(".venv/bin/jupyter lab")
    assert bash[-2].endswith("-r requirements.txt")

    code, stdout, stderr = resolutions["readme"]
    assert code == 0, f"the README's commands failed here:\n{stderr[-3000:]}"
    chosen = {
        canonicalize_name(item["metadata"]["name"]): item["metadata"]["version"]
        for item in resolutions["readme-report"]["install"]
    }
    wanted = {
        name: pin.removeprefix("==") for name, pin in pins(selected(LEARNER)).items()
    }
    assert {name: chosen.get(name) for name in wanted} == wanted
    assert chosen.get("dl-images-course"), "the course package is not installed"
    assert not set(chosen) & (set(BUILDS) - set(selected_builds(LEARNER)))
