"""Checksummed, offline-first data loading for the course.

Every asset the course uses is listed with its sha256 in ``data/manifest.json``.
Loaders look for an asset in the data directory (``COURSE_DATA_DIR``, default the
repository's ``data/``) and verify every file. Only when the asset is absent do
they build it in the course cache from its public source, as the manifest's
``online`` section describes: each download is checked against the manifest's
sha256 by ``keras.utils.get_file``, and the built files are then checked against
the manifest like any other copy. A missing, truncated or altered file raises
:class:`DataError` naming the file, the expected hash and the fix.

MNIST is embedded in the repository, so lessons that use only MNIST work offline
on a fresh clone.

Environment variables:
    ``COURSE_DATA_DIR``: a folder holding the assets (never written to).
    ``COURSE_CACHE_DIR``: where downloads and built assets go (default
    ``~/.cache/dl-images-course``).
    ``COURSE_DATA_ORIGIN``: a mirror of the public sources, laid out as
    ``<origin>/<asset>/<file name>``; unset, the manifest's public URLs are used.
    ``COURSE_DOWNLOAD_TIMEOUT``: seconds without data before a download is
    abandoned (default 60).

Command line::

    python -m utils.data verify [DIR]     # check a data directory
    python -m utils.data prefetch DIR     # fill DIR for an offline classroom

Example:
    >>> (x_train, y_train), (x_test, y_test) = load_mnist()
    >>> x_train.shape, x_train.dtype, int(y_test[0])
    ((60000, 28, 28), dtype('uint8'), 7)
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import errno
import gzip
import hashlib
import io
import json
import os
import shutil
import socket
import sys
import tarfile
import time
import urllib.error
import urllib.parse
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from utils import REPO_ROOT

EMBEDDED_DATA_DIR = REPO_ROOT / "data"
MANIFEST_PATH = EMBEDDED_DATA_DIR / "manifest.json"
DEFAULT_DOWNLOAD_TIMEOUT = 60.0

FASHION_MNIST_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
FLOWER_CLASSES = ("daisy", "dandelion", "roses", "sunflowers", "tulips")
SPLITS = ("train", "val", "test")

# The first lines of tf-flowers-128/ATTRIBUTION.txt; the credit lines follow.
_FLOWERS_ATTRIBUTION_HEADER = (
    'All images in this folder come from the TensorFlow "flower_photos" archive '
    "and are licensed under the\n"
    "Creative Commons Attribution 2.0 Generic licence: "
    "https://creativecommons.org/licenses/by/2.0/\n"
    "Changes: each photo was downscaled (shorter side 128 px, aspect ratio kept; "
    "Lanczos) and re-encoded as JPEG (quality 90).\n"
    "Photographers (one line per image, exactly as in the archive's LICENSE.txt):\n"
    "\n"
)


class DataError(ValueError):
    """A data file is missing, damaged or cannot be fetched; the message says why."""


class DataWarning(UserWarning):
    """A damaged cached copy was moved aside and is being fetched again."""


# --------------------------------------------------------------------------- paths


def data_dir() -> Path:
    """Return the course data directory.

    It is ``COURSE_DATA_DIR`` when set, otherwise the repository's ``data/``.
    The course only reads from it.

    Returns:
        The directory, which must exist.

    Raises:
        DataError: If ``COURSE_DATA_DIR`` names a directory that does not exist.

    Example:
        >>> data_dir().is_dir()
        True
    """
    configured = os.environ.get("COURSE_DATA_DIR")
    if not configured:
        return EMBEDDED_DATA_DIR
    path = Path(configured).expanduser()
    if not path.is_absolute():
        path = (Path.cwd() / path).resolve()
    if not path.is_dir():
        raise DataError(
            f"COURSE_DATA_DIR is {configured!r}, but {path} is not a directory. "
            "Expected a folder holding the course assets (for example "
            "../shared/data). Fix: point COURSE_DATA_DIR at that folder, or unset "
            "it to use the repository's data/."
        )
    return path


def cache_dir() -> Path:
    """Return the writable cache for downloads and assets built from them.

    ``COURSE_CACHE_DIR`` when set, otherwise ``~/.cache/dl-images-course``. The data
    directory itself is never written to (it may be read-only).

    Returns:
        The cache directory (created if needed).

    Example:
        >>> cache_dir().is_dir()
        True
    """
    configured = os.environ.get("COURSE_CACHE_DIR")
    path = (
        Path(configured).expanduser()
        if configured
        else Path.home() / ".cache" / "dl-images-course"
    )
    path.mkdir(parents=True, exist_ok=True)
    return path


def download_timeout() -> float:
    """Return how many seconds a download may go without data before it stops.

    ``COURSE_DOWNLOAD_TIMEOUT`` when set, otherwise 60.

    Returns:
        A positive number of seconds.

    Raises:
        DataError: If ``COURSE_DOWNLOAD_TIMEOUT`` is not a positive number.

    Example:
        >>> download_timeout() > 0
        True
    """
    configured = os.environ.get("COURSE_DOWNLOAD_TIMEOUT")
    if not configured:
        return DEFAULT_DOWNLOAD_TIMEOUT
    try:
        seconds = float(configured)
    except ValueError:
        seconds = -1.0
    if not seconds > 0:
        raise DataError(
            f"COURSE_DOWNLOAD_TIMEOUT is {configured!r}; expected a positive number "
            "of seconds. Fix: set it to for example 120, or unset it (default 60)."
        )
    return seconds


def load_manifest() -> dict[str, Any]:
    """Return the asset manifest (``data/manifest.json``).

    Returns:
        A mapping from asset name to its description, licence, files and, for
        assets that can be fetched, its ``online`` source.

    Example:
        >>> sorted(load_manifest())[:2]
        ['fashion-mnist', 'keras-mobilenet-v1-imagenet']
        >>> "online" in load_manifest()["mnist"]  # Embedded: never downloaded.
        False
    """
    with MANIFEST_PATH.open(encoding="utf-8") as manifest_file:
        return json.load(manifest_file)["assets"]


def _check_asset_name(asset: str) -> dict[str, Any]:
    assets = load_manifest()
    if asset not in assets:
        raise DataError(
            f"Unknown asset {asset!r}. Expected one of {sorted(assets)}. "
            "Fix: check the spelling against data/manifest.json."
        )
    return assets[asset]


# ----------------------------------------------------------------------- checksums


def sha256_of(path: str | os.PathLike[str]) -> str:
    """Return the hex sha256 of a file, read in 1 MiB blocks.

    Args:
        path: The file to hash.

    Returns:
        64 lowercase hex digits.

    Example:
        >>> sha256_of(MANIFEST_PATH) == sha256_of(MANIFEST_PATH)
        True
    """
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _gunzipped_md5(path: Path) -> str | None:
    digest = hashlib.md5()
    try:
        with gzip.open(path, "rb") as stream:
            for block in iter(lambda: stream.read(1 << 20), b""):
                digest.update(block)
    except (OSError, EOFError):
        return None
    return digest.hexdigest()


def weights_digest(path: str | os.PathLike[str]) -> str | None:
    """Return the sha256 of the weight tensors in a Keras HDF5 weights file.

    The digest covers each tensor's dtype, shape and values, layer by layer in
    the file's order, and nothing else, so files written by other Keras or h5py
    versions (other attributes, other layer-name counters) with the same weights
    give the same digest.

    Args:
        path: A ``.h5`` file in Keras' weights layout.

    Returns:
        64 hex digits, or None if the file is not a readable Keras weights file.

    Example:
        >>> weights_digest(MANIFEST_PATH) is None  # Not an HDF5 file.
        True
    """
    import h5py

    digest = hashlib.sha256()
    try:
        with h5py.File(path, "r") as weights:
            for layer in weights.attrs["layer_names"]:
                group = weights[_text(layer)]
                for name in group.attrs["weight_names"]:
                    array = np.asarray(group[_text(name)])
                    digest.update(f"{array.dtype.str}{array.shape}".encode())
                    digest.update(np.ascontiguousarray(array).tobytes())
    except (OSError, KeyError, ValueError):
        return None
    return digest.hexdigest()


def _text(value: str | bytes) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def verify_file(
    path: Path,
    *,
    sha256: str,
    content_md5: str | None = None,
    weights_sha256: str | None = None,
) -> None:
    """Check one file against its expected sha256.

    Args:
        path: The file.
        sha256: Expected sha256 (hex) of the file's bytes.
        content_md5: Optional md5 of the decompressed bytes of a ``.gz`` file; a
            re-compressed copy of the same data passes this check.
        weights_sha256: Optional :func:`weights_digest` of a Keras weights file; a
            copy with the same tensors written by another Keras passes this check.

    Raises:
        DataError: If the file is missing or its hash differs, naming the file,
            both hashes and the fix.

    Example:
        >>> verify_file(MANIFEST_PATH, sha256=sha256_of(MANIFEST_PATH))
    """
    if not path.is_file():
        raise DataError(
            f"Missing data file: {path}. Expected a file with sha256 {sha256}. "
            "Fix: copy the asset into the data directory (COURSE_DATA_DIR), or run "
            "`python -m utils.data prefetch DIR` on a machine that is online."
        )
    actual = sha256_of(path)
    if actual == sha256:
        return
    if content_md5 is not None and _gunzipped_md5(path) == content_md5:
        return
    if weights_sha256 is not None and weights_digest(path) == weights_sha256:
        return
    also = ""
    if content_md5 is not None:
        also = f" (nor the md5 {content_md5} of its decompressed bytes)"
    if weights_sha256 is not None:
        also = f" (nor the weights' sha256 {weights_sha256})"
    raise DataError(
        f"Checksum mismatch for {path} ({path.stat().st_size:,} bytes): expected "
        f"sha256 {sha256}{also}, got {actual}. The file is truncated or altered. "
        "Fix: replace the asset's folder with a fresh copy (`python -m utils.data "
        "prefetch DIR` on a machine that is online fills one); a copy in the "
        "course cache is moved aside and fetched again automatically."
    )


def _read_sums(path: Path) -> dict[str, str]:
    sums: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            digest, name = line.split(maxsplit=1)
            sums[name.strip().removeprefix("./")] = digest
    return sums


def _relative(asset: str, manifest_name: str) -> str:
    return manifest_name.removeprefix(f"{asset}/")


def _is_built_copy(asset: str, folder: Path, spec: dict[str, Any]) -> bool:
    """Tell a copy built from the public source by the files it omits."""
    omits = spec.get("online", {}).get("omits", [])
    return bool(omits) and not any(
        (folder / _relative(asset, name)).exists() for name in omits
    )


def photo_list(
    spec: dict[str, Any] | None = None,
) -> list[tuple[str, str, int, int]]:
    """Return the committed list of the flower photos the course uses.

    The list (``data/tf-flowers-128-photos.csv``, checked against the manifest's
    sha256) names every photo of the balanced subset, its split and its size
    after conversion; the online fallback selects and checks photos with it.

    Args:
        spec: The ``tf-flowers-128`` manifest entry; defaults to the manifest's.

    Returns:
        ``(path, split, width, height)`` per photo, ``path`` as ``class/name.jpg``.

    Raises:
        DataError: If the list is missing or altered.

    Example:
        >>> photos = photo_list()
        >>> len(photos), photos[0]
        (2998, ('daisy/100080576_f52e8ee070_n.jpg', 'train', 156, 128))
    """
    online = (spec or _check_asset_name("tf-flowers-128"))["online"]
    path = MANIFEST_PATH.parent / online["photo_list"]["path"]
    verify_file(path, sha256=online["photo_list"]["sha256"])
    with path.open(encoding="utf-8", newline="") as table:
        return [
            (row["path"], row["split"], int(row["width"]), int(row["height"]))
            for row in csv.DictReader(table)
        ]


def _verify_photos(asset: str, folder: Path, spec: dict[str, Any]) -> None:
    """Check a built flowers copy: every listed photo, by name and decoded size."""
    from PIL import Image

    root = folder / _relative(asset, spec["file_list"]["root"])
    photos = photo_list(spec)
    fix = (
        f"Fix: replace {folder} with a fresh copy (`python -m utils.data prefetch "
        "DIR` on a machine that is online fills one); a copy in the course cache is "
        "moved aside and built again automatically."
    )
    for relative, _, width, height in photos:
        path = root / relative
        if not path.is_file():
            raise DataError(
                f"Missing photo: {path}. The photo list "
                f"({spec['online']['photo_list']['path']}) names it. {fix}"
            )
        try:
            with Image.open(path) as image:
                image.load()
                size, image_mode = image.size, image.mode
        except OSError as error:
            raise DataError(
                f"Damaged photo: {path} does not decode ({error}). {fix}"
            ) from None
        if size != (width, height) or image_mode != "RGB":
            raise DataError(
                f"Photo {path} decodes to {size[0]}x{size[1]} {image_mode}; the "
                f"photo list says {width}x{height} RGB. {fix}"
            )
    extra = sum(1 for _ in root.rglob("*.jpg")) - len(photos)
    if extra:
        raise DataError(
            f"{root} holds {extra} photo(s) more than the {len(photos)} of the "
            f"photo list. {fix}"
        )


def _verify_folder(asset: str, folder: Path, spec: dict[str, Any]) -> None:
    built = _is_built_copy(asset, folder, spec)
    omits = set(spec.get("online", {}).get("omits", [])) if built else set()
    for name, expected in spec["files"].items():
        if name in omits:
            continue
        verify_file(
            folder / _relative(asset, name),
            sha256=expected["sha256"],
            content_md5=expected.get("content_md5"),
            weights_sha256=expected.get("weights_sha256"),
        )
    file_list = spec.get("file_list")
    if file_list and built:
        _verify_photos(asset, folder, spec)
    elif file_list:
        sums = _read_sums(folder / _relative(asset, file_list["sums"]))
        root = folder / _relative(asset, file_list["root"])
        for name, digest in sums.items():
            verify_file(root / name, sha256=digest)


def verify_asset(asset: str, root: str | os.PathLike[str] | None = None) -> Path:
    """Verify every file of an asset in a data directory.

    A copy of the shared data is checked file by file against the manifest's
    sha256. A copy built from the public source (the online fallback) is checked
    as the manifest's ``online.verified`` says: the same hashes where the build
    reproduces the bytes, and otherwise the decoded content (photo names and
    sizes, decompressed bytes, weight tensors).

    Args:
        asset: An asset name from ``data/manifest.json``, e.g. ``"mnist"``.
        root: The data directory; defaults to :func:`data_dir`.

    Returns:
        The asset's folder inside ``root``.

    Raises:
        DataError: If the asset is unknown or any file is missing or damaged.

    Example:
        >>> verify_asset("mnist", EMBEDDED_DATA_DIR).name
        'mnist'
    """
    spec = _check_asset_name(asset)
    root_path = Path(root) if root is not None else data_dir()
    _verify_folder(asset, root_path / asset, spec)
    return root_path / asset


def _asset_present(asset: str, root: Path) -> bool:
    return (root / asset).is_dir()


def asset_path(asset: str) -> Path:
    """Return the verified folder of an asset, fetching it only when absent.

    Looks in :func:`data_dir`, then (MNIST only) in the repository's ``data/``,
    then in the course cache (:func:`cache_dir`). When the asset is in none of
    them it is built in the cache from its public source. A damaged copy in the
    cache is moved aside (renamed ``<asset>.corrupt-<time>``, with a
    :class:`DataWarning` saying where) and built again; a damaged copy in the data
    directory raises, since the course never writes there.

    Args:
        asset: An asset name from ``data/manifest.json``.

    Returns:
        The asset's folder, every file verified.

    Raises:
        DataError: If a file in the data directory is damaged, or the asset is
            absent and cannot be downloaded; the message says why and what to do.

    Example:
        >>> asset_path("mnist").name
        'mnist'
    """
    spec = _check_asset_name(asset)
    candidates = [data_dir()]
    if spec.get("embedded"):
        candidates.append(EMBEDDED_DATA_DIR)
    for root in candidates:
        if _asset_present(asset, root):
            return _verify_once(asset, root)
    if "online" not in spec:
        missing = ", ".join(str(EMBEDDED_DATA_DIR / name) for name in spec["files"])
        raise DataError(
            f"Asset {asset!r} ships inside the repository, but {missing} is "
            f"missing (and COURSE_DATA_DIR {data_dir()} has no {asset}/). Fix: "
            f"restore it with `git checkout -- data/{asset}` in the course folder."
        )
    root = cache_dir()
    if _asset_present(asset, root):
        try:
            return _verify_once(asset, root)
        except DataError as error:
            aside = _move_aside(root / asset)
            warnings.warn(
                f"The cached copy of {asset!r} failed its check and was moved to "
                f"{aside}; fetching it again. The check said: {error}",
                DataWarning,
                stacklevel=2,
            )
    return _build(asset, root, spec)


# Signatures (path, size, mtime) of asset folders already verified in this process,
# so repeated loads (e.g. one flower_credit() call per photo) hash the files once.
_VERIFIED: dict[tuple[str, Path], tuple[tuple[str, int, int], ...]] = {}


def _verify_once(asset: str, root: Path) -> Path:
    folder = root / asset
    signature = tuple(
        (str(path), stat.st_size, stat.st_mtime_ns)
        for path in sorted(folder.rglob("*"))
        if path.is_file()
        for stat in [path.stat()]
    )
    if _VERIFIED.get((asset, root)) != signature:
        verify_asset(asset, root)
        _VERIFIED[asset, root] = signature
    return folder


# ------------------------------------------------------------------ online fallback


def _move_aside(path: Path) -> Path:
    """Rename a damaged file or folder to ``<name>.corrupt-<time>`` beside it."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    aside = path.with_name(f"{path.name}.corrupt-{stamp}")
    counter = 1
    while aside.exists():
        counter += 1
        aside = path.with_name(f"{path.name}.corrupt-{stamp}-{counter}")
    path.rename(aside)
    return aside


