"""NeuroSim's exponential model: nonlinear, asymmetric potentiation and depression (soft bounds)."""

from __future__ import annotations

import numpy as np

from ...params.devices import SoftBoundDeviceParams
from .base import DeviceModel
from .curve import curve_levels, curve_step


class SoftBoundModel(DeviceModel):
    params = SoftBoundDeviceParams

    def pulses_per_range(self, up, ops):
        p = self.p
        return ops.float(ops.where(up, float(p.levels_ltp), float(p.levels_ltd)))

    def step(self, a, up, n, free, noise):
        p, ops = self.p, a.ops
        x_up = curve_step(a.x, n, p.a_ltp * p.levels_ltp * a.scale, p.levels_ltp, 1.0, ops)
        x_dn = curve_step(a.x, n, p.a_ltd * p.levels_ltd * a.scale, p.levels_ltd, -1.0, ops)
        return ops.where(up, x_up, x_dn) + noise

    def nominal_levels(self) -> np.ndarray:
        return curve_levels(self.p.levels_ltp, self.p.a_ltp * self.p.levels_ltp)

    def brian2_per_range(self) -> str:
        return "(up_pulse * levels_ltp + (1 - up_pulse) * levels_ltd)"

    # Each branch calls curve_step with its own pulse count (0 on the other branch), so only the
    # branch a spike takes evaluates its exponentials; noise is drawn only for devices that get pulses.
    def brian2_step(self) -> str:
        return """x_up = curve_step(x, up_pulse * n_pulse, a_ltp * levels_ltp * dscale, levels_ltp)
x_dn = curve_step(x, -(1 - up_pulse) * n_pulse, a_ltd * levels_ltd * dscale, levels_ltd)
x_new = clip(x_up + x_dn - x + c2c_std * sqrt(n_pulse) * randn_if(n_pulse), 0, 1)"""
