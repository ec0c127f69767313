"""Accuracy against device variability: the spiking network (trained on the devices, or trained
ideal and transferred) and the backprop MLP (transferred, plain or noise-aware training), in the
manner of Querlioz et al. (IEEE Trans. Nanotechnol. 12:288, 2013, Figs. 6-7).

The training runs are ordinary runs of the cards ``protocol.stdp_card`` and
``protocol.backprop_card``, each in its own folder under ``runs/`` in this run folder, run on
Dask by :mod:`spikenet.sweep` (so an interrupted comparison resumes: finished runs are read,
interrupted ones continue from their checkpoints). The MLPs are trained once; programming them
onto the devices at every level happens here, ``device_samples`` times per level.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
from brian2 import joule, second

from .. import figures as fig
from ..catalog import Card, derive
from ..errors import CardError
from ..memristive.models import model_of
from ..params.devices import IdealDeviceParams
from ..runs import RunDir, read_csv, write_csv
from ..stats import spread, spread_record
from ..sweep import Point, check_points, run_points, seeds_of
from ..params.experiments import CompareVariabilityProtocol
from ..running import Contract

METRICS = (*(f"{m}_loss" for m in ("stdp_in_place", "stdp_transfer", "mlp_transfer", "mlp_noise_aware")),
           "in_place_advantage")
"""``<method>_loss``: accuracy at the lowest level minus accuracy at the highest, per method (NaN if
not compared), the mean over ``protocol.seeds`` seeds; ``in_place_advantage``:
``stdp_transfer_loss - stdp_in_place_loss`` seed by seed, then averaged, positive when learning on
the devices copes better with the variability than programming ideal weights onto them.
``metrics.json`` holds each one's spread over the seeds (``spread``: n, mean, std, 95 % interval,
every seed's value); an effect is shown only where its interval excludes zero."""
CONTRACT = Contract(protocol=CompareVariabilityProtocol, metrics=METRICS, uses_device=True, resumable=True)


def check(card: Card) -> None:
    if model_of(card.sections.get("device", IdealDeviceParams())).exact:
        raise CardError(f"{card.path}: experiment.device: name the device card whose variability is swept "
                        "(not 'ideal')")
    first, second_stage = _points(card, Path("runs"))
    check_points(first, workers=card["protocol"].workers)
    check_points(second_stage, workers=card["protocol"].workers, runner_checks=False)


def device_changes(parameter: str, level: float) -> dict[str, float]:
    """The device card's values at one level of the sweep."""
    if parameter == "stuck":
        return {"stuck_low": level / 2, "stuck_high": level / 2}
    return {parameter: level}


def _name(stem: str, seed: int) -> str:
    return f"{stem}_seed{seed}"


def _points(card: Card, root: Path) -> tuple[list[Point], list[Point]]:
    """Training runs that need nothing (stage 1), and the transfers that need the ideal STDP run (stage 2).

    Each point is a card this card embeds (``protocol.stdp_card``, ``protocol.backprop_card``,
    resolved with its smoke setting when it was loaded) with this section's sizes, one of
    :func:`~spikenet.sweep.seeds_of`, and on the devices this card's own ``[device]`` section at the point's level.
    """
    proto, exp = card["protocol"], card["experiment"]
    stdp_card = card.used("experiments", proto.stdp_card)
    mlp_card = card.used("experiments", proto.backprop_card)
    first, second_stage = [], []
    for seed in seeds_of(card):
        stdp = {"experiment.seed": seed, "protocol.n_train": proto.n_train, "protocol.n_assign": proto.n_assign,
                "protocol.n_test": proto.n_test}
        mlp = {"experiment.seed": seed, "protocol.n_train": proto.n_train, "protocol.n_test": proto.n_test,
               "protocol.hardware_devices": ("ideal",)}

        def point(stem: str, base: Card, changes: dict[str, Any]) -> Point:
            name = _name(stem, seed)
            return Point(name, derive(base, changes, origin=f"{card.path}: sweep point {name}"))

        if "stdp_transfer" in proto.methods:
            first.append(point("stdp_ideal", stdp_card,
                               {**stdp, "experiment.device": "ideal", "device": IdealDeviceParams()}))
        for i, level in enumerate(proto.levels):
            on_device = {"experiment.device": exp.device,
                         "device": dataclasses.replace(card["device"], **device_changes(proto.parameter, level))}
            if "stdp_in_place" in proto.methods:
                first.append(point(f"stdp_in_place_{i}", stdp_card, {**stdp, **on_device}))
            if "stdp_transfer" in proto.methods:
                second_stage.append(point(f"stdp_transfer_{i}", stdp_card,
                                          {**stdp, **on_device, "protocol.epochs": 0,
                                           "protocol.weights_from": str(root / _name("stdp_ideal", seed))}))
        if "mlp_transfer" in proto.methods:
            first.append(point("mlp", mlp_card, mlp))
        if "mlp_noise_aware" in proto.methods:
            first.append(point("mlp_noise_aware", mlp_card,
                               {**mlp, "protocol.train_weight_noise": proto.noise_aware_std}))
    return first, second_stage


