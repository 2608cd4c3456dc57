"""Read the requirement files, and keep one TensorFlow build installed.

TensorFlow comes as two distributions that install the same ``tensorflow`` package:
``tensorflow-cpu`` (CPU only; wheels for Linux x86_64 and Windows) and ``tensorflow``
(every platform; with the ``and-cuda`` extra it brings CUDA for NVIDIA GPUs). pip
installs one over the other without complaint, leaving two distributions that share
files, and uninstalling either later breaks the other. ``make install`` therefore runs
this module before pip: it uninstalls every build that the requirement file does not
select here, so that switching between requirements.txt and requirements-gpu.txt leaves
exactly one.

Usage: python -m scripts.tensorflow_build REQUIREMENTS_FILE

The module needs only the standard library and pip (its vendored ``packaging`` when
``packaging`` itself is not installed yet), so it runs in a fresh virtual environment.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator, Mapping
from importlib import metadata
from pathlib import Path

try:
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name
except ImportError:  # A fresh virtual environment: only pip is there.
    from pip._vendor.packaging.requirements import Requirement
    from pip._vendor.packaging.utils import canonicalize_name

BUILDS = ("tensorflow", "tensorflow-cpu")


def read_requirements(
    path: Path, *, follow_includes: bool = True
) -> Iterator[tuple[Path, Requirement]]:
    """Yield each requirement of a pip requirement file with the file it is in.

    Comments, blank lines and options (``-e .``, ``--index-url``) are skipped; ``-r``
    includes are followed (relative to the including file, as pip does) unless
    ``follow_includes`` is false.

    Args:
        path: The requirement file.
        follow_includes: Whether to read the files that ``-r`` lines name.

    Yields:
        ``(file, requirement)`` pairs in file order, an included file's at its line.

    Raises:
        ValueError: If a line is not a valid requirement (named with its file and
            line number).

    Example:
        >>> from pathlib import Path
        >>> names = [r.name for _, r in read_requirements(Path("requirements.txt"))]
        >>> "keras" in names and "tensorflow-cpu" in names
        True
    """
    path = Path(path)
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.split(" #")[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(("-r ", "--requirement ")):
            if follow_includes:
                included = path.parent / line.split(maxsplit=1)[1]
                yield from read_requirements(included)
            continue
        if line.startswith("-"):
            continue
        try:
            yield path, Requirement(line)
        except Exception as error:
            raise ValueError(
                f"{path}:{number}: {raw!r} is not a requirement ({error}); "
                "expected NAME==VERSION with an optional '; marker'."
            ) from error


def selected(
    path: Path, environment: Mapping[str, str] | None = None
) -> list[Requirement]:
    """Return the requirements of ``path`` whose markers hold in ``environment``.

    Args:
        path: A requirement file (includes followed).
        environment: Marker variables (``sys_platform``, ``platform_machine``, ...)
            that replace this interpreter's; ``None`` evaluates for this machine.

    Returns:
        The requirements pip would install there, in file order.

    Example:
        >>> from pathlib import Path
        >>> mac = {"sys_platform": "darwin", "platform_machine": "arm64"}
        >>> [str(r.name) for r in selected(Path("requirements.txt"), mac)
        ...  if r.name in BUILDS]
        ['tensorflow']
    """
    env = dict(environment or {})
    return [
        requirement
        for _, requirement in read_requirements(path)
        if requirement.marker is None or requirement.marker.evaluate(env)
    ]


def selected_builds(
    path: Path, environment: Mapping[str, str] | None = None
) -> list[str]:
    """Return the TensorFlow distributions ``path`` selects (normally exactly one).

    Args:
        path: A requirement file.
        environment: Marker variables; ``None`` means this machine.

    Returns:
        Canonical names from :data:`BUILDS`.

    Example:
        >>> from pathlib import Path
        >>> selected_builds(Path("requirements-gpu.txt"))
        ['tensorflow']
    """
    return [
        canonicalize_name(requirement.name)
        for requirement in selected(path, environment)
        if canonicalize_name(requirement.name) in BUILDS
    ]


def installed_builds() -> list[str]:
    """Return the TensorFlow distributions installed in this environment.

    Example:
        >>> set(installed_builds()) <= set(BUILDS)
        True
    """
    names = {
        canonicalize_name(dist.metadata["Name"] or "")
        for dist in metadata.distributions()
    }
    return sorted(names & set(BUILDS))


def main(argv: list[str]) -> int:
    """Uninstall the TensorFlow builds that the requirement file does not select."""
    if len(argv) != 1 or not Path(argv[0]).is_file():
        print(
            "usage: python -m scripts.tensorflow_build REQUIREMENTS_FILE, for example "
            f"requirements.txt or requirements-gpu.txt (got {argv})",
            file=sys.stderr,
        )
        return 2
    wanted = selected_builds(Path(argv[0]))
    stray = [name for name in installed_builds() if name not in wanted]
    if stray:
        print(f"{argv[0]} selects {wanted}: uninstalling {stray} first")
        subprocess.run(
            [sys.executable, "-m", "pip", "uninstall", "--yes", "--quiet", *stray],
            check=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
