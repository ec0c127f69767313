"""Experiment runners: one module per experiment kind, and the code that runs any of them.

A runner module has

* ``METRICS``: the names of the numbers it writes to ``metrics.json``;
* ``USES_DEVICE``: whether ``experiment.device`` stores its plastic weights (if not, naming a
  device is an error rather than silently ignored);
* ``simulate(card, run, log, progress) -> dict``: runs the experiment, writes the CSV files
  behind its figures into ``run.figures`` and returns its metrics;
* ``draw(run) -> list[Path]``: draws its figures from those CSV files (and ``metrics.json``),
  so ``spikenet figures RUN_DIR`` redraws them without simulating;
* optionally ``check(card)``: checks that need more than the card's own schema (other cards it
  names), run before the run folder is created;
* optionally ``RESUMABLE = True``: it keeps checkpoints, and ``spikenet run --resume`` continues it.
"""

from __future__ import annotations

import json
import platform
import sys
import time
import traceback
from pathlib import Path
from types import ModuleType
from typing import Any

from .. import __version__
from ..catalog import Card, card_to_toml, load_card
from ..engine import seed_everything
from ..errors import CardError, RunDirError
from ..params.devices import IdealDeviceParams
from ..runs import RunDir, atomic_write_json, atomic_write_text, create_run_dir, open_run_dir
from . import (
    compare_variability,
    device_curves,
    device_stdp,
    drift_retention,
    hebb_oja,
    lif_fi_curve,
    mnist_backprop,
    mnist_stdp,
    song2000_bimodal,
    stdp_window,
    triplet_frequency,
)

__all__ = ["RUNNERS", "run_experiment", "resume_experiment", "redraw"]

RUNNERS: dict[str, ModuleType] = {
    "lif_fi_curve": lif_fi_curve,
    "stdp_window": stdp_window,
    "triplet_frequency": triplet_frequency,
    "song2000_bimodal": song2000_bimodal,
    "hebb_oja": hebb_oja,
    "device_curves": device_curves,
    "device_stdp": device_stdp,
    "mnist_stdp": mnist_stdp,
    "mnist_backprop": mnist_backprop,
    "compare_variability": compare_variability,
    "drift_retention": drift_retention,
}
"""Every experiment kind, by the registry name an experiment card gives in ``experiment.kind``."""


def _versions() -> dict[str, str]:
    import brian2
    import matplotlib
    import numpy
    import scipy

    return {
        "spikenet": __version__,
        "python": platform.python_version(),
        "brian2": brian2.__version__,
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "matplotlib": matplotlib.__version__,
        **{name: _installed(name) for name in ("torch", "dask") if _installed(name)},
        "machine": f"{platform.system()} {platform.machine()}",
    }


