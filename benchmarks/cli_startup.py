"""Start-up time of the command line against the interpreter's own, in one invocation.

``spikenet --help``, ``--version`` and ``list`` should not import the simulator (Brian2) or
matplotlib; the target (issue 21) is at most 3x the time of ``python -c pass``. Each command runs
``--repeats`` times, interleaved with the others so that a slow spell of the machine hits all of
them, and the median wall time counts. Run from the repository root::

    python benchmarks/cli_startup.py

It appends one row per command to ``benchmarks/results/cli_startup.csv`` and writes the ratios
of this invocation to ``benchmarks/results/cli_startup.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import machine as bench_machine

RESULTS = Path(__file__).resolve().parent / "results"
COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "spikenet --help": [sys.executable, "-m", "spikenet", "--help"],
    "spikenet --version": [sys.executable, "-m", "spikenet", "--version"],
    "spikenet list": [sys.executable, "-m", "spikenet", "list"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=21)
    args = parser.parse_args()
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(args.repeats):
        for name, command in COMMANDS.items():
            t0 = time.perf_counter()
            subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
            times[name].append(time.perf_counter() - t0)
    base = float(np.median(times["python -c pass"]))
    commit = bench_machine.commit("spikenet")
    stamp, load = bench_machine.timestamp(), os.getloadavg()[0]
    rows = [{"date": stamp, "commit": commit, "command": name, "repeats": args.repeats,
             "median_s": round(float(np.median(t)), 4), "min_s": round(min(t), 4),
             "ratio_to_python": round(float(np.median(t)) / base, 2), "load_average": round(load, 1),
             "machine": bench_machine.machine(), "versions": bench_machine.versions()} for name, t in times.items()]
    bench_machine.append_rows(RESULTS / "cli_startup.csv", rows)
    summary = {"date": stamp, "commit": commit, "machine": bench_machine.machine(), "load_average": round(load, 1),
               "command": "python benchmarks/cli_startup.py " + " ".join(sys.argv[1:]),
               "ratios": {r["command"]: r["ratio_to_python"] for r in rows},
               "median_s": {r["command"]: r["median_s"] for r in rows}}
    (RESULTS / "cli_startup.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
