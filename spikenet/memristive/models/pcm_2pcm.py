"""The 2-PCM synapse: G+ - G-, both devices only SET, refreshed when one passes a threshold."""

from __future__ import annotations

from ...params.devices import PCM2DeviceParams
from .base import DeviceModel, Variable
from .curve import curve_step
from .pcm import PCMModel


class PCM2Model(PCMModel):
    """One entry holds both devices (``xp``, ``xm``); ``x = (xp - xm + 1) / 2``."""

    params = PCM2DeviceParams
    state = ("xp", "xm")
    mapping = "pair"

    def pulses_per_range(self, up, ops):
        return ops.full_like(up, 2.0 * self.p.levels_set)  # each device covers half the differential range

    def start(self, a, x0) -> None:
        d = 2 * x0 - 1
        a.xp, a.xm = a.ops.clip(d, 0, 1), a.ops.clip(-d, 0, 1)
        a.x = (a.xp - a.xm + 1) / 2

    def apply_stuck(self, a, high, low) -> None:
        DeviceModel.apply_stuck(self, a, high, low)
        ops = a.ops
        a.xp = ops.where(high, 1.0, ops.where(low, 0.0, a.xp))
        a.xm = ops.where(high, 0.0, ops.where(low, 1.0, a.xm))

    def step(self, a, up, n, free, noise):
        p, ops = self.p, a.ops
        a_pulses = p.a_set * p.levels_set * a.scale
        xp = ops.where(free & up, ops.clip(curve_step(a.xp, n, a_pulses, p.levels_set, 1.0, ops) + noise, 0, 1), a.xp)
        xm = ops.where(free & ~up, ops.clip(curve_step(a.xm, n, a_pulses, p.levels_set, 1.0, ops) + noise, 0, 1),
                       a.xm)
        refresh = free & ((xp > p.refresh_threshold) | (xm > p.refresh_threshold))
        d = xp - xm
        write = p.c2c_std * a.randn()
        a.xp = ops.where(refresh, ops.clip(d + write, 0, 1) * (d > 0), xp)
        a.xm = ops.where(refresh, ops.clip(-d + write, 0, 1) * (d <= 0), xm)
        return (a.xp - a.xm + 1) / 2

    @property
    def signal_zero(self) -> float:
        return 0.5  # G+ = G-

    @property
    def reads_per_weight(self) -> int:
        return 1  # the pair is one entry holding both devices, read as one

    def brian2_per_range(self) -> str:
        return "(2 * levels_set)"

    def brian2_step(self) -> str:
        return """a_pulses = a_set * levels_set * dscale
n_plus = up_pulse * n_pulse
n_minus = (1 - up_pulse) * n_pulse
xp_new = clip(curve_step(xp, n_plus, a_pulses, levels_set) + c2c_std * sqrt(n_plus) * randn_if(n_plus), 0, 1)
xm_new = clip(curve_step(xm, n_minus, a_pulses, levels_set) + c2c_std * sqrt(n_minus) * randn_if(n_minus), 0, 1)
refresh = int((xp_new > refresh_threshold) or (xm_new > refresh_threshold))
d_pair = xp_new - xm_new
write_noise = c2c_std * randn_if(refresh * free)
xp_new = xp_new + refresh * (clip(d_pair + write_noise, 0, 1) * int(d_pair > 0) - xp_new)
xm_new = xm_new + refresh * (clip(-d_pair + write_noise, 0, 1) * int(d_pair <= 0) - xm_new)
xp = xp + free * (xp_new - xp)
xm = xm + free * (xm_new - xm)
x_new = (xp - xm + 1) / 2"""

    def brian2_variables(self):
        return super().brian2_variables() + (
            Variable("xp", "1", "G+ device", lambda p: True, lambda p: 0.0),
            Variable("xm", "1", "G- device", lambda p: True, lambda p: 0.0),
        )
