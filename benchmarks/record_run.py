"""Append the measurements of a finished MNIST run folder to ``benchmarks/results/mnist_runs.csv``.

The run itself is made with the CLI (the command is recorded from the run's ``run.json``), e.g.::

    SPIKENET_DATA=... spikenet run mnist_dc_n100 --out runs/n100
    python benchmarks/record_run.py runs/n100

Run folders are not committed; this CSV is, with the machine and versions of each row.
"""

from __future__ import annotations

import json
import os
import sys
import tomllib
from pathlib import Path

from machine import append_rows, cpu_model

RESULTS = Path(__file__).resolve().parent / "results" / "mnist_runs.csv"
PUBLISHED = {
    ("diehl_cook_2015", 100): "82.9 % (Diehl & Cook 2015, Table 1)",
    ("diehl_cook_2015", 400): "87.0 % (Diehl & Cook 2015, Table 1)",
    ("querlioz_2013", 100): "Querlioz et al. 2013: 93.5 % (as cited; layer size and passes not verified); CEA N2D2's "
                            "mnist-stdp-ijcnn.ini: 73.4 % (50 neurons, 600,000 presentations, no homeostasis)",
}



def _rounded(value, digits: int):
    return "" if value is None else round(value, digits)


def main(run_dir: str) -> None:
    run = Path(run_dir)
    metrics = json.loads((run / "metrics.json").read_text())
    info = json.loads((run / "run.json").read_text())
    card = tomllib.loads((run / "card.toml").read_text())
    proto, net = card["protocol"], card["network"]
    device = card.get("device", {}).get("model", "ideal") if card["experiment"].get("device") else "ideal"
    experiment = info["experiment"]
    if proto.get("epochs") == 0 and proto.get("weights_from"):  # an evaluation of another run's network
        experiment += f" (from {Path(proto['weights_from']).name}, t_read {proto.get('t_read', '0 s')}, " \
                      f"compensation {proto.get('drift_compensation', 'none')})"
    row = {
        "date": info.get("started"),
        "commit": info["versions"].get("source", ""),  # "" for runs made before run.json recorded it
        "experiment": experiment,
        "command": " ".join(["spikenet", *info.get("command", [])[1:]]),
        "n_exc": net["n_exc"],
        "device": card["experiment"].get("device") or device,
        "n_train": proto["n_train"],
        "epochs": proto["epochs"],
        "n_assign": proto["n_assign"],
        "n_test": proto["n_test"],
        "engine": proto["engine"],
        "seed": card["experiment"]["seed"],
        "test_accuracy": metrics["test_accuracy"],
        "published": PUBLISHED.get((card["experiment"]["model"], net["n_exc"]), ""),
        "seconds_per_example": _rounded(metrics["seconds_per_example"], 5),  # null: no training
        "training_seconds": _rounded(metrics["training_seconds"], 1),
        "compile_seconds": _rounded(metrics["compile_seconds"], 1),
        "repeat_fraction": _rounded(metrics["repeat_fraction"], 4),
        "excitatory_spikes_per_example": metrics["excitatory_spikes_per_example"],
        "synaptic_events_per_example": _rounded(metrics["synaptic_events_per_example"], None),
        "programming_pulses_per_synapse": metrics.get("programming_pulses_per_synapse"),
        "peak_memory_mib": _rounded(metrics["peak_memory_mib"], None),
        "wall_time_s": info.get("wall_time_s"),
        "machine": f"{cpu_model()}, {os.cpu_count()} cores",
        "versions": " ".join(f"{k} {v}" for k, v in info["versions"].items() if k not in ("machine", "source")),
    }
    append_rows(RESULTS, [row])
    print(json.dumps(row, indent=1))


if __name__ == "__main__":
    main(sys.argv[1])
