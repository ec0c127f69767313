"""A grid sweep of one experiment card: the cross product of some of its values, times seeds.

``spikenet sweep CARD --grid device.c2c_std=0,0.05,0.1 --seeds 3 --out DIR`` makes one ordinary
run folder per point and seed under ``DIR/runs/`` (run by :func:`spikenet.sweep.run_points`, so
finished points are skipped and interrupted ones resumed when the command is run again) and
aggregates them:

* ``DIR/card.toml``: the resolved card every point starts from (``--set`` and ``--smoke`` applied);
* ``DIR/sweep.json``: the grid, the seeds, every point's folder, status and error, and the
  sweep's own status (``complete`` only when every point was attempted);
* ``DIR/runs.csv``: one row per run, every scalar metric;
* ``DIR/sweep.csv``: one row per point and scalar metric: the value at each seed, their mean,
  standard deviation and 95 % confidence interval (:mod:`spikenet.stats`);
* ``DIR/figures/sweep_<metric>.png``: the chosen metric against the swept key(s), with those
  intervals as error bars and every seed's value as a dot.

A point that fails is recorded with its error and the others go on.
"""

from __future__ import annotations

import itertools
import math
import os
import re
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .catalog import Card, card_to_toml, load_card
from .errors import CardError, RunDirError
from .report import write_report
from .runs import RunDir, atomic_write_json, atomic_write_text, read_csv, write_csv
from .signals import deferred, owned_signals
from .stats import spread
from .sweep import Point, check_points, differing_keys, run_points

__all__ = ["GridAxis", "GridPoint", "GridSweep", "parse_grid", "plan_sweep", "run_sweep", "draw_sweep"]

MAX_RUNS = 10_000
"""More runs than this in one sweep is refused as a typo (a grid of ten keys, say)."""

SWEPT_SECTIONS = ("experiment", "protocol", "network", "neuron", "inhibitory", "plasticity", "device")
"""Sections whose values a grid may vary (not [meta], [smoke] or [expected]: they change no run)."""


@dataclass(frozen=True)
class GridAxis:
    """One ``--grid SECTION.KEY=V1,V2,...``: a key and the values (as override texts) it takes."""

    key: str
    values: tuple[str, ...]

    @property
    def section(self) -> str:
        return self.key.split(".", 1)[0]


@dataclass(frozen=True)
class GridPoint:
    """One run of a grid sweep: its folder name, the value of each grid key, its seed, its card."""

    name: str
    values: dict[str, Any]
    seed: int
    card: Card


@dataclass(frozen=True)
class GridSweep:
    """A planned sweep: the card every point starts from, the grid, the seeds and every run's card."""

    base: Card
    axes: tuple[GridAxis, ...]
    seeds: tuple[int, ...]
    points: tuple[GridPoint, ...]

    @property
    def settings(self) -> list[tuple[Any, ...]]:
        """The distinct combinations of grid values, in the grid's order."""
        seen: dict[tuple, None] = {}
        for p in self.points:
            seen.setdefault(tuple(p.values[a.key] for a in self.axes), None)
        return list(seen)


def split_values(text: str) -> list[str]:
    """Split ``V1,V2,...`` at the commas that are not inside brackets or quotes (a value may be a
    TOML array such as ``[0.1, 0.2]`` or a string with commas)."""
    values, depth, quote, current = [], 0, "", []
    for char in text:
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
        elif char == "," and depth == 0:
            values.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    values.append("".join(current).strip())
    return values


def parse_grid(text: str) -> GridAxis:
    """Read one ``--grid SECTION.KEY=V1,V2,...``; raises :class:`CardError` on a malformed one."""
    if "=" not in text:
        raise CardError(f"--grid {text}: expected SECTION.KEY=V1,V2,..., e.g. device.c2c_std=0,0.05,0.1")
    key, _, value_text = text.partition("=")
    key = key.strip()
    parts = key.split(".")
    if len(parts) != 2 or not all(parts):
        raise CardError(f"--grid {text}: expected SECTION.KEY=V1,V2,... with one dot in the key")
    values = [v for v in split_values(value_text)]
    if not value_text.strip() or any(not v for v in values):
        raise CardError(f"--grid {key}: an empty value in {value_text!r}; give one or more values, e.g. {key}=V1,V2")
    if len(set(values)) != len(values):
        raise CardError(f"--grid {key}: a value is given twice in {value_text!r}")
    return GridAxis(key, tuple(values))


