"""Device models in torch: the same equations as :mod:`spikenet.memristive.numpy_models`, on
tensors (CPU or GPU), for the backprop baseline's hardware-aware evaluation.

Needs the optional ``torch`` extra. The tests hold this against the NumPy models: exactly where
nothing is random, in distribution where something is.
"""

from __future__ import annotations

import torch
from brian2 import second, siemens

from ..params.devices import (
    LinearDeviceParams,
    PCM2DeviceParams,
    PCMDeviceParams,
    SoftBoundDeviceParams,
    _BinaryDeviceParams,
)

__all__ = ["TorchDeviceArray"]


def _exp_curve_step(x, n, a_pulses, levels: float, sign: float):
    """NeuroSim's curve, as :func:`spikenet.memristive.numpy_models.exp_curve_step`."""
    b = 1.0 / (1.0 - torch.exp(-levels / a_pulses))
    return b - (b - x) * torch.exp(-sign * n / a_pulses)


def _pulses_per_range(p, up):
    ones = torch.ones_like(up, dtype=torch.float64)
    if isinstance(p, LinearDeviceParams):
        return ones * (p.levels - 1)
    if isinstance(p, SoftBoundDeviceParams):
        return torch.where(up, ones * p.levels_ltp, ones * p.levels_ltd)
    if isinstance(p, PCM2DeviceParams):
        return ones * 2.0 * p.levels_set
    if isinstance(p, PCMDeviceParams):
        return torch.where(up, ones * p.levels_set, ones)
    if isinstance(p, _BinaryDeviceParams):
        return ones
    raise TypeError(f"no pulse model for {type(p).__name__}")


