"""MNIST and Fashion-MNIST from their four gzipped IDX files, each verified before use.

Both datasets have the same layout (60,000 training and 10,000 test images of 28 x 28 grey
pixels, 10 classes) and are found the same way. Where the files are looked for, in order (the
first that is *asked for* must work; a folder that was named but is broken is an error, never a
silent fall-back to the next place):

1. an explicit folder (``load_dataset(..., path=...)``, ``spikenet data check --path``);
2. the dataset's environment variable: ``$SPIKENET_DATA`` for MNIST, ``$SPIKENET_FASHION_DATA``
   for Fashion-MNIST;
3. the user cache (``pooch.os_cache("spikenet")/<folder>``, or ``$SPIKENET_CACHE/<folder>``),
   downloading the missing files into it with pooch, which checks each published md5 before
   keeping it. ``$SPIKENET_MNIST_URL`` / ``$SPIKENET_FASHION_URL`` replace the download address.

MNIST's files are checked against the md5 and size of the original distribution. Fashion-MNIST's
are checked by the md5 of their *decompressed* contents: re-packaged copies (Debian's
``dataset-fashion-mnist``) rewrote the gzip headers, so only the contents are the same everywhere;
a download is checked against Zalando's published ``.gz`` md5s.

The IDX reader is written here (a 30-line format: magic number, dimensions, bytes) so that
the core needs no torchvision; it checks the header against the file's length, so a
truncated file is reported as such.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import DataError

__all__ = ["DATASETS", "MNIST_FILES", "Dataset", "Mnist", "MnistLocation", "read_idx", "locate_dataset",
           "load_dataset", "check_dataset", "locate_mnist", "load_mnist", "check_mnist"]

DATA_ENV = "SPIKENET_DATA"
CACHE_ENV = "SPIKENET_CACHE"
URL_ENV = "SPIKENET_MNIST_URL"
DEFAULT_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"
"""A mirror of http://yann.lecun.com/exdb/mnist/ (the same bytes; used by torchvision),
which often refuses automated downloads."""


@dataclass(frozen=True)
class _FileInfo:
    md5: str
    """The published md5 of the ``.gz`` file (what a download is checked against)."""
    size: int | None
    """Its size in bytes, where every copy has the same (the original MNIST files)."""
    shape: tuple[int, ...]
    content_md5: str | None = None
    """The md5 of the decompressed IDX file: what a local copy is checked against when
    re-packaged copies have other ``.gz`` bytes (Fashion-MNIST)."""


@dataclass(frozen=True)
class Dataset:
    """One IDX dataset with MNIST's layout: its files, checksums, and where it is looked for."""

    name: str
    """The registry name a card gives (``protocol.dataset``)."""
    title: str
    """How messages name it."""
    env: str
    """The environment variable naming a folder that holds its files."""
    url_env: str
    default_url: str
    cache_folder: str
    """Its folder in the user cache."""
    files: dict[str, _FileInfo]
    classes: tuple[str, ...]
    """The class names in label order."""
    source: str

    @property
    def what_to_do(self) -> str:
        return (f"set {self.env} to a folder holding the four {self.title} .gz files, "
                "or delete the bad file so that it is downloaded again")


_SPLITS = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}

MNIST_FILES: dict[str, _FileInfo] = {
    # Published md5 sums and sizes of the original distribution (shared/data/mnist/SOURCE.md).
    "train-images-idx3-ubyte.gz": _FileInfo("f68b3c2dcbeaaa9fbdd348bbdeb94873", 9_912_422, (60000, 28, 28)),
    "train-labels-idx1-ubyte.gz": _FileInfo("d53e105ee54ea40749a09fcbcd1e9432", 28_881, (60000,)),
    "t10k-images-idx3-ubyte.gz": _FileInfo("9fb629c4189551a2d022fa330f9573f3", 1_648_877, (10000, 28, 28)),
    "t10k-labels-idx1-ubyte.gz": _FileInfo("ec29112dd5afa0611ce80d1b7f02629c", 4_542, (10000,)),
}

FASHION_FILES: dict[str, _FileInfo] = {
    # Zalando's published .gz md5s (zalandoresearch/fashion-mnist README), and the md5 of each
    # decompressed file (shared/data/fashion-mnist/SOURCE.md: the same for Zalando's and Debian's copies).
    "train-images-idx3-ubyte.gz": _FileInfo("8d4fb7e6c68d591d4c3dfef9ec88bf0d", None, (60000, 28, 28),
                                            "f4a8712d7a061bf5bd6d2ca38dc4d50a"),
    "train-labels-idx1-ubyte.gz": _FileInfo("25c81989df183df01b3e8a0aad5dffbe", None, (60000,),
                                            "9018921c3c673c538a1fc5bad174d6f9"),
    "t10k-images-idx3-ubyte.gz": _FileInfo("bef4ecab320f06d8554ea6380940ec79", None, (10000, 28, 28),
                                           "8181f5470baa50b63fa0f6fddb340f0a"),
    "t10k-labels-idx1-ubyte.gz": _FileInfo("bb300cfdad3c16e7a12a480ee83cd310", None, (10000,),
                                           "15d484375f8d13e6eb1aabb0c3f46965"),
}

