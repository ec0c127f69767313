"""Append the scalar metrics of finished run folders to ``benchmarks/results/experiment_metrics.csv``.

One row per metric (long format, so experiments with different metrics share one record), with
the run's command, commit, seed, machine and versions. The small experiments the README quotes
are recorded with it, from run folders or by running their cards (each into a temporary folder,
with the CLI, so the record's command is the one a user types)::

    spikenet run song2000_bimodal --out runs/song2000_bimodal
    python benchmarks/record_metrics.py runs/song2000_bimodal [RUN_DIR ...]
    python benchmarks/record_metrics.py --run lif_fi_curve stdp_window ...    # or --run-readme

Nested metrics are flattened with dots (``checks.fraction_near_bounds``); lists and strings are
not scalars and are left out; the run's wall time is recorded as the metric ``wall_time_s``.
A run folder that did not finish (``run.json`` status other than ``complete``) is refused, so no
number of an interrupted run reaches a record. Run folders are not committed; this CSV is.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterator
from pathlib import Path

from machine import append_rows, machine

RESULTS = Path(__file__).resolve().parent / "results" / "experiment_metrics.csv"
# the experiments of the README's Experiments table whose numbers come from this record
README_EXPERIMENTS = ["lif_fi_curve", "stdp_window", "triplet_frequency", "song2000_bimodal", "device_curves",
                      "device_stdp", "hebb_oja"]


def scalar_metrics(metrics: dict, prefix: str = "") -> Iterator[tuple[str, float]]:
    """(dotted name, value) of every finite number in ``metrics``, nested dictionaries flattened;
    booleans count as numbers (a check's ``passed``: 1 or 0)."""
    for key, value in metrics.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from scalar_metrics(value, f"{name}.")
        elif isinstance(value, (bool, int, float)) and math.isfinite(float(value)):
            yield name, float(value)


def overrides_of(command: list[str]) -> str:
    """The ``--set`` values of a run's command, joined by "; " ("" for the card as it is), so
    that a record's rows of one card with and without overrides can be told apart."""
    return "; ".join(value for flag, value in zip(command, command[1:]) if flag == "--set")


def rows_of(run: Path) -> list[dict]:
    """The record's rows for one finished run folder."""
    info = json.loads((run / "run.json").read_text())
    if info.get("status") != "complete":
        raise SystemExit(f"error: {run}: the run is {info.get('status')!r}, not complete; not recorded")
    metrics = json.loads((run / "metrics.json").read_text())
    card = tomllib.loads((run / "card.toml").read_text())
    common = {
        "date": info.get("started"),
        "commit": info["versions"].get("source", ""),
        "experiment": info["experiment"],
        "command": " ".join(["spikenet", *info.get("command", [])[1:]]),
        "overrides": overrides_of(info.get("command", [])),
        "seed": card["experiment"].get("seed", ""),
        "smoke": bool(info.get("smoke", False)),
    }
    found = [*scalar_metrics(metrics), ("wall_time_s", float(info["wall_time_s"]))]
    versions = " ".join(f"{k} {v}" for k, v in info["versions"].items() if k not in ("machine", "source"))
    return [{**common, "metric": name, "value": repr(value), "machine": machine(), "versions": versions}
            for name, value in found]


def run_card(name: str, folder: Path) -> Path:
    """Run the card ``name`` with the CLI into ``folder / name``; the run folder."""
    out = folder / name
    subprocess.run([str(Path(sys.executable).with_name("spikenet")), "run", name, "--no-progress", "--out", str(out)],
                   check=True)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dirs", nargs="*", help="finished run folders")
    parser.add_argument("--run", nargs="+", default=[], metavar="CARD", help="run these cards first, then record them")
    parser.add_argument("--run-readme", action="store_true", help=f"--run {' '.join(README_EXPERIMENTS)}")
    args = parser.parse_args(argv)
    cards = args.run + (README_EXPERIMENTS if args.run_readme else [])
    if not (cards or args.run_dirs):
        parser.error("name run folders or cards to run")
    with tempfile.TemporaryDirectory(prefix="spikenet-record-") as tmp:
        runs = [Path(r) for r in args.run_dirs] + [run_card(name, Path(tmp)) for name in cards]
        rows = [row for run in runs for row in rows_of(run)]
    append_rows(RESULTS, rows)
    print(f"{len(rows)} rows from {len(runs)} runs appended to {RESULTS}")


if __name__ == "__main__":
    main()
