"""Song, Miller & Abbott (2000): additive STDP drives the input weights of a neuron to the bounds.

One conductance-based integrate-and-fire neuron receives ``n_inputs`` independent Poisson
inputs through STDP synapses (the model card's neuron and rule; Brian2 ships this as
``examples/synapses/STDP.py``). Competition between the inputs makes the weight distribution
bimodal, with most weights near 0 or near ``w_max``, and stabilises the output rate.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from brian2 import Network, PoissonGroup, SpikeMonitor, StateMonitor, second

from ..catalog import Card
from ..engine import run_network
from ..figures import save_figure, style
from ..neurons import neuron_group
from ..plasticity import synapses
from ..runs import RunDir, read_csv, write_csv
from ..schema import quantity_in
from ..params.experiments import SongBimodalProtocol
from ..running import Contract

METRICS = ("fraction_near_bounds", "fraction_near_upper", "bimodality", "output_rate_hz", "mean_weight_fraction")


def bimodality(w_fraction: np.ndarray, near: float) -> float:
    """How much denser the weights are at each bound than in the middle of the range.

    ``min(density within near of 0, density within near of 1) / density in [0.25, 0.75]``
    (densities per unit of w / w_max): 1 for a uniform distribution, above 1 when both bounds
    hold a mode.
    """
    low = np.mean(w_fraction <= near) / near
    high = np.mean(w_fraction >= 1 - near) / near
    middle = np.mean((w_fraction >= 0.25) & (w_fraction <= 0.75)) / 0.5
    return float(min(low, high) / middle) if middle > 0 else float("inf")
CONTRACT = Contract(protocol=SongBimodalProtocol, metrics=METRICS, uses_device=True)
"""The card's experiment.device stores the plastic weights."""
FIGURE = "song2000_bimodal"


def simulate(card: Card, run: RunDir, log: logging.Logger, progress: bool) -> dict:
    p, rule = card["protocol"], card["plasticity"]
    inputs = PoissonGroup(p.n_inputs, p.input_rate, dt=p.dt)
    neuron = neuron_group(card["neuron"], 1, dt=p.dt)
    syn = synapses(inputs, neuron, rule, device=card.sections.get("device", "ideal"), target="ge", dt=p.dt)
    weights = StateMonitor(syn, "w", record=True, dt=p.record_every)
    spikes = SpikeMonitor(neuron)
    log.info("%d Poisson inputs at %s for %s", p.n_inputs, p.input_rate, p.duration)
    run_network(Network(inputs, neuron, syn, weights, spikes), p.duration, progress=progress,
                description="Song 2000")

    w = np.asarray(syn.w[:]) / rule.w_max
    near = p.near_bound
    duration_s = quantity_in(p.duration, "s")
    spike_times = np.asarray(spikes.t / second)
    window_s = quantity_in(p.rate_window, "s")
    rate = float(np.sum(spike_times >= duration_s - window_s) / window_s)

    edges = np.linspace(0, 1, 41)
    counts, _ = np.histogram(w, bins=edges)
    write_csv(run.figures / f"{FIGURE}_histogram.csv",
              {"w_fraction_low": edges[:-1], "w_fraction_high": edges[1:], "count": counts})
    history = np.asarray(weights.w) / rule.w_max  # (synapses, snapshots)
    t_snap = np.asarray(weights.t / second)
    bin_s = quantity_in(p.record_every, "s")
    rate_t = np.histogram(spike_times, bins=np.append(t_snap, t_snap[-1] + bin_s))[0] / bin_s if t_snap.size else []
    write_csv(run.figures / f"{FIGURE}_history.csv", {
        "t_s": t_snap,
        "mean_w_fraction": history.mean(axis=0),
        "fraction_near_bounds": np.mean((history <= near) | (history >= 1 - near), axis=0),
        "output_rate_Hz": rate_t,
    })
    return {
        "fraction_near_bounds": float(np.mean((w <= near) | (w >= 1 - near))),
        "fraction_near_upper": float(np.mean(w >= 1 - near)),
        "bimodality": bimodality(w, near),
        "output_rate_hz": rate,
        "mean_weight_fraction": float(w.mean()),
    }


def draw(run: RunDir) -> list[Path]:
    from spikenet.figures import subplots

    hist = read_csv(run.figures / f"{FIGURE}_histogram.csv")
    hist_t = read_csv(run.figures / f"{FIGURE}_history.csv")
    m = run.read_metrics()
    with style():
        fig, (a, b, c) = subplots(3, 1, figsize=(6.4, 8.0))
        a.bar(hist["w_fraction_low"], hist["count"], width=hist["w_fraction_high"] - hist["w_fraction_low"],
              align="edge", color="C0", edgecolor="white")
        a.set_xlabel("final weight / w_max")
        a.set_ylabel("synapses")
        a.set_title(f"Song, Miller & Abbott (2000): {100 * m['fraction_near_bounds']:.0f} % of weights within "
                    f"10 % of a bound ({100 * m['fraction_near_upper']:.0f} % near w_max);\n"
                    f"each bound {m.get('bimodality', float('nan')):.1f} x denser than the middle", fontsize=9)
        b.plot(hist_t["t_s"], hist_t["mean_w_fraction"], label="mean weight / w_max")
        b.plot(hist_t["t_s"], hist_t["fraction_near_bounds"], label="fraction near a bound")
        b.set_ylim(0, 1)
        b.set_xlabel("time (s)")
        b.legend(fontsize=8)
        c.plot(hist_t["t_s"], hist_t["output_rate_Hz"], color="C3")
        c.set_xlabel("time (s)")
        c.set_ylabel("output rate (Hz)")
        c.set_title(f"output rate over the last part of the run: {m['output_rate_hz']:.1f} Hz")
        fig.tight_layout()
        path = save_figure(fig, run.figure(FIGURE))
    return [path]