DATASETS: dict[str, Dataset] = {
    "mnist": Dataset("mnist", "MNIST", DATA_ENV, URL_ENV, DEFAULT_URL, "mnist", MNIST_FILES,
                     tuple(str(d) for d in range(10)),
                     "LeCun, Cortes & Burges, the MNIST database (http://yann.lecun.com/exdb/mnist/)"),
    "fashion_mnist": Dataset(
        "fashion_mnist", "Fashion-MNIST", "SPIKENET_FASHION_DATA", "SPIKENET_FASHION_URL",
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/", "fashion-mnist", FASHION_FILES,
        ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
        "Xiao, Rasul & Vollgraf, arXiv:1708.07747 (2017), zalandoresearch/fashion-mnist"),
}
"""Every dataset by the name a card gives (``protocol.dataset``)."""

_MNIST = DATASETS["mnist"]
_WHAT_TO_DO = _MNIST.what_to_do

# IDX type codes (LeCun's format description): only unsigned bytes occur in MNIST, but the
# reader handles all of them so that it can be tested on any IDX file.
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


@dataclass(frozen=True)
class Mnist:
    """One split of a dataset: ``images`` (N, 28, 28) uint8 in 0..255 and ``labels`` (N,) uint8."""

    images: np.ndarray
    labels: np.ndarray
    split: str
    folder: Path
    dataset: str = "mnist"
    """The registry name of the dataset (:data:`DATASETS`)."""


@dataclass(frozen=True)
class MnistLocation:
    """Where a dataset's files were found, and why there."""

    folder: Path
    origin: str
    """``"argument"``, ``"$SPIKENET_DATA"`` (the dataset's variable), ``"user cache"`` or ``"downloaded"``."""


