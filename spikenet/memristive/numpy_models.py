"""Device models in NumPy, vectorised over many devices: the reference for figures and tests.

Every model works on the normalised conductance ``x = (G - g_min) / (g_max - g_min)`` and
shares one interface (:class:`DeviceArray`): per-device state sampled at creation (device-to-
device spread, stuck faults, drift exponents), ``pulse`` (the response to ``n`` potentiating or
depressing pulses), ``request`` (a learning rule's change, stochastically rounded to pulses),
``read`` (read noise and drift), and ``program`` (write-verify towards a target).

The same equations are written as Brian2 code in :mod:`spikenet.memristive.brian2_code`; the
tests hold the two against each other.
"""

from __future__ import annotations

import numpy as np
from brian2 import second, siemens

from ..params.devices import (
    PCM2DeviceParams,
    PCMDeviceParams,
    LinearDeviceParams,
    SoftBoundDeviceParams,
    _BinaryDeviceParams,
)

__all__ = ["DeviceArray", "drifted", "exp_curve_step", "pulses_per_range", "read_signal"]


def exp_curve_step(x: np.ndarray, n: np.ndarray, a_pulses: np.ndarray, levels: float, sign: float) -> np.ndarray:
    r"""Move ``n`` pulses along NeuroSim's exponential curve ``x(P) = b (1 - e^{-P/A})``.

    ``b = 1 / (1 - e^{-levels/A})`` makes ``x(levels) = 1``. Inverting the curve at ``x`` and
    stepping ``P -> P + sign * n`` gives ``b - (b - x) e^{-sign n / A}``; ``A`` (in pulses) may be
    negative (NeuroSim's depression branch).
    """
    b = 1.0 / (1.0 - np.exp(-levels / a_pulses))
    return b - (b - x) * np.exp(-sign * n / a_pulses)


def pulses_per_range(p, up: np.ndarray) -> np.ndarray:
    """Nominal pulses that move a device across its whole range, for potentiation (``up``) or not."""
    if isinstance(p, LinearDeviceParams):
        return np.full(up.shape, float(p.levels - 1))
    if isinstance(p, SoftBoundDeviceParams):
        return np.where(up, float(p.levels_ltp), float(p.levels_ltd))
    if isinstance(p, PCM2DeviceParams):
        return np.full(up.shape, 2.0 * p.levels_set)  # each device covers half the differential range
    if isinstance(p, PCMDeviceParams):
        return np.where(up, float(p.levels_set), 1.0)  # one RESET pulse covers the whole range
    if isinstance(p, _BinaryDeviceParams):
        return np.ones(up.shape)
    raise TypeError(f"no pulse model for {type(p).__name__}")


def drifted(p, x: np.ndarray, elapsed: np.ndarray | float, nu: np.ndarray | float) -> np.ndarray:
    """Normalised conductance ``x`` after drifting for ``elapsed`` seconds since programming
    (exponent ``nu`` per device): G(t) = G_prog ((elapsed + t0) / t0)^-nu.

    A 2-PCM pair's G+ and G- drift alike (one nu per pair), so the difference shrinks and the
    g_min offsets cancel. The Brian2 twin is ``memristive.brian2_code._drifted``.
    """
    x = np.asarray(x, dtype=float)
    if p.drift_nu <= 0:
        return x
    t0 = float(p.drift_t0 / second)
    factor = ((np.maximum(elapsed, 0.0) + t0) / t0) ** (-np.asarray(nu, dtype=float))
    if isinstance(p, PCM2DeviceParams):
        return 0.5 + (x - 0.5) * factor
    g0 = float(p.g_min / (p.g_max - p.g_min))
    return x * factor + g0 * (factor - 1)


