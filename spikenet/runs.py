"""Run folders: where one run writes its resolved card, metrics, log, checkpoints and figures.

A run folder holds::

    card.toml        the fully resolved card (load it again to repeat the run)
    run.json         provenance: versions, command, seed, timing, status
    metrics.json     the measured numbers and how they compare with the card's [expected]
    log.txt          what happened
    figures/*.png    each with the *.csv it is drawn from

Every file is written atomically (temporary file in the same folder, fsync, rename, fsync of
the folder), so a crash mid-write leaves the previous version intact, never half a file; files
get the permissions the user's umask gives (as ``open`` would), so a group can share results.
A run folder is claimed with an exclusive ``mkdir``; a folder that already holds files is
never written into, so a run cannot overwrite another run's results. While a process runs or
resumes a run it holds ``run.lock`` (an ``flock``, which the system releases when the process
ends, however it ends), so a second process cannot write into the same folder.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import math
import os
import re
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np

from . import faults
from .errors import RunDirError
from .signals import deferred, raise_if_received

__all__ = [
    "RunDir",
    "create_run_dir",
    "open_run_dir",
    "atomic_write_bytes",
    "atomic_write_text",
    "atomic_write_json",
    "atomic_save_npz",
    "write_csv",
    "read_csv",
    "file_sha256",
]

DEFAULT_ROOT = Path("runs")


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # some file systems cannot open folders; the rename is still atomic
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _umask() -> int:
    """The process's umask (reading it means setting it: put it straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never a part.

    The file gets mode ``0o666 & ~umask``, as a plain ``open(path, "w")`` would give it
    (:func:`tempfile.mkstemp` alone would make it private, 0600).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_folder(path.parent)
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """:func:`atomic_write_bytes` for UTF-8 text."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def _finite(value: Any) -> Any:
    """JSON has no NaN or infinity: write them as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def atomic_write_json(path: str | os.PathLike, obj: Mapping[str, Any]) -> Path:
    """Write ``obj`` as indented JSON, atomically (NaN and infinity become ``null``)."""
    text = json.dumps(_finite(json.loads(json.dumps(obj, default=_json_default))), indent=2, sort_keys=False)
    return atomic_write_text(path, text + "\n")


def atomic_save_npz(path: str | os.PathLike, **arrays: np.ndarray) -> Path:
    """Save arrays to a compressed ``.npz`` checkpoint, atomically."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return atomic_write_bytes(path, buffer.getvalue())


def write_csv(path: str | os.PathLike, columns: Mapping[str, Iterable[Any]]) -> Path:
    """Write equal-length columns to a CSV file, atomically. Put units in the names (``rate_Hz``)."""
    names = list(columns)
    data = [list(col) for col in columns.values()]
    lengths = {len(col) for col in data}
    if len(lengths) > 1:
        raise ValueError(f"columns of different lengths: {dict(zip(names, map(len, data)))}")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(names)
    for row in zip(*data):
        writer.writerow([repr(float(v)) if isinstance(v, (float, np.floating)) else v for v in row])
    return atomic_write_text(path, out.getvalue())


def read_csv(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read a CSV written by :func:`write_csv`; numeric columns become float arrays."""
    path = Path(path)
    try:
        with path.open(newline="") as fh:
            rows = list(csv.reader(fh))
    except FileNotFoundError:
        raise RunDirError(f"{path}: missing; the run did not finish writing this figure's data") from None
    if not rows:
        raise RunDirError(f"{path}: empty")
    header, body = rows[0], rows[1:]
    columns: dict[str, np.ndarray] = {}
    for i, name in enumerate(header):
        values = [row[i] for row in body]
        try:
            columns[name] = np.array([float(v) for v in values])
        except ValueError:
            columns[name] = np.array(values)
    return columns


@dataclass(frozen=True)
class RunDir:
    """A run folder and the names of the files in it."""

    path: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", Path(self.path))  # a str is accepted too

    @property
    def card(self) -> Path:
        return self.path / "card.toml"

    @property
    def metrics(self) -> Path:
        return self.path / "metrics.json"

    @property
    def info(self) -> Path:
        return self.path / "run.json"

    @property
    def log(self) -> Path:
        return self.path / "log.txt"

    @property
    def figures(self) -> Path:
        return self.path / "figures"

    def figure(self, name: str) -> Path:
        """Path of ``figures/<name>.png`` (its data: ``figures/<name>.csv``)."""
        return self.figures / f"{name}.png"

    def read_metrics(self) -> dict[str, Any]:
        return _read_json(self.metrics)

    def read_info(self) -> dict[str, Any]:
        return _read_json(self.info)

    def logger(self, name: str = "spikenet.run") -> logging.Logger:
        """A logger that appends to ``log.txt`` (one handler per folder, however often called)."""
        logger = logging.getLogger(f"{name}.{self.path.resolve()}")
        logger.setLevel(logging.INFO)
        logger.propagate = False
        if not logger.handlers:
            handler = logging.FileHandler(self.log, encoding="utf-8")
            handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
            logger.addHandler(handler)
        return logger

    @property
    def lock_file(self) -> Path:
        return self.path / "run.lock"

    def lock(self) -> "RunLock":
        """Hold this folder for one process (``with run.lock(): ...``); a second one gets a
        :class:`RunDirError` ("in use") instead of writing into it."""
        return RunLock(self)

    def close_logger(self, name: str = "spikenet.run") -> None:
        logger = logging.getLogger(f"{name}.{self.path.resolve()}")
        for handler in list(logger.handlers):
            handler.close()
            logger.removeHandler(handler)