def dataset(name: str) -> Dataset:
    """The :class:`Dataset` of a registry name; an unknown name is a :class:`DataError` listing them."""
    try:
        return DATASETS[name]
    except KeyError:
        raise DataError(f"unknown dataset {name!r}; allowed: {', '.join(DATASETS)}") from None


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (gzipped if its name ends in ``.gz``) into a NumPy array.

    Raises
    ------
    DataError
        If the file is missing, not gzip when it should be, has a bad magic number, or is
        shorter or longer than its header says.
    """
    path = Path(path)
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: no such file; {_WHAT_TO_DO}") from None
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"{path}: cannot decompress ({exc}); the file is corrupt or truncated: {_WHAT_TO_DO}") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise DataError(f"{path}: not an IDX file (bad magic number {raw[:4].hex() or 'empty'}); {_WHAT_TO_DO}")
    dtype, ndim = np.dtype(_IDX_TYPES[raw[2]]), raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{path}: truncated IDX header; {_WHAT_TO_DO}")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) != expected:
        raise DataError(
            f"{path}: holds {len(raw):,} bytes but its header says {shape} needs {expected:,}; "
            f"the file is corrupt or truncated: {_WHAT_TO_DO}"
        )
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def _md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def _verify(data: Dataset, folder: Path, name: str) -> None:
    info = data.files[name]
    path = folder / name
    if not path.is_file():
        raise DataError(f"{path}: missing (one of the four {data.title} files: {', '.join(data.files)}); "
                        f"{data.what_to_do}")
    size = path.stat().st_size
    if info.size is not None and size != info.size:
        raise DataError(
            f"{path}: {size:,} bytes, expected {info.size:,} (md5 {info.md5}); "
            f"the file is {'truncated' if size < info.size else 'not the original'}: {data.what_to_do}"
        )
    raw = path.read_bytes()
    if info.content_md5 is None:
        digest = _md5(raw)
        if digest != info.md5:
            raise DataError(f"{path}: md5 {digest}, expected the published {info.md5}; the file is corrupt: "
                            f"{data.what_to_do}")
        return
    try:
        digest = _md5(gzip.decompress(raw))
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"{path}: cannot decompress ({exc}); the file is corrupt or truncated: {data.what_to_do}") from None
    if digest != info.content_md5:
        raise DataError(f"{path}: its decompressed contents have md5 {digest}, expected {info.content_md5} "
                        f"(the same for every copy of {data.title}); the file is corrupt: {data.what_to_do}")


def _verify_folder(data: Dataset, folder: Path, why: str) -> None:
    if not folder.is_dir():
        raise DataError(f"{folder} ({why}): no such folder; it must hold the four {data.title} files "
                        f"{', '.join(data.files)}")
    for name in data.files:
        _verify(data, folder, name)


def _cache_folder(data: Dataset = _MNIST) -> Path:
    import pooch

    base = os.environ.get(CACHE_ENV)
    return (Path(base).expanduser() if base else Path(pooch.os_cache("spikenet"))) / data.cache_folder


def _download(data: Dataset, folder: Path) -> None:
    """Fetch the missing files into ``folder`` with pooch; each is kept only if its md5 matches."""
    import pooch

    url = os.environ.get(data.url_env, data.default_url)
    if not url.endswith("/"):
        url += "/"
    fetcher = pooch.create(
        path=folder,
        base_url=url,
        registry={name: f"md5:{info.md5}" for name, info in data.files.items()},
        retry_if_failed=1,
    )
    for name in data.files:
        try:
            fetcher.fetch(name, progressbar=False)
        except ValueError as exc:  # pooch: hash mismatch after download
            raise DataError(f"{url}{name}: downloaded file failed its checksum ({exc}); try another ${data.url_env}") from None
        except Exception as exc:  # requests' connection and HTTP errors
            raise DataError(
                f"{url}{name}: download failed ({type(exc).__name__}: {exc}); "
                f"without internet, set {data.env} to a folder holding the four {data.title} .gz files"
            ) from None


def locate_dataset(name: str = "mnist", path: str | os.PathLike | None = None, *,
                   download: bool = True) -> MnistLocation:
    """Find (and if needed download) a dataset's four files and verify every checksum.

    Parameters
    ----------
    name
        The dataset (:data:`DATASETS`): ``"mnist"`` or ``"fashion_mnist"``.
    path
        A folder holding the four files; if given, it must be complete and correct.
    download
        Whether a missing file in the user cache may be downloaded.

    Raises
    ------
    DataError
        Saying which file is missing or corrupt, what was expected, and what to do.
    """
    data = dataset(name)
    if path is not None:
        folder = Path(path).expanduser()
        _verify_folder(data, folder, "given path")
        return MnistLocation(folder, "argument")
    env = os.environ.get(data.env)
    if env:
        folder = Path(env).expanduser()
        _verify_folder(data, folder, f"${data.env}")
        return MnistLocation(folder, f"${data.env}")
    folder = _cache_folder(data)
    missing = [file for file in data.files if not (folder / file).is_file()]
    if missing:
        if not download:
            raise DataError(
                f"{data.title} is not in {folder} (missing {', '.join(missing)}) and downloading is off; "
                f"set {data.env} to a folder holding the four {data.title} .gz files, "
                f"or download them with `spikenet data check --dataset {data.name} --download`"
            )
        _download(data, folder)
        _verify_folder(data, folder, "user cache")
        return MnistLocation(folder, "downloaded")
    _verify_folder(data, folder, "user cache")
    return MnistLocation(folder, "user cache")


def load_dataset(name: str = "mnist", split: str = "train", path: str | os.PathLike | None = None, *,
                 download: bool = True) -> Mnist:
    """Load one split of a dataset, verified against its checksums.

    Parameters
    ----------
    name
        ``"mnist"`` or ``"fashion_mnist"`` (:data:`DATASETS`).
    split
        ``"train"`` (60,000 images) or ``"test"`` (10,000).
    path, download
        As in :func:`locate_dataset`.
    """
    data = dataset(name)
    if split not in _SPLITS:
        raise DataError(f"unknown {data.title} split {split!r}; allowed: {', '.join(_SPLITS)}")
    location = locate_dataset(name, path, download=download)
    images_name, labels_name = _SPLITS[split]
    images = read_idx(location.folder / images_name)
    labels = read_idx(location.folder / labels_name)
    for file, array in ((images_name, images), (labels_name, labels)):
        if array.shape != data.files[file].shape:
            raise DataError(f"{location.folder / file}: shape {array.shape}, expected {data.files[file].shape}")
    return Mnist(images, labels, split, location.folder, data.name)


def check_dataset(name: str = "mnist", path: str | os.PathLike | None = None, *, download: bool = False) -> list[str]:
    """Verify a dataset's four files and describe them, one line each, for ``spikenet data check``."""
    data = dataset(name)
    location = locate_dataset(name, path, download=download)
    what = ("every md5 matches the published value" if all(i.content_md5 is None for i in data.files.values())
            else "every file's decompressed contents match their published md5")
    lines = [f"{data.title} found in {location.folder} ({location.origin}); {what}"]
    for file, info in data.files.items():
        size = (location.folder / file).stat().st_size
        digest = info.content_md5 or info.md5
        lines.append(f"  {file:28s} {size:>10,} bytes  md5 {digest}{' (contents)' if info.content_md5 else ''}  "
                     f"{info.shape}")
    return lines


def locate_mnist(path: str | os.PathLike | None = None, *, download: bool = True) -> MnistLocation:
    """:func:`locate_dataset` for MNIST."""
    return locate_dataset("mnist", path, download=download)


def load_mnist(split: str = "train", path: str | os.PathLike | None = None, *, download: bool = True) -> Mnist:
    """:func:`load_dataset` for MNIST: ``split`` ``"train"`` (60,000 images) or ``"test"`` (10,000)."""
    return load_dataset("mnist", split, path, download=download)


def check_mnist(path: str | os.PathLike | None = None, *, download: bool = False) -> list[str]:
    """:func:`check_dataset` for MNIST."""
    return check_dataset("mnist", path, download=download)