def read_signal(p, x: np.ndarray) -> np.ndarray:
    """The physical read signal of normalised conductances ``x``, in units of ``g_max - g_min``:
    a 2-PCM pair's G+ - G- (signed), a single device's conductance G (positive).

    Drift compensation scales this signal (aihwkit's drift compensation scales a tile's output).
    """
    x = np.asarray(x, dtype=float)
    if isinstance(p, PCM2DeviceParams):
        return x - 0.5
    return x + float(p.g_min / (p.g_max - p.g_min))


class DeviceArray:
    """``n`` devices of one card (non-ideal models), with their state.

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

    def __init__(self, params, n: int, rng: np.random.Generator, x0: float | np.ndarray = 0.0):
        self.p = params
        self.n = n
        self.rng = rng
        p = params
        u = rng.random(n)
        self.stuck = np.where(u < p.stuck_low, -1, np.where(u < p.stuck_low + p.stuck_high, 1, 0))
        # Device-to-device spread: one relative factor per device (step size or curve shape).
        self.scale = np.maximum(1.0 + p.d2d_std * rng.standard_normal(n), 0.05)
        self.nu = np.abs(p.drift_nu + p.drift_nu_std * rng.standard_normal(n))
        self.t_prog = np.zeros(n)
        self.pulses_ltp = np.zeros(n)
        self.pulses_ltd = np.zeros(n)
        x0 = np.broadcast_to(np.asarray(x0, float), (n,)).copy()
        if isinstance(p, _BinaryDeviceParams):
            self.p_set = np.clip(p.p_set + p.p_set_std * rng.standard_normal(n), 0, 1)
            self.p_reset = np.clip(p.p_reset + p.p_reset_std * rng.standard_normal(n), 0, 1)
            self.on = (rng.random(n) < x0).astype(float)
            self.x = self._draw_binary(self.on)
        elif isinstance(p, PCM2DeviceParams):
            d = 2 * x0 - 1
            self.xp, self.xm = np.clip(d, 0, 1), np.clip(-d, 0, 1)
            self.x = (self.xp - self.xm + 1) / 2
        else:
            self.x = x0
        self._apply_stuck()

    # ------------------------------------------------------------------ state

    def _apply_stuck(self) -> None:
        high, low = self.stuck > 0, self.stuck < 0
        self.x = np.where(high, 1.0, np.where(low, 0.0, self.x))
        if isinstance(self.p, PCM2DeviceParams):
            self.xp = np.where(high, 1.0, np.where(low, 0.0, self.xp))
            self.xm = np.where(high, 0.0, np.where(low, 1.0, self.xm))

    def _draw_binary(self, on: np.ndarray) -> np.ndarray:
        p = self.p
        g_min, g_max = float(p.g_min / siemens), float(p.g_max / siemens)
        g_on = g_max * np.exp(p.sigma_ln_on * self.rng.standard_normal(self.n))
        g_off = g_min * np.exp(p.sigma_ln_off * self.rng.standard_normal(self.n))
        return (np.where(on > 0, g_on, g_off) - g_min) / (g_max - g_min)

    @property
    def bounds(self):
        """``(g_min, g_max)`` as Brian2 quantities."""
        return self.p.g_min, self.p.g_max

    def conductance(self) -> np.ndarray:
        """Conductance (siemens, floats) as programmed: no read noise, no drift."""
        g_min, g_max = float(self.p.g_min / siemens), float(self.p.g_max / siemens)
        return g_min + (g_max - g_min) * self.x

    # ------------------------------------------------------------------ pulses

    def pulse(self, up: np.ndarray | bool, n: np.ndarray | int = 1, t: float = 0.0) -> None:
        """Apply ``n`` potentiating (``up``) or depressing pulses to every device, at time ``t`` (s)."""
        p = self.p
        up = np.broadcast_to(np.asarray(up, bool), (self.n,))
        n = np.broadcast_to(np.asarray(n, float), (self.n,))
        free = (self.stuck == 0) & (n > 0)
        noise = p.c2c_std * np.sqrt(n) * self.rng.standard_normal(self.n)
        if isinstance(p, LinearDeviceParams):
            x_new = self.x + np.where(up, 1, -1) * n * self.scale / (p.levels - 1) + noise
        elif isinstance(p, SoftBoundDeviceParams):
            x_up = exp_curve_step(self.x, n, p.a_ltp * p.levels_ltp * self.scale, p.levels_ltp, 1.0)
            x_dn = exp_curve_step(self.x, n, p.a_ltd * p.levels_ltd * self.scale, p.levels_ltd, -1.0)
            x_new = np.where(up, x_up, x_dn) + noise
        elif isinstance(p, PCM2DeviceParams):
            a = p.a_set * p.levels_set * self.scale
            xp = np.where(free & up, np.clip(exp_curve_step(self.xp, n, a, p.levels_set, 1.0) + noise, 0, 1), self.xp)
            xm = np.where(free & ~up, np.clip(exp_curve_step(self.xm, n, a, p.levels_set, 1.0) + noise, 0, 1),
                          self.xm)
            refresh = free & ((xp > p.refresh_threshold) | (xm > p.refresh_threshold))
            d = xp - xm
            write = p.c2c_std * self.rng.standard_normal(self.n)
            self.xp = np.where(refresh, np.clip(d + write, 0, 1) * (d > 0), xp)
            self.xm = np.where(refresh, np.clip(-d + write, 0, 1) * (d <= 0), xm)
            x_new = (self.xp - self.xm + 1) / 2
        elif isinstance(p, PCMDeviceParams):
            x_up = exp_curve_step(self.x, n, p.a_set * p.levels_set * self.scale, p.levels_set, 1.0) + noise
            x_reset = np.abs(p.c2c_std * self.rng.standard_normal(self.n))  # RESET lands near g_min
            x_new = np.where(up, x_up, x_reset)
        elif isinstance(p, _BinaryDeviceParams):
            prob = np.where(up, 1 - (1 - self.p_set) ** n, 1 - (1 - self.p_reset) ** n)
            switched = self.rng.random(self.n) < prob
            on = np.where(switched, up.astype(float), self.on)
            self.on = np.where(free, on, self.on)
            x_new = self._draw_binary(self.on)  # every pulse re-draws the state's conductance
        else:
            raise TypeError(f"no pulse model for {type(p).__name__}")
        if not isinstance(p, _BinaryDeviceParams):
            x_new = np.clip(x_new, 0.0, 1.0)
        self.x = np.where(free, x_new, self.x)
        self.t_prog = np.where(free, t, self.t_prog)
        self.pulses_ltp += np.where(up, n, 0)
        self.pulses_ltd += np.where(up, 0, n)

    def request(self, dx: np.ndarray, t: float = 0.0) -> np.ndarray:
        """Apply a learning rule's requested change ``dx`` (normalised units); returns the pulses.

        The number of pulses is ``|dx|`` times the device's nominal pulses per range, rounded
        stochastically (up with probability equal to the fraction), so that the expected number
        of pulses is exactly what was asked for even when one step is larger than the request.
        """
        dx = np.broadcast_to(np.asarray(dx, float), (self.n,))
        up = dx > 0
        wanted = np.abs(dx) * pulses_per_range(self.p, up)
        n = np.floor(wanted) + (self.rng.random(self.n) < wanted - np.floor(wanted))
        self.pulse(up, n, t)
        return n

    # ------------------------------------------------------------------ read and program

    def read(self, t: float | None = None, *, noise: bool = True) -> np.ndarray:
        """Normalised conductance as read at time ``t`` (s): drift since programming, and read
        noise unless ``noise`` is false (the mean of many reads)."""
        p = self.p
        x = self.x if t is None else drifted(p, self.x, t - self.t_prog, self.nu)
        if noise and p.read_noise_std > 0:
            x = x + p.read_noise_std * self.rng.standard_normal(self.n)
        return x

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
