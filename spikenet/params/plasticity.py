"""Learning-rule parameter sets; a model card's ``[plasticity]`` section names one by ``rule``.

Weights are dimensionless (in units of the leak conductance of a conductance-based target),
between ``w_min`` and ``w_max``. How each rule moves them is in :mod:`spikenet.plasticity`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from brian2.units.fundamentalunits import Quantity

from ..schema import CheckFailed, choice, number, quantity

PAIRINGS = ("all_to_all", "nearest")
"""How spikes are paired: every earlier spike counts (traces add up), or only the nearest
earlier one (traces are reset to 1 at each spike: Morrison et al. 2008, symmetric nearest-spike)."""
BOUNDS = ("hard", "soft")
"""Hard bounds clip the weight; soft bounds scale potentiation by (w_max - w) and depression
by (w - w_min), both divided by the range (multiplicative STDP)."""


def _check_weight_range(params) -> None:
    if not params.w_min < params.w_max:
        raise CheckFailed("w_max", f"must be above w_min ({params.w_min:g})", related=("w_min",))


@dataclass(frozen=True, kw_only=True)
class _Bounded:
    w_min: float = number("lowest weight", default=0.0)
    w_max: float = number("highest weight", gt=0)
    bounds: str = choice("hard (clip) or soft (multiplicative) weight bounds", BOUNDS, default="hard")

    def check(self) -> None:
        _check_weight_range(self)


@dataclass(frozen=True, kw_only=True)
class PairSTDPParams(_Bounded):
    r"""Pair-based STDP with exponential window.

    A pre spike at :math:`t_\mathrm{pre}` and a post spike at :math:`t_\mathrm{post}` change the
    weight by :math:`A_+ e^{-\Delta t/\tau_+}` if :math:`\Delta t = t_\mathrm{post} - t_\mathrm{pre} > 0`
    and by :math:`-A_- e^{\Delta t/\tau_-}` otherwise (Song, Miller & Abbott 2000; Bi & Poo 1998).
    """

    RULE: ClassVar[str] = "stdp_pair"

    tau_plus: Quantity = quantity("ms", "time constant of potentiation (pre before post)", gt=0)
    tau_minus: Quantity = quantity("ms", "time constant of depression (post before pre)", gt=0)
    a_plus: float = number("weight change per pairing at dt -> 0+", ge=0)
    a_minus: float = number("weight decrease per pairing at dt -> 0- (a positive number)", ge=0)
    pairing: str = choice("which spike pairs count", PAIRINGS, default="all_to_all")


@dataclass(frozen=True, kw_only=True)
class TripletSTDPParams(_Bounded):
    r"""The triplet rule of Pfister & Gerstner (2006).

    Presynaptic traces :math:`r_1` (:math:`\tau_+`), :math:`r_2` (:math:`\tau_x`), postsynaptic
    traces :math:`o_1` (:math:`\tau_-`), :math:`o_2` (:math:`\tau_y`). At a pre spike
    :math:`w \mathrel{-}= o_1 (A_2^- + A_3^- r_2)`, at a post spike
    :math:`w \mathrel{+}= r_1 (A_2^+ + A_3^+ o_2)`, with :math:`r_2`, :math:`o_2` read just
    before their own increment. ``pairing = "nearest"`` is their minimal nearest-spike model:
    traces saturate at 1.
    """

    RULE: ClassVar[str] = "triplet"

    tau_plus: Quantity = quantity("ms", "time constant of the pre trace r1", gt=0)
    tau_minus: Quantity = quantity("ms", "time constant of the post trace o1", gt=0)
    tau_x: Quantity = quantity("ms", "time constant of the pre trace r2", gt=0)
    tau_y: Quantity = quantity("ms", "time constant of the post trace o2", gt=0)
    a2_plus: float = number("pair potentiation amplitude", ge=0)
    a3_plus: float = number("triplet potentiation amplitude", ge=0)
    a2_minus: float = number("pair depression amplitude", ge=0)
    a3_minus: float = number("triplet depression amplitude", ge=0)
    pairing: str = choice("all-to-all or minimal nearest-spike traces", PAIRINGS, default="all_to_all")


@dataclass(frozen=True, kw_only=True)
class DiehlCookSTDPParams(_Bounded):
    r"""The STDP rule of Diehl & Cook (2015), as in the authors' code.

    Traces are reset to 1 at each spike. At a pre spike :math:`w \mathrel{-}= \nu_\mathrm{pre}\, x_\mathrm{post1}`;
    at a post spike :math:`w \mathrel{+}= \nu_\mathrm{post}\, x_\mathrm{pre}\, x_\mathrm{post2}`
    (``post2`` read before its reset). ``mu`` adds the paper's weight dependence:
    potentiation times :math:`(w_\max - w)^\mu`, depression times :math:`(w - w_\min)^\mu`
    (0, the code's choice, means none).
    """

    RULE: ClassVar[str] = "diehl_cook"

    tau_pre: Quantity = quantity("ms", "time constant of the presynaptic trace", gt=0)
    tau_post1: Quantity = quantity("ms", "time constant of the postsynaptic trace used for depression", gt=0)
    tau_post2: Quantity = quantity("ms", "time constant of the postsynaptic trace used for potentiation", gt=0)
    nu_pre: float = number("learning rate of depression (at pre spikes)", ge=0)
    nu_post: float = number("learning rate of potentiation (at post spikes)", ge=0)
    mu: float = number("exponent of the weight dependence", ge=0, default=0.0)


@dataclass(frozen=True, kw_only=True)
class QuerliozSTDPParams(_Bounded):
    r"""Simplified STDP for memristive synapses (Querlioz et al. 2013).

    At each post spike, every synapse whose pre neuron fired within ``t_ltp`` before it is
    potentiated by :math:`\alpha_+ e^{-\beta_+ (w - w_\min)/(w_\max - w_\min)}`, every other
    synapse is depressed by :math:`\alpha_- e^{-\beta_- (w_\max - w)/(w_\max - w_\min)}`.
    Pre spikes alone change nothing.
    """

    RULE: ClassVar[str] = "querlioz"

    t_ltp: Quantity = quantity("ms", "LTP window: pre spikes this recent before a post spike potentiate", gt=0)
    alpha_plus: float = number("potentiation step at w = w_min", ge=0)
    alpha_minus: float = number("depression step at w = w_max", ge=0)
    beta_plus: float = number("how fast potentiation steps shrink towards w_max", ge=0, default=0.0)
    beta_minus: float = number("how fast depression steps shrink towards w_min", ge=0, default=0.0)


@dataclass(frozen=True, kw_only=True)
class OjaParams:
    r"""Rate-based Hebbian learning with Oja's normalisation (Oja 1982).

    :math:`\frac{dw_i}{dt} = \eta\, y\, (x_i - y\, w_i)`, with :math:`y = \sum_i w_i x_i`.
    """

    RULE: ClassVar[str] = "oja"

    eta: Quantity = quantity("Hz", "learning rate", gt=0)


PLASTICITY_RULES: dict[str, type] = {
    cls.RULE: cls
    for cls in (PairSTDPParams, TripletSTDPParams, DiehlCookSTDPParams, QuerliozSTDPParams, OjaParams)
}
"""Every learning rule a card may name, by its registry name."""
