"""Conductance against pulse number for every device card: the LTP/LTD figure of device papers.

``n_devices`` devices of each card start at g_min and receive ``n_pulses`` potentiating pulses,
then as many depressing ones (NumPy models, :class:`spikenet.memristive.DeviceArray`). Per card,
``metrics.json`` has the cycle-to-cycle spread measured from the pulse-to-pulse changes next to
the card's value, the dynamic range g_max / g_min, the number of levels on the potentiation
branch (states the mean curve passes before its steps fall below 0.1 % of the range; 2 for
binary devices), and each branch's nonlinearity (largest distance of the unsaturated mean curve
from the straight line between its ends, as a fraction of the range).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from brian2 import siemens

from ..catalog import Card
from ..figures import panel_grid, save_figure, style
from ..memristive import DeviceArray
from ..memristive.models import model_of
from ..runs import RunDir, read_csv, write_csv
from ..params.experiments import DeviceCurvesProtocol
from ..running import Contract

METRICS = ("n_devices_cards", "max_c2c_relative_error")
CONTRACT = Contract(protocol=DeviceCurvesProtocol, metrics=METRICS, uses_device=False)
FIGURE = "device_curves"


def _moving(mean: np.ndarray) -> np.ndarray:
    """The part of a mean branch before it saturates: up to the first pulse from which the mean
    stays within 0.2 % of the range of its final value. (A threshold on single steps is crossed at
    random once the mean has saturated: a saturated mean still jitters with the devices' noise,
    by about 3e-4 of the range for 1000 PCM devices RESET again and again.)"""
    away = np.flatnonzero(np.abs(mean - mean[-1]) > 2e-3)
    return mean[: int(np.max(away, initial=-1)) + 2]


def _nonlinearity(mean: np.ndarray) -> float:
    """Largest distance of the (unsaturated) mean curve from the straight line between its ends."""
    moving = _moving(mean)
    if moving.size < 3:
        return 0.0
    line = np.linspace(moving[0], moving[-1], moving.size)
    return float(np.max(np.abs(moving - line)))


def _c2c(steps: np.ndarray, x_before: np.ndarray, stuck: np.ndarray) -> float:
    """Std of one pulse's change across devices, pooled over pulses, away from the bounds."""
    inside = (x_before > 0.05) & (x_before < 0.95) & (stuck == 0)[None, :]
    counts = inside.sum(axis=1, keepdims=True)
    mean = np.where(inside, steps, 0.0).sum(axis=1, keepdims=True) / np.maximum(counts, 1)
    residual = steps - mean
    values = residual[inside]
    return float(np.std(values)) if values.size > 10 else float("nan")