def origin_url(asset: str, name: str) -> str:
    """Return the URL a download of the online fallback comes from.

    The manifest's public URL, or ``<COURSE_DATA_ORIGIN>/<asset>/<name>`` when
    ``COURSE_DATA_ORIGIN`` names a mirror (an ``http(s)://`` or ``file://`` URL).

    Args:
        asset: An asset name from ``data/manifest.json``.
        name: A download's name in the asset's ``online.downloads``.

    Returns:
        The URL.

    Example:
        >>> origin_url("tf-flowers-128", "flower_photos.tgz").endswith(
        ...     "example_images/flower_photos.tgz")
        True
    """
    mirror = os.environ.get("COURSE_DATA_ORIGIN")
    if mirror:
        return f"{mirror.rstrip('/')}/{asset}/{urllib.parse.quote(name)}"
    return _check_asset_name(asset)["online"]["downloads"][name]["url"]


@contextlib.contextmanager
def _socket_timeout(seconds: float) -> Iterator[None]:
    # get_file (urllib) opens its sockets with the default timeout: bound it.
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(previous)


def _chain(error: BaseException) -> Iterator[BaseException]:
    """Yield an exception, its causes, contexts and URLError reasons."""
    seen: set[int] = set()
    stack: list[BaseException] = [error]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for linked in (
            current.__cause__,
            current.__context__,
            getattr(current, "reason", None),
        ):
            if isinstance(linked, BaseException):
                stack.append(linked)


