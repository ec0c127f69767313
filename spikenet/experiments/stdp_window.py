"""The STDP window: weight change against spike-timing difference, with exponential fits.

The pairing protocol of Bi & Poo (1998): for each timing difference ``t_post - t_pre``, one
synapse receives ``n_pairings`` pre/post pairs at ``pairing_rate``. The weight change per
pairing is fitted on each side with an exponential (scipy's ``curve_fit``). The figure
overlays the exponentials with the time constants of Bi & Poo (2001).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from brian2 import second
from scipy.optimize import curve_fit

from ..catalog import Card
from ..figures import save_figure, style
from ..pairing import pairing_trains, pairing_weights
from ..runs import RunDir, read_csv, write_csv
from ..schema import quantity_in
from ..params.experiments import StdpWindowProtocol
from ..running import Contract

METRICS = ("tau_plus_ms", "tau_minus_ms", "a_plus", "a_minus", "max_fit_residual")
CONTRACT = Contract(protocol=StdpWindowProtocol, metrics=METRICS, uses_device=True)
"""The card's experiment.device stores the plastic weights."""
FIGURE = "stdp_window"
BI_POO_2001_TAU_MS = (16.8, 33.7)
"""Time constants of the exponential fits to Bi & Poo's (1998) data, from Bi & Poo (2001) as
used by Pfister & Gerstner (2006) (tau_plus, tau_minus)."""


def _exp(x, a, tau):
    return a * np.exp(-x / tau)


def simulate(card: Card, run: RunDir, log: logging.Logger, progress: bool) -> dict:
    p = card["protocol"]
    dt_ms = quantity_in(p.dt, "ms")
    deltas_ms = np.linspace(quantity_in(p.delta_min, "ms"), quantity_in(p.delta_max, "ms"), p.n_deltas)
    deltas_ms = np.round(deltas_ms / dt_ms) * dt_ms  # spike times fall on the time grid
    period_s = float(1 / p.pairing_rate / second)
    start_s = -deltas_ms.min() / 1000 + 0.1
    trains = [pairing_trains(d / 1000, p.n_pairings, period_s, start_s) for d in deltas_ms]
    log.info("%d timing differences x %d pairings at %s", p.n_deltas, p.n_pairings, p.pairing_rate)
    w = pairing_weights(card["plasticity"], [t[0] for t in trains], [t[1] for t in trains], w_init=p.w_init,
                        dt=p.dt, device=card.sections.get("device", "ideal"), progress=progress,
                        description="STDP window")
    per_pairing = (w - p.w_init) / p.n_pairings
    write_csv(run.figures / f"{FIGURE}.csv", {"delta_t_ms": deltas_ms, "dw_per_pairing": per_pairing,
                                                "w_final": w})

    fits = {}
    residual = 0.0
    for side, mask, sign in (("plus", deltas_ms > 0, 1.0), ("minus", deltas_ms < 0, -1.0)):
        x, y = np.abs(deltas_ms[mask]), sign * per_pairing[mask]
        try:
            (a, tau), _ = curve_fit(_exp, x, y, p0=(max(y.max(), 1e-12), 20.0), maxfev=10_000)
        except RuntimeError:  # no exponential fits (a device can make the window anything)
            log.warning("no exponential fits the %s side of the window", side)
            a, tau = float("nan"), float("nan")
        fits[side] = (a, tau)
        residual = max(residual, float(np.max(np.abs(_exp(x, a, tau) - y)) / max(abs(a), 1e-300)))
    return {
        "tau_plus_ms": float(fits["plus"][1]),
        "tau_minus_ms": float(fits["minus"][1]),
        "a_plus": float(fits["plus"][0]),
        "a_minus": float(fits["minus"][0]),
        "max_fit_residual": residual,
    }


def draw(run: RunDir) -> list[Path]:
    from spikenet.figures import subplots

    data = read_csv(run.figures / f"{FIGURE}.csv")
    m = run.read_metrics()
    x = data["delta_t_ms"]
    with style():
        fig, ax = subplots(figsize=(6.4, 4.2))
        ax.axhline(0, color="0.6", lw=0.8)
        ax.axvline(0, color="0.6", lw=0.8)
        ax.plot(x, data["dw_per_pairing"], "o", mfc="none", color="C0", label="simulated (Brian2)")
        xp, xm = np.linspace(0.01, x.max(), 300), np.linspace(x.min(), -0.01, 300)
        fitted = None not in (m["a_plus"], m["tau_plus_ms"], m["a_minus"], m["tau_minus_ms"])
        if fitted:  # null when no exponential fits one side (see metrics.json)
            ax.plot(xp, _exp(xp, m["a_plus"], m["tau_plus_ms"]), color="C3",
                    label=f"fit: tau+ = {m['tau_plus_ms']:.2f} ms, tau- = {m['tau_minus_ms']:.2f} ms")
            ax.plot(xm, -_exp(-xm, m["a_minus"], m["tau_minus_ms"]), color="C3")
            tp, tm = BI_POO_2001_TAU_MS
            ax.plot(xp, _exp(xp, m["a_plus"], tp), "k--", lw=1,
                    label=f"Bi & Poo (2001) time constants {tp} / {tm} ms\n(amplitudes scaled to the fit)")
            ax.plot(xm, -_exp(-xm, m["a_minus"], tm), "k--", lw=1)
        ax.set_xlabel("t_post - t_pre (ms)")
        ax.set_ylabel("weight change per pairing")
        ax.set_title("STDP window (pairing protocol of Bi & Poo 1998)")
        ax.legend(loc="upper left", fontsize=8)
        path = save_figure(fig, run.figure(FIGURE))
    return [path]
