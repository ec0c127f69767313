"""Append the measurements of a finished ``mnist_backprop`` run folder to
``benchmarks/results/baseline_runs.csv``: one row per device card it was programmed onto.

    SPIKENET_DATA=... spikenet run mnist_mlp100 --out runs/mlp100
    python benchmarks/record_baseline.py runs/mlp100

Run folders are not committed; this CSV is, with the machine and versions of each row.
"""

from __future__ import annotations

import json
import os
import sys
import tomllib
from pathlib import Path

from machine import append_rows, cpu_model

RESULTS = Path(__file__).resolve().parent / "results" / "baseline_runs.csv"


def main(run_dir: str) -> None:
    run = Path(run_dir)
    metrics = json.loads((run / "metrics.json").read_text())
    info = json.loads((run / "run.json").read_text())
    card = tomllib.loads((run / "card.toml").read_text())
    proto = card["protocol"]
    versions = " ".join(f"{k} {v}" for k, v in info["versions"].items() if k not in ("machine", "source"))
    if "torch" not in info["versions"]:  # run folders made before run.json recorded torch
        from importlib.metadata import version

        versions += f"; torch {version('torch')} (installed when recorded)"
    rows = []
    for device, hw in metrics["hardware"].items():
        rows.append({
            "date": info.get("started"),
            "commit": info["versions"].get("source", ""),  # "" for runs made before run.json recorded it
            "experiment": info["experiment"],
            "command": " ".join(["spikenet", *info.get("command", [])[1:]]),
            "model": card["experiment"]["model"],
            "parameters": metrics["parameters"],
            "n_train": proto["n_train"],
            "epochs": proto["epochs"],
            "n_test": proto["n_test"],
            "seed": card["experiment"]["seed"],
            "test_accuracy_ideal": metrics["test_accuracy"],
            "training_seconds": round(metrics["training_seconds"], 1),
            "seconds_per_epoch": round(metrics["seconds_per_epoch"], 2),
            "torch_device": metrics.get("torch_device", ""),
            "device": device,
            "t_read_s": proto.get("t_read", ""),
            "device_samples": hw["samples"],
            "accuracy_mean": round(hw["accuracy_mean"], 5),
            "accuracy_std": round(hw["accuracy_std"], 5),
            "accuracy_min": round(hw["accuracy_min"], 5),
            "devices_per_weight": hw["devices_per_weight"],
            "pulses_per_device": round(hw["pulses_per_device"], 3),
            "programming_error_rms": round(hw["programming_error_rms"], 5),
            "converged": round(hw["converged"], 6),
            "wall_time_s": info.get("wall_time_s"),
            "machine": f"{cpu_model()}, {os.cpu_count()} cores",
            "versions": versions,
        })
    append_rows(RESULTS, rows)
    print(f"{len(rows)} rows appended to {RESULTS}")


if __name__ == "__main__":
    main(sys.argv[1])
