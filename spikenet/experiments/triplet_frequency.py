"""Pairing-frequency dependence of plasticity: the triplet rule against the pair rule and the data.

Sjostrom, Turrigiano & Nelson (2001) paired pre and post spikes 60 times at +10 ms or -10 ms,
at 0.1 to 50 Hz. Pfister & Gerstner (2006) showed that a pair rule cannot follow the data
(LTP for both orders at high frequency) and that the triplet rule can. Here the triplet rule
runs with the card's published parameters; the pair rule (the same rule with A3+ = A3- = 0,
same time constants and pairing) gets the amplitudes that fit the data best: the weight change
of an additive rule far from its bounds is linear in (A2+, A2-), so two simulations with unit
amplitudes give the least-squares fit exactly.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from pathlib import Path

import numpy as np
from brian2 import second

from ..catalog import Card
from ..errors import CardError
from ..figures import save_figure, style
from ..pairing import pairing_trains, pairing_weights
from ..params.plasticity import TripletSTDPParams
from ..runs import RunDir, read_csv, write_csv
from ..schema import quantity_in
from ..params.experiments import TripletFrequencyProtocol
from ..running import Contract

METRICS = ("rms_error_triplet", "rms_error_pair", "pair_a2_plus", "pair_a2_minus", "rms_ratio_pair_to_triplet")
CONTRACT = Contract(protocol=TripletFrequencyProtocol, metrics=METRICS, uses_device=False)
FIGURE = "triplet_frequency"
W_INIT = 1.0  # relative changes, as in the data


def _unbounded(rule: TripletSTDPParams, **amplitudes) -> TripletSTDPParams:
    """The rule without reachable bounds (additive, so weight changes add up exactly)."""
    return dataclasses.replace(rule, w_min=-math.inf, w_max=math.inf, bounds="hard", **amplitudes)


def simulate(card: Card, run: RunDir, log: logging.Logger, progress: bool) -> dict:
    p = card["protocol"]
    rule = card.sections.get("plasticity")
    if not isinstance(rule, TripletSTDPParams):
        raise CardError(f"{card.path}: triplet_frequency needs a triplet rule in [plasticity] "
                        f"(experiment.model = one of the triplet_* model cards)")
    freqs_hz = np.array([quantity_in(f, "Hz") for f in p.frequencies])
    delta_s = float(p.delta / second)
    conditions = [(f, sign) for sign in (1, -1) for f in freqs_hz]
    trains = [pairing_trains(sign * delta_s, p.n_pairings, 1.0 / f, start_s=delta_s + 0.01) for f, sign in conditions]
    pre, post = [t[0] for t in trains], [t[1] for t in trains]

    def change(params, label):
        log.info("simulating %s: %d conditions", label, len(conditions))
        return pairing_weights(params, pre, post, w_init=W_INIT, dt=p.dt, progress=progress, description=label) - W_INIT

    triplet = change(_unbounded(rule), "triplet rule")
    basis_plus = change(_unbounded(rule, a2_plus=1.0, a2_minus=0.0, a3_plus=0.0, a3_minus=0.0), "pair rule, LTP part")
    basis_minus = change(_unbounded(rule, a2_plus=0.0, a2_minus=1.0, a3_plus=0.0, a3_minus=0.0), "pair rule, LTD part")
    data = np.concatenate([p.data_plus, p.data_minus])
    sem = np.concatenate([p.data_plus_sem, p.data_minus_sem])
    (a2_plus, a2_minus), *_ = np.linalg.lstsq(np.column_stack([basis_plus, basis_minus]), data, rcond=None)
    pair = a2_plus * basis_plus + a2_minus * basis_minus

    n = len(freqs_hz)
    write_csv(run.figures / f"{FIGURE}.csv", {
        "frequency_Hz": np.concatenate([freqs_hz, freqs_hz]),
        "delta_t_ms": np.repeat([1000 * delta_s, -1000 * delta_s], n),
        "data_dw": data,
        "data_sem": sem,
        "triplet_dw": triplet,
        "pair_dw": pair,
    })
    rms_triplet = float(np.sqrt(np.mean((triplet - data) ** 2)))
    rms_pair = float(np.sqrt(np.mean((pair - data) ** 2)))
    return {
        "rms_error_triplet": rms_triplet,
        "rms_error_pair": rms_pair,
        "pair_a2_plus": float(a2_plus),
        "pair_a2_minus": float(a2_minus),
        "rms_ratio_pair_to_triplet": rms_pair / rms_triplet,
    }


def draw(run: RunDir) -> list[Path]:
    from spikenet.figures import subplots

    d = read_csv(run.figures / f"{FIGURE}.csv")
    m = run.read_metrics()
    with style():
        fig, ax = subplots(figsize=(6.4, 4.4))
        ax.axhline(0, color="0.6", lw=0.8)
        for sign, color, label in ((1, "C3", "pre-post (+"), (-1, "C0", "post-pre (-")):
            sel = np.sign(d["delta_t_ms"]) == sign
            f = d["frequency_Hz"][sel]
            delta = abs(d["delta_t_ms"][sel][0])
            ax.errorbar(f, d["data_dw"][sel], yerr=d["data_sem"][sel], fmt="o", color=color, capsize=3,
                        label=f"data, {label}{delta:g} ms)")
            ax.plot(f, d["triplet_dw"][sel], "-", color=color, label=f"triplet rule, {label}{delta:g} ms)")
            ax.plot(f, d["pair_dw"][sel], ":", color=color, label=f"best pair rule, {label}{delta:g} ms)")
        ax.set_xlabel("pairing frequency (Hz)")
        ax.set_ylabel("relative weight change")
        ax.set_title(f"Frequency dependence (Sjostrom et al. 2001 data)\nrms error: triplet "
                     f"{m['rms_error_triplet']:.3f}, pair {m['rms_error_pair']:.3f}")
        ax.legend(fontsize=7, loc="upper left")
        path = save_figure(fig, run.figure(FIGURE))
    return [path]
