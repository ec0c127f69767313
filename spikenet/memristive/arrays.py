"""Many devices of one card as arrays: the behaviour every model kind shares, written once for
NumPy (:class:`spikenet.memristive.DeviceArray`) and torch
(:class:`spikenet.memristive.torch_models.TorchDeviceArray`).

Per-device state sampled at creation (stuck faults, device-to-device spread of the step size or
curve shape, drift exponents), ``pulse`` (the model's response to ``n`` potentiating or
depressing pulses), ``request`` (a learning rule's change, stochastically rounded to pulses),
``read`` (drift and read noise). What differs between kinds is the model's
(:mod:`spikenet.memristive.models`); what differs between NumPy and torch is a subclass's
(``ops``, the draws, how a value becomes a vector).
"""

from __future__ import annotations

from typing import Any

from brian2 import siemens

from .models import Ops, drifted, model_of

__all__ = ["Devices"]


class Devices:
    """``n`` devices of one card, with their state (subclasses: NumPy, torch).

    ``x`` is each device's normalised conductance ``(G - g_min) / (g_max - g_min)``; ``stuck``
    -1 / 0 / +1 (stuck at g_min, free, stuck at g_max); ``scale`` its device-to-device factor;
    ``nu`` its drift exponent; ``t_prog`` when it was last programmed (s); ``pulses_ltp`` /
    ``pulses_ltd`` the pulses it got. The model kind adds its own (``model.state``).
    """

    ops: Ops

    def __init__(self, params: Any, n: int, x0: Any = 0.0):
        self.p, self.n = params, n
        self.model = model = model_of(params)
        ops = self.ops
        if model.exact:  # nothing to sample: no faults, spread or drift
            self.stuck, self.scale, self.nu = self.vector(0.0), self.vector(1.0), self.vector(0.0)
        else:
            p = params
            u = self.rand()
            self.stuck = ops.where(u < p.stuck_low, -1, ops.where(u < p.stuck_low + p.stuck_high, 1, 0))
            self.scale = ops.clip(1.0 + p.d2d_std * self.randn(), 0.05, None)
            self.nu = ops.abs(p.drift_nu + p.drift_nu_std * self.randn())
        self.t_prog = self.vector(0.0)
        self.pulses_ltp = self.vector(0.0)
        self.pulses_ltd = self.vector(0.0)
        model.start(self, self.vector(x0) * 1.0)
        self._apply_stuck()

    # ------------------------------------------------------------------ backend

    def rand(self):
        """``n`` uniform draws in [0, 1)."""
        raise NotImplementedError

    def randn(self):
        """``n`` standard normal draws."""
        raise NotImplementedError

    def vector(self, value: Any, dtype: str = "float"):
        """``value`` broadcast to ``n`` entries (a new, writable array of floats or booleans)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ state

    def _apply_stuck(self) -> None:
        self.model.apply_stuck(self, self.stuck > 0, self.stuck < 0)

    @property
    def bounds(self):
        """``(g_min, g_max)`` as Brian2 quantities."""
        return self.p.g_min, self.p.g_max

    def conductance(self):
        """Conductance (siemens, floats) as programmed: no read noise, no drift."""
        g_min, g_max = float(self.p.g_min / siemens), float(self.p.g_max / siemens)
        return g_min + (g_max - g_min) * self.x

    # ------------------------------------------------------------------ pulses

    def pulse(self, up: Any, n: Any = 1, t: float = 0.0) -> None:
        """Apply ``n`` potentiating (``up``) or depressing pulses to every device, at time ``t`` (s)."""
        if self.model.exact:
            raise TypeError("the ideal device takes a rule's changes (request), not pulses")
        p, ops = self.p, self.ops
        up = self.vector(up, "bool")
        n = self.vector(n)
        free = (self.stuck == 0) & (n > 0)
        noise = p.c2c_std * ops.sqrt(n) * self.randn()
        x_new = self.model.step(self, up, n, free, noise)
        if self.model.clipped:
            x_new = ops.clip(x_new, 0.0, 1.0)
        self.x = ops.where(free, x_new, self.x)
        self.t_prog = ops.where(free, t, self.t_prog)
        self.pulses_ltp += ops.where(up, n, 0.0)
        self.pulses_ltd += ops.where(up, 0.0, n)

    def request(self, dx: Any, t: float = 0.0):
        """Apply a learning rule's requested change ``dx`` (normalised units); returns the pulses.

        The number of pulses is ``|dx|`` times the device's nominal pulses per range, rounded
        stochastically (up with probability equal to the fraction), so that the expected number
        of pulses is exactly what was asked for even when one step is larger than the request.
        The ideal device takes ``dx`` itself (clipped to the range) and returns no pulses.
        """
        ops = self.ops
        dx = self.vector(dx)
        if self.model.exact:
            self.x = ops.clip(self.x + dx, 0.0, 1.0)
            return dx * 0.0
        up = dx > 0
        wanted = ops.abs(dx) * self.model.pulses_per_range(up, ops)
        n = ops.floor(wanted) + ops.float(self.rand() < wanted - ops.floor(wanted))
        self.pulse(up, n, t)
        return n

    # ------------------------------------------------------------------ read

    def read(self, t: float | None = None, *, noise: bool = True):
        """Normalised conductance as read at time ``t`` (s): drift since programming, and read
        noise unless ``noise`` is false (the mean of many reads)."""
        if self.model.exact:
            return self.x
        p = self.p
        x = self.x if t is None else drifted(p, self.x, t - self.t_prog, self.nu, self.ops)
        if noise and p.read_noise_std > 0:
            x = x + p.read_noise_std * self.randn()
        return x
