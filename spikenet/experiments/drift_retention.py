"""Accuracy of a spiking network trained on drifting devices against its retention time.

Hardware that learns in place is used after it has learned: minutes, days or a year later, with
no device reprogrammed in between. This experiment trains ``protocol.stdp_card`` once on
``experiment.device`` and evaluates the same devices (``protocol.weights_from`` with
``epochs = 0``, :mod:`spikenet.experiments.mnist_stdp`) after each retention time, without and
with drift compensation, in the manner of IBM aihwkit's accuracy-against-``t_inference``
studies. Every run is an ordinary run in its own folder under ``runs/`` of this run folder, on
Dask (:mod:`spikenet.sweep`), so an interrupted sweep resumes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from brian2 import second

from .. import figures as fig
from ..catalog import Card, derive
from ..errors import CardError
from ..params.devices import IdealDeviceParams
from ..runs import RunDir, read_csv, write_csv
from ..stats import spread, spread_record
from ..sweep import Point, check_points, run_points, seeds_of
from ..params.experiments import DriftRetentionProtocol
from ..running import Contract

METRICS = ("accuracy_after_training", "loss_uncompensated", "loss_compensated")
"""``accuracy_after_training``: test accuracy of the trained run itself (evaluated at once);
``loss_<c>``: that minus the accuracy at the longest retention time, without / with per-neuron
drift compensation (NaN where not evaluated); each the mean over ``protocol.seeds`` trainings,
with its spread (n, std, 95 % interval, every seed's value) under ``spread`` in metrics.json."""
LOSS_METRICS = {"none": "loss_uncompensated", "per_neuron": "loss_compensated"}
"""The loss metric of each drift compensation."""
CONTRACT = Contract(protocol=DriftRetentionProtocol, metrics=METRICS, uses_device=True, resumable=True)


def check(card: Card) -> None:
    device = card.sections.get("device", IdealDeviceParams())
    if getattr(device, "drift_nu", 0.0) <= 0:
        raise CardError(f"{card.path}: experiment.device = {card['experiment'].device!r} does not drift "
                        "(drift_nu = 0): name a device card with drift, e.g. pcm_2pcm")
    trained, evaluations = _points(card, Path("runs"))
    check_points(trained, workers=card["protocol"].workers)
    check_points(evaluations, workers=card["protocol"].workers, runner_checks=False)


def _sizes(card: Card, seed: int) -> dict[str, Any]:
    """The seed, device and sizes this card gives every run of ``protocol.stdp_card``."""
    proto = card["protocol"]
    sizes: dict[str, Any] = {"experiment.seed": seed, "experiment.device": card["experiment"].device,
                             "device": card["device"]}
    for key in ("n_train", "n_assign", "n_test"):
        if getattr(proto, key):
            sizes[f"protocol.{key}"] = getattr(proto, key)
    return sizes


def _point_name(i: int, compensation: str, seed: int) -> str:
    return f"t_read_{i}_{compensation}_seed{seed}"


def _trained_name(seed: int) -> str:
    return f"trained_seed{seed}"


def _points(card: Card, root: Path) -> tuple[list[Point], list[Point]]:
    """The training runs (one per seed), and the evaluations of their devices that need them
    (cards derived from the ``protocol.stdp_card`` this card embeds)."""
    proto = card["protocol"]
    base = card.used("experiments", proto.stdp_card)

    def point(name: str, seed: int, changes: dict[str, Any]) -> Point:
        return Point(name, derive(base, {**_sizes(card, seed), **changes}, origin=f"{card.path}: sweep point {name}"))

    trained = [point(_trained_name(s), s, {}) for s in seeds_of(card)]
    evaluations = [
        point(_point_name(i, c, s), s, {"protocol.epochs": 0, "protocol.weights_from": str(root / _trained_name(s)),
                                        "protocol.t_read": t, "protocol.drift_compensation": c})
        for s in seeds_of(card) for i, t in enumerate(proto.t_reads) for c in proto.compensations
    ]
    return trained, evaluations


def simulate(card: Card, run: RunDir, log, progress: bool) -> dict[str, Any]:
    proto = card["protocol"]
    root = run.path / "runs"
    trained, evaluations = _points(card, root)
    first = run_points(trained, root, workers=proto.workers, progress=progress, log=log)
    results = run_points(evaluations, root, workers=proto.workers, progress=progress, log=log)
    seeds = seeds_of(card)
    rows: dict[str, list] = {"t_read_s": [], "compensation": [], "seed": [], "test_accuracy": [],
                             "no_answer_fraction": [], "drift_gain_mean": []}
    for s in seeds:
        for i, t in enumerate(proto.t_reads):
            for c in proto.compensations:
                m = results[_point_name(i, c, s)]
                for key, value in zip(rows, (float(t / second), c, s, m["test_accuracy"], m["no_answer_fraction"],
                                             m.get("drift_gain_mean"))):
                    rows[key].append(float("nan") if value is None else value)
    write_csv(run.figures / "accuracy_vs_retention.csv", rows)
    longest = int(np.argmax([float(t / second) for t in proto.t_reads]))
    after = [first[_trained_name(s)]["test_accuracy"] for s in seeds]
    spreads = {"accuracy_after_training": spread_record(after, seeds)}

    def loss(compensation: str) -> float:
        if compensation not in proto.compensations:
            return float("nan")
        per_seed = [a - results[_point_name(longest, compensation, s)]["test_accuracy"] for a, s in zip(after, seeds)]
        spreads[LOSS_METRICS[compensation]] = spread_record(per_seed, seeds)
        return float(np.mean(per_seed))

    metrics = {"accuracy_after_training": float(np.mean(after)),
               **{metric: loss(compensation) for compensation, metric in LOSS_METRICS.items()}}
    metrics.update(seeds=seeds, spread=spreads, device=card["experiment"].device,
                   longest_t_read_s=float(proto.t_reads[longest] / second))
    return metrics


def draw(run: RunDir) -> list[Path]:
    from spikenet.figures import subplots

    table = read_csv(run.figures / "accuracy_vs_retention.csv")
    info = run.read_metrics() if run.metrics.exists() else {}
    labels = {"none": "no compensation", "per_neuron": "per-neuron drift compensation"}
    with fig.style():
        figure, ax = subplots(figsize=(6, 4))
        for compensation, label in labels.items():
            pick = (table["compensation"] == compensation) & (table["t_read_s"] > 0)
            if pick.any():
                times = np.unique(table["t_read_s"][pick])
                spreads = [spread(100 * table["test_accuracy"][pick & (table["t_read_s"] == t)]) for t in times]
                ax.errorbar(times, [sp.mean for sp in spreads], yerr=np.nan_to_num([sp.half_width for sp in spreads]),
                            marker="o", capsize=3, label=label)
        if "accuracy_after_training" in info:
            after = info.get("spread", {}).get("accuracy_after_training", {})
            ax.axhline(100 * info["accuracy_after_training"], color="0.4", linestyle="--",
                       label="evaluated right after training")
            if after.get("n", 0) > 1:
                ax.axhspan(100 * after["ci95_low"], 100 * after["ci95_high"], color="0.4", alpha=0.12, linewidth=0)
        ax.set_xscale("log")
        marks = {"1 min": 60, "1 h": 3600, "1 day": 86400, "1 month": 30 * 86400, "1 year": 365 * 86400}
        lo, hi = ax.get_xlim()
        for name, t in marks.items():
            if lo <= t <= hi:
                ax.axvline(t, color="0.85", linewidth=0.8, zorder=0)
                ax.text(t, ax.get_ylim()[0], f" {name}", rotation=90, va="bottom", ha="left", fontsize=8, color="0.4")
        ax.set_xlabel("retention time: end of training to evaluation (s)")
        ax.set_ylabel("test accuracy (%)")
        n = len(info.get("seeds", [0]))
        ax.set_title(f"Trained on {info.get('device', 'the device')}: accuracy after drift\n"
                     f"mean and 95 % CI over {n} training(s)" + (" (one: no interval)" if n == 1 else ""), fontsize=9)
        ax.legend()
        return [fig.save_figure(figure, run.figure("accuracy_vs_retention"))]
