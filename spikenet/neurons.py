"""Neuron groups built from validated parameter sets, and their exact solutions in NumPy.

Equations are Brian2 strings with a unit on every line; parameter values are passed in an
explicit ``namespace``, never picked up from the caller's variables.
"""

from __future__ import annotations

import numpy as np
from brian2 import Equations, NeuronGroup, Quantity, amp, check_units, second, volt

from .params.neurons import LIFParams

__all__ = ["LIF_EQUATIONS", "lif_group", "lif_rate", "lif_rheobase"]

LIF_EQUATIONS = Equations(
    """
    dv/dt = (v_rest - v + r_m * I_ext) / tau_m : volt (unless refractory)
    I_ext : amp  # injected current, one value per neuron
    """
)
"""Current-based LIF membrane (see :class:`~spikenet.params.neurons.LIFParams`)."""


def _namespace(params: LIFParams) -> dict[str, Quantity]:
    return {
        "tau_m": params.tau_m,
        "r_m": params.r_m,
        "v_rest": params.v_rest,
        "v_reset": params.v_reset,
        "v_th": params.v_th,
    }


@check_units(n=1, dt=second)
def lif_group(params: LIFParams, n: int, *, dt: Quantity | None = None, name: str | None = None) -> NeuronGroup:
    """A group of ``n`` current-based LIF neurons, at rest, with ``I_ext = 0``.

    Parameters
    ----------
    params
        Neuron parameters (from a model card's ``[neuron]`` section).
    n
        Number of neurons.
    dt
        Integration step of this group's clock (Brian2's default clock if ``None``).
    name
        Brian2 name of the group.

    Notes
    -----
    The membrane equation is linear, so Brian2's ``exact`` method integrates it without error;
    spike times are still quantised to ``dt``.
    """
    group = NeuronGroup(
        n,
        LIF_EQUATIONS,
        threshold="v > v_th",
        reset="v = v_reset",
        refractory=params.t_ref,
        method="exact",
        namespace=_namespace(params),
        dt=dt,
        name=name or "lif*",
    )
    group.v = params.v_rest
    return group


def lif_rheobase(params: LIFParams) -> Quantity:
    """The smallest constant current that makes the neuron fire: ``(v_th - v_rest) / r_m``."""
    return (params.v_th - params.v_rest) / params.r_m


@check_units(current=amp)
def lif_rate(params: LIFParams, current: Quantity) -> np.ndarray:
    r"""Exact firing rate (Hz, as floats) of the LIF neuron for constant currents.

    .. math::

        f(I) = \left[t_\mathrm{ref} + \tau_m \ln\frac{v_\infty - v_\mathrm{reset}}{v_\infty - v_\mathrm{th}}\right]^{-1},
        \qquad v_\infty = v_\mathrm{rest} + R_m I,

    and 0 at or below rheobase (:math:`v_\infty \le v_\mathrm{th}`). With
    :math:`v_\mathrm{reset} = v_\mathrm{rest}` this is the textbook form
    :math:`[t_\mathrm{ref} + \tau_m \ln(R I / (R I - (v_\mathrm{th} - v_\mathrm{reset})))]^{-1}`.
    """
    v_inf = np.asarray((params.v_rest + params.r_m * current) / volt, dtype=float)
    v_reset = float(params.v_reset / volt)
    v_th = float(params.v_th / volt)
    tau = float(params.tau_m / second)
    t_ref = float(params.t_ref / second)
    rate = np.zeros_like(v_inf)
    above = v_inf > v_th
    rate[above] = 1.0 / (t_ref + tau * np.log((v_inf[above] - v_reset) / (v_inf[above] - v_th)))
    return rate