def _offline_fix(asset: str) -> str:
    return (
        f"Or, without a network, set COURSE_DATA_DIR to a folder that holds {asset}/ "
        "(fill one with `python -m utils.data prefetch DIR` on a machine that is "
        "online)."
    )


def _disk_full_error(asset: str, folder: Path, spec: dict[str, Any]) -> DataError:
    needed = sum(entry["size"] for entry in spec["online"]["downloads"].values())
    return DataError(
        f"The disk is full: no space left in {folder} while fetching {asset!r} "
        f"(it needs about {needed / 1e6:,.0f} MB of downloads there, plus the built "
        "files). Fix: free some space on that disk, or set COURSE_CACHE_DIR to a "
        f"folder on a disk with more room. {_offline_fix(asset)}"
    )


def _download_error(
    error: Exception, asset: str, name: str, url: str, target: Path
) -> DataError:
    """Turn what get_file raised into a DataError that says what happened."""
    spec = _check_asset_name(asset)
    causes = list(_chain(error))
    if any(isinstance(c, OSError) and c.errno == errno.ENOSPC for c in causes):
        return _disk_full_error(asset, target.parent, spec)
    if any(isinstance(c, TimeoutError) for c in causes):
        return DataError(
            f"The download of {name} from {url} stalled: no data arrived for "
            f"{download_timeout():g} s, so it was stopped. Fix: check the network "
            "and run again; on a slow link raise COURSE_DOWNLOAD_TIMEOUT (seconds, "
            f"default {DEFAULT_DOWNLOAD_TIMEOUT:g}). {_offline_fix(asset)}"
        )
    http = next((c for c in causes if isinstance(c, urllib.error.HTTPError)), None)
    if http is not None:
        return DataError(
            f"The server refused the download of {name}: {url} answered HTTP "
            f"{http.code} {http.reason}. The public source may have moved. Fix: "
            f"set COURSE_DATA_ORIGIN to a mirror that holds {asset}/{name}. "
            f"{_offline_fix(asset)}"
        )
    too_short = next(
        (c for c in causes if isinstance(c, urllib.error.ContentTooShortError)), None
    )
    if too_short is not None:
        return DataError(
            f"The download of {name} from {url} broke off ({too_short.reason}); "
            "the partial file was removed. Fix: run again when the connection is "
            f"stable. {_offline_fix(asset)}"
        )
    system = [c for c in causes if isinstance(c, OSError)]
    innermost = [c for c in system if not isinstance(c, urllib.error.URLError)]
    network = (innermost or system or [None])[0]
    if network is not None:
        host = urllib.parse.urlsplit(url).netloc or url
        reason = getattr(network, "strerror", None) or network
        return DataError(
            f"Could not reach {host} to download {name} for {asset!r} ({reason}): "
            "this computer seems to be offline, or the server is down. Fix: "
            f"connect to the internet and run again. {_offline_fix(asset)}"
        )
    return DataError(
        f"The download of {name} from {url} failed ({type(error).__name__}: "
        f"{error}). {_offline_fix(asset)}"
    )


