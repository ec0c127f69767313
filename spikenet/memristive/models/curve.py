"""NeuroSim's exponential conductance curve, shared by the model kinds that follow it."""

from __future__ import annotations

import math

import numpy as np

from .base import NUMPY, Ops

__all__ = ["curve_step", "curve_levels"]


def curve_step(x, n, a_pulses, levels: float, sign: float, ops: Ops = NUMPY):
    r"""Move ``n`` pulses along NeuroSim's exponential curve ``x(P) = b (1 - e^{-P/A})``.

    ``b = 1 / (1 - e^{-levels/A})`` makes ``x(levels) = 1``. Inverting the curve at ``x`` and
    stepping ``P -> P + sign * n`` gives ``b - (b - x) e^{-sign n / A}``; ``A`` (in pulses) may be
    negative (NeuroSim's depression branch). The Brian2 twin is
    :data:`spikenet.memristive.brian2_functions.curve_step`.
    """
    b = 1.0 / (1.0 - ops.exp(-levels / a_pulses))
    return b - (b - x) * ops.exp(-sign * n / a_pulses)


def curve_levels(levels: int, a: float) -> np.ndarray:
    """Normalised conductances after 0, 1, ..., ``levels`` pulses from 0 on the curve with ``A = a``."""
    k = np.arange(levels + 1, dtype=float)
    b = 1.0 / (1.0 - math.exp(-levels / a))
    return b * (1.0 - np.exp(-k / a))
