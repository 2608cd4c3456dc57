"""utils.data: checksums, clear errors, offline loading, command line."""

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from utils import data

# The full data directory: ../shared/data here and in CI, a prefetched folder elsewhere.
SHARED_DATA = Path(
    os.environ.get("COURSE_DATA_DIR")
    or Path(__file__).resolve().parents[2] / "shared" / "data"
)


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


def test_absent_asset_without_network_gives_actionable_error(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))

    def offline(destination):
        raise OSError("Network is unreachable")

    monkeypatch.setitem(data._FETCHERS, "fashion-mnist", offline)
    with pytest.raises(data.DataError) as error:
        data.load_fashion_mnist()
    message = str(error.value)
    assert "'fashion-mnist' is not in the data directory" in message
    assert "Network is unreachable" in message and "COURSE_DATA_DIR" in message
    assert not (tmp_path / "cache" / "fashion-mnist.partial").exists()


def test_fallback_copy_is_recorded_and_verified(monkeypatch, tmp_path):
    """A converted public copy gets its own hash record, and damage to it is caught."""
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "empty"))
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))

    def fake_download(destination):
        shutil.copyfile(SHARED_DATA / "mnist" / "mnist.npz", destination / "mnist.npz")
        return "test source"

    monkeypatch.setattr(data, "EMBEDDED_DATA_DIR", tmp_path / "no-embedded")
    monkeypatch.setitem(data._FETCHERS, "mnist", fake_download)
    folder = data.asset_path("mnist")
    assert (folder / data.FALLBACK_RECORD).is_file()
    (folder / "mnist.npz").write_bytes(b"broken")
    with pytest.raises(data.DataError, match="Checksum mismatch"):
        data.asset_path("mnist")


def test_gzip_recompressed_copy_passes_content_check(tmp_path):
    import gzip

    source = SHARED_DATA / "fashion-mnist" / "t10k-labels-idx1-ubyte.gz"
    copy = tmp_path / "labels.gz"
    with gzip.open(source) as stream:
        copy.write_bytes(gzip.compress(stream.read(), compresslevel=9, mtime=1))
    spec = data.load_manifest()["fashion-mnist"]["files"][
        "fashion-mnist/t10k-labels-idx1-ubyte.gz"
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
    broken = target / "keras-mobilenet-v1-imagenet" / "imagenet_class_index.json"
    broken.write_text("{}")
    assert data.main(["verify", str(target)]) == 1
    assert "imagenet_class_index.json" in capsys.readouterr().out


def test_loaders_never_unpickle():
    source = Path(data.__file__).read_text()
    assert "allow_pickle=True" not in source