def _download(asset: str, name: str) -> Path:
    """Fetch one file with keras.utils.get_file, checked against the manifest.

    A cached copy that does not match the manifest's sha256 (a partial or damaged
    download) is moved aside first, so get_file fetches it again.
    """
    import keras

    entry = _check_asset_name(asset)["online"]["downloads"][name]
    folder = cache_dir() / "downloads" / asset
    target = folder / name
    url = origin_url(asset, name)
    timeout = download_timeout()
    folder.mkdir(parents=True, exist_ok=True)
    if target.is_file() and sha256_of(target) != entry["sha256"]:
        aside = _move_aside(target)
        warnings.warn(
            f"The cached download {target} ({aside.stat().st_size:,} bytes) does "
            f"not match the manifest's sha256 {entry['sha256']} (partial or "
            f"damaged); moved it to {aside} and fetching it again.",
            DataWarning,
            stacklevel=3,
        )
    try:
        with _socket_timeout(timeout):
            return Path(
                keras.utils.get_file(
                    fname=name,
                    origin=url,
                    file_hash=entry["sha256"],
                    hash_algorithm="sha256",
                    cache_dir=str(folder),
                    cache_subdir=str(folder),
                )
            )
    except Exception as error:
        # get_file removes what it was writing when a download fails, but keeps a
        # completed download whose hash is wrong: set that one aside.
        if not target.is_file() or sha256_of(target) == entry["sha256"]:
            raise _download_error(error, asset, name, url, target) from None
        actual, size = sha256_of(target), target.stat().st_size
        aside = _move_aside(target)
        raise DataError(
            f"The download of {name} for {asset!r} from {url} does not match the "
            f"manifest: expected sha256 {entry['sha256']} ({entry['size']:,} bytes), "
            f"got {actual} ({size:,} bytes). The file was moved to {aside}. The "
            "origin served a different or damaged file. Fix: run again later; if "
            "COURSE_DATA_ORIGIN is set, check that mirror. "
            f"{_offline_fix(asset)}"
        ) from None