def plan_sweep(experiment: str | os.PathLike, grid: Sequence[str], *, seeds: int = 1, seed: int | None = None,
               overrides: Sequence[str] = (), smoke: bool = False, catalog: str | os.PathLike | None = None
               ) -> GridSweep:
    """Load and check every run of a sweep, before anything is written.

    Parameters
    ----------
    experiment
        An experiment card's name or path (a run's resolved ``card.toml`` too).
    grid
        ``SECTION.KEY=V1,V2,...`` texts; the sweep runs their cross product.
    seeds
        Runs per grid point, with seeds ``seed, seed + 1, ...``.
    seed
        The first seed (default: the card's ``experiment.seed``).
    overrides, smoke, catalog
        As for :func:`spikenet.catalog.load_card`, applied to every point.

    Raises
    ------
    CardError
        An unknown or malformed key, a value the card's validation refuses, an empty grid, a key
        of a section the card does not have, a key given twice: one line naming it.
    """
    axes = tuple(parse_grid(g) for g in grid)
    keys = [a.key for a in axes]
    for key in keys:
        if keys.count(key) > 1:
            raise CardError(f"--grid {key}: given twice; list all its values in one --grid")
    if seeds < 1:
        raise CardError(f"--seeds {seeds}: at least 1")
    base = load_card(experiment, "experiments", overrides=overrides, smoke=smoke, seed=seed, catalog=catalog)
    where = f"{base.path}"
    for axis in axes:
        if axis.section not in SWEPT_SECTIONS:
            raise CardError(f"--grid {axis.key}: [{axis.section}] changes no run; a grid varies a value of "
                            + ", ".join(f"[{s}]" for s in SWEPT_SECTIONS))
        if axis.key == "experiment.seed":
            raise CardError("--grid experiment.seed: give the number of seeds with --seeds N instead")
        if axis.key == "experiment.kind":
            raise CardError("--grid experiment.kind: a sweep runs one kind of experiment; sweep each card on its own")
        if axis.section not in base.sections:
            present = ", ".join(f"[{s}]" for s in base.sections)
            hint = " (its experiment.device is ideal: name a device card first, e.g. --set experiment.device=pcm_2pcm)" \
                if axis.section == "device" else ""
            raise CardError(f"{where}: --grid {axis.key}: the card has no [{axis.section}] section{hint}; "
                            f"it has {present}")
    n_runs = math.prod(len(a.values) for a in axes) * seeds
    if n_runs > MAX_RUNS:
        raise CardError(f"--grid: {n_runs} runs; at most {MAX_RUNS} in one sweep")
    first_seed = base["experiment"].seed
    combos = list(itertools.product(*(a.values for a in axes)))
    names = _folder_names(axes, combos, [first_seed + i for i in range(seeds)])
    points = []
    for combo in combos:
        setting = [f"{a.key}={v}" for a, v in zip(axes, combo)]
        for i in range(seeds):
            s = first_seed + i
            try:
                card = load_card(experiment, "experiments", overrides=[*overrides, *setting], smoke=smoke, seed=s,
                                 catalog=catalog)
            except CardError as exc:
                # The card names a grid value as the override it was applied as (--set KEY).
                message = str(exc)
                for a in axes:
                    message = message.replace(f"--set {a.key}", f"--grid {a.key}")
                raise CardError(message if "--grid" in message else f"--grid {', '.join(setting)}: {message}") from None
            values = {a.key: _resolved_value(card, a.key) for a in axes}
            points.append(GridPoint(names[(combo, s)], values, s, card))
    return GridSweep(base, axes, tuple(first_seed + i for i in range(seeds)), tuple(points))


