"""Neuron parameter sets; a model card's ``[neuron]`` section names one by ``template``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from brian2.units.fundamentalunits import Quantity

from ..schema import CheckFailed, choice, number, quantity

INTEGRATORS = ("exponential_euler", "euler", "rk2", "rk4")
"""Brian2 state updaters a conductance-based template may use."""


def _check_reset_below_threshold(params) -> None:
    if params.v_reset >= params.v_th:
        raise CheckFailed(
            "v_reset",
            f"{params.v_reset} must be below v_th = {params.v_th}, or the neuron fires at every step",
            related=("v_th",),
        )


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
        _check_reset_below_threshold(self)


@dataclass(frozen=True, kw_only=True)
class LIFCondParams:
    r"""Conductance-based LIF neuron with exponentially decaying synaptic conductances.

    .. math::

        \tau_m \frac{dv}{dt} = v_\mathrm{rest} - v + g_e (E_\mathrm{exc} - v) + g_i (E_\mathrm{inh} - v),
        \qquad \tau_{ge} \frac{dg_e}{dt} = -g_e, \quad \tau_{gi} \frac{dg_i}{dt} = -g_i

    The conductances ``ge`` and ``gi`` are dimensionless, in units of the leak conductance,
    so a synaptic weight ``w`` is added to them directly (``ge += w``), as in Song et al.
    (2000) and Diehl & Cook (2015).
    """

    TEMPLATE: ClassVar[str] = "lif_cond"

    tau_m: Quantity = quantity("ms", "membrane time constant", gt=0)
    v_rest: Quantity = quantity("mV", "resting (leak reversal) potential", ge=-200, le=100)
    v_reset: Quantity = quantity("mV", "potential after a spike", ge=-200, le=100)
    v_th: Quantity = quantity("mV", "firing threshold", ge=-200, le=100)
    t_ref: Quantity = quantity("ms", "absolute refractory period", ge=0, default="0 ms")
    e_exc: Quantity = quantity("mV", "excitatory reversal potential", ge=-200, le=100)
    e_inh: Quantity = quantity("mV", "inhibitory reversal potential", ge=-200, le=100)
    tau_ge: Quantity = quantity("ms", "decay time constant of the excitatory conductance", gt=0)
    tau_gi: Quantity = quantity("ms", "decay time constant of the inhibitory conductance", gt=0)
    method: str = choice("Brian2 integration method", INTEGRATORS, default="exponential_euler")

    def check(self) -> None:
        _check_reset_below_threshold(self)


@dataclass(frozen=True, kw_only=True)
class LIFAdaptiveParams(LIFCondParams):
    r"""Conductance-based LIF neuron with an adaptive threshold (Diehl & Cook 2015).

    The neuron fires when :math:`v > v_\mathrm{th} + \theta - \theta_\mathrm{offset}`; each spike
    raises :math:`\theta` by ``theta_plus`` and :math:`\theta` decays with ``tau_theta``.
    :math:`\theta` starts at ``theta_init``. After a spike the neuron cannot fire again for
    ``t_quiet`` (its membrane integrates again after ``t_ref``): the authors' ``timer``.
    """

    TEMPLATE: ClassVar[str] = "lif_adaptive"

    theta_plus: Quantity = quantity("mV", "threshold increase per spike", ge=0)
    tau_theta: Quantity = quantity("ms", "decay time constant of the threshold increase", gt=0)
    theta_init: Quantity = quantity("mV", "initial threshold increase", ge=-100, le=100, default="0 mV")
    theta_offset: Quantity = quantity("mV", "constant subtracted from theta in the threshold", ge=-100, le=100,
                                      default="0 mV")
    t_quiet: Quantity = quantity("ms", "no spike this long after a spike, though the membrane integrates after t_ref",
                                 ge=0, default="0 ms")


@dataclass(frozen=True, kw_only=True)
class LIFHomeostaticParams:
    r"""Leaky integrator of synaptic weights with a homeostatic threshold (Querlioz et al. 2013).

    The membrane ``v`` is dimensionless, in units of the input weights: each input spike adds
    its synapse's weight, and ``v`` leaks with ``tau_m``.

    .. math::

        \tau_m \frac{dv}{dt} = -v, \qquad v > v_\mathrm{th} + \theta \Rightarrow v \leftarrow 0,\;
        \theta \leftarrow \theta + \theta_+, \qquad \frac{d\theta}{dt} = -\theta_+ r_\mathrm{target}

    The threshold rises by ``theta_plus`` at each spike and falls by ``theta_plus`` per
    ``1 / target_rate``: a neuron firing above ``target_rate`` becomes harder to fire, one below
    it easier (homeostasis). With ``target_rate = 0`` the threshold only rises; the Querlioz
    network instead lowers every threshold at each spike of the layer (its ``homeostasis``). While refractory (``t_ref`` after its own spike) or inhibited
    (lateral inhibition, set by the network), ``v`` is held at 0 and input is discarded.
    """

    TEMPLATE: ClassVar[str] = "lif_homeostatic"

    tau_m: Quantity = quantity("ms", "leak time constant of the integrated input", gt=0)
    v_th: float = number("firing threshold, in units of the input weights", gt=0)
    t_ref: Quantity = quantity("ms", "refractory period after the neuron's own spike", ge=0, default="0 ms")
    theta_plus: float = number("threshold increase per spike (homeostasis; 0: fixed threshold)", ge=0,
                               default=0.0)
    target_rate: Quantity = quantity("Hz", "firing rate the homeostasis holds each neuron at (0: no decay of "
                                     "the threshold)", ge=0, default="0 Hz")
    theta_init: float = number("initial threshold change", default=0.0)


NEURON_TEMPLATES: dict[str, type] = {
    cls.TEMPLATE: cls for cls in (LIFParams, LIFCondParams, LIFAdaptiveParams, LIFHomeostaticParams)
}
"""Every neuron template a card may name, by its registry name."""
