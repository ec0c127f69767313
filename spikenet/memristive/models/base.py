"""What a kind of device model declares, once, and the registry that finds it by parameter type.

A model kind is one module of this package holding one :class:`DeviceModel` subclass. It names
its parameter class (``params``; the class a device card's ``model`` selects, in
:mod:`spikenet.params.devices`) and declares everything that differs from kind to kind: its
per-device state, the pulses that cross its range, its response to pulses (the LTP and LTD
steps), where its read signal is zero (what drift scales), its nominal levels, how a trained
weight maps onto its devices, and the Brian2 code of the same response. Everything else (stuck
faults, device-to-device spread, drift, read noise, stochastic rounding, write-verify) is common
and lives once in :mod:`spikenet.memristive.arrays` and :mod:`spikenet.memristive.brian2_code`.

The array equations are written once for NumPy and torch through :class:`Ops`, the handful of
element-wise functions the two libraries name differently; the Brian2 code is written separately
(Brian2's abstract code is a language of its own), and ``tests/test_conformance.py`` holds every
card's Brian2 form equal to its array form.

Adding a model kind: its parameter class in :mod:`spikenet.params.devices`, a module here, and a
device card (README, "Adding a device model").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, ClassVar

import numpy as np
from brian2 import second

__all__ = ["DeviceModel", "Ops", "NUMPY", "Variable", "MODELS", "model_of", "drift_factor", "drifted"]


@dataclass(frozen=True)
class Ops:
    """The element-wise functions of one array library that a model's equations use (NumPy and
    torch share the rest: arithmetic, comparisons, ``**``)."""

    where: Callable
    clip: Callable
    exp: Callable
    log: Callable
    sqrt: Callable
    abs: Callable
    floor: Callable
    float: Callable
    """As double-precision floats (booleans to 0.0 / 1.0)."""
    interp: Callable
    """``interp(v, xp, fp)``: NumPy's piecewise-linear interpolation (``xp`` increasing NumPy
    arrays, clamped at the ends), on this library's arrays."""
    full_like: Callable
    """``full_like(a, value)``: an array of ``a``'s shape filled with ``value`` (double precision)."""


NUMPY = Ops(np.where, np.clip, np.exp, np.log, np.sqrt, np.abs, np.floor, lambda v: np.asarray(v, dtype=float),
            np.interp, lambda a, value: np.full(np.shape(a), value, dtype=float))


@dataclass(frozen=True)
class Variable:
    """A per-synapse variable of a device's Brian2 code, stored only where the card makes it
    differ between synapses (elsewhere it is the constant ``value`` in the namespace: a synapse's
    updates are bound by the memory traffic of its variables, so each one stored costs time at
    every event)."""

    name: str
    unit: str
    comment: str
    varies: Callable[[Any], bool]
    value: Callable[[Any], float]
    attribute: str | None = None
    """The device array's attribute that holds it (``None``: ``name``)."""


MODELS: dict[type, type["DeviceModel"]] = {}
"""Model kind by parameter class (filled as the model modules are imported)."""


def model_of(params: Any) -> "DeviceModel":
    """The model of a device card's parameters (the most specific registered class of its type)."""
    from . import _load_all  # the kinds register themselves on import

    _load_all()
    for cls in type(params).__mro__:
        if cls in MODELS:
            return MODELS[cls](params)
    known = ", ".join(sorted(c.__name__ for c in MODELS))
    raise TypeError(f"no device model for {type(params).__name__} (known: {known})")


def drift_factor(p: Any, elapsed, nu, ops: Ops = NUMPY):
    """The drift law's factor ``((elapsed + t0) / t0)^-nu`` after ``elapsed`` seconds (negative
    elapsed times count as 0)."""
    t0 = float(p.drift_t0 / second)
    return ((ops.clip(elapsed, 0.0, None) + t0) / t0) ** (-nu)


def drifted(p: Any, x, elapsed, nu, ops: Ops = NUMPY):
    """Normalised conductance ``x`` after drifting for ``elapsed`` seconds since programming
    (exponent ``nu`` per device): the read signal ``x - zero`` shrinks by the drift factor, so a
    single device's conductance G(t) = G_prog ((t - t_prog + t0) / t0)^-nu and a 2-PCM pair's
    G+ - G- (both devices drift alike, their g_min offsets cancel)."""
    if p.drift_nu <= 0:
        return x
    zero = model_of(p).signal_zero
    return zero + (x - zero) * drift_factor(p, elapsed, nu, ops)