def simulate(card: Card, run: RunDir, log: logging.Logger, progress: bool) -> dict:
    p = card["protocol"]
    rng = np.random.default_rng(card["experiment"].seed)
    devices = {}
    columns: dict[str, np.ndarray] = {"pulse": np.arange(2 * p.n_pulses + 1)}
    worst = 0.0
    for name in p.devices:  # the device cards this card embeds (``all``: every one in the catalog)
        params = card.used("devices", name)["device"]
        if model_of(params).exact:  # no pulses, no curve
            continue
        log.info("%s: %d devices, %d + %d pulses", name, p.n_devices, p.n_pulses, p.n_pulses)
        array = DeviceArray(params, p.n_devices, rng, 0.0)
        xs = [array.x.copy()]
        for k in range(2 * p.n_pulses):
            array.pulse(k < p.n_pulses, 1)
            xs.append(array.x.copy())
        x = np.array(xs)  # (pulses + 1, devices)
        g_min, g_max = float(params.g_min / siemens), float(params.g_max / siemens)
        physical = model_of(params).physical  # a digital weight has no conductance: its level, 0 to 1
        g_us = 1e6 * (g_min + (g_max - g_min) * x) if physical else x
        mean = x.mean(axis=1)
        up, down = mean[: p.n_pulses + 1], mean[p.n_pulses:]
        step_up = np.diff(x[: p.n_pulses + 1], axis=0)
        binary = not model_of(params).clipped  # two states, log-normal conductances
        c2c = float("nan") if binary else _c2c(step_up, x[:p.n_pulses], array.stuck)
        levels = 2 if binary else _moving(up).size  # states reached before the mean curve saturates
        devices[name] = {
            "model": params.MODEL,
            "c2c_measured": c2c,
            "c2c_card": params.c2c_std,
            "physical": physical,
            "dynamic_range": g_max / g_min if physical and g_min > 0 else float("nan"),
            "g_min_uS": 1e6 * g_min if physical else 0.0,
            "levels_before_saturation": levels,
            "nonlinearity_ltp": _nonlinearity(up),
            "nonlinearity_ltd": _nonlinearity(down),
            "final_mean_after_ltp": float(up[-1]),
        }
        if params.c2c_std > 0 and params.d2d_std == 0 and not binary and params.MODEL != "pcm_2pcm":
            worst = max(worst, abs(c2c - params.c2c_std) / params.c2c_std)
        columns[f"{name}_mean_uS"] = g_us.mean(axis=1)
        columns[f"{name}_std_uS"] = g_us.std(axis=1)
        for k in range(min(p.n_traces, p.n_devices)):
            columns[f"{name}_trace{k}_uS"] = g_us[:, k]
    write_csv(run.figures / f"{FIGURE}.csv", columns)
    return {"n_devices_cards": len(devices), "max_c2c_relative_error": worst, "devices": devices}


def draw(run: RunDir) -> list[Path]:
    data = read_csv(run.figures / f"{FIGURE}.csv")
    devices = run.read_metrics()["devices"]
    names = list(devices)
    pulse = data["pulse"]
    n_ltp = (pulse.size - 1) // 2
    with style():
        fig, axes = panel_grid(len(names), cols=3, panel_size=(3.7, 3.2))
        for ax, name in zip(axes, names):
            mean, std = data[f"{name}_mean_uS"], data[f"{name}_std_uS"]
            m = devices[name]
            for key in [k for k in data if k.startswith(f"{name}_trace")]:
                ax.plot(pulse, data[key], color="0.75", lw=0.6)
            # no conductance lies below the device's g_min: the band of +-1 s.d. stops there
            floor = m.get("g_min_uS", 0.0)
            ax.fill_between(pulse, np.maximum(mean - std, floor), mean + std, color="C0", alpha=0.25, lw=0)
            ax.plot(pulse, mean, color="C0")
            ax.axvline(n_ltp, color="0.5", ls=":", lw=1)
            c2c = m["c2c_measured"]
            if c2c is None or c2c != c2c:  # JSON null: a binary device has no steps to measure
                noise = "binary: no step noise to measure"
            else:
                noise = f"c2c {c2c:.3f} measured, {m['c2c_card']:.3f} on the card"
            physical = m.get("physical", True)
            scale = f"range x{m['dynamic_range']:.3g}" if physical else f"{m['levels_before_saturation']:.0f} levels reached"
            ax.set_title(f"{name} ({m['model']})\n{noise}, {scale}", fontsize=8)
            ax.set_xlabel("pulse (LTP, then LTD)")
            ax.set_ylabel("G (uS)" if physical else "weight level (0 to 1)")
        from matplotlib.lines import Line2D
        from matplotlib.patches import Patch

        fig.legend([Line2D([], [], color="0.75", lw=0.6), Line2D([], [], color="C0"),
                    Patch(color="C0", alpha=0.25, lw=0), Line2D([], [], color="0.5", ls=":", lw=1)],
                   ["single devices", "mean over devices", "mean +- 1 s.d. (down to g_min)",
                    "LTP pulses end, LTD pulses begin"], loc="lower center", ncol=4, fontsize=8,
                   bbox_to_anchor=(0.5, -0.02))
        fig.tight_layout(rect=(0, 0.04, 1, 1))
        path = save_figure(fig, run.figure(FIGURE))
    return [path]
