"""Neuron parameter sets; a model card's ``[neuron]`` section names one by ``template``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from brian2.units.fundamentalunits import Quantity

from ..schema import CheckFailed, quantity


@dataclass(frozen=True, kw_only=True)
class LIFParams:
    r"""Current-based leaky integrate-and-fire neuron with an absolute refractory period.

    .. math::

        \tau_m \frac{dv}{dt} = v_\mathrm{rest} - v + R_m I, \qquad
        v > v_\mathrm{th} \Rightarrow v \leftarrow v_\mathrm{reset}

    and ``v`` is clamped at ``v_reset`` for ``t_ref`` after each spike (Gerstner et al.,
    *Neuronal Dynamics*, 2014, ch. 1).
    """

    TEMPLATE: ClassVar[str] = "lif"

    tau_m: Quantity = quantity("ms", "membrane time constant", gt=0)
    r_m: Quantity = quantity("Mohm", "membrane (input) resistance", gt=0)
    v_rest: Quantity = quantity("mV", "resting potential", ge=-200, le=100)
    v_reset: Quantity = quantity("mV", "potential after a spike", ge=-200, le=100)
    v_th: Quantity = quantity("mV", "firing threshold", ge=-200, le=100)
    t_ref: Quantity = quantity("ms", "absolute refractory period", ge=0, default="0 ms")

    def check(self) -> None:
        if self.v_reset >= self.v_th:
            raise CheckFailed(
                "v_reset",
                f"{self.v_reset} must be below v_th = {self.v_th}, or the neuron fires at every step",
                related=("v_th",),
            )


NEURON_TEMPLATES: dict[str, type] = {cls.TEMPLATE: cls for cls in (LIFParams,)}
"""Every neuron template a card may name, by its registry name."""
