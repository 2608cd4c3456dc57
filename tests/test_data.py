"""utils.data: checksums, clear errors, offline loading, the online fallback, CLI.

The online fallback is tested end to end: fixture sources (built here from the
shared data or made with PIL) are served by a loopback HTTP server that
COURSE_DATA_ORIGIN points at, and the real keras.utils.get_file downloads them.
Fixture sources have other bytes than the public ones, so those tests use a copy
of the manifest whose download hashes are the fixtures'.
"""

import csv
import gzip
import hashlib
import http.server
import io
import json
import os
import shutil
import socket
import subprocess
import tarfile
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from utils import data

# The full data directory: ../shared/data here and in CI, a prefetched folder elsewhere.
SHARED_DATA = Path(
    os.environ.get("COURSE_DATA_DIR")
    or Path(__file__).resolve().parents[2] / "shared" / "data"
)
FASHION = "fashion-mnist"
FLOWERS = "tf-flowers-128"
MOBILENET = "keras-mobilenet-v1-imagenet"


@pytest.fixture
def data_copy(tmp_path, monkeypatch):
    """A writable data directory with a copy of MNIST, set as COURSE_DATA_DIR."""
    (tmp_path / "mnist").mkdir()
    shutil.copyfile(
        data.EMBEDDED_DATA_DIR / "mnist" / "mnist.npz", tmp_path / "mnist" / "mnist.npz"
    )
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path


# ------------------------------------------------------------ local origin helpers


@pytest.fixture
def online(tmp_path, monkeypatch):
    """An empty data directory, a fresh cache and a loopback HTTP origin."""
    root = tmp_path / "origin"
    root.mkdir()
    requests: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(root), **kwargs)

        def log_message(self, format, *args):
            requests.append(self.path)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    (tmp_path / "data").mkdir()
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("COURSE_DATA_ORIGIN", f"http://127.0.0.1:{server.server_port}")
    yield SimpleNamespace(
        root=root,
        requests=requests,
        data=tmp_path / "data",
        cache=tmp_path / "cache",
        tmp=tmp_path,
    )
    server.shutdown()
    server.server_close()


def serve(origin, asset, name, content: bytes) -> str:
    """Put a file on the origin; return its sha256."""
    (origin.root / asset).mkdir(exist_ok=True)
    (origin.root / asset / name).write_bytes(content)
    return hashlib.sha256(content).hexdigest()


def use_manifest(origin, monkeypatch, edit) -> Path:
    """Point utils.data at a copy of the manifest changed by edit(assets)."""
    manifest = json.loads(data.MANIFEST_PATH.read_text(encoding="utf-8"))
    edit(manifest["assets"])
    folder = origin.tmp / "manifest"
    folder.mkdir(exist_ok=True)
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    monkeypatch.setattr(data, "MANIFEST_PATH", folder / "manifest.json")
    return folder


@pytest.fixture(scope="module")
def upstream_fashion():
    """Fashion-MNIST .gz files as Zalando publishes them: our Debian files with the
    gzip file-name field put back (same deflate stream, so the same content)."""
    files = {}
    for path in sorted((SHARED_DATA / FASHION).glob("*.gz")):
        raw = path.read_bytes()
        assert raw[3] == 0, "expected a gzip header without optional fields"
        files[path.name] = (
            raw[:3] + b"\x08" + raw[4:10] + path.stem.encode() + b"\0" + raw[10:]
        )
    return files


@pytest.fixture
def fashion_origin(online, monkeypatch, upstream_fashion):
    """The origin serves Fashion-MNIST; the manifest knows the fixtures' hashes."""
    hashes = {
        name: serve(online, FASHION, name, content)
        for name, content in upstream_fashion.items()
    }

    def edit(assets):
        for name, entry in assets[FASHION]["online"]["downloads"].items():
            entry["sha256"] = hashes[name]
            entry["size"] = len(upstream_fashion[name])

    use_manifest(online, monkeypatch, edit)
    return online


# ----------------------------------------------------------------- offline checks


def test_embedded_mnist_loads_offline_with_known_labels():
    (x_train, y_train), (x_test, y_test) = data.load_mnist()
    assert x_train.shape == (60000, 28, 28) and x_train.dtype == np.uint8
    assert x_test.shape == (10000, 28, 28)
    assert y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert np.bincount(y_test).tolist() == [
        980,
        1135,
        1032,
        1010,
        982,
        892,
        958,
        1028,
        974,
        1009,
    ]