class TorchDeviceArray:
    """``n`` devices of one card on ``device`` (torch's), with the interface of
    :class:`spikenet.memristive.DeviceArray`: ``pulse``, ``request``, ``read``, ``program``.

    Parameters
    ----------
    params
        Device parameters (a device card's ``[device]`` section).
    n
        Number of devices.
    generator
        ``torch.Generator`` for everything random about these devices.
    x0
        Initial normalised conductance.
    device
        torch device (``"cpu"``, ``"cuda"``).
    """

    def __init__(self, params, n: int, generator: torch.Generator, x0=0.0, device="cpu"):
        self.p, self.n, self.gen, self.device = params, n, generator, device
        p = params
        f64 = dict(dtype=torch.float64, device=device)
        u = self._rand()
        self.stuck = torch.where(u < p.stuck_low, -1, torch.where(u < p.stuck_low + p.stuck_high, 1, 0))
        self.scale = torch.clamp(1.0 + p.d2d_std * self._randn(), min=0.05)
        self.nu = torch.abs(p.drift_nu + p.drift_nu_std * self._randn())
        self.t_prog = torch.zeros(n, **f64)
        self.pulses_ltp = torch.zeros(n, **f64)
        self.pulses_ltd = torch.zeros(n, **f64)
        x0 = torch.as_tensor(x0, **f64).expand(n).clone()
        if isinstance(p, _BinaryDeviceParams):
            self.p_set = torch.clamp(p.p_set + p.p_set_std * self._randn(), 0, 1)
            self.p_reset = torch.clamp(p.p_reset + p.p_reset_std * self._randn(), 0, 1)
            self.on = (self._rand() < x0).to(torch.float64)
            self.x = self._draw_binary(self.on)
        elif isinstance(p, PCM2DeviceParams):
            d = 2 * x0 - 1
            self.xp, self.xm = torch.clamp(d, 0, 1), torch.clamp(-d, 0, 1)
            self.x = (self.xp - self.xm + 1) / 2
        else:
            self.x = x0
        self._apply_stuck()

    def _rand(self):
        return torch.rand(self.n, generator=self.gen, dtype=torch.float64, device=self.device)

    def _randn(self):
        return torch.randn(self.n, generator=self.gen, dtype=torch.float64, device=self.device)

    def _apply_stuck(self) -> None:
        high, low = self.stuck > 0, self.stuck < 0
        one, zero = torch.ones_like(self.x), torch.zeros_like(self.x)
        self.x = torch.where(high, one, torch.where(low, zero, self.x))
        if isinstance(self.p, PCM2DeviceParams):
            self.xp = torch.where(high, one, torch.where(low, zero, self.xp))
            self.xm = torch.where(high, zero, torch.where(low, one, self.xm))

    def _draw_binary(self, on):
        p = self.p
        g_min, g_max = float(p.g_min / siemens), float(p.g_max / siemens)
        g_on = g_max * torch.exp(p.sigma_ln_on * self._randn())
        g_off = g_min * torch.exp(p.sigma_ln_off * self._randn())
        return (torch.where(on > 0, g_on, g_off) - g_min) / (g_max - g_min)

    def conductance(self):
        """Conductance (siemens) as programmed: no read noise, no drift."""
        g_min, g_max = float(self.p.g_min / siemens), float(self.p.g_max / siemens)
        return g_min + (g_max - g_min) * self.x

    def pulse(self, up, n=1, t: float = 0.0) -> None:
        """Apply ``n`` potentiating (``up``) or depressing pulses to every device, at time ``t`` (s)."""
        p = self.p
        up = torch.as_tensor(up, dtype=torch.bool, device=self.device).expand(self.n)
        n = torch.as_tensor(n, dtype=torch.float64, device=self.device).expand(self.n)
        free = (self.stuck == 0) & (n > 0)
        noise = p.c2c_std * torch.sqrt(n) * self._randn()
        if isinstance(p, LinearDeviceParams):
            x_new = self.x + torch.where(up, 1.0, -1.0) * n * self.scale / (p.levels - 1) + noise
        elif isinstance(p, SoftBoundDeviceParams):
            x_up = _exp_curve_step(self.x, n, p.a_ltp * p.levels_ltp * self.scale, p.levels_ltp, 1.0)
            x_dn = _exp_curve_step(self.x, n, p.a_ltd * p.levels_ltd * self.scale, p.levels_ltd, -1.0)
            x_new = torch.where(up, x_up, x_dn) + noise
        elif isinstance(p, PCM2DeviceParams):
            a = p.a_set * p.levels_set * self.scale
            xp = torch.where(free & up, torch.clamp(_exp_curve_step(self.xp, n, a, p.levels_set, 1.0) + noise, 0, 1),
                             self.xp)
            xm = torch.where(free & ~up, torch.clamp(_exp_curve_step(self.xm, n, a, p.levels_set, 1.0) + noise, 0, 1),
                             self.xm)
            refresh = free & ((xp > p.refresh_threshold) | (xm > p.refresh_threshold))
            d = xp - xm
            write = p.c2c_std * self._randn()
            self.xp = torch.where(refresh, torch.clamp(d + write, 0, 1) * (d > 0), xp)
            self.xm = torch.where(refresh, torch.clamp(-d + write, 0, 1) * (d <= 0), xm)
            x_new = (self.xp - self.xm + 1) / 2
        elif isinstance(p, PCMDeviceParams):
            x_up = _exp_curve_step(self.x, n, p.a_set * p.levels_set * self.scale, p.levels_set, 1.0) + noise
            x_reset = torch.abs(p.c2c_std * self._randn())
            x_new = torch.where(up, x_up, x_reset)
        elif isinstance(p, _BinaryDeviceParams):
            prob = torch.where(up, 1 - (1 - self.p_set) ** n, 1 - (1 - self.p_reset) ** n)
            switched = self._rand() < prob
            on = torch.where(switched, up.to(torch.float64), self.on)
            self.on = torch.where(free, on, self.on)
            x_new = self._draw_binary(self.on)
        else:
            raise TypeError(f"no pulse model for {type(p).__name__}")
        if not isinstance(p, _BinaryDeviceParams):
            x_new = torch.clamp(x_new, 0.0, 1.0)
        self.x = torch.where(free, x_new, self.x)
        self.t_prog = torch.where(free, torch.full_like(self.t_prog, t), self.t_prog)
        self.pulses_ltp += torch.where(up, n, torch.zeros_like(n))
        self.pulses_ltd += torch.where(up, torch.zeros_like(n), n)

    def request(self, dx, t: float = 0.0):
        """A learning rule's requested change ``dx``, stochastically rounded to pulses (see NumPy)."""
        dx = torch.as_tensor(dx, dtype=torch.float64, device=self.device).expand(self.n)
        up = dx > 0
        wanted = torch.abs(dx) * _pulses_per_range(self.p, up)
        n = torch.floor(wanted) + (self._rand() < wanted - torch.floor(wanted)).to(torch.float64)
        self.pulse(up, n, t)
        return n

    def read(self, t: float | None = None, *, noise: bool = True):
        """Normalised conductance as read at time ``t`` (s): drift since programming, and read
        noise unless ``noise`` is false (the mean of many reads)."""
        p = self.p
        x = self.x
        if t is not None and p.drift_nu > 0:
            t0 = float(p.drift_t0 / second)
            factor = ((torch.clamp(t - self.t_prog, min=0.0) + t0) / t0) ** (-self.nu)
            if isinstance(p, PCM2DeviceParams):
                x = 0.5 + (x - 0.5) * factor  # as the NumPy model: the pair's difference drifts
            else:
                g0 = float(p.g_min / (p.g_max - p.g_min))
                x = x * factor + g0 * (factor - 1)
        if noise and p.read_noise_std > 0:
            x = x + p.read_noise_std * self._randn()
        return x

    _STATE = ("x", "stuck", "scale", "nu", "t_prog", "pulses_ltp", "pulses_ltd", "p_set", "p_reset", "on", "xp", "xm")

    def take(self, index: torch.Tensor) -> "TorchDeviceArray":
        """The devices at ``index`` as a new array (copies of their state, the same generator)."""
        sub = object.__new__(type(self))
        sub.p, sub.gen, sub.device, sub.n = self.p, self.gen, self.device, int(index.numel())
        for name in self._STATE:
            if hasattr(self, name):
                setattr(sub, name, getattr(self, name)[index])
        return sub

    def put(self, index: torch.Tensor, sub: "TorchDeviceArray") -> None:
        """Write the state of ``sub`` (from :meth:`take`) back to the devices at ``index``."""
        for name in self._STATE:
            if hasattr(self, name):
                getattr(self, name)[index] = getattr(sub, name)

    def program(self, target, tolerance: float, max_pulses: int):
        """Write-verify towards ``target``; returns ``(converged, pulses_used)`` (see NumPy).

        Unlike the NumPy reference, each round reads and pulses only the devices not yet within
        tolerance (:meth:`take` / :meth:`put`): programming millions of devices, most of which
        converge in a few pulses, costs what the slow ones cost, not ``max_pulses`` full sweeps.
        """
        target = torch.as_tensor(target, dtype=torch.float64, device=self.device).expand(self.n)
        used = torch.zeros(self.n, dtype=torch.float64, device=self.device)
        done = torch.zeros(self.n, dtype=torch.bool, device=self.device)
        for _ in range(max_pulses):
            active = torch.nonzero(~done).squeeze(1)
            if active.numel() == 0:
                break
            sub = self.take(active)
            error = target[active] - sub.read()
            ok = torch.abs(error) <= tolerance
            done[active] = ok
            sub.pulse(error > 0, (~ok).to(torch.float64))
            self.put(active, sub)
            used[active] += (~ok).to(torch.float64)
        done |= torch.abs(self.read() - target) <= tolerance
        return done, used
