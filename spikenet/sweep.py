"""Many runs of experiment cards (the points of a sweep), on Dask.

Each point is one ordinary run (a resolved card, its own run folder), so a sweep
is as reproducible and resumable as its runs: a point whose folder holds a complete run is not
run again, an interrupted one is resumed from its checkpoint, a missing one is started. A folder
whose run was made from a different resolved card (other values, another device) is an error,
never silently reused.

Points run on a Dask ``LocalCluster`` (one single-threaded worker process per core: a Brian2
simulation uses one core, see the engine notes) unless ``scheduler`` names a running Dask
scheduler (``tcp://host:8786``; its workers need spikenet, the cards and ``SPIKENET_DATA``).
With one worker and no scheduler the points run one after the other in this process, without
Dask.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .catalog import Card, card_to_toml
from .errors import SpikenetError

__all__ = ["Point", "run_point", "run_points", "check_points", "SCHEDULER_ENV"]

SCHEDULER_ENV = "SPIKENET_DASK_SCHEDULER"
"""Address of a Dask scheduler to run sweeps on, when the caller names none."""


@dataclass(frozen=True)
class Point:
    """One run of a sweep: the resolved experiment ``card`` it runs, in ``root / name``.

    Build the card with :func:`spikenet.catalog.derive` from a card the sweep's own card embeds,
    or with :func:`spikenet.catalog.load_card`; it is sent to the worker as its resolved TOML, so
    a worker needs no catalog.
    """

    name: str
    card: Card


def run_point(card_toml: str, folder: str | os.PathLike) -> dict[str, Any]:
    """Run (or resume, or just read) one point; returns its ``metrics.json``. Runs in a Dask worker.

    ``card_toml`` is the point's resolved card (:func:`spikenet.catalog.card_to_toml`).
    """
    import tomllib

    from .catalog import card_from_mapping
    from .experiments import resume_experiment, run_experiment
    from .runs import RunDir

    from . import faults

    faults.moment("sweep_point")
    run = RunDir(Path(folder))
    loaded = card_from_mapping(tomllib.loads(card_toml), "experiments", origin=f"sweep point {run.path.name}")
    if not run.info.exists():
        return run_experiment(loaded, run.path, progress=False).read_metrics()
    with run.lock():  # held through the resume or the fresh start (the lock is re-entrant)
        if run.card.exists():
            _check_same_card(run, loaded)
        status = run.read_info().get("status")
        if status == "complete":
            return run.read_metrics()
        checkpoints = (run.path / "checkpoint.json").exists() or any(run.path.glob("checkpoint-*.npz"))
        if status in ("interrupted", "running", "failed") and checkpoints:
            return resume_experiment(run.path, progress=False).read_metrics()
        # a short run that left no checkpoint: start it again in a clean folder
        for path in sorted(run.path.rglob("*"), reverse=True):
            if path != run.lock_file:
                path.unlink() if path.is_file() or path.is_symlink() else path.rmdir()
        return run_experiment(loaded, run.path, progress=False).read_metrics()


def check_points(points: list[Point], *, workers: int = 1, runner_checks: bool = True) -> None:
    """Check every point's card as ``spikenet run`` would, before the sweep writes anything.

    ``runner_checks=False`` for points that depend on the runs of earlier points (a
    ``protocol.weights_from`` that does not exist yet): their cards, data and extras are still
    checked. Raises :class:`SpikenetError` naming the point.
    """
    from .experiments import check_card

    for p in points:
        try:
            check_card(p.card, runner_checks=runner_checks)
        except SpikenetError as exc:
            raise type(exc)(f"sweep point {p.name}: {exc}") from None
    if (os.environ.get(SCHEDULER_ENV) or _local_workers(workers, len(points)) > 1) and points:
        import importlib.util

        if importlib.util.find_spec("distributed") is None:
            raise SpikenetError("running a sweep in parallel needs Dask: pip install 'spikenet[dask]' "
                                "(or set the sweep's workers to 1)")


def _check_same_card(run, card) -> None:
    """Raise :class:`RunDirError` if the run in ``run`` was made from another resolved card than ``card``."""
    from .catalog import load_card
    from .errors import RunDirError

    def flat(mapping: dict[str, Any]) -> dict[str, Any]:
        return {f"{section}.{key}": value for section, body in mapping.items() for key, value in body.items()}

    # Loading the stored card fills in the defaults of keys added since it was written, so that
    # a run made before a new option existed matches a point that leaves that option at its default.
    there = flat(load_card(run.card, "experiments").to_mapping())
    here = flat(card.to_mapping())
    differ = sorted(k for k in there.keys() | here.keys() if there.get(k) != here.get(k))
    if differ:
        key = differ[0]
        raise RunDirError(f"{run.path}: holds a run of another card ({key} = {there.get(key)!r} there, "
                          f"{here.get(key)!r} for this point; {len(differ)} key(s) differ); "
                          "remove that folder or run the sweep into another one")


def _local_workers(workers: int, points: int) -> int:
    return max(1, min(points, workers or os.cpu_count() or 1))


def run_points(points: list[Point], root: str | os.PathLike, *, scheduler: str | None = None,
               workers: int = 0, progress: bool = True, log=None) -> dict[str, dict[str, Any]]:
    """Run every point (in parallel where there are workers); returns each point's metrics by name.

    Parameters
    ----------
    points
        The runs; their names are their folders under ``root`` and must be unique.
    scheduler
        A Dask scheduler's address; ``None``: ``$SPIKENET_DASK_SCHEDULER`` or else a local cluster.
    workers
        Local cluster size (0: one per core, at most one per point).
    """
    from tqdm.auto import tqdm

    names = [p.name for p in points]
    if len(set(names)) != len(names):
        raise ValueError("sweep points need unique names")
    # Absolute before it is sent: a worker's working directory is not this process's.
    root = Path(root).resolve()
    root.mkdir(parents=True, exist_ok=True)
    scheduler = scheduler or os.environ.get(SCHEDULER_ENV) or None
    n_local = _local_workers(workers, len(points))
    results: dict[str, dict[str, Any]] = {}
    bar = tqdm(total=len(points), unit="run", desc="sweep", disable=not progress, dynamic_ncols=True)
    if scheduler is None and n_local == 1:
        for p in points:
            results[p.name] = run_point(card_to_toml(p.card), root / p.name)
            bar.update(1)
        bar.close()
        return results
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise SpikenetError("running a sweep in parallel needs Dask: pip install 'spikenet[dask]' "
                            "(or set the sweep's workers to 1)") from None
    cluster = None
    if scheduler is None:
        cluster = LocalCluster(n_workers=n_local, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    else:
        client = _connect(scheduler)
    if log is not None:
        log.info("sweep of %d runs on %s", len(points), scheduler or f"a local cluster of {n_local} workers")
    try:
        futures = {client.submit(run_point, card_to_toml(p.card), str(root / p.name), key=_task_key(root, p),
                                 pure=False): p.name for p in points}
        for future in as_completed(futures):
            results[futures[future]] = future.result()
            bar.update(1)
    finally:
        bar.close()
        client.close()
        if cluster is not None:
            cluster.close()
    return results


def _task_key(root: Path, point: Point) -> str:
    """The point's Dask key: unique to its folder, so that two sweeps on one scheduler never share
    a task (keys named after the folder's last part alone made ``runs/`` of two sweeps collide)."""
    import hashlib

    folder = hashlib.sha256(str(root / point.name).encode()).hexdigest()[:16]
    return f"spikenet-{point.name}-{folder}"


CONNECT_TIMEOUT_S = 10
"""How long a sweep waits for the scheduler it is given before it gives up with one line."""


def _connect(scheduler: str):
    """A Dask client of ``scheduler``, or a one-line :class:`SpikenetError` within
    :data:`CONNECT_TIMEOUT_S` seconds (Dask's own error is a long traceback after 30 s)."""
    from dask.distributed import Client

    try:
        return Client(scheduler, timeout=f"{CONNECT_TIMEOUT_S}s")
    except (OSError, TimeoutError, ValueError, TypeError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SpikenetError(f"Dask scheduler {scheduler!r} (${SCHEDULER_ENV} or the caller): cannot connect within "
                            f"{CONNECT_TIMEOUT_S} s ({reason[:200]}); start one with `dask scheduler` or leave it "
                            "unset for a local cluster") from None
