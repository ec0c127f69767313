"""Device models in NumPy, vectorised over many devices: the reference for figures and tests.

:class:`DeviceArray` is :class:`spikenet.memristive.arrays.Devices` on NumPy arrays: per-device
state sampled at creation (device-to-device spread, stuck faults, drift exponents), ``pulse``,
``request``, ``read``, and ``program`` (write-verify towards a target). Each model kind's
equations are its module's in :mod:`spikenet.memristive.models`, shared with torch; the Brian2
code of the same models (:mod:`spikenet.memristive.brian2_code`) is held equal to this by
``tests/test_conformance.py``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .arrays import Devices
from .models import NUMPY, drifted, model_of
from .models.curve import curve_step

__all__ = ["DeviceArray", "drifted", "exp_curve_step", "pulses_per_range", "read_signal"]


def exp_curve_step(x: np.ndarray, n: np.ndarray, a_pulses: np.ndarray, levels: float, sign: float) -> np.ndarray:
    """NeuroSim's curve moved ``n`` pulses from ``x`` (:func:`spikenet.memristive.models.curve.curve_step`)."""
    return curve_step(x, n, a_pulses, levels, sign, NUMPY)


def pulses_per_range(p: Any, up: np.ndarray) -> np.ndarray:
    """Nominal pulses that move a device across its whole range, for potentiation (``up``) or not."""
    return model_of(p).pulses_per_range(np.asarray(up, bool), NUMPY)


def read_signal(p: Any, x: np.ndarray) -> np.ndarray:
    """The physical read signal of normalised conductances ``x``, in units of ``g_max - g_min``:
    a 2-PCM pair's G+ - G- (signed), a single device's conductance G (positive).

    Drift compensation scales this signal (aihwkit's drift compensation scales a tile's output).
    """
    return np.asarray(x, dtype=float) - model_of(p).signal_zero


class DeviceArray(Devices):
    """``n`` devices of one card, with their state, on NumPy arrays.

    Parameters
    ----------
    params
        Device parameters (a device card's ``[device]`` section).
    n
        Number of devices (synapses; a 2-PCM synapse is one entry holding two devices).
    rng
        Random generator for everything random about these devices.
    x0
        Initial normalised conductance (programmed exactly; stuck devices ignore it).
    """

    ops = NUMPY

    def __init__(self, params: Any, n: int, rng: np.random.Generator, x0: float | np.ndarray = 0.0):
        self.rng = rng
        super().__init__(params, n, x0)

    def rand(self) -> np.ndarray:
        return self.rng.random(self.n)

    def randn(self) -> np.ndarray:
        return self.rng.standard_normal(self.n)

    def vector(self, value: Any, dtype: str = "float") -> np.ndarray:
        return np.broadcast_to(np.asarray(value, dtype=bool if dtype == "bool" else float), (self.n,)).copy()

    def program(self, target: np.ndarray, tolerance: float, max_pulses: int) -> tuple[np.ndarray, np.ndarray]:
        """Write-verify: read, pulse one step towards ``target``, repeat until within ``tolerance``.

        A PCM device above its target is RESET first (it cannot be depressed gradually).
        Returns ``(converged, pulses_used)`` per device; devices that did not converge within
        ``max_pulses`` (stuck ones, for example) are reported, not hidden.
        """
        target = np.broadcast_to(np.asarray(target, float), (self.n,))
        used = np.zeros(self.n)
        done = np.abs(self.read() - target) <= tolerance
        for _ in range(max_pulses):
            if done.all():
                break
            error = target - self.read()
            done |= np.abs(error) <= tolerance
            active = ~done
            up = error > 0
            self.pulse(up, np.where(active, 1.0, 0.0))
            used += active
        done |= np.abs(self.read() - target) <= tolerance
        return done, used
