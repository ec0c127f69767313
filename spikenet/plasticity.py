"""Learning rules as Brian2 ``Synapses`` with event-driven traces, built from validated parameters.

Each rule is written as the change it asks for (``dw``); the device that stores the weight
(:mod:`spikenet.memristive`) turns that request into the new weight, so any rule can run on
any device card.

>>> import brian2 as b2, spikenet as sn
>>> inp = b2.PoissonGroup(100, 15 * b2.Hz)
>>> out = sn.neuron_group("lif_adaptive", 10)
>>> syn = sn.synapses(inp, out, rule="stdp_pair_nearest", device="ideal")
>>> b2.Network(inp, out, syn).run(1 * b2.second)
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
from brian2 import Quantity, Synapses, second

from . import memristive
from .catalog import section_params
from .errors import CardError
from .neurons import namespace_of
from .params.plasticity import (
    DiehlCookSTDPParams,
    OjaParams,
    PairSTDPParams,
    QuerliozSTDPParams,
    TripletSTDPParams,
)

__all__ = ["RuleCode", "rule_code", "rule_params", "device_params", "synapses", "initialise"]


@dataclass(frozen=True)
class RuleCode:
    """The Brian2 code of a learning rule on a given device."""

    model: str
    """Synaptic variables and traces (``w : 1`` and the rule's traces)."""
    on_pre: str
    """Statements at a presynaptic spike, after transmission (``ge_post += w``)."""
    on_post: str
    """Statements at a postsynaptic spike."""
    spiking: bool = True
    """False for rate-based rules, which have no spike-triggered updates."""


def _trace_update(name: str, pairing: str) -> str:
    """All-to-all: traces add up; nearest-spike: a spike resets its trace to 1."""
    return f"{name} += 1" if pairing == "all_to_all" else f"{name} = 1"


def _soft(params, direction: str) -> str:
    """The factor that makes bounds soft (1 for hard bounds)."""
    if getattr(params, "bounds", "hard") == "hard":
        return "1"
    if direction == "up":
        return "(w_max - w) / (w_max - w_min)"
    return "(w - w_min) / (w_max - w_min)"


def _pair_stdp(p: PairSTDPParams, apply: Callable[[str], str]) -> RuleCode:
    return RuleCode(
        model="""
        w : 1
        dapre/dt = -apre / tau_plus : 1 (event-driven)
        dapost/dt = -apost / tau_minus : 1 (event-driven)
        """,
        on_pre="\n".join([_trace_update("apre", p.pairing), apply(f"-a_minus * apost * {_soft(p, 'down')}")]),
        on_post="\n".join([_trace_update("apost", p.pairing), apply(f"a_plus * apre * {_soft(p, 'up')}")]),
    )


def _triplet(p: TripletSTDPParams, apply: Callable[[str], str]) -> RuleCode:
    # The weight update reads r2 / o2 before their own increment (Pfister & Gerstner 2006, eq. 3-4).
    return RuleCode(
        model="""
        w : 1
        dr1/dt = -r1 / tau_plus : 1 (event-driven)
        dr2/dt = -r2 / tau_x : 1 (event-driven)
        do1/dt = -o1 / tau_minus : 1 (event-driven)
        do2/dt = -o2 / tau_y : 1 (event-driven)
        """,
        on_pre="\n".join([
            apply(f"-o1 * (a2_minus + a3_minus * r2) * {_soft(p, 'down')}"),
            _trace_update("r1", p.pairing),
            _trace_update("r2", p.pairing),
        ]),
        on_post="\n".join([
            apply(f"r1 * (a2_plus + a3_plus * o2) * {_soft(p, 'up')}"),
            _trace_update("o1", p.pairing),
            _trace_update("o2", p.pairing),
        ]),
    )


def _diehl_cook(p: DiehlCookSTDPParams, apply: Callable[[str], str]) -> RuleCode:
    # Traces reset to 1 at each spike are exp(-(t - t_last) / tau): keeping the last spike times
    # instead of three event-driven traces costs one exp() per presynaptic event instead of three
    # (the input synapses' events are most of an MNIST network's work).
    # A trace is held at e^-50 (2e-22) once it has decayed below: exp() of a large negative
    # argument takes the C library's slow underflow path, and with most post spikes long past
    # that path cost 35 % of a compiled N = 100 run (9.5 vs 6.0-6.5 ms per presentation, measured
    # here). The weight changes the held traces make (< 2e-24) are below a double's resolution
    # for any weight above 1e-8, and the spike counts of a 300-image run were identical.
    up = "(w_max - w)**mu" if p.mu else "1"
    down = "(w - w_min)**mu" if p.mu else "1"

    def trace(last: str, tau: str) -> str:
        return f"exp(-clip((t - {last}) / {tau}, 0, 50))"

    return RuleCode(
        model="""
        w : 1
        t_prespike : second  # last presynaptic spike (arrival at this synapse); trace pre = exp(-(t - t_prespike) / tau_pre)
        t_postspike : second  # last postsynaptic spike; traces post1, post2 likewise
        """,
        on_pre="\n".join(["t_prespike = t", apply(f"-nu_pre * {trace('t_postspike', 'tau_post1')} * {down}")]),
        # post2 is read before this spike resets it: the authors' `post2before`.
        on_post="\n".join([
            apply(f"nu_post * {trace('t_prespike', 'tau_pre')} * {trace('t_postspike', 'tau_post2')} * {up}"),
            "t_postspike = t",
        ]),
    )


def _querlioz(p: QuerliozSTDPParams, apply: Callable[[str], str]) -> RuleCode:
    return RuleCode(
        model="""
        w : 1
        t_lastpre : second  # time of the last presynaptic spike
        """,
        on_pre="t_lastpre = t",
        on_post="\n".join([
            "ltp = int(t - t_lastpre <= t_ltp)",
            apply(
                "ltp * alpha_plus * exp(-beta_plus * (w - w_min) / (w_max - w_min))"
                " - (1 - ltp) * alpha_minus * exp(-beta_minus * (w_max - w) / (w_max - w_min))"
            ),
        ]),
    )


def _oja(p: OjaParams, apply: Callable[[str], str]) -> RuleCode:
    return RuleCode(
        model="""
        y_post = w * x_pre : 1 (summed)
        dw/dt = plastic * eta * y_post * (x_pre - y_post * w) : 1 (clock-driven)
        """,
        on_pre="",
        on_post="",
        spiking=False,
    )


_RULES: dict[type, Callable[[Any, Callable[[str], str]], RuleCode]] = {
    PairSTDPParams: _pair_stdp,
    TripletSTDPParams: _triplet,
    DiehlCookSTDPParams: _diehl_cook,
    QuerliozSTDPParams: _querlioz,
    OjaParams: _oja,
}


_PLASTIC_SWITCH = "plastic : 1 (shared)  # 1: the rule changes weights; 0: weights frozen (evaluation)\n"


def rule_code(rule: Any, device: Any, code: memristive.Brian2Device | None = None) -> RuleCode:
    """The Brian2 code of learning rule ``rule`` (parameters) storing weights in ``device``
    (``code``: the device's Brian2 code when not the default, see :func:`memristive.brian2_device`).

    Every requested change is multiplied by the shared switch ``plastic`` (1 learns, 0 freezes
    the weights, as for evaluation; traces keep running either way).
    """
    code = code if code is not None else memristive.brian2_device(device)
    rc = _RULES[type(rule)](rule, lambda dw: code.update(f"plastic * ({dw})"))
    return dataclasses.replace(rc, model=rc.model + code.model + _PLASTIC_SWITCH)


def rule_params(rule: str | Any, *, catalog: str | None = None, **overrides: Any) -> Any:
    """The learning-rule parameters of a model card, with keyword overrides checked like card values."""
    return section_params(rule, "plasticity", catalog=catalog, **overrides)


def device_params(device: str | Any, *, catalog: str | None = None) -> Any:
    """The device parameters of a device card (or the parameters themselves)."""
    return section_params(device, "device", kind="devices", catalog=catalog)


def synapses(
    pre,
    post,
    rule: str | Any,
    *,
    device: str | Any = "ideal",
    target: str | None = "ge",
    connect: bool | str = True,
    w_init: float | str = "rand() * w_max",
    delay: Quantity | None = None,
    dt: Quantity | None = None,
    name: str | None = None,
    catalog: str | None = None,
    rng: np.random.Generator | None = None,
    drift_gain: str | None = None,
    drift_refresh: Quantity | None = None,
    **overrides: Any,
) -> Synapses:
    """Plastic Brian2 ``Synapses`` from ``pre`` to ``post`` that learn by ``rule`` on ``device``.

    Parameters
    ----------
    pre, post
        Brian2 groups. For spiking rules, a presynaptic spike adds ``w`` to ``target`` of the
        postsynaptic neuron. For the rate-based ``oja`` rule, ``pre`` must have a variable
        ``x`` and ``post`` a variable ``y``, which the synapses set to ``sum(w * x)``.
    rule
        A model card with a ``[plasticity]`` section (``"stdp_pair_nearest"``,
        ``"triplet_visual_all"``, ``"stdp_diehl_cook"``, ...) or rule parameters.
    device
        A device card (``"ideal"``) or device parameters: what stores the weights.
    target
        Postsynaptic variable (dimensionless) that a spike increases by ``w``; ``None`` for no
        transmission (plasticity protocols driven by imposed spikes).
    connect
        ``True`` for all-to-all, a Brian2 condition string (``"i == j"``), or ``False`` to call
        ``connect`` yourself (then :func:`initialise`). One Brian2 synapse per connection also
        for a binary card's ``redundancy`` parallel devices (held as counts).
    w_init
        Initial weights: a number or a Brian2 expression (``"rand() * w_max"``).
    delay
        Synaptic delay of the presynaptic pathway.
    rng
        Generator for the devices' initial state (stuck faults, spread); by default one drawn
        from NumPy's global generator, which :func:`spikenet.engine.seed_everything` seeds.
    drift_gain
        A variable of ``post`` (dimensionless) by which each read's signal is multiplied: drift
        compensation (:func:`spikenet.networks.add_drift_compensation` sets it). ``None``: reads
        as the device gives them.
    drift_refresh
        Evaluate a drifting device's drift law once per this interval (at its start) for every
        synapse instead of at every transmitted spike: a network that shows images in slots passes
        its slot (see :func:`spikenet.memristive.brian2_device` for the error bound). ``None``:
        every read evaluates the law at its own time.
    overrides
        Rule parameters with units, checked like card values (``tau_plus=15 * ms``).
    """
    params = rule_params(rule, catalog=catalog, **overrides)
    device = device_params(device, catalog=catalog)
    dev = memristive.brian2_device(device, cached_drift=drift_refresh is not None)
    code = rule_code(params, device, dev)
    if not code.spiking and not memristive.model_of(device).exact:
        raise CardError(f"the rate-based rule {type(params).RULE!r} runs on the ideal device only")
    on_pre = code.on_pre
    if code.spiking and target is not None:
        if target not in post.variables:
            raise CardError(
                f"target {target!r}: the postsynaptic group {post.name} has no such variable; "
                f"it has {', '.join(sorted(v for v in post.variables if not v.startswith('_')))} "
                "(use target=None for no transmission)"
            )
        read = dev.read if drift_gain is None else dev.compensated_read(f"{drift_gain}_post")
        on_pre = f"{target}_post += {read}\n{on_pre}"
    namespace = {**namespace_of(params), **memristive.device_namespace(device)}
    kwargs: dict[str, Any] = dict(model=code.model, namespace=namespace, dt=dt, name=name or f"{type(params).RULE}*",
                                  codeobj_class=memristive.brian2_guard.codeobj_class())
    if code.spiking:
        kwargs.update(on_pre=on_pre, on_post=code.on_post or None, method="exact")
        if delay is not None:
            kwargs["delay"] = delay
    else:
        kwargs.update(method="euler")
    syn = Synapses(pre, post, **kwargs)
    if connect is not False:
        condition = None if connect is True else connect
        syn.connect(condition=condition)
        initialise(syn, params, device, w_init, rng)
    if dev.refresh:
        syn.run_regularly(dev.refresh, dt=drift_refresh, when="start", name=f"{syn.name}_drift_refresh")
    return syn


def initialise(syn: Synapses, rule: Any, device: Any, w_init: float | str, rng: np.random.Generator | None = None) -> None:
    """Set initial weights and sample each device's state; :func:`synapses` calls it after
    connecting (call it yourself after ``connect`` if you passed ``connect=False``).

    Learning is switched on (``syn.plastic = 1``)."""
    syn.plastic = 1
    syn.w = w_init
    never = -1e9 * second  # no spike yet: traces are zero, no pre spike counts as recent
    if isinstance(rule, QuerliozSTDPParams):
        syn.t_lastpre = never
    if isinstance(rule, DiehlCookSTDPParams):
        syn.t_prespike = never
        syn.t_postspike = never
    dev = memristive.brian2_device(device)
    dev.initialise(syn, rng if rng is not None else np.random.default_rng(np.random.randint(2**31 - 1)))