def test_truncated_copy_is_detected_and_named(data_copy):
    path = data_copy / "mnist" / "mnist.npz"
    content = path.read_bytes()
    path.write_bytes(content[: len(content) // 2])
    with pytest.raises(data.DataError) as error:
        data.load_mnist()
    message = str(error.value)
    assert str(path) in message
    assert "06af5dfe73b70e3bc1c36439982b18a8d76803db9b544f6fdf838a37fbb01b64" in message
    assert "truncated or altered" in message and "Fix" in message
    assert path.read_bytes() == content[: len(content) // 2]  # Data dir: untouched.


def test_altered_byte_is_detected(data_copy):
    path = data_copy / "mnist" / "mnist.npz"
    content = bytearray(path.read_bytes())
    content[1000] ^= 0xFF
    path.write_bytes(bytes(content))
    with pytest.raises(data.DataError, match="Checksum mismatch"):
        data.verify_asset("mnist", data_copy)


def test_missing_file_names_file_and_fix(data_copy):
    (data_copy / "mnist" / "mnist.npz").unlink()
    with pytest.raises(
        data.DataError, match=r"Missing data file: .*mnist\.npz.*prefetch"
    ):
        data.verify_asset("mnist", data_copy)


def test_unknown_asset_lists_known_ones():
    with pytest.raises(data.DataError, match=r"Unknown asset 'cifar10'.*'mnist'"):
        data.asset_path("cifar10")


def test_data_dir_that_does_not_exist(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(data.DataError, match="COURSE_DATA_DIR is .*not a directory"):
        data.data_dir()


def test_mnist_is_never_downloaded_and_a_missing_copy_says_how_to_restore(
    monkeypatch, tmp_path
):
    assert "online" not in data.load_manifest()["mnist"]
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(data, "EMBEDDED_DATA_DIR", tmp_path / "clone" / "data")
    with pytest.raises(data.DataError, match=r"ships inside the repository.*git"):
        data.load_mnist()
    assert not (tmp_path / "cache" / "mnist").exists()


def test_gzip_recompressed_copy_passes_content_check(tmp_path):
    source = SHARED_DATA / FASHION / "t10k-labels-idx1-ubyte.gz"
    copy = tmp_path / "labels.gz"
    with gzip.open(source) as stream:
        copy.write_bytes(gzip.compress(stream.read(), compresslevel=9, mtime=1))
    spec = data.load_manifest()[FASHION]["files"][
        f"{FASHION}/t10k-labels-idx1-ubyte.gz"
    ]
    data.verify_file(copy, sha256=spec["sha256"], content_md5=spec["content_md5"])
    with pytest.raises(data.DataError):
        data.verify_file(copy, sha256=spec["sha256"])


def test_shared_data_directory_verifies_completely():
    status = data.verify_all(SHARED_DATA)
    assert status == {name: "ok" for name in data.load_manifest()}


def test_fashion_mnist_from_data_dir(monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(SHARED_DATA))
    (x_train, y_train), (x_test, y_test) = data.load_fashion_mnist()
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert np.bincount(y_train).tolist() == [6000] * 10
    assert abs(x_train.mean() / 255 - 0.2860) < 1e-3


def test_flower_splits_and_credit(monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(SHARED_DATA))
    counts = {split: len(data.load_flower_split(split)[0]) for split in data.SPLITS}
    assert counts == {"train": 2098, "val": 450, "test": 450}
    paths, labels = data.load_flower_split("test")
    assert set(labels.tolist()) == {0, 1, 2, 3, 4}
    assert "CC-BY by" in data.flower_credit(paths[0])
    with pytest.raises(ValueError, match="split must be one of"):
        data.load_flower_split("training")


def test_flowers_dataset_shapes(monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(SHARED_DATA))
    images, labels = next(
        iter(data.flowers_dataset("val", image_size=64, batch_size=4))
    )
    assert tuple(images.shape) == (4, 64, 64, 3)
    assert 0.0 <= float(images.numpy().min()) and float(images.numpy().max()) <= 255.0
    with pytest.raises(ValueError, match="image_size must be at least 8"):
        data.flowers_dataset("val", image_size=4)


def test_imagenet_decoding(monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(SHARED_DATA))
    names = data.imagenet_class_names()
    assert len(names) == 1000 and names[985] == "daisy"
    probabilities = np.zeros((1, 1000))
    probabilities[0, 985] = 0.9
    assert data.decode_imagenet(probabilities, top=1) == [[("daisy", 0.9)]]
    with pytest.raises(ValueError, match=r"expected \(num_images, 1000\)"):
        data.decode_imagenet(np.zeros((1, 10)))
    assert data.mobilenet_weights().name == "mobilenet_1_0_224_tf_no_top.h5"


def test_make_dataset_bad_input():
    with pytest.raises(ValueError, match="images has 3 entries but labels has 2"):
        data.make_dataset(np.zeros((3, 2)), np.zeros(2))
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        data.make_dataset(np.zeros((3, 2)), np.zeros(3), batch_size=0)


def test_command_line_verify_and_prefetch(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("COURSE_DATA_DIR", str(SHARED_DATA))
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    assert data.main(["verify"]) == 0
    assert "mnist" in capsys.readouterr().out
    target = tmp_path / "classroom"
    assert data.main(["prefetch", str(target)]) == 0
    assert data.verify_all(target) == {name: "ok" for name in data.load_manifest()}
    broken = target / MOBILENET / "imagenet_class_index.json"
    broken.write_text("{}")
    assert data.main(["verify", str(target)]) == 1
    assert "imagenet_class_index.json" in capsys.readouterr().out


def test_loaders_never_unpickle():
    source = Path(data.__file__).read_text()
    assert "allow_pickle=True" not in source


# ------------------------------------------------------------ the manifest's sources


def test_every_fetchable_asset_names_its_downloads_and_checks():
    for asset, spec in data.load_manifest().items():
        if spec.get("embedded"):
            continue
        online = spec["online"]
        assert online["verified"] and online["build"], asset
        for name, entry in online["downloads"].items():
            assert entry["url"].startswith(("https://", "http://")), (asset, name)
            assert len(entry["sha256"]) == 64 and entry["size"] > 0, (asset, name)
    flowers = data.load_manifest()[FLOWERS]["online"]["downloads"]
    assert flowers["flower_photos.tgz"]["sha256"] == (
        "4c54ace7911aaffe13a365c34f650e71dd5bf1be0a58b464e5a7183e3e595d9c"
    )


def test_origin_is_configurable(monkeypatch):
    monkeypatch.delenv("COURSE_DATA_ORIGIN", raising=False)
    public = data.origin_url(FLOWERS, "flower_photos.tgz")
    assert public.startswith("https://storage.googleapis.com/")
    monkeypatch.setenv("COURSE_DATA_ORIGIN", "file:///srv/mirror/")
    assert data.origin_url(FASHION, "t10k-labels-idx1-ubyte.gz") == (
        "file:///srv/mirror/fashion-mnist/t10k-labels-idx1-ubyte.gz"
    )
    monkeypatch.setenv("COURSE_DOWNLOAD_TIMEOUT", "soon")
    with pytest.raises(data.DataError, match="COURSE_DOWNLOAD_TIMEOUT is 'soon'"):
        data.download_timeout()


def test_photo_list_describes_the_shared_copy(tmp_path):
    """The committed list has the shared copy's photos, splits and decoded sizes,
    and a copy checked as a built one (no SHA256SUMS) passes on those alone."""
    from PIL import Image

    photos = data.photo_list()
    with (SHARED_DATA / FLOWERS / "splits.csv").open(newline="") as table:
        rows = list(csv.DictReader(table))
    assert [(p, s) for p, s, _, _ in photos] == [(r["path"], r["split"]) for r in rows]
    for relative, _, width, height in photos[::50]:
        with Image.open(
            SHARED_DATA / FLOWERS / "flower_photos_128" / relative
        ) as image:
            assert image.size == (width, height)
    counts = {}
    for relative, split, _, _ in photos:
        key = (relative.split("/")[0], split)
        counts[key] = counts.get(key, 0) + 1
    for flower in data.FLOWER_CLASSES:
        assert counts[flower, "val"] == counts[flower, "test"] == 90
        assert counts[flower, "train"] == (418 if flower == "sunflowers" else 420)

    view = tmp_path / FLOWERS
    view.mkdir()
    for name in ("flower_photos_128", "splits.csv", "ATTRIBUTION.txt"):
        (view / name).symlink_to(SHARED_DATA / FLOWERS / name)
    assert data.verify_all(tmp_path)[FLOWERS] == "ok"


# -------------------------------------------------------- the online fallback, live


def test_fashion_mnist_is_built_as_the_manifest_says(fashion_origin):
    folder = data.asset_path(FASHION)
    assert folder == fashion_origin.cache / FASHION
    assert sorted(fashion_origin.requests) == sorted(
        f"/{FASHION}/{name}"
        for name in data.load_manifest()[FASHION]["online"]["downloads"]
    )
    for name, spec in data.load_manifest()[FASHION]["files"].items():
        built = fashion_origin.cache / name
        assert data.sha256_of(built) != spec["sha256"]  # Upstream's gzip bytes,
        assert data._gunzipped_md5(built) == spec["content_md5"]  # the same data.
    (x_train, y_train), (x_test, _) = data.load_fashion_mnist()
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert np.bincount(y_train).tolist() == [6000] * 10
    assert data.verify_all(fashion_origin.cache)[FASHION] == "ok"
    assert list(fashion_origin.data.iterdir()) == []  # COURSE_DATA_DIR: never written.
    data.asset_path(FASHION)
    assert len(fashion_origin.requests) == 4  # Cached: nothing fetched again.


def test_damaged_cache_is_moved_aside_and_fetched_again(fashion_origin):
    data.asset_path(FASHION)
    built = fashion_origin.cache / FASHION / "t10k-labels-idx1-ubyte.gz"
    built.write_bytes(built.read_bytes()[:100])
    with pytest.warns(data.DataWarning, match="failed its check and was moved to"):
        folder = data.asset_path(FASHION)
    (aside,) = fashion_origin.cache.glob(f"{FASHION}.corrupt-*")
    assert (aside / built.name).stat().st_size == 100
    assert data.verify_all(fashion_origin.cache)[FASHION] == "ok"
    assert folder.is_dir() and len(fashion_origin.requests) == 4  # From the downloads.

    # A partial download (say, a killed run) and no built copy.
    shutil.rmtree(folder)
    download = (
        fashion_origin.cache / "downloads" / FASHION / "train-labels-idx1-ubyte.gz"
    )
    download.write_bytes(download.read_bytes()[:5000])
    with pytest.warns(data.DataWarning, match=r"partial or damaged\); moved it to"):
        data.asset_path(FASHION)
    (aside,) = download.parent.glob(f"{download.name}.corrupt-*")
    assert aside.stat().st_size == 5000
    assert fashion_origin.requests[-1] == f"/{FASHION}/{download.name}"
    assert len(fashion_origin.requests) == 5
    assert data.verify_all(fashion_origin.cache)[FASHION] == "ok"


def test_wrong_file_from_origin_names_it_and_both_hashes(fashion_origin):
    name = "train-labels-idx1-ubyte.gz"
    expected = data.load_manifest()[FASHION]["online"]["downloads"][name]["sha256"]
    wrong = serve(fashion_origin, FASHION, name, b"<html>Moved</html>")
    with pytest.raises(data.DataError) as error:
        data.load_fashion_mnist()
    message = str(error.value)
    assert f"download of {name}" in message and "/fashion-mnist/" in message
    assert f"expected sha256 {expected}" in message and f"got {wrong}" in message
    (aside,) = (fashion_origin.cache / "downloads" / FASHION).glob(f"{name}.corrupt-*")
    assert str(aside) in message and aside.read_bytes() == b"<html>Moved</html>"
    assert not (fashion_origin.cache / FASHION).exists()
    assert not (fashion_origin.cache / f"{FASHION}.partial").exists()


def test_no_network_says_so(online, monkeypatch):
    with socket.socket() as probe:  # A port that nothing listens on.
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("COURSE_DATA_ORIGIN", f"http://127.0.0.1:{port}")
    import keras  # noqa: F401 (imported before the clock starts)

    started = time.monotonic()
    with pytest.raises(data.DataError) as error:
        data.asset_path(FASHION)
    message = str(error.value)
    assert f"Could not reach 127.0.0.1:{port}" in message and "offline" in message
    assert "COURSE_DATA_DIR" in message and "prefetch" in message
    assert time.monotonic() - started < 10
    assert not (online.cache / FASHION).exists()


def _stalling_server(stop: threading.Event, partial_answer: bool) -> int:
    """Accept connections and never finish an answer; return the port."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    listener.settimeout(0.2)

    def run():
        connections = []
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            connections.append(connection)
            if partial_answer:
                connection.recv(65536)
                connection.sendall(
                    b"HTTP/1.0 200 OK\r\nContent-Length: 1000000\r\n\r\n" + b"x" * 100
                )
        for connection in connections:
            connection.close()
        listener.close()

    if partial_answer:
        threading.Thread(target=run, daemon=True).start()
    else:  # Never accept: the kernel completes the handshake, no one answers.
        threading.Thread(
            target=lambda: (stop.wait(), listener.close()), daemon=True
        ).start()
    return listener.getsockname()[1]


@pytest.mark.parametrize("partial_answer", [False, True], ids=["silent", "stalls"])
def test_hung_download_stops_at_the_time_limit(online, monkeypatch, partial_answer):
    stop = threading.Event()
    port = _stalling_server(stop, partial_answer)
    monkeypatch.setenv("COURSE_DATA_ORIGIN", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("COURSE_DOWNLOAD_TIMEOUT", "1")
    import keras  # noqa: F401 (imported before the clock starts)

    started = time.monotonic()
    try:
        with pytest.raises(data.DataError) as error:
            data.asset_path(FASHION)
    finally:
        stop.set()
    assert time.monotonic() - started < 10
    message = str(error.value)
    assert "stalled: no data arrived for 1 s" in message
    assert "COURSE_DOWNLOAD_TIMEOUT" in message and "COURSE_DATA_DIR" in message
    assert not list((online.cache / "downloads" / FASHION).iterdir())  # No partial.


def test_full_disk_says_so(fashion_origin, monkeypatch):
    """A 1 MiB tmpfs as the cache: the 26 MB download hits a real ENOSPC."""
    small = fashion_origin.tmp / "small-disk"
    small.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(small)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a 1 MiB tmpfs here: {mounted.stderr.strip()}")
    try:
        monkeypatch.setenv("COURSE_CACHE_DIR", str(small))
        with pytest.raises(data.DataError) as error:
            data.asset_path(FASHION)
        message = str(error.value)
        assert f"The disk is full: no space left in {small}" in message
        assert "COURSE_CACHE_DIR" in message and "31 MB" in message
        assert not (small / FASHION).exists()
    finally:
        subprocess.run(["umount", str(small)], check=True)


# --------------------------------------------------------------- flowers, built live


FIXTURE_PHOTOS = {  # class/name: (original size, split, size after conversion)
    "daisy/1_a.jpg": ((240, 180), "train", (171, 128)),
    "daisy/2_b.jpg": ((180, 320), "test", (128, 228)),
    "dandelion/3_c.jpg": ((300, 200), "val", (192, 128)),
    "roses/4_d.jpg": ((500, 333), "train", (192, 128)),
    "sunflowers/5_e.jpg": ((160, 240), "train", (128, 192)),
    "tulips/6_f.jpg": ((256, 256), "test", (128, 128)),
}
UNLISTED = "tulips/7_g.jpg"  # In the archive, not in the list: must stay out.


def _jpeg(size, seed) -> bytes:
    from PIL import Image

    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0 : size[1], 0 : size[0]]
    pixels = np.stack(
        [xs * 255 // size[0], ys * 255 // size[1], np.full_like(xs, 90)], axis=-1
    ) + rng.integers(0, 30, (size[1], size[0], 3))
    buffer = io.BytesIO()
    Image.fromarray(pixels.clip(0, 255).astype(np.uint8)).save(buffer, "JPEG")
    return buffer.getvalue()


def _credit(relative: str) -> str:
    number = relative.split("/")[1].split("_")[0]
    return (
        f"{relative} CC-BY by Ann Example - https://www.flickr.com/photos/x/{number}/"
    )


@pytest.fixture
def flowers_origin(online, monkeypatch):
    """A tiny flower_photos.tgz, a matching photo list and the manifest for them."""
    members = {
        "flower_photos/LICENSE.txt": "\n".join(
            _credit(relative) for relative in [*FIXTURE_PHOTOS, UNLISTED]
        ).encode()
        + b"\n"
    }
    for seed, (relative, (size, _, _)) in enumerate(FIXTURE_PHOTOS.items()):
        members[f"flower_photos/{relative}"] = _jpeg(size, seed)
    members[f"flower_photos/{UNLISTED}"] = _jpeg((200, 150), 99)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    archive_sha = serve(online, FLOWERS, "flower_photos.tgz", buffer.getvalue())

    photo_list = "path,split,width,height\n" + "".join(
        f"{relative},{split},{w},{h}\n"
        for relative, (_, split, (w, h)) in FIXTURE_PHOTOS.items()
    )
    labels = {"daisy": 0, "dandelion": 1, "roses": 2, "sunflowers": 3, "tulips": 4}
    splits_csv = "path,class_name,label,split\r\n" + "".join(
        f"{relative},{relative.split('/')[0]},{labels[relative.split('/')[0]]},{split}\r\n"
        for relative, (_, split, _) in FIXTURE_PHOTOS.items()
    )
    shared_attribution = (SHARED_DATA / FLOWERS / "ATTRIBUTION.txt").read_text()
    header = "".join(shared_attribution.splitlines(keepends=True)[:5])
    attribution = header + "".join(_credit(r) + "\n" for r in FIXTURE_PHOTOS)

    def sha(text):
        return hashlib.sha256(text.encode()).hexdigest()

    def edit(assets):
        spec = assets[FLOWERS]
        spec["online"]["downloads"]["flower_photos.tgz"]["sha256"] = archive_sha
        spec["online"]["photo_list"] = {"path": "photos.csv", "sha256": sha(photo_list)}
        spec["files"][f"{FLOWERS}/splits.csv"]["sha256"] = sha(splits_csv)
        spec["files"][f"{FLOWERS}/ATTRIBUTION.txt"]["sha256"] = sha(attribution)

    folder = use_manifest(online, monkeypatch, edit)
    (folder / "photos.csv").write_text(photo_list, encoding="utf-8")
    online.photo_list = folder / "photos.csv"
    return online


def test_flowers_are_built_from_the_listed_photos(flowers_origin):
    from PIL import Image

    folder = data.asset_path(FLOWERS)
    assert folder == flowers_origin.cache / FLOWERS
    assert not (folder / "SHA256SUMS").exists()  # A built copy: checked by content.
    photos = sorted(
        str(p.relative_to(folder / "flower_photos_128"))
        for p in (folder / "flower_photos_128").rglob("*.jpg")
    )
    assert photos == sorted(FIXTURE_PHOTOS)  # The unlisted photo stayed out.
    for relative, (_, _, size) in FIXTURE_PHOTOS.items():
        with Image.open(folder / "flower_photos_128" / relative) as image:
            assert (image.size, image.mode, image.format) == (size, "RGB", "JPEG")
    paths, labels = data.load_flower_split("train")
    assert [p.name for p in paths] == ["1_a.jpg", "4_d.jpg", "5_e.jpg"]
    assert labels.tolist() == [0, 2, 3]
    assert data.flower_credit(paths[1]) == _credit("roses/4_d.jpg")
    assert data.verify_all(flowers_origin.cache)[FLOWERS] == "ok"

    # A damaged photo in the cache: moved aside, rebuilt from the cached archive.
    damaged = folder / "flower_photos_128" / "roses" / "4_d.jpg"
    damaged.write_bytes(damaged.read_bytes()[:300])
    with pytest.warns(data.DataWarning, match=r"Damaged photo: .*4_d\.jpg"):
        data.asset_path(FLOWERS)
    assert len(list(flowers_origin.cache.glob(f"{FLOWERS}.corrupt-*"))) == 1
    assert len(flowers_origin.requests) == 1
    assert data.verify_all(flowers_origin.cache)[FLOWERS] == "ok"


def test_flowers_build_checks_the_list(flowers_origin, monkeypatch):
    listed = flowers_origin.photo_list.read_text()
    wrong_size = listed.replace(
        "daisy/1_a.jpg,train,171,128", "daisy/1_a.jpg,train,170,128"
    )
    missing = listed + "roses/404_z.jpg,train,128,128\n"
    for text, expected in [
        (wrong_size, r"1_a\.jpg decodes to 171x128 RGB; the photo list says 170x128"),
        (
            missing,
            r"lacks 1 photo\(s\) of the photo list, e\.g\. \['roses/404_z\.jpg'\]",
        ),
    ]:
        flowers_origin.photo_list.write_text(text)
        manifest = json.loads(data.MANIFEST_PATH.read_text())
        manifest["assets"][FLOWERS]["online"]["photo_list"]["sha256"] = hashlib.sha256(
            text.encode()
        ).hexdigest()
        data.MANIFEST_PATH.write_text(json.dumps(manifest))
        with pytest.raises(data.DataError, match=expected):
            data.asset_path(FLOWERS)
        assert not (flowers_origin.cache / FLOWERS).exists()


# ------------------------------------------------------------- MobileNet, built live


def _sdist_from_shared_weights() -> tuple[bytes, str]:
    """Return a nudity-0.2.3.tar.gz whose frozen graph holds the shared weights
    under TF-slim's names (the inverse of the course's conversion), and the graph's
    sha256."""
    import h5py
    import tensorflow as tf

    graph = tf.compat.v1.GraphDef()

    def constant(name, array):
        node = graph.node.add()
        node.name, node.op = f"MobilenetV1/{name}", "Const"
        node.attr["value"].tensor.CopyFrom(tf.make_tensor_proto(array))

    def batch_norm(scope, group):
        for part in ("gamma", "beta", "moving_mean", "moving_variance"):
            constant(f"{scope}/BatchNorm/{part}", group[f"{group.name[1:]}/{part}"][()])

    with h5py.File(SHARED_DATA / MOBILENET / "mobilenet_1_0_224_tf.h5") as weights:
        constant("Conv2d_0/weights", weights["conv1/conv1/kernel"][()])
        batch_norm("Conv2d_0", weights["conv1_bn"])
        for i in range(1, 14):
            constant(
                f"Conv2d_{i}_depthwise/depthwise_weights",
                weights[f"conv_dw_{i}/conv_dw_{i}/kernel"][()],
            )
            batch_norm(f"Conv2d_{i}_depthwise", weights[f"conv_dw_{i}_bn"])
            constant(
                f"Conv2d_{i}_pointwise/weights",
                weights[f"conv_pw_{i}/conv_pw_{i}/kernel"][()],
            )
            batch_norm(f"Conv2d_{i}_pointwise", weights[f"conv_pw_{i}_bn"])
        kernel = weights["conv_preds/conv_preds/kernel"][()]
        bias = weights["conv_preds/conv_preds/bias"][()]
    background = np.zeros(kernel.shape[:-1] + (1,), kernel.dtype)
    constant("Logits/Conv2d_1c_1x1/weights", np.concatenate([background, kernel], -1))
    constant("Logits/Conv2d_1c_1x1/biases", np.concatenate([[0.0], bias]).astype("f4"))
    content = graph.SerializeToString()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=1) as tar:
        info = tarfile.TarInfo("nudity-0.2.3/nudity/files/retrained_graph.pb")
        info.size = len(content)
        tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue(), hashlib.sha256(content).hexdigest()


def test_mobilenet_is_built_with_the_manifests_weights(online, monkeypatch):
    sdist, graph_sha = _sdist_from_shared_weights()
    sdist_sha = serve(online, MOBILENET, "nudity-0.2.3.tar.gz", sdist)
    index = (SHARED_DATA / MOBILENET / "imagenet_class_index.json").read_bytes()
    serve(online, MOBILENET, "imagenet_class_index.json", index)

    def edit(assets):
        assets[MOBILENET]["online"]["downloads"]["nudity-0.2.3.tar.gz"]["sha256"] = (
            sdist_sha
        )
        assets[MOBILENET]["online"]["graph"]["sha256"] = graph_sha

    use_manifest(online, monkeypatch, edit)
    path = data.mobilenet_weights(include_top=True)
    assert path == online.cache / MOBILENET / "mobilenet_1_0_224_tf.h5"
    for name, spec in data.load_manifest()[MOBILENET]["files"].items():
        built = online.cache / name
        if name.endswith(".h5"):  # The same tensors as the shared copy's.
            assert data.weights_digest(built) == spec["weights_sha256"], name
        else:
            assert data.sha256_of(built) == spec["sha256"], name
    assert data.imagenet_class_names()[985] == "daisy"
    assert sorted(online.requests) == [
        f"/{MOBILENET}/imagenet_class_index.json",
        f"/{MOBILENET}/nudity-0.2.3.tar.gz",
    ]

    # Other weights (one value changed) fail the check, whatever the file bytes.
    import h5py

    with h5py.File(path, "r+") as weights:
        weights["conv1/conv1/kernel"][0, 0, 0, 0] += 1.0
    with pytest.raises(data.DataError, match=r"nor the weights' sha256 b8324f"):
        data.verify_asset(MOBILENET, online.cache)