def _resolved_value(card: Card, key: str) -> Any:
    section, name = key.split(".")
    return card.to_mapping()[section].get(name)


def _folder_names(axes: Sequence[GridAxis], combos: list[tuple[str, ...]], seeds: list[int]) -> dict:
    """Readable, unique folder names: ``c2c_std-0.05__seed-3`` (the key's last part, unless two
    grid keys share it); a grid over new values or more seeds then adds folders beside the old ones."""
    tails = [a.key.split(".")[1] for a in axes]
    labels = [t if tails.count(t) == 1 else a.key for t, a in zip(tails, axes)]

    def clean(text: str) -> str:
        return re.sub(r"[^A-Za-z0-9._+-]+", "_", text.replace(" ", "")).strip("_")[:60] or "_"

    names = {}
    for k, combo in enumerate(combos):
        stem = "__".join(f"{label}-{clean(v)}" for label, v in zip(labels, combo))
        for s in seeds:
            names[(combo, s)] = f"{stem}__seed-{s}" if stem else f"seed-{s}"
    if len(set(names.values())) != len(names):  # two values that clean to one name: number them
        for k, combo in enumerate(combos):
            for s in seeds:
                names[(combo, s)] = f"p{k:03d}__seed-{s}"
    return names


@dataclass(frozen=True)
class SweepOutcome:
    """What a finished sweep wrote: its folder, the runs that failed, the figure."""

    folder: Path
    failures: dict[str, str]
    figure: Path | None
    metric: str


def run_sweep(sweep: GridSweep, out: str | os.PathLike, *, metric: str | None = None, workers: int = 0,
              scheduler: str | None = None, progress: bool = True,
              announce: Callable[[str], None] | None = None) -> SweepOutcome:
    """Run a planned sweep into ``out`` and aggregate it (see the module's notes).

    Re-running it into the same folder skips the finished runs and resumes the interrupted ones;
    a folder that holds a sweep of another card is refused (:class:`RunDirError`) before
    anything is written. ``metric`` is the one drawn (default: the card's first ``[expected]``
    metric, else its runner's first).
    """
    from .running import runner_of

    contract = runner_of(sweep.base).CONTRACT
    metric = metric or next(iter(sweep.base.expected), contract.metrics[0])
    if metric not in contract.metrics:
        raise CardError(f"--metric {metric}: the {contract.kind} experiment does not measure it; "
                        f"it measures {', '.join(contract.metrics)}")
    folder = RunDir(Path(out).resolve())
    _check_folder(folder, sweep)
    points = [Point(p.name, p.card) for p in sweep.points]
    check_points(points, workers=workers)
    folder.path.mkdir(parents=True, exist_ok=True)
    info: dict[str, Any] = {
        "experiment": sweep.base.meta.name, "kind": contract.kind, "smoke": sweep.base.smoke,
        "grid": {a.key: list(a.values) for a in sweep.axes}, "seeds": list(sweep.seeds), "metric": metric,
        "command": sys.argv, "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "status": "running",
        "points": [{"run": f"runs/{p.name}", "seed": p.seed, "values": p.values} for p in sweep.points],
    }
    failures: dict[str, str] = {}
    start = time.perf_counter()
    with owned_signals(), folder.lock():
        with deferred():
            atomic_write_text(folder.card, card_to_toml(sweep.base))
            for stale in ("sweep.csv", "runs.csv"):  # aggregates of an earlier invocation; rebuilt at the end
                (folder.path / stale).unlink(missing_ok=True)
            atomic_write_json(folder.path / "sweep.json", info)
        try:
            results = run_points(points, folder.path / "runs", scheduler=scheduler, workers=workers,
                                 progress=progress, failures=failures, announce=announce)
        except BaseException as exc:
            status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
            info.update(status=status, wall_time_s=round(time.perf_counter() - start, 3))
            if status == "failed":
                info["error"] = f"{type(exc).__name__}: {exc}"
            with deferred():
                atomic_write_json(folder.path / "sweep.json", info)
                write_report(folder.path)
            raise
        with deferred():
            _write_tables(folder, sweep, results, failures)
            figure = draw_sweep(folder.path)
            for entry, p in zip(info["points"], sweep.points):
                entry["status"] = "failed" if p.name in failures else "complete"
                if p.name in failures:
                    entry["error"] = failures[p.name]
            info.update(status="complete", failed=len(failures), wall_time_s=round(time.perf_counter() - start, 3))
            atomic_write_json(folder.path / "sweep.json", info)
            write_report(folder.path)
    return SweepOutcome(folder.path, failures, figure, metric)