def _build(asset: str, root: Path, spec: dict[str, Any]) -> Path:
    """Build an asset in the cache from its public source, then verify it."""
    destination = root / asset
    partial = root / f"{asset}.partial"
    if partial.exists():
        shutil.rmtree(partial)
        warnings.warn(
            f"Removed {partial}, an unfinished build of {asset!r} left by an earlier "
            "run; building it again.",
            DataWarning,
            stacklevel=3,
        )
    try:
        partial.mkdir(parents=True)
        _BUILDERS[asset](partial, spec)
        _verify_folder(asset, partial, spec)
    except BaseException as error:
        shutil.rmtree(partial, ignore_errors=True)
        if isinstance(error, OSError) and error.errno == errno.ENOSPC:
            raise _disk_full_error(asset, root, spec) from None
        if isinstance(error, DataError):
            raise DataError(
                f"Asset {asset!r} is not in the data directory {data_dir()}, and "
                f"building it from its public source failed. {error}"
            ) from None
        raise
    if destination.exists():  # Another process finished first: keep its copy.
        shutil.rmtree(partial)
    else:
        partial.rename(destination)
    return _verify_once(asset, root)


def _build_by_copy(asset: str) -> Callable[[Path, dict[str, Any]], None]:
    def build(partial: Path, spec: dict[str, Any]) -> None:
        for name in spec["online"]["downloads"]:
            shutil.copyfile(_download(asset, name), partial / name)

    return build


