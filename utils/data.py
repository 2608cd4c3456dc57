"""Checksummed, offline-first data loading for the course.

Every asset the course uses is listed with its sha256 in ``data/manifest.json``.
Loaders look for an asset in the data directory (``COURSE_DATA_DIR``, default the
repository's ``data/``), verify every file, and only when the asset is absent fall
back to its public source through the library's own download code
(``keras.utils.get_file``, ``keras.datasets``), converting it to the same layout in
the course cache. A missing, truncated or altered file raises :class:`DataError`
naming the file, the expected hash and how to fix it.

MNIST is embedded in the repository, so lessons that use only MNIST work offline
on a fresh clone.

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
import csv
import gzip
import hashlib
import json
import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
EMBEDDED_DATA_DIR = REPO_ROOT / "data"
MANIFEST_PATH = EMBEDDED_DATA_DIR / "manifest.json"
FALLBACK_RECORD = "FALLBACK.json"

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

_KERAS_MNIST_URL = (
    "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
)
_KERAS_MNIST_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
_FLOWERS_URL = (
    "https://storage.googleapis.com/download.tensorflow.org/example_images/"
    "flower_photos.tgz"
)
_MOBILENET_URL = (
    "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet/"
)
_CLASS_INDEX_URL = (
    "https://storage.googleapis.com/download.tensorflow.org/data/"
    "imagenet_class_index.json"
)
_CLASS_INDEX_MD5 = "c2c37ea517e94d9795004a39431a14cb"


class DataError(ValueError):
    """A data file is missing, damaged or cannot be fetched; the message says why."""


# --------------------------------------------------------------------------- paths


def data_dir() -> Path:
    """Return the course data directory.

    It is ``COURSE_DATA_DIR`` when set, otherwise the repository's ``data/``.

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
    """Return the writable cache for downloads and derived files.

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


def load_manifest() -> dict[str, Any]:
    """Return the asset manifest (``data/manifest.json``).

    Returns:
        A mapping from asset name to its description, licence and files.

    Example:
        >>> sorted(load_manifest())[:2]
        ['fashion-mnist', 'keras-mobilenet-v1-imagenet']
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


def verify_file(path: Path, *, sha256: str, content_md5: str | None = None) -> None:
    """Check one file against its expected sha256.

    Args:
        path: The file.
        sha256: Expected sha256 (hex).
        content_md5: Optional md5 of the decompressed bytes of a ``.gz`` file; a
            re-compressed copy of the same data passes this check.

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
            "`python -m utils.data prefetch DIR` while online."
        )
    actual = sha256_of(path)
    if actual == sha256:
        return
    if content_md5 is not None and _gunzipped_md5(path) == content_md5:
        return
    raise DataError(
        f"Checksum mismatch for {path} ({path.stat().st_size:,} bytes): expected "
        f"sha256 {sha256}, got {actual}. The file is truncated or altered. Fix: "
        "replace it with a fresh copy of the asset (or delete it so the course "
        "downloads it again when online)."
    )


def _read_sums(path: Path) -> dict[str, str]:
    sums: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            digest, name = line.split(maxsplit=1)
            sums[name.strip().removeprefix("./")] = digest
    return sums


def verify_asset(asset: str, root: str | os.PathLike[str] | None = None) -> Path:
    """Verify every file of an asset in a data directory.

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
    asset_root = root_path / asset
    record_path = asset_root / FALLBACK_RECORD
    if record_path.is_file():
        # A copy converted from the public source: verify against its own record.
        record = json.loads(record_path.read_text(encoding="utf-8"))
        for name, digest in record["files"].items():
            verify_file(asset_root / name, sha256=digest)
        return asset_root
    for name, expected in spec["files"].items():
        verify_file(
            root_path / name,
            sha256=expected["sha256"],
            content_md5=expected.get("content_md5"),
        )
    file_list = spec.get("file_list")
    if file_list:
        sums = _read_sums(root_path / file_list["sums"])
        for name, digest in sums.items():
            verify_file(root_path / file_list["root"] / name, sha256=digest)
    return asset_root


def _asset_present(asset: str, root: Path) -> bool:
    return (root / asset).is_dir()


def asset_path(asset: str) -> Path:
    """Return the verified folder of an asset, fetching it only when absent.

    Looks in :func:`data_dir`, then (MNIST only) in the repository's ``data/``,
    then in the course cache; when the asset is in none of them it is downloaded
    from its public source and converted to the course layout in the cache.

    Args:
        asset: An asset name from ``data/manifest.json``.

    Returns:
        The asset's folder, every file verified.

    Raises:
        DataError: If a file is damaged, or the asset is absent and cannot be
            downloaded.

    Example:
        >>> asset_path("mnist").name
        'mnist'
    """
    spec = _check_asset_name(asset)
    candidates = [data_dir()]
    if spec.get("embedded"):
        candidates.append(EMBEDDED_DATA_DIR)
    candidates.append(cache_dir())
    for root in candidates:
        if _asset_present(asset, root):
            return _verify_once(asset, root)
    return _fetch_from_public_source(asset, cache_dir())


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


# ------------------------------------------------------------------------ fallback