def _installed(distribution: str) -> str:
    """The installed version of an optional dependency ('' if absent), without importing it."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return ""


def _checks(card: Card, metrics: dict[str, Any]) -> dict[str, Any]:
    checks = {}
    for metric, expectation in card.expected.items():
        measured = float(metrics[metric])
        entry = {"measured": measured, "passed": expectation.passed(measured)}
        for key in ("value", "le", "ge", "tolerance", "rel_tolerance"):
            bound = getattr(expectation, key)
            if bound == bound:  # not NaN
                entry[key] = bound
        if expectation.value == expectation.value:
            entry["difference"] = measured - expectation.value
        entry["why"] = expectation.source or expectation.derivation
        checks[metric] = entry
    return checks


def run_experiment(card: Card, out: str | Path | None = None, *, progress: bool = True) -> RunDir:
    """Run an experiment card into a new run folder and return the folder.

    Parameters
    ----------
    card
        A validated experiment card (:func:`spikenet.catalog.load_card`).
    out
        The run folder; by default ``runs/<name>-<timestamp>``. It must be new or empty.
    progress
        Show progress bars.
    """
    runner = _check_card(card)
    return _run(card, runner, create_run_dir(card.meta.name, out), progress=progress, resumed=False)


def resume_experiment(run_dir: str | Path, *, progress: bool = True) -> RunDir:
    """Continue an interrupted run from its last checkpoint, with the card stored in its folder."""
    run = open_run_dir(run_dir)
    info = run.read_info()
    if info.get("status") == "complete":
        raise RunDirError(f"{run.path}: this run is complete; nothing to resume")
    card = load_card(run.card, "experiments")
    runner = _check_card(card)
    if not getattr(runner, "RESUMABLE", False):
        raise RunDirError(f"{run.path}: {card['experiment'].kind} runs are short and keep no checkpoints; "
                          "start a new run")
    return _run(card, runner, run, progress=progress, resumed=True, previous=info)


def _check_card(card: Card) -> ModuleType:
    """The card's runner, after checking that the card asks only for what the runner does."""
    if card.kind != "experiments":
        raise CardError(f"{card.path}: {card.meta.name!r} is a {card.kind[:-1]} card, not an experiment")
    runner = RUNNERS[card["experiment"].kind]
    unknown = sorted(set(card.expected) - set(runner.METRICS))
    if unknown:
        raise CardError(
            f"{card.path}: expected.{unknown[0]}: the {card['experiment'].kind} experiment does not measure it; "
            f"it measures {', '.join(runner.METRICS)}"
        )
    device = card.sections.get("device")
    if device is not None and not isinstance(device, IdealDeviceParams) and not runner.USES_DEVICE:
        raise CardError(
            f"{card.path}: experiment.device = {card['experiment'].device!r}: the {card['experiment'].kind} "
            "experiment does not store weights in a device card; leave experiment.device empty"
        )
    if hasattr(runner, "check"):
        runner.check(card)
    return runner


def _run(card: Card, runner: ModuleType, run: RunDir, *, progress: bool, resumed: bool,
         previous: dict | None = None) -> RunDir:
    if not resumed:
        atomic_write_text(run.card, card_to_toml(card))
    info = {
        "experiment": card.meta.name,
        "kind": card["experiment"].kind,
        "seed": card["experiment"].seed,
        "smoke": card.smoke,
        "command": sys.argv,
        "versions": _versions(),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "status": "running",
    }
    if resumed and previous is not None:
        info.update(smoke=previous.get("smoke", False), started=previous.get("started"),
                    resumed=[*previous.get("resumed", []), time.strftime("%Y-%m-%dT%H:%M:%S%z")])
    atomic_write_json(run.info, info)
    log = run.logger()
    log.info("%s %s (%s) seed %d%s", "resume" if resumed else "run", card.meta.name, card["experiment"].kind, card["experiment"].seed,
             " [smoke]" if card.smoke else "")
    start = time.perf_counter()
    try:
        seed_everything(card["experiment"].seed)
        metrics = runner.simulate(card, run, log, progress)
        metrics["checks"] = _checks(card, metrics)
        atomic_write_json(run.metrics, metrics)
        for path in runner.draw(run):
            log.info("figure %s", path.relative_to(run.path))
        info.update(status="complete", wall_time_s=round(time.perf_counter() - start, 3))
        log.info("done in %.1f s: %s", info["wall_time_s"], json.dumps({k: v for k, v in metrics.items() if k != "checks"}))
    except KeyboardInterrupt:
        info.update(status="interrupted", wall_time_s=round(time.perf_counter() - start, 3))
        log.warning("interrupted")
        raise
    except BaseException as exc:
        info.update(status="failed", error=f"{type(exc).__name__}: {exc}")
        log.error("failed:\n%s", traceback.format_exc())
        raise
    finally:
        atomic_write_json(run.info, info)
        run.close_logger()
    return run


def redraw(run_dir: str | Path) -> list[Path]:
    """Redraw a run folder's figures from its files, without simulating."""
    run = open_run_dir(run_dir)
    card = load_card(run.card, "experiments")
    return RUNNERS[card["experiment"].kind].draw(run)
