"""MNIST: the IDX reader, checksum verification, the look-up order, and the download path."""

import contextlib
import hashlib
import functools
import gzip
import http.server
import shutil
import struct
import threading

import numpy as np
import pytest

import dataclasses

from spikenet.datasets import (DATASETS, FASHION_FILES, MNIST_FILES, check_dataset, check_mnist, load_dataset,
                               load_mnist, locate_dataset, locate_mnist, read_idx)
from spikenet.params.experiments import DATASET_NAMES
from spikenet.errors import DataError


def write_idx(path, array: np.ndarray, type_code: int = 0x08, compress: bool = True) -> None:
    header = bytes([0, 0, type_code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    dtype = {0x08: ">u1", 0x0B: ">i2", 0x0D: ">f4"}[type_code]
    raw = header + array.astype(dtype).tobytes()
    path.write_bytes(gzip.compress(raw) if compress else raw)


# --------------------------------------------------------------------------- IDX reader


@pytest.mark.parametrize("compress", [True, False])
def test_idx_reader_on_generated_files(tmp_path, compress):
    images = np.random.default_rng(0).integers(0, 256, size=(7, 28, 28), dtype=np.uint8)
    path = tmp_path / ("x.idx3.gz" if compress else "x.idx3")
    write_idx(path, images, compress=compress)
    got = read_idx(path)
    assert got.dtype == np.uint8 and got.shape == (7, 28, 28)
    np.testing.assert_array_equal(got, images)


def test_idx_reader_other_types_are_big_endian(tmp_path):
    values = np.array([[1, -2, 300], [4, 5, -600]], dtype=np.int16)
    write_idx(tmp_path / "a.gz", values, type_code=0x0B)
    np.testing.assert_array_equal(read_idx(tmp_path / "a.gz"), values)
    floats = np.array([0.5, -1.25, 3e5], dtype=np.float32)
    write_idx(tmp_path / "b.gz", floats, type_code=0x0D)
    np.testing.assert_array_equal(read_idx(tmp_path / "b.gz"), floats)


def test_idx_reader_rejects_truncated_and_foreign_files(tmp_path):
    write_idx(tmp_path / "x.gz", np.zeros((10, 28, 28), np.uint8))
    raw = gzip.decompress((tmp_path / "x.gz").read_bytes())
    (tmp_path / "short.gz").write_bytes(gzip.compress(raw[:-100]))
    with pytest.raises(DataError, match=r"short.gz: holds 7,756 bytes but its header says \(10, 28, 28\) needs 7,856"):
        read_idx(tmp_path / "short.gz")
    (tmp_path / "half.gz").write_bytes((tmp_path / "x.gz").read_bytes()[:40])
    with pytest.raises(DataError, match="half.gz: cannot decompress"):
        read_idx(tmp_path / "half.gz")
    (tmp_path / "text.gz").write_bytes(gzip.compress(b"hello world"))
    with pytest.raises(DataError, match="not an IDX file"):
        read_idx(tmp_path / "text.gz")
    with pytest.raises(DataError, match="no such file"):
        read_idx(tmp_path / "absent.gz")


# --------------------------------------------------------------------------- real files


def test_real_files(mnist_dir):
    train, test = load_mnist("train", mnist_dir), load_mnist("test", mnist_dir)
    assert train.images.shape == (60000, 28, 28) and train.images.dtype == np.uint8
    assert test.images.shape == (10000, 28, 28) and test.labels.shape == (10000,)
    # Class counts of the original distribution (LeCun et al.): e.g. 5923 zeros and 6742 ones in train,
    # 980 zeros and 1135 ones in test.
    assert np.bincount(train.labels, minlength=10)[:2].tolist() == [5923, 6742]
    assert np.bincount(test.labels, minlength=10)[:2].tolist() == [980, 1135]
    assert train.images.max() == 255 and train.images.min() == 0


def test_spikenet_data_env_is_used(mnist_dir, monkeypatch):
    monkeypatch.setenv("SPIKENET_DATA", str(mnist_dir))
    location = locate_mnist()
    assert location.folder == mnist_dir and location.origin == "$SPIKENET_DATA"
    assert "every md5 matches" in check_mnist()[0]


def _copy(source, files, folder):
    folder.mkdir()
    for name in files:
        shutil.copy(source / name, folder / name)
    return folder


@pytest.fixture
def mnist_copy(mnist_dir, tmp_path):
    return _copy(mnist_dir, MNIST_FILES, tmp_path / "mnist")


def test_corrupted_copy_fails_its_checksum(mnist_copy):
    path = mnist_copy / "t10k-labels-idx1-ubyte.gz"
    data = bytearray(path.read_bytes())
    data[100] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte.gz: md5 [0-9a-f]{32}, expected the published ec29112d"):
        load_mnist("test", mnist_copy)


def test_truncated_and_missing_files_are_named(mnist_copy):
    path = mnist_copy / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte.gz: 1,000 bytes, expected 1,648,877 .* truncated"):
        load_mnist("test", mnist_copy)
    path.unlink()
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte.gz: missing"):
        load_mnist("test", mnist_copy)


def test_a_named_folder_never_falls_back(no_mnist_env, tmp_path, monkeypatch):
    monkeypatch.setenv("SPIKENET_DATA", str(tmp_path / "nowhere"))
    with pytest.raises(DataError, match=r"nowhere \(\$SPIKENET_DATA\): no such folder"):
        load_mnist("test")


def test_no_data_and_no_download_says_what_to_do(no_mnist_env):
    with pytest.raises(DataError, match="downloading is off; set SPIKENET_DATA"):
        load_mnist("test", download=False)


def test_unknown_split():
    with pytest.raises(DataError, match="unknown MNIST split 'validation'"):
        load_mnist("validation")


# --------------------------------------------------------------------------- download


@contextlib.contextmanager
def serve(folder):
    """An HTTP server on 127.0.0.1 serving ``folder``, on a free port."""
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def test_download_from_a_loopback_server(mnist_copy, no_mnist_env, monkeypatch):
    with serve(mnist_copy) as url:
        monkeypatch.setenv("SPIKENET_MNIST_URL", url)
        test = load_mnist("test")
    assert test.images.shape == (10000, 28, 28)
    assert test.folder == no_mnist_env
    assert all((no_mnist_env / name).is_file() for name in MNIST_FILES)
    # Now cached: found again without a server.
    monkeypatch.setenv("SPIKENET_MNIST_URL", "http://127.0.0.1:9/")
    assert locate_mnist(download=False).origin == "user cache"


def test_download_of_a_corrupt_file_is_refused(mnist_copy, no_mnist_env, monkeypatch):
    path = mnist_copy / "train-labels-idx1-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-10] + b"0123456789")
    with serve(mnist_copy) as url:
        monkeypatch.setenv("SPIKENET_MNIST_URL", url)
        with pytest.raises(DataError, match=r"train-labels-idx1-ubyte.gz: downloaded file failed its checksum"):
            load_mnist("train")
    assert not (no_mnist_env / "train-labels-idx1-ubyte.gz").exists()


def test_download_failure_says_what_to_do(no_mnist_env, tmp_path, monkeypatch):
    with serve(tmp_path) as url:  # serves nothing: 404
        monkeypatch.setenv("SPIKENET_MNIST_URL", url)
        with pytest.raises(DataError, match=r"download failed .*set SPIKENET_DATA"):
            load_mnist("test")


# --------------------------------------------------------------------------- Fashion-MNIST


def test_the_cards_offer_every_dataset():
    assert DATASET_NAMES == tuple(DATASETS)


def test_fashion_real_files(fashion_dir, monkeypatch):
    monkeypatch.setenv("SPIKENET_FASHION_DATA", str(fashion_dir))
    train, test = load_dataset("fashion_mnist", "train"), load_dataset("fashion_mnist", "test")
    assert train.images.shape == (60000, 28, 28) and test.images.shape == (10000, 28, 28)
    # Xiao et al. (2017): balanced classes, 6,000 per class in training and 1,000 in test
    assert np.bincount(train.labels).tolist() == [6000] * 10
    assert np.bincount(test.labels).tolist() == [1000] * 10
    assert locate_dataset("fashion_mnist").origin == "$SPIKENET_FASHION_DATA"
    assert "decompressed contents match" in check_dataset("fashion_mnist")[0]
    # not MNIST: the first training image is an ankle boot (label 9), MNIST's a 5
    assert train.labels[0] == 9 and DATASETS["fashion_mnist"].classes[9] == "Ankle boot"


@pytest.fixture
def fashion_copy(fashion_dir, tmp_path):
    return _copy(fashion_dir, FASHION_FILES, tmp_path / "fashion")


def test_fashion_recompressed_copy_is_accepted_and_a_changed_one_refused(fashion_copy):
    """A copy is checked by its decompressed contents: re-compressing it changes nothing, while
    one changed byte of the contents is refused."""
    path = fashion_copy / "t10k-labels-idx1-ubyte.gz"
    raw = gzip.decompress(path.read_bytes())
    path.write_bytes(gzip.compress(raw, compresslevel=1, mtime=0))
    assert load_dataset("fashion_mnist", "test", fashion_copy).labels.shape == (10000,)
    changed = bytearray(raw)
    changed[100] ^= 0x01
    path.write_bytes(gzip.compress(bytes(changed)))
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte.gz: its decompressed contents have md5 "
                                        r"[0-9a-f]{32}, expected 15d48437"):
        load_dataset("fashion_mnist", "test", fashion_copy)


def test_fashion_download_checks_zalandos_checksums(fashion_copy, no_mnist_env, monkeypatch):
    """A download is checked against the .gz md5s Zalando publishes: Debian's re-compressed files
    (the copies here) do not match them and are refused, and nothing is kept."""
    monkeypatch.delenv("SPIKENET_FASHION_DATA", raising=False)
    with serve(fashion_copy) as url:
        monkeypatch.setenv("SPIKENET_FASHION_URL", url)
        with pytest.raises(DataError, match=r"train-images-idx3-ubyte.gz: downloaded file failed its checksum"
                                            r".*SPIKENET_FASHION_URL"):
            load_dataset("fashion_mnist", "test")
    assert not (no_mnist_env.parent / "fashion-mnist" / "train-images-idx3-ubyte.gz").exists()


def test_fashion_download_from_a_loopback_server(fashion_copy, no_mnist_env, monkeypatch):
    """The download path end to end (its own cache folder and URL variable), with the registry's
    .gz md5s set to the served copies' (Zalando's own bytes are not on this machine)."""
    monkeypatch.delenv("SPIKENET_FASHION_DATA", raising=False)
    served = {name: dataclasses.replace(info, md5=hashlib.md5((fashion_copy / name).read_bytes()).hexdigest())
              for name, info in FASHION_FILES.items()}
    monkeypatch.setitem(DATASETS, "fashion_mnist", dataclasses.replace(DATASETS["fashion_mnist"], files=served))
    with serve(fashion_copy) as url:
        monkeypatch.setenv("SPIKENET_FASHION_URL", url)
        test = load_dataset("fashion_mnist", "test")
    cache = no_mnist_env.parent / "fashion-mnist"
    assert test.folder == cache and all((cache / name).is_file() for name in FASHION_FILES)
    monkeypatch.setenv("SPIKENET_FASHION_URL", "http://127.0.0.1:9/")
    assert locate_dataset("fashion_mnist", download=False).origin == "user cache"
    assert not (no_mnist_env / "train-images-idx3-ubyte.gz").exists(), "MNIST's cache is untouched"


def test_unknown_dataset_lists_the_known_ones():
    with pytest.raises(DataError, match="unknown dataset 'kmnist'; allowed: mnist, fashion_mnist"):
        load_dataset("kmnist", "test")


@pytest.mark.parametrize("card, first", [("[protocol]\ndataset = \"fashion_mnist\"\n", "T-shirt/top (0)"),
                                         ("[protocol]\n", "0")])
def test_the_confusion_matrix_names_the_runs_classes(tmp_path, card, first):
    from spikenet import figures
    from spikenet.runs import RunDir, write_csv

    run = RunDir(tmp_path)
    run.card.write_text(card)
    (tmp_path / "figures").mkdir()
    write_csv(run.figures / "confusion.csv", figures.confusion_columns(np.eye(10, 11, dtype=int) * 7))
    with figures.captured_figures() as drawn:
        figures.draw_confusion(run)
    (figure,) = drawn.values()
    labels = [t.get_text() for t in figure.axes[0].get_yticklabels()]
    assert labels[0] == first and len(labels) == 10