def _check_folder(folder: RunDir, sweep: GridSweep) -> None:
    """Refuse a folder that is not empty and not a sweep of the same card."""
    if not folder.path.exists():
        return
    if not folder.path.is_dir():
        raise RunDirError(f"--out {folder.path}: not a folder")
    if (folder.path / "sweep.json").exists() and folder.card.exists():
        differ = differing_keys(load_card(folder.card, "experiments"), sweep.base)
        if differ:
            raise RunDirError(f"--out {folder.path}: holds a sweep of another card ({differ[0]} differs, "
                              f"{len(differ)} key(s) in all); choose a new folder")
        return
    if any(p for p in folder.path.iterdir() if p != folder.lock_file):
        raise RunDirError(f"--out {folder.path}: not empty and not a sweep's folder; choose a new folder")


def scalar_metrics(metrics: dict[str, Any]) -> dict[str, float]:
    """The top-level numbers of a ``metrics.json`` (JSON's null, a NaN, read as NaN)."""
    out = {}
    for key, value in metrics.items():
        if key == "checks" or isinstance(value, bool):
            continue
        if value is None or isinstance(value, (int, float)):
            out[key] = float("nan") if value is None else float(value)
    return out


def _write_tables(folder: RunDir, sweep: GridSweep, results: dict[str, dict], failures: dict[str, str]) -> None:
    keys = [a.key for a in sweep.axes]
    measured = {name: scalar_metrics(m) for name, m in results.items()}
    metric_names = sorted({k for m in measured.values() for k in m})
    runs: dict[str, list] = {"run": [], **{k: [] for k in keys}, "seed": [], "status": [], "error": [],
                             **{m: [] for m in metric_names}}
    for p in sweep.points:
        runs["run"].append(f"runs/{p.name}")
        for k in keys:
            runs[k].append(p.values[k])
        runs["seed"].append(p.seed)
        runs["status"].append("failed" if p.name in failures else "complete")
        runs["error"].append(failures.get(p.name, ""))
        for m in metric_names:
            runs[m].append(measured.get(p.name, {}).get(m, float("nan")))
    write_csv(folder.path / "runs.csv", runs)
    rows: dict[str, list] = {**{k: [] for k in keys}, "metric": [], "n": [], "failed": [], "mean": [], "std": [],
                             "ci95_low": [], "ci95_high": [], **{f"seed_{s}": [] for s in sweep.seeds}}
    for setting in sweep.settings:
        group = [p for p in sweep.points if tuple(p.values[k] for k in keys) == setting]
        for m in metric_names:
            by_seed = {p.seed: measured.get(p.name, {}).get(m, float("nan")) for p in group}
            s = spread(by_seed.values())
            for k, v in zip(keys, setting):
                rows[k].append(v)
            rows["metric"].append(m)
            rows["n"].append(s.n)
            rows["failed"].append(sum(p.name in failures for p in group))
            for column, value in (("mean", s.mean), ("std", s.std), ("ci95_low", s.ci_low), ("ci95_high", s.ci_high)):
                rows[column].append(value)
            for seed_ in sweep.seeds:
                rows[f"seed_{seed_}"].append(by_seed.get(seed_, float("nan")))
    write_csv(folder.path / "sweep.csv", rows)


_QUANTITY = re.compile(r"^\s*([-+0-9.eE]+)\s*([A-Za-z%]+)?\s*$")