def _resized_photo(data: bytes) -> bytes:
    """Convert one photo exactly as the shared copy was made (see PROVENANCE)."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        image = image.convert("RGB")
        scale = 128 / min(image.size)
        new_size = tuple(max(128, round(side * scale)) for side in image.size)
        image = image.resize(new_size, Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=90, optimize=True)
    return buffer.getvalue()


def _build_flowers(partial: Path, spec: dict[str, Any]) -> None:
    """Select the listed photos from the archive, convert them, write the tables."""
    photos = photo_list(spec)
    wanted = {relative for relative, *_ in photos}
    archive = _download("tf-flowers-128", "flower_photos.tgz")
    output_root = partial / "flower_photos_128"
    found: set[str] = set()
    credits: dict[str, str] = {}
    with tarfile.open(archive) as tar:
        for member in tar:
            parts = Path(member.name).parts
            if not member.isfile():
                continue
            if parts[-1] == "LICENSE.txt":
                text = tar.extractfile(member).read().decode("utf-8")
                for line in text.splitlines():
                    if " CC-BY" in line:
                        credits[line.split(" ", 1)[0]] = line.rstrip()
                continue
            relative = "/".join(parts[-2:])
            if relative not in wanted:
                continue
            (output_root / parts[-2]).mkdir(parents=True, exist_ok=True)
            (output_root / relative).write_bytes(
                _resized_photo(tar.extractfile(member).read())
            )
            found.add(relative)
    missing = sorted(wanted - found)
    if missing:
        raise DataError(
            f"The archive {archive} lacks {len(missing)} photo(s) of the photo list, "
            f"e.g. {missing[:3]}. Expected all {len(wanted)} listed photos."
        )
    uncredited = [relative for relative, *_ in photos if relative not in credits]
    if uncredited:
        raise DataError(
            f"The archive's LICENSE.txt has no credit line for {len(uncredited)} "
            f"listed photo(s), e.g. {uncredited[:3]}."
        )
    with (partial / "splits.csv").open("w", newline="", encoding="utf-8") as table:
        writer = csv.writer(table)
        writer.writerow(("path", "class_name", "label", "split"))
        for relative, split, _, _ in photos:
            class_name = relative.split("/")[0]
            writer.writerow(
                (relative, class_name, FLOWER_CLASSES.index(class_name), split)
            )
    (partial / "ATTRIBUTION.txt").write_text(
        _FLOWERS_ATTRIBUTION_HEADER
        + "".join(credits[relative] + "\n" for relative, *_ in photos),
        encoding="utf-8",
    )


def _build_mobilenet(partial: Path, spec: dict[str, Any]) -> None:
    """Convert the TF-slim MobileNet v1 graph to Keras' weight files (PROVENANCE)."""
    graph_spec = spec["online"]["graph"]
    sdist = _download("keras-mobilenet-v1-imagenet", graph_spec["download"])
    with tarfile.open(sdist) as tar:
        try:
            graph_bytes = tar.extractfile(graph_spec["member"]).read()
        except KeyError:
            raise DataError(
                f"{sdist} has no member {graph_spec['member']}; expected the "
                "frozen MobileNet graph there."
            ) from None
    actual = hashlib.sha256(graph_bytes).hexdigest()
    if actual != graph_spec["sha256"]:
        raise DataError(
            f"{graph_spec['member']} in {sdist} has sha256 {actual}; the manifest "
            f"expects {graph_spec['sha256']}."
        )
    import h5py
    import keras
    import tensorflow as tf
    from keras.src.legacy.saving import legacy_h5_format

    graph = tf.compat.v1.GraphDef()
    graph.ParseFromString(graph_bytes)
    constants = {node.name: node for node in graph.node if node.op == "Const"}

    def tensor(name: str) -> np.ndarray:
        return tf.make_ndarray(constants[f"MobilenetV1/{name}"].attr["value"].tensor)

    def batch_norm(scope: str) -> list[np.ndarray]:
        return [
            tensor(f"{scope}/BatchNorm/{part}")
            for part in ("gamma", "beta", "moving_mean", "moving_variance")
        ]

    for include_top, input_name, file_name in (
        (True, "input_layer", "mobilenet_1_0_224_tf.h5"),
        (False, "input_layer_1", "mobilenet_1_0_224_tf_no_top.h5"),
    ):
        model = keras.applications.MobileNet(
            alpha=1.0,
            include_top=include_top,
            weights=None,
            input_tensor=keras.Input(shape=(224, 224, 3), name=input_name),
        )
        model.get_layer("conv1").set_weights([tensor("Conv2d_0/weights")])
        model.get_layer("conv1_bn").set_weights(batch_norm("Conv2d_0"))
        for block in range(1, 14):
            depthwise, pointwise = (
                f"Conv2d_{block}_depthwise",
                f"Conv2d_{block}_pointwise",
            )
            model.get_layer(f"conv_dw_{block}").set_weights(
                [tensor(f"{depthwise}/depthwise_weights")]
            )
            model.get_layer(f"conv_dw_{block}_bn").set_weights(batch_norm(depthwise))
            model.get_layer(f"conv_pw_{block}").set_weights(
                [tensor(f"{pointwise}/weights")]
            )
            model.get_layer(f"conv_pw_{block}_bn").set_weights(batch_norm(pointwise))
        if include_top:  # TF-slim's class 0 is "background"; Keras has 1,000.
            model.get_layer("conv_preds").set_weights(
                [
                    tensor("Logits/Conv2d_1c_1x1/weights")[..., 1:],
                    tensor("Logits/Conv2d_1c_1x1/biases")[1:],
                ]
            )
        with h5py.File(partial / file_name, "w") as weights:
            legacy_h5_format.save_weights_to_hdf5_group(weights, model)
    shutil.copyfile(
        _download("keras-mobilenet-v1-imagenet", "imagenet_class_index.json"),
        partial / "imagenet_class_index.json",
    )


_BUILDERS: dict[str, Callable[[Path, dict[str, Any]], None]] = {
    "fashion-mnist": _build_by_copy("fashion-mnist"),
    "tf-flowers-128": _build_flowers,
    "keras-mobilenet-v1-imagenet": _build_mobilenet,
}


# ------------------------------------------------------------------------- loaders


