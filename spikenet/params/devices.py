"""Memristive device parameter sets; a device card's ``[device]`` section names one by ``model``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True, kw_only=True)
class IdealDeviceParams:
    """The reference synapse: the weight is a floating-point number that takes exactly the
    change the learning rule asks for, clipped to the rule's ``[w_min, w_max]``."""

    MODEL: ClassVar[str] = "ideal"


DEVICE_MODELS: dict[str, type] = {cls.MODEL: cls for cls in (IdealDeviceParams,)}
"""Every device model a card may name, by its registry name."""
