"""Event-by-event NumPy references of the spiking learning rules, written independently of
spikenet.plasticity, to hold the Brian2 code against.

Each synapse sees a presynaptic and a postsynaptic spike train; traces decay exactly between
events; at equal times the presynaptic spike is processed first (Brian2's order of pathways).
"""

from __future__ import annotations

import math

import numpy as np
from brian2 import second

from spikenet.params.plasticity import DiehlCookSTDPParams, PairSTDPParams, QuerliozSTDPParams, TripletSTDPParams


def _s(q) -> float:
    return float(q / second)


def _bump(value: float, pairing: str) -> float:
    return value + 1.0 if pairing == "all_to_all" else 1.0


def _soft(p, w: float, direction: str) -> float:
    if getattr(p, "bounds", "hard") == "hard":
        return 1.0
    span = p.w_max - p.w_min
    return (p.w_max - w) / span if direction == "up" else (w - p.w_min) / span


def final_weight(p, pre_times: np.ndarray, post_times: np.ndarray, w0: float) -> float:
    """The weight after both spike trains (times in seconds) under rule parameters ``p``."""
    events = sorted([(t, 0) for t in pre_times] + [(t, 1) for t in post_times])
    taus = {
        PairSTDPParams: lambda: {"apre": p.tau_plus, "apost": p.tau_minus},
        TripletSTDPParams: lambda: {"r1": p.tau_plus, "r2": p.tau_x, "o1": p.tau_minus, "o2": p.tau_y},
        DiehlCookSTDPParams: lambda: {"pre": p.tau_pre, "post1": p.tau_post1, "post2": p.tau_post2},
        QuerliozSTDPParams: lambda: {},
    }[type(p)]()
    taus = {k: _s(v) for k, v in taus.items()}
    x = {k: 0.0 for k in taus}
    w, last, t_pre = w0, 0.0, -math.inf

    def clip(value: float) -> float:
        return min(max(value, p.w_min), p.w_max)

    for t, is_post in events:
        for k in x:
            x[k] *= math.exp(-(t - last) / taus[k])
        last = t
        if isinstance(p, PairSTDPParams):
            if not is_post:
                x["apre"] = _bump(x["apre"], p.pairing)
                w = clip(w - p.a_minus * x["apost"] * _soft(p, w, "down"))
            else:
                x["apost"] = _bump(x["apost"], p.pairing)
                w = clip(w + p.a_plus * x["apre"] * _soft(p, w, "up"))
        elif isinstance(p, TripletSTDPParams):
            if not is_post:
                w = clip(w - x["o1"] * (p.a2_minus + p.a3_minus * x["r2"]) * _soft(p, w, "down"))
                x["r1"], x["r2"] = _bump(x["r1"], p.pairing), _bump(x["r2"], p.pairing)
            else:
                w = clip(w + x["r1"] * (p.a2_plus + p.a3_plus * x["o2"]) * _soft(p, w, "up"))
                x["o1"], x["o2"] = _bump(x["o1"], p.pairing), _bump(x["o2"], p.pairing)
        elif isinstance(p, DiehlCookSTDPParams):
            if not is_post:
                x["pre"] = 1.0
                w = clip(w - p.nu_pre * x["post1"] * ((w - p.w_min) ** p.mu if p.mu else 1.0))
            else:
                w = clip(w + p.nu_post * x["pre"] * x["post2"] * ((p.w_max - w) ** p.mu if p.mu else 1.0))
                x["post1"], x["post2"] = 1.0, 1.0
        elif isinstance(p, QuerliozSTDPParams):
            if not is_post:
                t_pre = t
            else:
                span = p.w_max - p.w_min
                if t - t_pre <= _s(p.t_ltp):
                    w = clip(w + p.alpha_plus * math.exp(-p.beta_plus * (w - p.w_min) / span))
                else:
                    w = clip(w - p.alpha_minus * math.exp(-p.beta_minus * (p.w_max - w) / span))
    return w