def _axis(values: Iterable[Any]) -> tuple[np.ndarray | None, str]:
    """Numeric positions for a grid key's values (numbers, or quantities in one unit) and the unit;
    ``None`` when they are names (device cards, say)."""
    numbers, units = [], set()
    for v in values:
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            numbers.append(float(v))
            continue
        match = _QUANTITY.match(str(v))
        if not match:
            return None, ""
        try:
            numbers.append(float(match.group(1)))
        except ValueError:
            return None, ""
        units.add(match.group(2) or "")
    if len(units) > 1:
        return None, ""
    return np.asarray(numbers), (units.pop() if units else "")


def _shown(value: Any) -> str:
    """A grid value as a label: 5, not the 5.0 that a CSV column of numbers reads back."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return f"{value:g}" if isinstance(value, (float, np.floating)) else str(value)


def draw_sweep(folder: str | os.PathLike) -> Path | None:
    """Draw ``sweep_<metric>.png`` of a sweep folder from its ``sweep.csv`` and ``sweep.json``: the
    metric against the first grid key (one line per combination of the others), mean with its
    95 % interval, every seed a dot. Returns None for a sweep without a grid."""
    import json

    from spikenet.figures import subplots

    from . import figures as fig

    folder = Path(folder)
    info = json.loads((folder / "sweep.json").read_text(encoding="utf-8"))
    keys, metric = list(info["grid"]), info["metric"]
    if not keys:
        return None
    table = read_csv(folder / "sweep.csv")
    pick = table["metric"] == metric
    first, others = keys[0], keys[1:]
    x_values = list(dict.fromkeys(table[first][pick].tolist()))
    positions, unit = _axis(x_values)
    seeds = [c for c in table if c.startswith("seed_")]
    with fig.style():
        figure, ax = subplots(figsize=(6, 4))
        lines = list(dict.fromkeys(tuple(table[k][pick][i] for k in others) for i in range(int(pick.sum()))))
        for j, line in enumerate(lines):
            rows = np.flatnonzero(pick & np.all([table[k] == v for k, v in zip(others, line)] or [pick], axis=0))
            where = {table[first][r]: r for r in rows}
            xs = np.arange(len(x_values), dtype=float) if positions is None else positions
            order = [where.get(v) for v in x_values]
            mean = np.array([table["mean"][r] if r is not None else np.nan for r in order], dtype=float)
            low = np.array([table["ci95_low"][r] if r is not None else np.nan for r in order], dtype=float)
            high = np.array([table["ci95_high"][r] if r is not None else np.nan for r in order], dtype=float)
            offset = (j - (len(lines) - 1) / 2) * 0.04 * (np.ptp(xs) or 1) if len(lines) > 1 else 0.0
            label = ", ".join(f"{k} = {_shown(v)}" for k, v in zip(others, line)) or None
            yerr = np.vstack([mean - low, high - mean])
            bars = ax.errorbar(xs + offset, mean, yerr=np.where(np.isfinite(yerr), yerr, 0), marker="o", capsize=3,
                               label=label)
            for r, x in zip(order, xs):
                if r is not None:
                    dots = np.array([table[s][r] for s in seeds], dtype=float)
                    ax.plot(np.full(dots.size, x + offset), dots, ".", color=bars[0].get_color(), alpha=0.4)
        if positions is None:
            ax.set_xticks(np.arange(len(x_values)), [_shown(v) for v in x_values], rotation=30, ha="right")
        ax.set_xlabel(first + (f" ({unit})" if unit else ""))
        ax.set_ylabel(metric)
        n_seeds = len(info["seeds"])
        smoke = " [smoke run: not a result]" if info.get("smoke") else ""
        ax.set_title(f"{info['experiment']}: {metric}, mean and 95 % CI over {n_seeds} seed(s){smoke}", fontsize=9)
        if any(others):
            ax.legend(fontsize=7)
        (folder / "figures").mkdir(exist_ok=True)
        return fig.save_figure(figure, folder / "figures" / f"sweep_{metric}.png")
