"""Oja's rule finds the first principal component of its inputs.

Zero-mean Gaussian inputs with one leading principal component ``u`` drive a linear neuron
``y = sum_i w_i x_i`` through synapses that learn by Oja's rule. The weight vector should turn
towards ``+-u`` and its length towards 1 (Oja 1982).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from brian2 import Network, NeuronGroup, StateMonitor, TimedArray, second

from ..catalog import Card
from ..engine import run_network
from ..figures import save_figure, style
from ..plasticity import synapses
from ..runs import RunDir, read_csv, write_csv
from ..schema import quantity_in
from ..params.experiments import HebbOjaProtocol
from ..running import Contract

METRICS = ("cosine_to_pc1", "weight_norm")
CONTRACT = Contract(protocol=HebbOjaProtocol, metrics=METRICS, uses_device=False)
FIGURE = "hebb_oja"


def simulate(card: Card, run: RunDir, log: logging.Logger, progress: bool) -> dict:
    p = card["protocol"]
    rng = np.random.default_rng(card["experiment"].seed)
    u = rng.standard_normal(p.n_inputs)
    u /= np.linalg.norm(u)
    n_samples = int(np.ceil(quantity_in(p.duration, "ms") / quantity_in(p.sample_every, "ms")))
    # x = sqrt(other) z + (sqrt(leading) - sqrt(other)) (u . z) u has covariance other I + (leading - other) u u^T.
    z = rng.standard_normal((n_samples, p.n_inputs))
    x = np.sqrt(p.other_variance) * z + (np.sqrt(p.leading_variance) - np.sqrt(p.other_variance)) * np.outer(z @ u, u)
    pc1 = np.linalg.eigh(np.cov(x.T))[1][:, -1]  # of the samples actually shown

    stimulus = TimedArray(x, dt=p.sample_every)
    # x is a state variable (not a subexpression), so the synapses' summed variable reads it
    # without needing the stimulus in its own namespace.
    inputs = NeuronGroup(p.n_inputs, "x : 1", namespace={"stimulus": stimulus}, dt=p.dt)
    inputs.run_regularly("x = stimulus(t, i)", when="start")
    output = NeuronGroup(1, "y : 1", dt=p.dt)
    syn = synapses(inputs, output, card["plasticity"], w_init=f"{p.w_init_scale} * rand()", dt=p.dt)
    record = StateMonitor(syn, "w", record=True, dt=p.duration / 200)
    log.info("Oja's rule on %d inputs for %s", p.n_inputs, p.duration)
    run_network(Network(inputs, output, syn, record), p.duration, progress=progress, description="Oja")

    w_t = np.asarray(record.w).T  # (snapshots, inputs), in synapse order i = 0..n-1
    order = np.argsort(np.asarray(syn.i[:]))
    w_t = w_t[:, order]
    norms = np.linalg.norm(w_t, axis=1)
    cosines = np.abs(w_t @ pc1) / np.maximum(norms, 1e-300)
    w = np.asarray(syn.w[:])[order]
    write_csv(run.figures / f"{FIGURE}_history.csv",
              {"t_s": np.asarray(record.t / second), "cosine_to_pc1": cosines, "weight_norm": norms})
    sign = np.sign(w @ pc1) or 1.0
    write_csv(run.figures / f"{FIGURE}_weights.csv",
              {"input": np.arange(p.n_inputs), "w_final": w, "pc1": sign * pc1})
    return {
        "cosine_to_pc1": float(abs(w @ pc1) / np.linalg.norm(w)),
        "weight_norm": float(np.linalg.norm(w)),
    }


def draw(run: RunDir) -> list[Path]:
    from spikenet.figures import subplots

    hist = read_csv(run.figures / f"{FIGURE}_history.csv")
    wts = read_csv(run.figures / f"{FIGURE}_weights.csv")
    m = run.read_metrics()
    with style():
        fig, (a, b) = subplots(1, 2, figsize=(9.0, 3.8))
        a.plot(hist["t_s"], hist["cosine_to_pc1"], label="|cos(w, PC1)|")
        a.plot(hist["t_s"], hist["weight_norm"], label="|w|")
        a.axhline(1, color="0.5", ls="--", lw=1)
        a.set_xlabel("time (s)")
        a.set_title(f"Oja's rule: final |cos| = {m['cosine_to_pc1']:.4f}, |w| = {m['weight_norm']:.3f}")
        a.legend(fontsize=8)
        idx = wts["input"]
        b.bar(idx - 0.2, wts["w_final"], width=0.4, label="learned w")
        b.bar(idx + 0.2, wts["pc1"], width=0.4, label="first principal component")
        b.set_xlabel("input")
        b.legend(fontsize=8)
        fig.tight_layout()
        path = save_figure(fig, run.figure(FIGURE))
    return [path]