def simulate(card: Card, run: RunDir, log, progress: bool) -> dict[str, Any]:
    proto = card["protocol"]
    root = run.path / "runs"
    first, second_stage = _points(card, root)
    results = run_points(first, root, workers=proto.workers, progress=progress, log=log)
    if second_stage:
        results.update(run_points(second_stage, root, workers=proto.workers,
                                  progress=progress, log=log))
    rows: dict[str, list] = {"method": [], "level": [], "seed": [], "sample": [], "accuracy": []}

    def add(method: str, level: float, seed: int, sample: int, accuracy: float) -> None:
        for key, value in zip(rows, (method, level, seed, sample, accuracy)):
            rows[key].append(value)

    seeds = seeds_of(card)
    for seed in seeds:
        for i, level in enumerate(proto.levels):
            for method in ("stdp_in_place", "stdp_transfer"):
                if method in proto.methods:
                    add(method, level, seed, 0, results[_name(f"{method}_{i}", seed)]["test_accuracy"])
    costs = {}
    for method, stem in (("mlp_transfer", "mlp"), ("mlp_noise_aware", "mlp_noise_aware")):
        if method in proto.methods:
            for seed in seeds:
                curve, costs[method] = _mlp_on_devices(card, root / _name(stem, seed), seed, log)
                for level, sample, accuracy in curve:
                    add(method, level, seed, sample, accuracy)
    stdp_runs = [k for k in results if k.startswith(("stdp_in_place_", "stdp_transfer_"))]
    if stdp_runs:
        costs["stdp"] = _stdp_costs(card, root / stdp_runs[0], results[stdp_runs[0]])
    write_csv(run.figures / "accuracy_vs_variability.csv", rows)
    metrics: dict[str, Any] = {}
    spreads: dict[str, dict[str, Any]] = {}
    curves: dict[str, dict[str, list[float]]] = {}
    losses: dict[str, np.ndarray] = {}
    levels = list(proto.levels)
    for method in ("stdp_in_place", "stdp_transfer", "mlp_transfer", "mlp_noise_aware"):
        if method not in proto.methods:
            metrics[f"{method}_loss"] = float("nan")
            continue
        # accuracy[seed, level]: the mean over device samples of one seed's run at one level
        accuracy = _per_seed(rows, method, seeds, levels)
        losses[method] = accuracy[:, 0] - accuracy[:, -1]
        at_level = [spread(accuracy[:, j]) for j in range(len(levels))]
        curves[method] = {"level": levels, "accuracy": [s.mean for s in at_level],
                          "ci95_low": [s.ci_low for s in at_level], "ci95_high": [s.ci_high for s in at_level]}
        spreads[f"{method}_loss"] = spread_record(losses[method], seeds)
        metrics[f"{method}_loss"] = spreads[f"{method}_loss"]["mean"]
    if "stdp_transfer" in losses and "stdp_in_place" in losses:
        advantage = losses["stdp_transfer"] - losses["stdp_in_place"]  # paired: the same seeds
        spreads["in_place_advantage"] = spread_record(advantage, seeds)
        metrics["in_place_advantage"] = spreads["in_place_advantage"]["mean"]
    else:
        metrics["in_place_advantage"] = float("nan")
    metrics.update(seeds=seeds, spread=spreads, curves=curves, costs_per_inference=costs,
                   parameter=proto.parameter, device=card["experiment"].device)
    return metrics


def _per_seed(rows: dict[str, list], method: str, seeds: list[int], levels: list[float]) -> np.ndarray:
    """Accuracy of ``method`` as an array [seed, level], averaged over device samples."""
    out = np.full((len(seeds), len(levels)), np.nan)
    for a, seed in enumerate(seeds):
        for b, level in enumerate(levels):
            values = [acc for m, lv, s, acc in zip(rows["method"], rows["level"], rows["seed"], rows["accuracy"])
                      if m == method and lv == level and s == seed]
            out[a, b] = float(np.mean(values))
    return out


