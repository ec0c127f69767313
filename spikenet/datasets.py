"""MNIST from the four original gzipped IDX files, verified against their published md5 sums.

Where the files are looked for, in order (the first that is *asked for* must work; a folder
that was named but is broken is an error, never a silent fall-back to the next place):

1. an explicit folder (``load_mnist(path=...)``, ``spikenet data check --path``);
2. ``$SPIKENET_DATA``;
3. the user cache (``pooch.os_cache("spikenet")/mnist``, or ``$SPIKENET_CACHE/mnist``),
   downloading the missing files into it with pooch, which checks each md5 before keeping it.
   ``$SPIKENET_MNIST_URL`` replaces the download address (a mirror, or a test server).

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

__all__ = ["MNIST_FILES", "Mnist", "MnistLocation", "read_idx", "locate_mnist", "load_mnist", "check_mnist"]

DATA_ENV = "SPIKENET_DATA"
CACHE_ENV = "SPIKENET_CACHE"
URL_ENV = "SPIKENET_MNIST_URL"
DEFAULT_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"
"""A mirror of http://yann.lecun.com/exdb/mnist/ (the same bytes; used by torchvision),
which often refuses automated downloads."""


@dataclass(frozen=True)
class _FileInfo:
    md5: str
    size: int
    shape: tuple[int, ...]


MNIST_FILES: dict[str, _FileInfo] = {
    # Published md5 sums and sizes of the original distribution (shared/data/mnist/SOURCE.md).
    "train-images-idx3-ubyte.gz": _FileInfo("f68b3c2dcbeaaa9fbdd348bbdeb94873", 9_912_422, (60000, 28, 28)),
    "train-labels-idx1-ubyte.gz": _FileInfo("d53e105ee54ea40749a09fcbcd1e9432", 28_881, (60000,)),
    "t10k-images-idx3-ubyte.gz": _FileInfo("9fb629c4189551a2d022fa330f9573f3", 1_648_877, (10000, 28, 28)),
    "t10k-labels-idx1-ubyte.gz": _FileInfo("ec29112dd5afa0611ce80d1b7f02629c", 4_542, (10000,)),
}
_SPLITS = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
_WHAT_TO_DO = (
    f"set {DATA_ENV} to a folder holding the four original MNIST .gz files, "
    "or delete the bad file so that it is downloaded again"
)

# IDX type codes (LeCun's format description): only unsigned bytes occur in MNIST, but the
# reader handles all of them so that it can be tested on any IDX file.
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


@dataclass(frozen=True)
class Mnist:
    """One split of MNIST: ``images`` (N, 28, 28) uint8 in 0..255 and ``labels`` (N,) uint8."""

    images: np.ndarray
    labels: np.ndarray
    split: str
    folder: Path


@dataclass(frozen=True)
class MnistLocation:
    """Where the MNIST files were found, and why there."""

    folder: Path
    origin: str
    """``"argument"``, ``"$SPIKENET_DATA"``, ``"user cache"`` or ``"downloaded"``."""


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


def _md5(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "md5").hexdigest()


def _verify(folder: Path, name: str) -> None:
    info = MNIST_FILES[name]
    path = folder / name
    if not path.is_file():
        raise DataError(f"{path}: missing (one of the four MNIST files: {', '.join(MNIST_FILES)}); {_WHAT_TO_DO}")
    size = path.stat().st_size
    if size != info.size:
        raise DataError(
            f"{path}: {size:,} bytes, expected {info.size:,} (md5 {info.md5}); "
            f"the file is {'truncated' if size < info.size else 'not the original'}: {_WHAT_TO_DO}"
        )
    digest = _md5(path)
    if digest != info.md5:
        raise DataError(f"{path}: md5 {digest}, expected the published {info.md5}; the file is corrupt: {_WHAT_TO_DO}")


def _verify_folder(folder: Path, why: str) -> None:
    if not folder.is_dir():
        raise DataError(f"{folder} ({why}): no such folder; it must hold the four MNIST files {', '.join(MNIST_FILES)}")
    for name in MNIST_FILES:
        _verify(folder, name)


def _cache_folder() -> Path:
    import pooch

    base = os.environ.get(CACHE_ENV)
    return (Path(base).expanduser() if base else Path(pooch.os_cache("spikenet"))) / "mnist"


def _download(folder: Path) -> None:
    """Fetch the missing files into ``folder`` with pooch; each is kept only if its md5 matches."""
    import pooch

    url = os.environ.get(URL_ENV, DEFAULT_URL)
    if not url.endswith("/"):
        url += "/"
    fetcher = pooch.create(
        path=folder,
        base_url=url,
        registry={name: f"md5:{info.md5}" for name, info in MNIST_FILES.items()},
        retry_if_failed=1,
    )
    for name in MNIST_FILES:
        try:
            fetcher.fetch(name, progressbar=False)
        except ValueError as exc:  # pooch: hash mismatch after download
            raise DataError(f"{url}{name}: downloaded file failed its checksum ({exc}); try another ${URL_ENV}") from None
        except Exception as exc:  # requests' connection and HTTP errors
            raise DataError(
                f"{url}{name}: download failed ({type(exc).__name__}: {exc}); "
                f"without internet, set {DATA_ENV} to a folder holding the four original MNIST .gz files"
            ) from None


def locate_mnist(path: str | os.PathLike | None = None, *, download: bool = True) -> MnistLocation:
    """Find (and if needed download) the four MNIST files and verify every checksum.

    Parameters
    ----------
    path
        A folder holding the four files; if given, it must be complete and correct.
    download
        Whether a missing file in the user cache may be downloaded.

    Raises
    ------
    DataError
        Saying which file is missing or corrupt, what was expected, and what to do.
    """
    if path is not None:
        folder = Path(path).expanduser()
        _verify_folder(folder, "given path")
        return MnistLocation(folder, "argument")
    env = os.environ.get(DATA_ENV)
    if env:
        folder = Path(env).expanduser()
        _verify_folder(folder, f"${DATA_ENV}")
        return MnistLocation(folder, f"${DATA_ENV}")
    folder = _cache_folder()
    missing = [name for name in MNIST_FILES if not (folder / name).is_file()]
    if missing:
        if not download:
            raise DataError(
                f"MNIST is not in {folder} (missing {', '.join(missing)}) and downloading is off; "
                f"set {DATA_ENV} to a folder holding the four original MNIST .gz files, "
                "or download them with `spikenet data check --download`"
            )
        _download(folder)
        _verify_folder(folder, "user cache")
        return MnistLocation(folder, "downloaded")
    _verify_folder(folder, "user cache")
    return MnistLocation(folder, "user cache")


def load_mnist(split: str = "train", path: str | os.PathLike | None = None, *, download: bool = True) -> Mnist:
    """Load one split of MNIST, verified against the published checksums.

    Parameters
    ----------
    split
        ``"train"`` (60,000 images) or ``"test"`` (10,000).
    path, download
        As in :func:`locate_mnist`.
    """
    if split not in _SPLITS:
        raise DataError(f"unknown MNIST split {split!r}; allowed: {', '.join(_SPLITS)}")
    location = locate_mnist(path, download=download)
    images_name, labels_name = _SPLITS[split]
    images = read_idx(location.folder / images_name)
    labels = read_idx(location.folder / labels_name)
    for name, array in ((images_name, images), (labels_name, labels)):
        if array.shape != MNIST_FILES[name].shape:
            raise DataError(f"{location.folder / name}: shape {array.shape}, expected {MNIST_FILES[name].shape}")
    return Mnist(images, labels, split, location.folder)


def check_mnist(path: str | os.PathLike | None = None, *, download: bool = False) -> list[str]:
    """Verify the four files and describe them, one line each, for ``spikenet data check``."""
    location = locate_mnist(path, download=download)
    lines = [f"MNIST found in {location.folder} ({location.origin}); every md5 matches the published value"]
    for name, info in MNIST_FILES.items():
        lines.append(f"  {name:28s} {info.size:>10,} bytes  md5 {info.md5}  {info.shape}")
    return lines