class RunLock:
    """An exclusive lock on a run folder (``run.lock``, an ``flock`` through :mod:`filelock`).

    The system releases it when the holding process ends, even by ``kill -9``: a stale lock file
    never blocks a resume. Re-entrant within a process (a sweep point run in the sweep's process).
    """

    _held: dict[Path, int] = {}

    def __init__(self, run: RunDir):
        from filelock import FileLock

        self.run = run
        self.key = run.path.resolve()
        self._lock = FileLock(str(run.lock_file), timeout=0)

    def __enter__(self) -> "RunLock":
        from filelock import Timeout

        if RunLock._held.get(self.key):
            RunLock._held[self.key] += 1
            return self
        try:
            self._lock.acquire()
        except Timeout:
            raise RunDirError(f"{self.run.path}: in use by another spikenet process (it holds {self.run.lock_file.name}); "
                              "wait for it to end, or stop it") from None
        except OSError as exc:
            raise RunDirError(f"{self.run.path}: cannot lock ({exc.strerror or exc})") from None
        RunLock._held[self.key] = 1
        return self

    def __exit__(self, *exc: Any) -> None:
        RunLock._held[self.key] -= 1
        if RunLock._held[self.key] == 0:
            del RunLock._held[self.key]
            self._lock.release()


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 of a file's bytes (hex)."""
    with Path(path).open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise RunDirError(f"{path}: missing; is {path.parent} a run folder?") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RunDirError(f"{path}: not valid JSON ({exc})") from None
    except OSError as exc:
        raise RunDirError(f"{path}: cannot read ({exc.strerror or exc})") from None


def create_run_dir(name: str, out: str | os.PathLike | None = None, *, root: str | os.PathLike = DEFAULT_ROOT) -> RunDir:
    """Claim a new, empty run folder.

    Parameters
    ----------
    name
        The experiment's name, used for the default folder ``<root>/<name>-<YYYYmmdd-HHMMSS>``.
    out
        Write into exactly this folder. It may exist only if it is empty.
    root
        Parent of default folders.

    Raises
    ------
    RunDirError
        If ``out`` already holds files (another run's, or anything else).
    """
    if out is not None:
        path = Path(out)
        try:
            exists = path.exists()
        except OSError as exc:  # a name too long for the file system, a component that is a file
            raise RunDirError(f"--out {path}: not a usable folder name ({exc.strerror or exc})") from None
        if exists:
            if not path.is_dir():
                raise RunDirError(f"--out {path}: exists and is not a folder")
            if any(p.name != "run.lock" for p in path.iterdir()):  # a lock left by a process that ended
                what = "another run's folder" if (path / "card.toml").exists() else "a folder that holds files"
                raise RunDirError(f"--out {path}: {what}; choose a new folder (a run never overwrites another)")
            return RunDir(path)
        try:
            path.mkdir(parents=True)
        except FileExistsError:
            raise RunDirError(f"--out {path}: created by someone else just now; choose a new folder") from None
        except OSError as exc:
            raise RunDirError(f"--out {path}: cannot create ({exc.strerror})") from None
        return RunDir(path)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    Path(root).mkdir(parents=True, exist_ok=True)
    for attempt in range(1, 1000):
        suffix = "" if attempt == 1 else f"-{attempt}"
        path = Path(root) / f"{name}-{stamp}{suffix}"
        try:
            path.mkdir()  # exclusive: fails if it exists, so two runs never share a folder
        except FileExistsError:
            continue
        return RunDir(path)
    raise RunDirError(f"{root}: could not find a free folder name for {name}-{stamp}")


def open_run_dir(path: str | os.PathLike) -> RunDir:
    """An existing run folder (it must have a ``card.toml``)."""
    run = RunDir(Path(path))
    if not run.path.is_dir():
        raise RunDirError(f"{run.path}: no such run folder")
    if not run.card.is_file():
        raise RunDirError(f"{run.path}: not a run folder (no card.toml)")
    return run