def _mlp_on_devices(card: Card, folder: Path, seed: int, log) -> tuple[list[tuple[float, int, float]], dict[str, float]]:
    """Program the trained MLP of ``folder`` onto the device at every level; (level, sample, accuracy) rows."""
    import torch

    from ..baseline import analog, training
    from .mnist_backprop import sample_seed, trained_model

    proto, base = card["protocol"], card["device"]
    model, mlp_card = trained_model(folder)
    mp = mlp_card["protocol"]
    x_test, y_test = training.mnist_tensors("test", mp.n_test, dataset=mp.dataset)
    curve = []
    for level in proto.levels:
        params = dataclasses.replace(base, **device_changes(proto.parameter, level))
        for sample in range(proto.device_samples):
            generator = torch.Generator().manual_seed(sample_seed(seed, f"{level}", sample))
            programmed, _ = analog.program_model(model, params, generator, tolerance=mp.program_tolerance,
                                                 max_pulses=mp.program_max_pulses, t_read=float(mp.t_read / second),
                                                 range_quantile=mp.range_quantile)
            accuracy = float(np.mean(training.predict(programmed, x_test) == y_test.numpy()))
            curve.append((level, sample, accuracy))
            log.info("%s at %s = %g, sample %d: accuracy %.4f", folder.name, proto.parameter, level, sample, accuracy)
    macs = analog.macs_per_inference(model)
    reads = macs * model_of(base).reads_per_weight
    energy = float(base.energy_read / joule) * 1e12 * reads if float(base.energy_read / joule) > 0 else float("nan")
    return curve, {"synaptic_events": float(macs), "device_reads": float(reads), "energy_pj": energy}


def _stdp_costs(card: Card, folder: Path, metrics: dict[str, Any]) -> dict[str, float]:
    """Per test image of a spiking run: synaptic events, device reads (input synapses), energy."""
    from ..catalog import load_card

    base = card["device"]
    n_exc = load_card(folder / "card.toml", "experiments")["network"].n_exc
    copies = model_of(base).devices_per_synapse
    return {"synaptic_events": float(metrics["synaptic_events_per_example"]),
            "device_reads": float(metrics["input_spikes_per_example"]) * n_exc * copies,
            "energy_pj": float(metrics.get("energy_per_inference_pj") or float("nan"))}  # JSON null: not given


def draw(run: RunDir) -> list[Path]:
    from spikenet.figures import subplots

    table = read_csv(run.figures / "accuracy_vs_variability.csv")
    info = run.read_metrics() if run.metrics.exists() else {}
    labels = {"stdp_in_place": "STDP, trained on the devices", "stdp_transfer": "STDP, trained ideal, transferred",
              "mlp_transfer": "MLP, trained ideal, transferred", "mlp_noise_aware": "MLP, noise-aware, transferred"}
    markers = {"stdp_in_place": "o", "stdp_transfer": "s", "mlp_transfer": "^", "mlp_noise_aware": "v"}
    with fig.style():
        figure, ax = subplots(figsize=(6, 4))
        for method, label in labels.items():
            pick = table["method"] == method
            if not pick.any():
                continue
            levels = np.unique(table["level"][pick])
            if "seed" not in table:  # a comparison of one seed, made before seeds existed
                table["seed"] = np.zeros(len(table["method"]), dtype=int)
            seeds = list(np.unique(table["seed"][pick]))
            # per seed, the mean over device samples (as simulate computed it); then the spread over seeds
            accuracy = 100 * _per_seed(table, method, seeds, list(levels))
            spreads = [spread(accuracy[:, j]) for j in range(len(levels))]
            half = np.nan_to_num([sp.half_width for sp in spreads])
            ax.errorbar(100 * levels, [sp.mean for sp in spreads], yerr=half, marker=markers[method], capsize=3,
                        label=label)
        parameter = {"c2c_std": "cycle-to-cycle variability (% of range)",
                     "d2d_std": "device-to-device variability (relative std, %)",
                     "stuck": "stuck devices (%)"}.get(info.get("parameter", ""), "variability (%)")
        ax.set_xlabel(parameter)
        ax.set_ylabel("test accuracy (%)")
        low, high = ax.get_ylim()  # a t-interval over few seeds can reach past what an accuracy can be
        ax.set_ylim(max(low, 0.0), min(high, 100.0))
        n = len(info.get("seeds", [0]))
        ax.set_title(f"Accuracy against variability of {info.get('device', 'the device')}\n"
                     f"mean and 95 % CI over {n} seed(s)" + (" (one seed: no interval)" if n == 1 else ""), fontsize=9)
        ax.legend()
        return [fig.save_figure(figure, run.figure("accuracy_vs_variability"))]
