"""The effective STDP window when a memristive device stores the weight.

The pairing protocol of :mod:`spikenet.experiments.stdp_window` runs on ``n_devices`` synapses
per timing difference for every device card; the weight change per pairing is shown as mean and
spread next to the window the ideal device gives. A device step larger than the rule's request is
taken stochastically (see :mod:`spikenet.params.devices`), so an unbiased device keeps the mean
window and adds spread; saturating curves, abrupt RESET and binary switching change its shape.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from brian2 import second

from ..catalog import Card
from ..figures import panel_grid, save_figure, style
from ..pairing import pairing_trains, pairing_weights
from ..memristive.models import model_of
from ..runs import RunDir, read_csv, write_csv
from ..schema import quantity_in
from ..params.experiments import DeviceStdpProtocol
from ..running import Contract

METRICS = ("n_devices_cards", "ideal_max_abs_error")
CONTRACT = Contract(protocol=DeviceStdpProtocol, metrics=METRICS, uses_device=False)
FIGURE = "device_stdp"


def simulate(card: Card, run: RunDir, log: logging.Logger, progress: bool) -> dict:
    p, rule = card["protocol"], card["plasticity"]
    dt_ms = quantity_in(p.dt, "ms")
    deltas_ms = np.round(np.linspace(quantity_in(p.delta_min, "ms"), quantity_in(p.delta_max, "ms"), p.n_deltas)
                         / dt_ms) * dt_ms
    period_s = float(1 / p.pairing_rate / second)
    start_s = -deltas_ms.min() / 1000 + 0.1
    trains = [pairing_trains(d / 1000, p.n_pairings, period_s, start_s) for d in deltas_ms]
    pre = [t[0] for t in trains for _ in range(p.n_devices)]
    post = [t[1] for t in trains for _ in range(p.n_devices)]
    columns: dict[str, np.ndarray] = {"delta_t_ms": deltas_ms}
    devices: dict[str, dict] = {}
    ideal_error = float("nan")
    # The rule's own window, per pairing, for pairings that do not interact (as in stdp_window);
    # at dt = 0 the pre spike is processed first, so the post spike sees it: potentiation.
    exact = np.where(deltas_ms >= 0, rule.a_plus * np.exp(-deltas_ms / quantity_in(rule.tau_plus, "ms")),
                     -rule.a_minus * np.exp(deltas_ms / quantity_in(rule.tau_minus, "ms")))
    for name in p.devices:  # the device cards this card embeds (``all``: every one in the catalog)
        device = card.used("devices", name)["device"]
        log.info("%s: %d synapses", name, len(pre))
        w = pairing_weights(rule, pre, post, w_init=p.w_init, dt=p.dt, device=device, progress=progress,
                            description=name)
        dw = ((w - p.w_init) / p.n_pairings).reshape(p.n_deltas, p.n_devices)
        mean, std = dw.mean(axis=1), dw.std(axis=1)
        columns[f"{name}_mean"] = mean
        columns[f"{name}_std"] = std
        if model_of(device).exact:
            ideal_error = float(np.max(np.abs(mean - exact)))
        ltp, ltd = deltas_ms >= 0, deltas_ms < 0
        devices[name] = {
            "model": device.MODEL,
            "window_correlation": float(np.corrcoef(mean, exact)[0, 1]) if np.std(mean) > 0 else 0.0,
            "ltp_gain": float(mean[ltp].sum() / exact[ltp].sum()),
            "ltd_gain": float(mean[ltd].sum() / exact[ltd].sum()),
            "spread_to_signal": float(np.mean(std) / np.mean(np.abs(exact))),
        }
    columns["rule_exact"] = exact
    write_csv(run.figures / f"{FIGURE}.csv", columns)
    return {"n_devices_cards": len(devices), "ideal_max_abs_error": ideal_error, "devices": devices}


def draw(run: RunDir) -> list[Path]:
    data = read_csv(run.figures / f"{FIGURE}.csv")
    devices = run.read_metrics()["devices"]
    names = list(devices)
    x = data["delta_t_ms"]
    with style():
        fig, axes = panel_grid(len(names), cols=4, panel_size=(3.25, 3.0), sharex=True)
        for ax, name in zip(axes, names):
            mean, std = data[f"{name}_mean"], data[f"{name}_std"]
            ax.axhline(0, color="0.7", lw=0.8)
            ax.fill_between(x, mean - std, mean + std, color="C0", alpha=0.25, lw=0)
            ax.plot(x, mean, "o-", ms=2.5, color="C0", label="device: mean +- std")
            ax.plot(x, data["rule_exact"], "k--", lw=1, label="rule (ideal weights)")
            m = devices[name]
            ax.set_title(f"{name}: r = {m['window_correlation']:.2f}, LTP x{m['ltp_gain']:.2f}, "
                         f"LTD x{m['ltd_gain']:.2f}", fontsize=8)
            ax.set_xlabel("t_post - t_pre (ms)")
        axes[0].set_ylabel("weight change per pairing")
        axes[0].legend(fontsize=7, loc="upper left")
        fig.tight_layout()
        path = save_figure(fig, run.figure(FIGURE))
    return [path]