def load_mnist() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load MNIST as uint8 arrays, like ``keras.datasets.mnist.load_data()``.

    Returns:
        ``(x_train, y_train), (x_test, y_test)`` with images of shape (N, 28, 28)
        and integer labels 0-9.

    Raises:
        DataError: If ``mnist.npz`` is missing or damaged.

    Example:
        >>> (x_train, y_train), _ = load_mnist()
        >>> y_train[:5].tolist()
        [5, 0, 4, 1, 9]
    """
    path = asset_path("mnist") / "mnist.npz"
    with np.load(path, allow_pickle=False) as arrays:
        return (arrays["x_train"], arrays["y_train"]), (
            arrays["x_test"],
            arrays["y_test"],
        )


def _read_idx(path: Path) -> np.ndarray:
    with gzip.open(path, "rb") as stream:
        raw = stream.read()
    magic = int.from_bytes(raw[:4], "big")
    num_dims = magic & 0xFF
    shape = tuple(
        int.from_bytes(raw[4 + 4 * axis : 8 + 4 * axis], "big")
        for axis in range(num_dims)
    )
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * num_dims).reshape(shape)


def load_fashion_mnist() -> tuple[
    tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]
]:
    """Load Fashion-MNIST as uint8 arrays (class names in ``FASHION_MNIST_CLASSES``).

    Returns:
        ``(x_train, y_train), (x_test, y_test)``, images (N, 28, 28), labels 0-9.

    Raises:
        DataError: If a file is damaged, or absent and not downloadable.

    Example:
        >>> import os
        >>> if os.environ.get("COURSE_DATA_DIR"):  # The asset lives there.
        ...     (x_train, y_train), _ = load_fashion_mnist()
        ...     assert x_train.shape == (60000, 28, 28)
    """
    root = asset_path("fashion-mnist")

    def read(prefix: str) -> tuple[np.ndarray, np.ndarray]:
        images = _read_idx(root / f"{prefix}-images-idx3-ubyte.gz")
        labels = _read_idx(root / f"{prefix}-labels-idx1-ubyte.gz")
        return images.copy(), labels.copy()

    return read("train"), read("t10k")


def make_dataset(
    images: np.ndarray,
    labels: np.ndarray,
    *,
    batch_size: int = 128,
    shuffle: bool = True,
    seed: int = 42,
) -> Any:
    """Wrap arrays in a ``tf.data`` pipeline: shuffle, batch, cache and prefetch.

    Args:
        images: Array of shape (num_images, ...).
        labels: Array of shape (num_images, ...), aligned with ``images``.
        batch_size: Examples per batch.
        shuffle: Reshuffle every epoch (use for training data only).
        seed: Shuffle seed, for repeatable runs.

    Returns:
        A ``tf.data.Dataset`` of ``(images, labels)`` batches. Pass it to ``fit()``
        without ``batch_size`` or ``shuffle`` (the pipeline already does both).

    Raises:
        ValueError: If the arrays disagree in length or ``batch_size`` < 1.

    Example:
        >>> dataset = make_dataset(np.zeros((10, 28, 28)), np.arange(10), batch_size=4)
        >>> [int(batch[0].shape[0]) for batch in dataset]
        [4, 4, 2]
    """
    if len(images) != len(labels):
        raise ValueError(
            f"images has {len(images)} entries but labels has {len(labels)}; "
            "expected one label per image. Fix: pass aligned arrays."
        )
    if batch_size < 1:
        raise ValueError(
            f"batch_size must be a positive integer, got {batch_size}. "
            "Fix: use for example batch_size=128."
        )
    import tensorflow as tf

    dataset = tf.data.Dataset.from_tensor_slices((images, labels)).cache()
    if shuffle:
        dataset = dataset.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def load_flower_split(split: str) -> tuple[list[Path], np.ndarray]:
    """Return the photo paths and labels of one split of the flowers set.

    Args:
        split: ``"train"``, ``"val"`` or ``"test"``.

    Returns:
        ``(paths, labels)``; labels index ``FLOWER_CLASSES``.

    Raises:
        ValueError: If ``split`` is not one of the three.
        DataError: If the asset is damaged, or absent and not downloadable.

    Example:
        >>> import os
        >>> if os.environ.get("COURSE_DATA_DIR"):
        ...     paths, labels = load_flower_split("val")
        ...     assert len(paths) == 450
    """
    if split not in SPLITS:
        raise ValueError(
            f"split must be one of {SPLITS}, got {split!r}. Fix: pick one of them."
        )
    root = asset_path("tf-flowers-128")
    paths, labels = [], []
    with (root / "splits.csv").open(encoding="utf-8") as table:
        for row in csv.DictReader(table):
            if row["split"] == split:
                paths.append(root / "flower_photos_128" / row["path"])
                labels.append(int(row["label"]))
    return paths, np.asarray(labels, dtype=np.int32)


def flower_credit(path: str | os.PathLike[str]) -> str:
    """Return the CC BY 2.0 credit line of one flower photo.

    Args:
        path: A photo path as returned by :func:`load_flower_split`.

    Returns:
        The photographer's credit line, e.g. ``"daisy/... CC-BY by ... - URL"``.

    Raises:
        ValueError: If the photo has no credit line.
    """
    relative = "/".join(Path(path).parts[-2:])
    root = asset_path("tf-flowers-128")
    for line in (root / "ATTRIBUTION.txt").read_text(encoding="utf-8").splitlines():
        if line.startswith(relative + " "):
            return line
    raise ValueError(
        f"No credit line for {relative!r} in ATTRIBUTION.txt. Expected a photo "
        "path from load_flower_split(). Fix: pass one of those paths."
    )


def flowers_dataset(
    split: str,
    *,
    image_size: int = 128,
    batch_size: int = 32,
    shuffle: bool | None = None,
    seed: int = 42,
) -> Any:
    """Build a ``tf.data`` pipeline of flower photos, center-cropped and resized.

    Args:
        split: ``"train"``, ``"val"`` or ``"test"``.
        image_size: Side of the square output images, in pixels.
        batch_size: Photos per batch.
        shuffle: Reshuffle each epoch; defaults to True for ``"train"`` only.
        seed: Shuffle seed.

    Returns:
        A dataset of ``(images, labels)``; images are float32 in [0, 255] with
        shape (batch, image_size, image_size, 3).

    Raises:
        ValueError: If ``split`` is unknown or ``image_size`` < 8.
    """
    if image_size < 8:
        raise ValueError(
            f"image_size must be at least 8 pixels, got {image_size}. "
            "Fix: use for example image_size=96."
        )
    import tensorflow as tf

    paths, labels = load_flower_split(split)

    def decode(path: Any, label: Any) -> tuple[Any, Any]:
        image = tf.io.decode_jpeg(tf.io.read_file(path), channels=3)
        height, width = tf.shape(image)[0], tf.shape(image)[1]
        side = tf.minimum(height, width)
        image = tf.image.crop_to_bounding_box(
            image, (height - side) // 2, (width - side) // 2, side, side
        )
        image = tf.image.resize(image, (image_size, image_size), antialias=True)
        return image, label

    dataset = tf.data.Dataset.from_tensor_slices(([str(p) for p in paths], labels))
    dataset = dataset.map(decode, num_parallel_calls=tf.data.AUTOTUNE).cache()
    if shuffle if shuffle is not None else split == "train":
        dataset = dataset.shuffle(len(paths), seed=seed, reshuffle_each_iteration=True)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def mobilenet_weights(*, include_top: bool = False) -> Path:
    """Return the verified path of the ImageNet MobileNet v1 (alpha 1.0) weights.

    Pass it as ``keras.applications.MobileNet(..., weights=path)``; for an input
    size other than 224 use ``include_top=False``.

    Args:
        include_top: The file with the 1000-class classifier head.

    Returns:
        Path to the ``.h5`` weights file.
    """
    name = (
        "mobilenet_1_0_224_tf.h5" if include_top else "mobilenet_1_0_224_tf_no_top.h5"
    )
    return asset_path("keras-mobilenet-v1-imagenet") / name


def imagenet_class_names() -> list[str]:
    """Return the 1000 ImageNet class names in the order of the model's outputs.

    Returns:
        Names such as ``"daisy"``, index = class id.
    """
    path = asset_path("keras-mobilenet-v1-imagenet") / "imagenet_class_index.json"
    index = json.loads(path.read_text(encoding="utf-8"))
    return [index[str(class_id)][1] for class_id in range(len(index))]


def decode_imagenet(
    probabilities: np.ndarray, *, top: int = 5
) -> list[list[tuple[str, float]]]:
    """Turn ImageNet probabilities into the top class names, offline.

    Args:
        probabilities: Array of shape (num_images, 1000).
        top: How many classes to return per image.

    Returns:
        For each image, ``top`` pairs ``(class_name, probability)``, best first.

    Raises:
        ValueError: If ``probabilities`` does not have 1000 columns.
    """
    probabilities = np.asarray(probabilities)
    if probabilities.ndim != 2 or probabilities.shape[1] != 1000:
        raise ValueError(
            f"probabilities has shape {probabilities.shape}; expected "
            "(num_images, 1000) from an ImageNet classifier. Fix: pass "
            "model.predict(images) of a model built with include_top=True."
        )
    names = imagenet_class_names()
    best = np.argsort(-probabilities, axis=1)[:, :top]
    return [
        [(names[class_id], float(row[class_id])) for class_id in indices]
        for row, indices in zip(probabilities, best, strict=True)
    ]


# ---------------------------------------------------------------- command line


def verify_all(root: str | os.PathLike[str] | None = None) -> dict[str, str]:
    """Verify every asset present in a data directory.

    Args:
        root: The data directory; defaults to :func:`data_dir`.

    Returns:
        Asset name -> ``"ok"``, ``"absent"`` or the error message.

    Example:
        >>> verify_all(EMBEDDED_DATA_DIR)["mnist"]
        'ok'
    """
    root_path = Path(root) if root is not None else data_dir()
    status = {}
    for asset in load_manifest():
        if not _asset_present(asset, root_path):
            status[asset] = "absent"
            continue
        try:
            verify_asset(asset, root_path)
            status[asset] = "ok"
        except DataError as error:
            status[asset] = str(error)
    return status


def prefetch(destination: str | os.PathLike[str]) -> dict[str, str]:
    """Fill a folder with every course asset, for an offline classroom.

    Each asset is copied from wherever the course finds it now (data directory,
    repository, cache) or, failing that, downloaded from its public source.

    Args:
        destination: The folder to fill; afterwards point ``COURSE_DATA_DIR`` at it.

    Returns:
        Asset name -> the folder it was copied from.
    """
    destination_path = Path(destination)
    destination_path.mkdir(parents=True, exist_ok=True)
    copied = {}
    for asset in load_manifest():
        source = asset_path(asset)
        target = destination_path / asset
        if source.resolve() != target.resolve():
            shutil.copytree(source, target, dirs_exist_ok=True)
        verify_asset(asset, destination_path)
        copied[asset] = str(source)
    return copied


def main(argv: list[str] | None = None) -> int:
    """Run the ``verify`` / ``prefetch`` command line; return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m utils.data", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    verify_parser = commands.add_parser("verify", help="check a data directory")
    verify_parser.add_argument("directory", nargs="?", default=None)
    prefetch_parser = commands.add_parser("prefetch", help="fill a data directory")
    prefetch_parser.add_argument("directory")
    arguments = parser.parse_args(argv)
    try:
        if arguments.command == "verify":
            status = verify_all(arguments.directory)
            for asset, state in status.items():
                print(f"{asset:30s} {state}")
            return 0 if all(s in ("ok", "absent") for s in status.values()) else 1
        for asset, source in prefetch(arguments.directory).items():
            print(f"{asset:30s} ok (from {source})")
        return 0
    except DataError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
