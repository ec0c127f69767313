"""Memristive device parameter sets; a device card's ``[device]`` section names one by ``model``."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

from ..schema import CheckFailed, number


@dataclass(frozen=True, kw_only=True)
class IdealDeviceParams:
    """The reference synapse: the weight is a floating-point number, optionally clipped.

    Bounds of ``-inf`` and ``inf`` (the defaults) mean no clipping.
    """

    MODEL: ClassVar[str] = "ideal"

    w_min: float = number("lowest weight (dimensionless)", default=-math.inf)
    w_max: float = number("highest weight (dimensionless)", default=math.inf)

    def check(self) -> None:
        if not self.w_min < self.w_max:
            raise CheckFailed("w_max", f"must be above w_min ({self.w_min:g})", related=("w_min",))


DEVICE_MODELS: dict[str, type] = {cls.MODEL: cls for cls in (IdealDeviceParams,)}
"""Every device model a card may name, by its registry name."""
