"""Run folders: where one run writes its resolved card, metrics, log, checkpoints and figures.

A run folder holds::

    card.toml        the fully resolved card (load it again to repeat the run)
    run.json         provenance: versions, command, seed, timing, status
    metrics.json     the measured numbers and how they compare with the card's [expected]
    log.txt          what happened
    figures/*.png    each with the *.csv it is drawn from

Every file is written atomically (temporary file in the same folder, fsync, rename, fsync of
the folder), so a crash mid-write leaves the previous version intact, never half a file.
A run folder is claimed with an exclusive ``mkdir``; a folder that already holds files is
never written into, so a run cannot overwrite another run's results.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import math
import os
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np

from .errors import RunDirError

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


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never a part."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
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

    def close_logger(self, name: str = "spikenet.run") -> None:
        logger = logging.getLogger(f"{name}.{self.path.resolve()}")
        for handler in list(logger.handlers):
            handler.close()
            logger.removeHandler(handler)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise RunDirError(f"{path}: missing; is {path.parent} a run folder?") from None
    except json.JSONDecodeError as exc:
        raise RunDirError(f"{path}: not valid JSON ({exc})") from None


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
        if path.exists():
            if not path.is_dir():
                raise RunDirError(f"--out {path}: exists and is not a folder")
            if any(path.iterdir()):
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


def _sha256(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def save_checkpoint(run: RunDir, arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any]) -> Path:
    """Write a checkpoint so that an interruption at any moment leaves the previous or the new one.

    The arrays go to a new ``checkpoint-<n>.npz`` (written atomically); then ``checkpoint.json``,
    which names it and holds its SHA-256 and ``meta``, is replaced atomically (the commit
    point); then the older ``.npz`` is removed.
    """
    previous = _read_json(run.path / CHECKPOINT) if (run.path / CHECKPOINT).exists() else None
    number = 1 if previous is None else int(previous["number"]) + 1
    npz = run.path / f"checkpoint-{number}.npz"
    atomic_save_npz(npz, **arrays)
    atomic_write_json(run.path / CHECKPOINT, {"number": number, "arrays": npz.name, "sha256": _sha256(npz), **meta})
    if previous is not None:
        (run.path / previous["arrays"]).unlink(missing_ok=True)
    return npz


def load_checkpoint(run: RunDir) -> tuple[dict[str, np.ndarray], dict[str, Any]] | None:
    """The last checkpoint's arrays and meta, or ``None`` if the run has none.

    Raises
    ------
    RunDirError
        If the checkpoint is unreadable or its arrays do not match their recorded SHA-256.
    """
    index = run.path / CHECKPOINT
    if not index.exists():
        return None
    meta = _read_json(index)
    for key in ("number", "arrays", "sha256"):
        if key not in meta:
            raise RunDirError(f"{index}: corrupt checkpoint (no '{key}'); start a new run")
    npz = run.path / str(meta["arrays"])
    if not npz.is_file():
        raise RunDirError(f"{index}: names {npz.name}, which is missing; start a new run")
    if _sha256(npz) != meta["sha256"]:
        raise RunDirError(f"{npz}: corrupt checkpoint (SHA-256 differs from {index.name}); start a new run")
    try:
        with np.load(npz) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise RunDirError(f"{npz}: unreadable checkpoint ({exc}); start a new run") from None
    return arrays, meta
