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

import importlib.util
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .catalog import Card, card_to_toml
from .errors import SpikenetError, install_hint
from .running import check_card, resume_experiment, run_experiment

__all__ = ["Point", "run_point", "run_points", "check_points", "differing_keys", "seeds_of", "SCHEDULER_ENV"]

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


def seeds_of(card: Card) -> list[int]:
    """The seeds of a card that repeats its runs (``protocol.seeds``): ``experiment.seed``, then
    the next ``protocol.seeds - 1`` integers."""
    first = card["experiment"].seed
    return [first + i for i in range(card["protocol"].seeds)]


def run_point(card_toml: str, folder: str | os.PathLike) -> dict[str, Any]:
    """Run (or resume, or just read) one point; returns its ``metrics.json``. Runs in a Dask worker.

    ``card_toml`` is the point's resolved card (:func:`spikenet.catalog.card_to_toml`).
    """
    import tomllib

    from .catalog import card_from_mapping
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
    for p in points:
        try:
            check_card(p.card, runner_checks=runner_checks)
        except SpikenetError as exc:
            raise type(exc)(f"sweep point {p.name}: {exc}") from None
    if (os.environ.get(SCHEDULER_ENV) or _local_workers(workers, len(points)) > 1) and points:
        if importlib.util.find_spec("distributed") is None:
            raise SpikenetError(f"running a sweep in parallel needs Dask: {install_hint('dask')} "
                                "(or set the sweep's workers to 1)")


def differing_keys(a: Card, b: Card) -> list[str]:
    """The ``section.key`` names whose values differ between two resolved cards, sorted."""
    def flat(mapping: dict[str, Any]) -> dict[str, Any]:
        return {f"{section}.{key}": value for section, body in mapping.items() for key, value in body.items()}

    there, here = flat(a.to_mapping()), flat(b.to_mapping())
    return sorted(k for k in there.keys() | here.keys() if there.get(k) != here.get(k))


def _check_same_card(run, card) -> None:
    """Raise :class:`RunDirError` if the run in ``run`` was made from another resolved card than ``card``."""
    from .catalog import load_card
    from .errors import RunDirError

    # Loading the stored card fills in the defaults of keys added since it was written, so that
    # a run made before a new option existed matches a point that leaves that option at its default.
    stored = load_card(run.card, "experiments")
    differ = differing_keys(stored, card)
    if differ:
        key = differ[0]
        section, name = key.split(".", 1)
        there, here = (c.to_mapping().get(section, {}).get(name) for c in (stored, card))
        raise RunDirError(f"{run.path}: holds a run of another card ({key} = {there!r} there, "
                          f"{here!r} for this point; {len(differ)} key(s) differ); "
                          "remove that folder or run the sweep into another one")


def _local_workers(workers: int, points: int) -> int:
    return max(1, min(points, workers or os.cpu_count() or 1))


def run_points(points: list[Point], root: str | os.PathLike, *, scheduler: str | None = None,
               workers: int = 0, progress: bool = True, log=None, failures: dict[str, str] | None = None,
               announce: Callable[[str], None] | None = None) -> dict[str, dict[str, Any]]:
    """Run every point (in parallel where there are workers); returns each point's metrics by name.

    Parameters
    ----------
    points
        The runs; their names are their folders under ``root`` and must be unique.
    scheduler
        A Dask scheduler's address; ``None``: ``$SPIKENET_DASK_SCHEDULER`` or else a local cluster.
    workers
        Local cluster size (0: one per core, at most one per point).
    failures
        If given, a point whose run raises an error (not an interruption) is recorded here, by
        name, as ``"ErrorType: message"``, and the other points go on; it is then missing from
        the result. Without it the first error ends the sweep.
    announce
        Called with one line saying where the points run (and the Dask dashboard's address when
        the cluster has one).
    """
    from spikenet.progress import progress_bar

    names = [p.name for p in points]
    if len(set(names)) != len(names):
        raise ValueError("sweep points need unique names")
    # Absolute before it is sent: a worker's working directory is not this process's.
    root = Path(root).resolve()
    root.mkdir(parents=True, exist_ok=True)
    scheduler = scheduler or os.environ.get(SCHEDULER_ENV) or None
    n_local = _local_workers(workers, len(points))
    results: dict[str, dict[str, Any]] = {}

    def finished(name: str, get_result: Callable[[], dict[str, Any]]) -> None:
        try:
            results[name] = get_result()
        except Exception as exc:  # noqa: BLE001 - recorded for the caller, who asked to go on
            if failures is None:
                raise
            failures[name] = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:500]
            if log is not None:
                log.error("sweep point %s failed: %s", name, failures[name])
        bar.update(1)

    if scheduler is None and n_local == 1:
        _say(announce, log, f"{len(points)} runs, one after the other in this process")
        bar = progress_bar(total=len(points), unit="run", desc="sweep", disable=not progress, dynamic_ncols=True)
        try:
            for p in points:
                finished(p.name, lambda p=p: run_point(card_to_toml(p.card), root / p.name))
        finally:
            bar.close()
        return results
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise SpikenetError(f"running a sweep in parallel needs Dask: {install_hint('dask')} "
                            "(or set the sweep's workers to 1)") from None
    cluster = None
    if scheduler is None:
        # ":0" takes a free port: two sweeps at once do not fight over 8787 (Dask hosts its HTTP
        # server even without bokeh, and None means 8787).
        cluster = LocalCluster(n_workers=n_local, threads_per_worker=1, processes=True, dashboard_address=":0")
        client = Client(cluster)
    else:
        client = _connect(scheduler)
    where = scheduler or f"a local Dask cluster of {n_local} workers"
    _say(announce, log, f"{len(points)} runs on {where}; {_dashboard_line(client, local=cluster is not None)}")
    bar = progress_bar(total=len(points), unit="run", desc="sweep", disable=not progress, dynamic_ncols=True)
    try:
        futures = {client.submit(run_point, card_to_toml(p.card), str(root / p.name), key=_task_key(root, p),
                                 pure=False): p.name for p in points}
        for future in as_completed(futures):
            finished(futures[future], future.result)
    finally:
        bar.close()
        client.close()
        if cluster is not None:
            cluster.close()
    return results


def _say(announce: Callable[[str], None] | None, log, line: str) -> None:
    if log is not None:
        log.info("sweep: %s", line)
    if announce is not None:
        announce(line)


def _dashboard_line(client, *, local: bool) -> str:
    """Where the cluster's dashboard is, or why there is none. Without bokeh a local cluster's
    dashboard page only says that bokeh is missing, so it is not offered as an address."""
    if local and importlib.util.find_spec("bokeh") is None:
        return "no Dask dashboard (it needs bokeh>=3.1: pip install bokeh)"
    try:
        if client.scheduler_info().get("services", {}).get("dashboard"):
            return f"Dask dashboard at {client.dashboard_link}"
    except Exception:  # noqa: BLE001 - only a courtesy line; the sweep does not depend on it
        pass
    return "the scheduler has no Dask dashboard"


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