CHECKPOINT = "checkpoint.json"
"""A run folder's checkpoint: this JSON names the ``.npz`` with the arrays and its SHA-256."""

_CHECKPOINT_NPZ = re.compile(r"checkpoint-([0-9]+)\.npz")
"""The only names a checkpoint's arrays may have: files in the run folder itself."""


class CheckpointData(dict):
    """A checkpoint's arrays or meta: a missing key is a :class:`RunDirError` naming the file."""

    def __init__(self, data: Mapping[str, Any], where: Path):
        super().__init__(data)
        self.where = where

    def __missing__(self, key: str) -> Any:
        raise RunDirError(f"{self.where}: corrupt checkpoint (it has no {key!r}); start a new run")


def _sha256(path: Path) -> str:
    return file_sha256(path)


def save_checkpoint(run: RunDir, arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any]) -> Path:
    """Write a checkpoint so that an interruption at any moment leaves the previous or the new one.

    The arrays go to a new ``checkpoint-<n>.npz`` (written atomically); then ``checkpoint.json``,
    which names it and holds its SHA-256, the SHA-256 of the run's ``card.toml`` and ``meta``, is
    replaced atomically (the commit point); then the older ``.npz`` is removed. SIGINT and SIGTERM
    wait until all of it is done (:func:`spikenet.signals.deferred`). A signal taken since the run
    began and lost on the way (:func:`spikenet.signals.raise_if_received`) stops it here, before
    the chunk is counted.
    """
    raise_if_received()
    with deferred():
        previous = _read_json(run.path / CHECKPOINT) if (run.path / CHECKPOINT).exists() else None
        number = 1 if previous is None else int(previous["number"]) + 1
        npz = run.path / f"checkpoint-{number}.npz"
        atomic_save_npz(npz, **arrays)
        faults.moment("checkpoint_write")
        atomic_write_json(run.path / CHECKPOINT, {"number": number, "arrays": npz.name, "sha256": _sha256(npz),
                                                  "card_sha256": file_sha256(run.card), **meta})
        for stale in run.path.glob("checkpoint-*.npz"):  # the previous one, and any a crash left behind
            if stale != npz and _CHECKPOINT_NPZ.fullmatch(stale.name):
                stale.unlink(missing_ok=True)
        for partial in run.path.glob(".checkpoint*.tmp"):  # half-written by a process that was killed
            partial.unlink(missing_ok=True)
    return npz


def load_checkpoint(run: RunDir) -> tuple[dict[str, np.ndarray], dict[str, Any]] | None:
    """The last checkpoint's arrays and meta, or ``None`` if the run has none.

    Both are :class:`CheckpointData`: a key the checkpoint lacks is a :class:`RunDirError`.

    Raises
    ------
    RunDirError
        If the checkpoint is unreadable, names a file outside the run folder, does not match its
        recorded SHA-256, was made from another ``card.toml`` than the folder's, or if the folder
        holds checkpoint arrays but no ``checkpoint.json`` (which of them is complete cannot be told).
    """
    index = run.path / CHECKPOINT
    if not index.exists():
        orphans = sorted(p.name for p in run.path.glob("checkpoint-*.npz"))
        if orphans:
            raise RunDirError(f"{run.path}: holds {', '.join(orphans)} but no {CHECKPOINT}, so which checkpoint is "
                              "complete cannot be told; start a new run")
        return None
    meta = _read_json(index)
    if not isinstance(meta, dict):
        raise RunDirError(f"{index}: corrupt checkpoint (not a JSON object); start a new run")
    for key in ("number", "arrays", "sha256"):
        if key not in meta:
            raise RunDirError(f"{index}: corrupt checkpoint (no '{key}'); start a new run")
    if not isinstance(meta["arrays"], str) or not _CHECKPOINT_NPZ.fullmatch(meta["arrays"]):
        raise RunDirError(f"{index}: names {meta['arrays']!r}, not a checkpoint file of this folder "
                          "(checkpoint-N.npz); start a new run")
    card_hash = meta.get("card_sha256")
    if card_hash is not None and run.card.is_file() and file_sha256(run.card) != card_hash:
        raise RunDirError(f"{run.card}: changed since this checkpoint was written (SHA-256 differs from "
                          f"{index.name}); a run resumes only with the card it started with: start a new run")
    npz = run.path / meta["arrays"]
    if not npz.is_file():
        raise RunDirError(f"{index}: names {npz.name}, which is missing; start a new run")
    if _sha256(npz) != meta["sha256"]:
        raise RunDirError(f"{npz}: corrupt checkpoint (SHA-256 differs from {index.name}); start a new run")
    try:
        with np.load(npz) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise RunDirError(f"{npz}: unreadable checkpoint ({exc}); start a new run") from None
    return CheckpointData(arrays, npz), CheckpointData(meta, index)