def _write_fallback_record(asset_root: Path, source: str) -> None:
    files = {
        str(path.relative_to(asset_root)): sha256_of(path)
        for path in sorted(asset_root.rglob("*"))
        if path.is_file() and path.name != FALLBACK_RECORD
    }
    record = {"source": source, "files": files}
    (asset_root / FALLBACK_RECORD).write_text(
        json.dumps(record, indent=1), encoding="utf-8"
    )


def _fetch_mnist(destination: Path) -> str:
    import keras

    downloaded = keras.utils.get_file(
        "mnist.npz",
        origin=_KERAS_MNIST_URL,
        file_hash=_KERAS_MNIST_SHA256,
        cache_dir=str(cache_dir() / "downloads"),
    )
    shutil.copyfile(downloaded, destination / "mnist.npz")
    return _KERAS_MNIST_URL


def _fetch_fashion_mnist(destination: Path) -> str:
    import keras

    keras.datasets.fashion_mnist.load_data()
    source_dir = (
        Path(os.environ.get("KERAS_HOME", Path.home() / ".keras"))
        / "datasets"
        / "fashion-mnist"
    )
    for name in _check_asset_name("fashion-mnist")["files"]:
        shutil.copyfile(source_dir / Path(name).name, destination / Path(name).name)
    return "keras.datasets.fashion_mnist"


def _fetch_flowers(destination: Path) -> str:
    import random

    import keras
    from PIL import Image

    archive_dir = Path(
        keras.utils.get_file(
            "flower_photos",
            origin=_FLOWERS_URL,
            untar=True,
            cache_dir=str(cache_dir() / "downloads"),
        )
    )
    photo_root = next(archive_dir.rglob("LICENSE.txt")).parent
    credits = {}
    for line in (photo_root / "LICENSE.txt").read_text(encoding="utf-8").splitlines():
        if line.count("/") and " CC-BY" in line:
            credits[line.split(" ", 1)[0]] = line
    output_root = destination / "flower_photos_128"
    rows, credit_lines, sum_lines = [], [], []
    for label, class_name in enumerate(FLOWER_CLASSES):
        names = sorted(path.name for path in (photo_root / class_name).glob("*.jpg"))
        random.Random(1234).shuffle(names)
        num_held_out = round(0.15 * len(names))
        for index, name in enumerate(names):
            split = (
                "test"
                if index < num_held_out
                else "val"
                if index < 2 * num_held_out
                else "train"
            )
            relative = f"{class_name}/{name}"
            with Image.open(photo_root / relative) as image:
                image = image.convert("RGB")
                scale = 128 / min(image.size)
                new_size = tuple(max(128, round(side * scale)) for side in image.size)
                image = image.resize(new_size, Image.Resampling.LANCZOS)
                (output_root / class_name).mkdir(parents=True, exist_ok=True)
                image.save(output_root / relative, quality=90, optimize=True)
            rows.append((relative, class_name, label, split))
            credit_lines.append(credits.get(relative, f"{relative} (credit missing)"))
            sum_lines.append(f"{sha256_of(output_root / relative)}  ./{relative}")
    with (destination / "splits.csv").open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(("path", "class_name", "label", "split"))
        writer.writerows(rows)
    (destination / "ATTRIBUTION.txt").write_text(
        "Photos from TensorFlow's flower_photos archive, CC BY 2.0 "
        "(https://creativecommons.org/licenses/by/2.0/); downscaled to a shorter "
        "side of 128 px and re-encoded as JPEG quality 90.\n\n"
        + "\n".join(credit_lines)
        + "\n",
        encoding="utf-8",
    )
    (destination / "SHA256SUMS").write_text("\n".join(sum_lines) + "\n")
    return _FLOWERS_URL


def _fetch_mobilenet(destination: Path) -> str:
    import keras

    for name in ("mobilenet_1_0_224_tf.h5", "mobilenet_1_0_224_tf_no_top.h5"):
        downloaded = keras.utils.get_file(
            name, origin=_MOBILENET_URL + name, cache_subdir="models"
        )
        shutil.copyfile(downloaded, destination / name)
    downloaded = keras.utils.get_file(
        "imagenet_class_index.json",
        origin=_CLASS_INDEX_URL,
        file_hash=_CLASS_INDEX_MD5,
        cache_subdir="models",
    )
    shutil.copyfile(downloaded, destination / "imagenet_class_index.json")
    return _MOBILENET_URL


_FETCHERS: dict[str, Callable[[Path], str]] = {
    "mnist": _fetch_mnist,
    "fashion-mnist": _fetch_fashion_mnist,
    "tf-flowers-128": _fetch_flowers,
    "keras-mobilenet-v1-imagenet": _fetch_mobilenet,
}


def _fetch_from_public_source(asset: str, root: Path) -> Path:
    destination = root / asset
    partial = root / f"{asset}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    try:
        source = _FETCHERS[asset](partial)
    except Exception as error:  # Network errors come in many types.
        shutil.rmtree(partial, ignore_errors=True)
        raise DataError(
            f"Asset {asset!r} is not in the data directory {data_dir()} and could "
            f"not be downloaded from its public source ({type(error).__name__}: "
            f"{error}). Fix: set COURSE_DATA_DIR to a folder that holds "
            f"{asset}/ (for example ../shared/data), or run "
            "`python -m utils.data prefetch DIR` on a machine that is online."
        ) from None
    _write_fallback_record(partial, source)
    partial.rename(destination)
    return verify_asset(asset, root)


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
