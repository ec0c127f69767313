"""Device models in torch: :class:`spikenet.memristive.arrays.Devices` on tensors (CPU or GPU),
the same equations as the NumPy reference (each model kind's module in
:mod:`spikenet.memristive.models`, written once for both), for the backprop baseline's
hardware-aware evaluation.

Needs the optional ``torch`` extra. The tests hold this against the NumPy models: exactly where
nothing is random, in distribution where something is.
"""

from __future__ import annotations

from typing import Any

import torch

from .arrays import Devices
from .models import Ops

__all__ = ["TorchDeviceArray", "TORCH"]

def _interp(v: torch.Tensor, xp, fp) -> torch.Tensor:
    """NumPy's ``interp`` on a tensor (torch has none): piecewise linear, clamped at the ends."""
    xp = torch.as_tensor(xp, dtype=torch.float64, device=v.device)
    fp = torch.as_tensor(fp, dtype=torch.float64, device=v.device)
    hi = torch.clamp(torch.searchsorted(xp, v.contiguous(), right=True), 1, len(xp) - 1)
    lo = hi - 1
    slope = (fp[hi] - fp[lo]) / (xp[hi] - xp[lo])
    inside = slope * (v - xp[lo]) + fp[lo]
    return torch.where(v <= xp[0], fp[0], torch.where(v >= xp[-1], fp[-1], inside))


TORCH = Ops(torch.where, torch.clamp, torch.exp, torch.log, torch.sqrt, torch.abs, torch.floor,
            lambda v: v.to(torch.float64), _interp,
            lambda a, value: torch.full_like(a, value, dtype=torch.float64))
"""The element-wise functions of the models' equations, on tensors."""


class TorchDeviceArray(Devices):
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

    ops = TORCH

    def __init__(self, params: Any, n: int, generator: torch.Generator, x0: Any = 0.0, device: Any = "cpu"):
        self.gen, self.device = generator, device
        super().__init__(params, n, x0)

    def rand(self) -> torch.Tensor:
        return torch.rand(self.n, generator=self.gen, dtype=torch.float64, device=self.device)

    def randn(self) -> torch.Tensor:
        return torch.randn(self.n, generator=self.gen, dtype=torch.float64, device=self.device)

    def vector(self, value: Any, dtype: str = "float") -> torch.Tensor:
        kind = torch.bool if dtype == "bool" else torch.float64
        return torch.as_tensor(value, dtype=kind, device=self.device).expand(self.n).clone()

    _COMMON_STATE = ("x", "stuck", "scale", "nu", "t_prog", "pulses_ltp", "pulses_ltd")

    def take(self, index: torch.Tensor) -> "TorchDeviceArray":
        """The devices at ``index`` as a new array (copies of their state, the same generator)."""
        sub = object.__new__(type(self))
        sub.p, sub.model, sub.gen, sub.device, sub.n = self.p, self.model, self.gen, self.device, int(index.numel())
        for name in self._COMMON_STATE + self.model.state:
            setattr(sub, name, getattr(self, name)[index])
        return sub

    def put(self, index: torch.Tensor, sub: "TorchDeviceArray") -> None:
        """Write the state of ``sub`` (from :meth:`take`) back to the devices at ``index``."""
        for name in self._COMMON_STATE + self.model.state:
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
