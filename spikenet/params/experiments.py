"""Experiment sections: which runner, which model and device, its protocol, what to expect."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

from brian2.units.fundamentalunits import Quantity

from ..schema import CheckFailed, integer, number, quantity, text


@dataclass(frozen=True, kw_only=True)
class LIFFICurveProtocol:
    r"""Firing rate of a LIF neuron against a constant input current (the f-I curve).

    One neuron per current, all simulated together for ``duration``. The simulated rate is
    ``1 / mean inter-spike interval`` (the first interval from rest is left out); it is
    compared with the exact rate

    .. math::

        f(I) = \left[t_\mathrm{ref} + \tau_m \ln\frac{v_\infty - v_\mathrm{reset}}
               {v_\infty - v_\mathrm{th}}\right]^{-1}, \quad v_\infty = v_\mathrm{rest} + R_m I,

    above rheobase (:math:`v_\infty > v_\mathrm{th}`).
    """

    KIND: ClassVar[str] = "lif_fi_curve"

    i_min: Quantity = quantity("nA", "smallest input current", default="0 nA")
    i_max: Quantity = quantity("nA", "largest input current")
    n_currents: int = integer("number of currents, evenly spaced from i_min to i_max", ge=2, le=100_000)
    duration: Quantity = quantity("ms", "simulated time per current", gt=0)
    dt: Quantity = quantity("ms", "integration time step", gt=0, le=1)
    min_intervals: int = integer(
        "currents whose exact rate gives fewer inter-spike intervals than this in `duration` "
        "are left out of max_rel_error",
        ge=1,
        default=5,
    )

    def check(self) -> None:
        if self.i_max <= self.i_min:
            raise CheckFailed("i_max", "must be above i_min", related=("i_min",))
        if self.duration < 10 * self.dt:
            raise CheckFailed("duration", "must be at least 10 time steps (dt)", related=("dt",))


PROTOCOLS: dict[str, type] = {cls.KIND: cls for cls in (LIFFICurveProtocol,)}
"""Every experiment kind, by registry name, with the protocol section it takes."""


@dataclass(frozen=True, kw_only=True)
class ExperimentSection:
    """The ``[experiment]`` section: which runner, on which model and device, with which seed."""

    kind: str = text("the experiment runner (a registry name)")
    model: str = text("the model card the experiment simulates ('' for none)", default="")
    device: str = text("the device card holding the plastic weights ('' for none)", default="")
    seed: int = integer("seed of every random number generator in the run", ge=0, le=2**32 - 1, default=0)


@dataclass(frozen=True, kw_only=True)
class Expectation:
    """What a metric is expected to be, and why: a published value or a derived bound.

    Give ``value`` (with ``tolerance`` or ``rel_tolerance``) for a published number, or
    ``le`` / ``ge`` for a bound; ``source`` cites where the value comes from, or
    ``derivation`` says how a bound was derived.
    """

    value: float = number("the published or derived value", default=math.nan)
    tolerance: float = number("allowed absolute difference from value", ge=0, default=math.nan)
    rel_tolerance: float = number("allowed relative difference from value", ge=0, default=math.nan)
    le: float = number("the metric must be at most this", default=math.nan)
    ge: float = number("the metric must be at least this", default=math.nan)
    unit: str = text("unit of the metric, for display", default="")
    source: str = text("citation of a published value (paper, table or figure)", default="")
    derivation: str = text("how the value or bound was derived", default="")

    def check(self) -> None:
        if all(math.isnan(x) for x in (self.value, self.le, self.ge)):
            raise CheckFailed("value", "give value (with tolerance or rel_tolerance), le or ge")
        if not self.source and not self.derivation:
            raise CheckFailed("source", "say where the expected value comes from (source or derivation)")

    def passed(self, measured: float) -> bool:
        """Whether ``measured`` meets this expectation (NaN never does)."""
        if math.isnan(measured):
            return False
        ok = True
        if not math.isnan(self.le):
            ok &= measured <= self.le
        if not math.isnan(self.ge):
            ok &= measured >= self.ge
        if not math.isnan(self.value):
            if not math.isnan(self.tolerance):
                ok &= abs(measured - self.value) <= self.tolerance
            if not math.isnan(self.rel_tolerance):
                ok &= abs(measured - self.value) <= self.rel_tolerance * abs(self.value)
        return bool(ok)
