"""The ideal reference: the weight takes exactly the change the learning rule asks for."""

from __future__ import annotations

from ...params.devices import IdealDeviceParams
from .base import DeviceModel


class IdealModel(DeviceModel):
    """A floating-point weight clipped to the rule's range: no pulses, faults, noise or drift."""

    params = IdealDeviceParams
    exact = True
    mapping = "exact"

    @property
    def signal_zero(self) -> float:
        return 0.0

    def brian2_variables(self):
        return ()

    @property
    def reads_per_weight(self) -> int:
        return 1
