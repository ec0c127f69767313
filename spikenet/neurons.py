"""Neuron groups built from validated parameter sets, and their exact solutions in NumPy.

Equations are Brian2 strings with a unit on every line; parameter values are passed in an
explicit ``namespace``, never picked up from the caller's variables.

>>> import brian2 as b2, spikenet as sn
>>> exc = sn.neuron_group("lif_adaptive", 10, tau_m=50 * b2.ms)   # a Brian2 NeuronGroup
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
from brian2 import Equations, NeuronGroup, Quantity, amp, check_units, second, volt

from .catalog import section_params
from .params.neurons import LIFAdaptiveParams, LIFCondParams, LIFHomeostaticParams, LIFParams

__all__ = [
    "LIF_EQUATIONS",
    "LIF_COND_EQUATIONS",
    "ADAPTIVE_THRESHOLD_EQUATIONS",
    "HOMEOSTATIC_EQUATIONS",
    "neuron_group",
    "neuron_params",
    "lif_group",
    "lif_rate",
    "lif_rheobase",
]

LIF_EQUATIONS = Equations(
    """
    dv/dt = (v_rest - v + r_m * I_ext) / tau_m : volt (unless refractory)
    I_ext : amp  # injected current, one value per neuron
    """
)
"""Current-based LIF membrane (:class:`~spikenet.params.neurons.LIFParams`)."""

LIF_COND_EQUATIONS = Equations(
    """
    dv/dt = (v_rest - v + ge * (e_exc - v) + gi * (e_inh - v)) / tau_m : volt (unless refractory)
    dge/dt = -ge / tau_ge : 1  # excitatory conductance, in units of the leak conductance
    dgi/dt = -gi / tau_gi : 1  # inhibitory conductance, in units of the leak conductance
    """
)
"""Conductance-based LIF membrane (:class:`~spikenet.params.neurons.LIFCondParams`)."""

ADAPTIVE_THRESHOLD_EQUATIONS = Equations(
    """
    dtheta/dt = -adapt * theta / tau_theta : volt  # threshold increase (Diehl & Cook 2015)
    adapt : 1 (shared)  # 1: theta adapts; 0: theta frozen (evaluation)
    """
)

HOMEOSTATIC_EQUATIONS = Equations(
    """
    dv/dt = -v / tau_m : 1 (unless refractory)  # integrated input, in units of the input weights
    dtheta/dt = -adapt * theta_plus * target_rate : 1  # homeostatic threshold change (Querlioz et al. 2013)
    adapt : 1 (shared)  # 1: theta adapts; 0: theta frozen (evaluation)
    t_block : second  # refractory or inhibited (v held at 0, no spike) until this time
    """
)
"""Integrate-and-fire of synaptic weights with a homeostatic threshold
(:class:`~spikenet.params.neurons.LIFHomeostaticParams`)."""


@dataclass(frozen=True)
class _Template:
    equations: Equations
    threshold: str
    reset: str
    method: Callable[[Any], str]
    initial: Callable[[Any], dict[str, Quantity]]
    refractory: Callable[[Any], Any] = lambda p: p.t_ref
    every_step: str = ""
    """Statements run at the start of every time step (``run_regularly``)."""


_TEMPLATES: dict[type, _Template] = {
    LIFParams: _Template(LIF_EQUATIONS, "v > v_th", "v = v_reset", lambda p: "exact", lambda p: {"v": p.v_rest}),
    LIFCondParams: _Template(
        LIF_COND_EQUATIONS, "v > v_th", "v = v_reset", lambda p: p.method, lambda p: {"v": p.v_rest}
    ),
    LIFAdaptiveParams: _Template(
        LIF_COND_EQUATIONS + ADAPTIVE_THRESHOLD_EQUATIONS,
        "v > v_th + theta - theta_offset and t - lastspike > t_quiet",
        "v = v_reset\ntheta += adapt * theta_plus",
        lambda p: p.method,
        lambda p: {"v": p.v_rest, "theta": p.theta_init, "adapt": 1},
    ),
    # Refractoriness is a condition on t_block, so that lateral inhibition (a synapse from the
    # winner) can extend it; input that arrived while refractory is discarded at the next step
    # (Querlioz et al.: no integration during the refractory and inhibition periods).
    LIFHomeostaticParams: _Template(
        HOMEOSTATIC_EQUATIONS,
        "v > v_th + theta",
        "v = 0\ntheta += adapt * theta_plus\nt_block = t + t_ref",
        lambda p: "exponential_euler",  # exact for both equations (Brian2's "exact" rejects dx/dt = constant)
        lambda p: {"v": 0, "theta": p.theta_init, "adapt": 1, "t_block": -1 * second},
        refractory=lambda p: "t < t_block",
        every_step="v = v * int(t >= t_block)",
    ),
}


def namespace_of(params: Any) -> dict[str, Any]:
    """A parameter dataclass as a Brian2 namespace: every field by its name."""
    return {f.name: getattr(params, f.name) for f in dataclasses.fields(params) if f.name != "method"}


def neuron_params(model: str | Any, *, catalog: str | None = None, **overrides: Any) -> Any:
    """The neuron parameters of a model card, with keyword overrides checked like card values.

    Parameters
    ----------
    model
        A model card name (``"lif_adaptive"``) or a neuron parameter dataclass.
    overrides
        Values with units (``tau_m=15 * ms`` or ``tau_m="15 ms"``); an unknown name, a wrong unit
        or an out-of-range value raises :class:`~spikenet.errors.CardError`.
    """
    return section_params(model, "neuron", catalog=catalog, **overrides)


def neuron_group(
    model: str | Any,
    n: int,
    *,
    dt: Quantity | None = None,
    name: str | None = None,
    catalog: str | None = None,
    extra: str = "",
    **overrides: Any,
) -> NeuronGroup:
    """A Brian2 ``NeuronGroup`` of ``n`` neurons built from a model card (or parameters).

    Parameters
    ----------
    model
        A model card name (``"lif_adaptive"``, ``"lif_neurodynex"``) or a neuron parameter
        dataclass from :mod:`spikenet.params.neurons`.
    n
        Number of neurons.
    dt
        Integration step of this group's clock (Brian2's default clock if ``None``).
    name
        Brian2 name of the group.
    extra
        Further equations (Brian2 strings with units), e.g. variables that synapses sum into.
    overrides
        Parameter values with units, checked like card values (``tau_m=15 * ms``).

    Returns
    -------
    NeuronGroup
        At rest (``v = v_rest``), conductances zero, thresholds at their initial values.
    """
    params = neuron_params(model, catalog=catalog, **overrides)
    template = _TEMPLATES[type(params)]
    group = NeuronGroup(
        n,
        template.equations + Equations(extra),
        threshold=template.threshold,
        reset=template.reset,
        refractory=template.refractory(params),
        method=template.method(params),
        namespace=namespace_of(params),
        dt=dt,
        name=name or f"{type(params).TEMPLATE}*",
    )
    for variable, value in template.initial(params).items():
        setattr(group, variable, value)
    if template.every_step:
        group.run_regularly(template.every_step, when="start", name=f"{group.name}_every_step")
    return group


@check_units(n=1, dt=second)
def lif_group(params: LIFParams, n: int, *, dt: Quantity | None = None, name: str | None = None) -> NeuronGroup:
    """A group of ``n`` current-based LIF neurons, at rest, with ``I_ext = 0``.

    The membrane equation is linear, so Brian2's ``exact`` method integrates it without error;
    spike times are still quantised to ``dt``.
    """
    if not isinstance(params, LIFParams):
        raise TypeError(f"lif_group needs LIFParams, got {type(params).__name__}")
    return neuron_group(params, n, dt=dt, name=name)


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
