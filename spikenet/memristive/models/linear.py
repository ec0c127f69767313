"""Equal conductance steps between two bounds (``levels`` states)."""

from __future__ import annotations

import numpy as np

from ...params.devices import LinearDeviceParams
from .base import DeviceModel


class LinearModel(DeviceModel):
    params = LinearDeviceParams

    def pulses_per_range(self, up, ops):
        return ops.full_like(up, self.p.levels - 1)

    def step(self, a, up, n, free, noise):
        return a.x + (2.0 * a.ops.float(up) - 1.0) * n * a.scale / (self.p.levels - 1) + noise

    def nominal_levels(self) -> np.ndarray:
        return np.linspace(0.0, 1.0, self.p.levels)

    def brian2_per_range(self) -> str:
        return "(levels - 1)"

    def brian2_step(self) -> str:
        return ("x_new = clip(x + (2 * up_pulse - 1) * n_pulse * dscale / (levels - 1)"
                " + c2c_std * sqrt(n_pulse) * randn_if(n_pulse), 0, 1)")
