"""Phase-change memory: gradual SET along NeuroSim's curve, abrupt RESET to g_min."""

from __future__ import annotations

import numpy as np

from ...params.devices import PCMDeviceParams
from .base import DeviceModel
from .curve import curve_levels, curve_step


class PCMModel(DeviceModel):
    params = PCMDeviceParams

    def pulses_per_range(self, up, ops):
        return ops.float(ops.where(up, float(self.p.levels_set), 1.0))  # one RESET pulse covers the whole range

    def step(self, a, up, n, free, noise):
        p, ops = self.p, a.ops
        x_up = curve_step(a.x, n, p.a_set * p.levels_set * a.scale, p.levels_set, 1.0, ops) + noise
        x_reset = ops.abs(p.c2c_std * a.randn())  # RESET lands near g_min
        return ops.where(up, x_up, x_reset)

    def nominal_levels(self) -> np.ndarray:
        return curve_levels(self.p.levels_set, self.p.a_set * self.p.levels_set)

    def brian2_per_range(self) -> str:
        return "(up_pulse * levels_set + (1 - up_pulse))"

    def brian2_step(self) -> str:
        return """noise = c2c_std * randn_if(n_pulse)
x_set = curve_step(x, up_pulse * n_pulse, a_set * levels_set * dscale, levels_set) + sqrt(n_pulse) * noise
x_new = clip(up_pulse * x_set + (1 - up_pulse) * abs(noise), 0, 1)"""
