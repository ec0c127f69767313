"""The f-I curve of a Brian2 LIF neuron with refractory period, against its exact rate.

This is the whole path in miniature: card -> Brian2 -> run folder -> figure. The simulated
rate is ``1 / mean inter-spike interval`` of each neuron (every interval starts at a reset,
so all are steady-state intervals); the exact rate is :func:`spikenet.neurons.lif_rate`.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from brian2 import Network, SpikeMonitor, nA, second

from ..catalog import Card
from ..engine import run_network
from ..figures import save_figure, style
from ..neurons import lif_group, lif_rate, lif_rheobase
from ..runs import RunDir, read_csv, write_csv
from ..schema import quantity_in
from ..params.experiments import LIFFICurveProtocol
from ..running import Contract

METRICS = (
    "max_rel_error",
    "mean_rel_error",
    "n_compared",
    "spikes_below_rheobase",
    "rheobase_nA",
    "max_rate_Hz",
    "dt_ms",
)
CONTRACT = Contract(protocol=LIFFICurveProtocol, metrics=METRICS, uses_device=False)
FIGURE = "fi_curve"


def simulate(card: Card, run: RunDir, log: logging.Logger, progress: bool) -> dict:
    protocol, neuron = card["protocol"], card["neuron"]
    currents_nA = np.linspace(quantity_in(protocol.i_min, "nA"), quantity_in(protocol.i_max, "nA"), protocol.n_currents)
    group = lif_group(neuron, protocol.n_currents, dt=protocol.dt)
    group.I_ext = currents_nA * nA
    spikes = SpikeMonitor(group)
    log.info("simulating %d neurons for %s at dt = %s", protocol.n_currents, protocol.duration, protocol.dt)
    run_network(Network(group, spikes), protocol.duration, progress=progress, description="f-I curve")

    duration_s = float(protocol.duration / second)
    exact = lif_rate(neuron, currents_nA * nA)
    trains = spikes.spike_trains()
    simulated = np.zeros(protocol.n_currents)
    intervals = np.zeros(protocol.n_currents, dtype=int)
    for i in range(protocol.n_currents):
        isi = np.diff(np.asarray(trains[i] / second))
        intervals[i] = isi.size
        if isi.size:
            simulated[i] = 1.0 / isi.mean()
    # Compare where the exact rate leaves room for at least `min_intervals` intervals.
    compared = exact * duration_s >= protocol.min_intervals + 1
    rel_error = np.full(protocol.n_currents, np.nan)
    rel_error[compared] = np.abs(simulated[compared] - exact[compared]) / exact[compared]
    below = exact == 0

    write_csv(
        run.figures / f"{FIGURE}.csv",
        {
            "current_nA": currents_nA,
            "rate_simulated_Hz": simulated,
            "rate_exact_Hz": exact,
            "n_intervals": intervals,
            "spikes": np.asarray(spikes.count[:]),
            "compared": compared.astype(int),
            "rel_error": rel_error,
        },
    )
    dense_nA = np.linspace(currents_nA[0], currents_nA[-1], 1000)
    write_csv(
        run.figures / f"{FIGURE}_exact.csv",
        {"current_nA": dense_nA, "rate_exact_Hz": lif_rate(neuron, dense_nA * nA)},
    )
    if not compared.any():
        log.warning("no current fires often enough to compare; raise i_max or duration")
    return {
        "max_rel_error": float(np.nanmax(rel_error)) if compared.any() else float("nan"),
        "mean_rel_error": float(np.nanmean(rel_error)) if compared.any() else float("nan"),
        "n_compared": int(compared.sum()),
        "spikes_below_rheobase": int(np.asarray(spikes.count[:])[below].sum()),
        "rheobase_nA": quantity_in(lif_rheobase(neuron), "nA"),
        "max_rate_Hz": float(simulated.max()),
        "dt_ms": quantity_in(protocol.dt, "ms"),
    }


def draw(run: RunDir) -> list[Path]:
    from spikenet.figures import subplots

    data = read_csv(run.figures / f"{FIGURE}.csv")
    dense = read_csv(run.figures / f"{FIGURE}_exact.csv")
    metrics = run.read_metrics()
    bound = metrics.get("checks", {}).get("max_rel_error", {}).get("le")
    compared = data["compared"] == 1

    with style():
        fig, (top, bottom) = subplots(2, 1, figsize=(6.4, 6.0), sharex=True, height_ratios=(2, 1))
        top.plot(dense["current_nA"], dense["rate_exact_Hz"], color="0.2", label="exact rate")
        top.plot(data["current_nA"], data["rate_simulated_Hz"], "o", mfc="none", color="C3",
                 label=f"Brian2, dt = {metrics['dt_ms']:g} ms")
        top.axvline(metrics["rheobase_nA"], color="0.5", ls=":", lw=1, label=f"rheobase {metrics['rheobase_nA']:.3g} nA")
        top.set_ylabel("firing rate (Hz)")
        top.set_title("LIF f-I curve: simulated against exact")
        top.legend(loc="upper left")
        bottom.semilogy(data["current_nA"][compared], 100 * np.maximum(data["rel_error"][compared], 1e-6), "o-",
                        color="C3", label="|simulated - exact| / exact")
        if bound is not None:
            bottom.axhline(100 * bound, color="0.3", ls="--", lw=1, label=f"bound on the card: {100 * bound:g} %")
            bottom.set_ylim(top=300 * bound)
        bottom.set_xlabel("input current (nA)")
        bottom.set_ylabel("relative error (%)")
        bottom.legend(loc="center left", fontsize=8)
        path = save_figure(fig, run.figure(FIGURE))
    return [path]