class DeviceModel:
    """One kind of device model (subclass it in a module of this package; see the module docstring).

    The array hooks get ``a``, the device array (:class:`spikenet.memristive.arrays.Devices`: its
    per-device state as attributes, ``a.randn()`` / ``a.rand()`` draws, ``a.ops``); they change
    ``a``'s model state and return new normalised conductances.
    """

    params: ClassVar[type]
    """The parameter class this model serves (registers the model)."""
    state: ClassVar[tuple[str, ...]] = ()
    """Per-device arrays of this kind besides ``x`` and the common ones (stuck, spread, drift)."""
    exact: ClassVar[bool] = False
    """The weight takes exactly the change a rule asks for (the ideal reference); such a model has
    no pulses, faults or noise."""
    mapping: ClassVar[str] = "two_sides"
    """How :mod:`spikenet.baseline.analog` holds a signed trained weight: ``"exact"`` (the weight
    itself), ``"two_sides"`` (one device per sign, the other left at g_min), ``"pair"`` (the
    model is itself a differential pair: one target per weight), ``"counts"`` (``redundancy``
    binary devices per side, held as counts)."""
    physical: ClassVar[bool] = True
    """Its g_min / g_max are conductances (a digital synapse stores an integer: it has none)."""
    clipped: ClassVar[bool] = True
    """New conductances are clipped to [0, 1] (binary devices draw theirs log-normally instead)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "params" in cls.__dict__:
            MODELS[cls.params] = cls

    def __init__(self, params: Any):
        self.p = params

    # ----------------------------------------------------------------- arrays (NumPy, torch)

    def pulses_per_range(self, up, ops: Ops):
        """Nominal pulses that move a device across its whole range, for potentiation (``up``) or not."""
        raise NotImplementedError

    def start(self, a, x0) -> None:
        """Set the devices of ``a`` to normalised conductance ``x0`` (exactly, before stuck faults)."""
        a.x = x0

    def apply_stuck(self, a, high, low) -> None:
        """Hold the stuck devices at their bound."""
        ops = a.ops
        a.x = ops.where(high, 1.0, ops.where(low, 0.0, a.x))

    def step(self, a, up, n, free, noise):
        """The new normalised conductances after ``n`` pulses (``up``: potentiating), before
        clipping; ``noise`` is the pulses' summed cycle-to-cycle noise (``c2c_std sqrt(n) N(0, 1)``)
        and ``free`` marks the devices that are not stuck and get pulses."""
        raise NotImplementedError

    @property
    def signal_zero(self) -> float:
        """The normalised conductance whose read signal is zero: drift and drift compensation
        scale ``x - signal_zero``. A single device's signal is its conductance (zero at
        ``x = -g_min / (g_max - g_min)``)."""
        p = self.p
        return -float(p.g_min / (p.g_max - p.g_min))

    def nominal_levels(self) -> np.ndarray:
        """Normalised conductances a device reaches with 0, 1, 2, ... potentiating pulses from
        g_min on its nominal curve (no noise, no spread): what analog targets are quantised to."""
        raise TypeError(f"the {self.p.MODEL} model has no nominal analog levels")

    # ----------------------------------------------------------------- a network's synapses

    def synapses(self, n: int, rng: np.random.Generator, x0: Any = 0.0) -> Any:
        """The NumPy array that holds ``n`` synapses of a spiking network (one entry per synapse),
        starting at normalised conductance ``x0``: a :class:`~spikenet.memristive.DeviceArray`."""
        from ..numpy_models import DeviceArray

        return DeviceArray(self.p, n, rng, x0)

    @property
    def unprogrammed(self) -> float:
        """The normalised conductance of a device before programming: g_min, where it reads no
        signal (a 2-PCM pair: G+ = G- = g_min)."""
        return max(self.signal_zero, 0.0)

    def write_verify(self, synapses: Any, x: Any, tolerance: float, max_pulses: int) -> None:
        """Program :meth:`synapses` (from :attr:`unprogrammed`) towards ``x`` with write-verify."""
        synapses.program(x, tolerance, max_pulses)

    # ----------------------------------------------------------------- what a weight costs

    @property
    def devices_per_synapse(self) -> int:
        """Devices a spiking network's synapse holds (and reads at each transmitted spike)."""
        return 1

    @property
    def reads_per_weight(self) -> int:
        """Device reads of one trained weight as :mod:`spikenet.baseline.analog` maps it."""
        return 2

    # ----------------------------------------------------------------- Brian2

    def brian2_variables(self) -> tuple[Variable, ...]:
        """The per-synapse variables of its Brian2 code (stored where they vary, see :class:`Variable`)."""
        from ..brian2_code import COMMON_VARIABLES, SPREAD_VARIABLES

        return COMMON_VARIABLES + SPREAD_VARIABLES

    def brian2_per_range(self) -> str:
        """Brian2 expression of :meth:`pulses_per_range` (``up_pulse``: 1 for potentiation)."""
        raise NotImplementedError

    def brian2_pulses(self) -> str:
        """Brian2 statements that turn the request ``{dw}`` into pulses (``n_pulse``, ``up_pulse``,
        ``free``); by default stochastic rounding of ``|dw|`` times the pulses per range."""
        from ..brian2_code import PULSES

        return PULSES.replace("{per_range}", self.brian2_per_range())

    def brian2_step(self) -> str:
        """Brian2 statements that compute ``x_new`` (the twin of :meth:`step`, noise included)."""
        raise NotImplementedError

    def brian2_namespace(self) -> dict[str, Any]:
        """Names the Brian2 code uses besides the card's keys and the shared device functions
        (a model's own functions and derived constants)."""
        return {}
