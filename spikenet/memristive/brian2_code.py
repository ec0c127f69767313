"""Device models as Brian2 synapse code: what a learning rule's weight change does to a device.

A rule asks for ``dw`` (a code expression, in the rule's weight units). The device code turns it
into pulses and a new normalised conductance ``x`` and stores that as the rule's weight
``w = w_min + (w_max - w_min) * x`` (``x`` itself is not stored), so that rules with weight
dependence read the device's value.
Transmission reads the device (read noise, drift) through :attr:`Brian2Device.read`.

The same equations in NumPy: :mod:`spikenet.memristive.numpy_models` (the tests compare them).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from ..schema import spec_of
from .brian2_functions import DEVICE_FUNCTIONS
from .brian2_guard import guarded
from .models import Variable, model_of

__all__ = ["Brian2Device", "brian2_device", "initial_device_state", "device_namespace"]

COMMON_VARIABLES = (
    Variable("stuck", "1", "0 free, -1 stuck at g_min, +1 stuck at g_max",
             lambda p: p.stuck_low + p.stuck_high > 0, lambda p: 0.0),
    Variable("nu_dev", "1", "its drift exponent", lambda p: p.drift_nu > 0 and p.drift_nu_std > 0,
             lambda p: p.drift_nu, "nu"),
    Variable("t_prog", "second", "when it was last programmed", lambda p: p.drift_nu > 0, lambda p: 0.0),
    Variable("pulses_ltp", "1", "potentiating pulses received (for energy estimates)", lambda p: True, lambda p: 0.0),
    Variable("pulses_ltd", "1", "depressing pulses received", lambda p: True, lambda p: 0.0),
)
"""The per-synapse device variables every non-ideal model has (see :class:`~spikenet.memristive.models.Variable`)."""

SPREAD_VARIABLES = (Variable("dscale", "1", "device-to-device factor of its step size or curve shape",
                             lambda p: p.d2d_std > 0, lambda p: 1.0, "scale"),)
"""The device-to-device factor of the models whose steps or curves it scales."""


def _model(p) -> str:
    return "".join(f"{v.name} : {v.unit}  # {v.comment}\n" for v in model_of(p).brian2_variables() if v.varies(p))


def _constants(p) -> dict[str, float]:
    return {v.name: v.value(p) for v in model_of(p).brian2_variables() if not v.varies(p)}


_X = "((w - w_min) / (w_max - w_min))"
"""The normalised conductance ``x`` of a device, from the weight ``w`` that holds it (``x`` is not
stored: one variable fewer to load and store at each event)."""

PULSES = """
x = {x}
dw_req = {dw}
up_pulse = int(dw_req > 0)
n_pulse = stochastic_round(abs(dw_req) / (w_max - w_min) * {per_range})
free = int(stuck == 0) * int(n_pulse > 0)
"""

_COMMIT = """
{t_prog}pulses_ltp += up_pulse * n_pulse
pulses_ltd += (1 - up_pulse) * n_pulse
w = w + free * (w_min + (w_max - w_min) * x_new - w)
"""

_FRESH_READ = "w_read = w_read + free * (w - w_read)\n"
"""A device just programmed has not drifted yet: its cached read is its weight."""

_CACHED_X = "((w_read - w_min) / (w_max - w_min))"
"""The drifted normalised conductance as last refreshed (``w_read``, no read noise)."""


@dataclass(frozen=True)
class Brian2Device:
    """A device model's Brian2 code and how to initialise its per-synapse state."""

    model: str
    """Extra synaptic variables."""
    update: Callable[[str], str]
    """Statements that apply a requested change (a code expression) and set ``w``."""
    read: str
    """Expression of the weight a presynaptic spike transmits."""
    initialise: Callable[[Any, np.random.Generator], None]
    """Samples each device's state (stuck, spread, drift) and programs ``x`` from ``w``."""
    compensated_read: Callable[[str], str] = lambda gain: "w"
    """The read expression with the drift compensated by a gain (a code expression): the
    device's read signal (a pair's G+ - G-, a single device's conductance) is multiplied by it."""
    signal: str = "0"
    """Magnitude of the noiseless read signal at time ``t`` (drift included), in units of
    ``g_max - g_min``: what a calibration read of this device measures (:func:`drift_signal`)."""
    refresh: str = ""
    """Statements that recompute the cached drifted reads (``w_read``) at time ``t``; empty
    when reads evaluate the drift law themselves (or the device does not drift). Run them at
    regular times (:func:`spikenet.plasticity.synapses` with ``drift_refresh``)."""

    @property
    def state(self) -> tuple[str, ...]:
        """Names of the per-synapse device variables (what a checkpoint must keep besides ``w``);
        the cached drifted read is not among them (``refresh`` recomputes it)."""
        names = re.findall(r"^\s*(\w+)\s*:", self.model, flags=re.MULTILINE)
        return tuple(n for n in names if n != "w_read")


# ((t - t_prog + t0) / t0)^-nu (vectorised where the compiler can: brian2_functions.drift_factor)
_DRIFT_FACTOR = "drift_factor(nu_dev, (t - t_prog + drift_t0) / drift_t0)"


def _zero(p) -> str:
    return repr(model_of(p).signal_zero)


def _drifted(p, cached: bool = False) -> str:
    """The normalised conductance ``x`` after the drift since programming (no read noise): the
    read signal ``x - zero`` shrinks by the drift factor (the twin of
    :func:`spikenet.memristive.models.drifted`); ``cached``: as last refreshed (``w_read``)."""
    if p.drift_nu <= 0:
        return _X
    if cached:
        return _CACHED_X
    return f"({_zero(p)} + ({_X} - ({_zero(p)})) * {_DRIFT_FACTOR})"


def _signal(p, x: str) -> str:
    """The physical read signal of normalised conductance ``x``, in units of ``g_max - g_min``:
    a pair's G+ - G- (signed), a single device's conductance G (positive)."""
    return f"({x} - ({_zero(p)}))"


def _compensated(p, x: str, gain: str) -> str:
    """``x`` whose read signal is multiplied by ``gain`` (the inverse of :func:`_signal`)."""
    return f"({_zero(p)} + ({x} - ({_zero(p)})) * {gain})"


def _read_expression(p, gain: str | None = None, cached: bool = False) -> str:
    x = _drifted(p, cached)
    if gain is None and p.read_noise_std <= 0:
        if x == _X:
            return "w"
        if x == _CACHED_X:
            return "w_read"  # one load per transmitted spike, as the ideal device's "w"
    if gain is not None:
        x = _compensated(p, x, gain)
    if p.read_noise_std > 0:  # R parallel devices: their independent read noises averaged
        devices = model_of(p).devices_per_synapse
        share = f" / sqrt({devices})" if devices > 1 else ""
        x = f"({x} + read_noise_std{share} * randn())"
    return f"(w_min + (w_max - w_min) * {x})"


def initial_device_state(p: Any, w: np.ndarray, w_min: float, w_max: float, rng: np.random.Generator,
                         write_verify: tuple[float, int] | None = None) -> dict[str, np.ndarray]:
    """Each device's sampled state (stuck, spread, drift, ...) programmed from weights ``w``.

    Returns every per-synapse variable of the device's Brian2 code, and ``w`` as the devices
    hold it (the requested weights are clipped to the range). A binary card's ``redundancy``
    devices per synapse are held as counts (:class:`~spikenet.memristive.binary_counts.BinaryCounts`).

    Parameters
    ----------
    write_verify
        ``None``: each device starts exactly at its weight (an initial condition). Otherwise
        ``(tolerance, max_pulses)``: the devices start at g_min (a 2-PCM pair at G+ = G-) and are
        programmed towards the weights with write-verify (:meth:`DeviceArray.program`), pulse
        noise and all, as when trained weights are transferred onto hardware.
    """
    model = model_of(p)
    if model.exact:
        return {"w": np.asarray(w, dtype=float)}
    x0 = np.clip((np.asarray(w, dtype=float) - w_min) / (w_max - w_min), 0, 1)
    if write_verify is None:
        devices = model.synapses(len(x0), rng, x0)
    else:
        devices = model.synapses(len(x0), rng, model.unprogrammed)
        model.write_verify(devices, x0, *write_verify)
        devices.t_prog[:] = 0.0
    state = {v.name: getattr(devices, v.attribute or v.name) for v in model.brian2_variables() if v.varies(p)}
    state["w"] = w_min + (w_max - w_min) * devices.x
    return {k: np.asarray(v, dtype=float) for k, v in state.items()}


def _initialise(p) -> Callable[[Any, np.random.Generator], None]:
    def initialise(syn, rng: np.random.Generator) -> None:
        state = initial_device_state(p, np.asarray(syn.w[:]), syn.namespace["w_min"], syn.namespace["w_max"], rng)
        for name, values in state.items():
            if name != "t_prog":
                setattr(syn, name, values)

    return initialise


def brian2_device(device: Any, cached_drift: bool = False) -> Brian2Device:
    """The Brian2 code of a device model (``ideal``: the change itself, clipped to the rule's range).

    Parameters
    ----------
    cached_drift
        Reads use a per-synapse drifted weight ``w_read`` that :attr:`Brian2Device.refresh`
        recomputes (and programming sets to the new weight) instead of evaluating the drift's power
        law at every transmitted spike; a transmission then loads one variable, as with the ideal
        device. Between two refreshes ``T`` apart a read overstates the drifted conductance by at
        most a factor ``(1 + T / t0)^nu`` (the whole drift of a device programmed just after a
        refresh): 1.0012 for ``t0`` = 20 s, ``T`` = 500 ms, ``nu`` = 0.05. A weight set from
        outside the device's update (``syn.w = ...``) is read from the next refresh on.
    """
    model = model_of(device)
    if model.exact:
        return Brian2Device("", lambda dw: f"w = clip(w + ({dw}), w_min, w_max)", "w", lambda syn, rng: None)
    cached = cached_drift and device.drift_nu > 0
    extra = "w_read : 1  # the drifted weight a read transmits (no read noise), refreshed by `refresh`\n" if cached else ""
    pulses, body = model.brian2_pulses(), model.brian2_step()

    def update(dw: str) -> str:
        t_prog = "t_prog = t_prog + free * (t - t_prog)\n" if device.drift_nu > 0 else ""
        # where no pulse is drawn (most events) the step and commit change nothing: the compiled
        # engine skips them (brian2_guard)
        head, inside = pulses.replace("{x}", _X).replace("{dw}", dw), ""
        x_statement = f"x = {_X}\n"
        if x_statement in head and not re.search(r"\b(x|w)\b", dw):
            # a request that does not depend on the weight needs x only where a pulse is drawn:
            # then an event without a pulse loads no w (with a cached read, transmission reads w_read)
            head, inside = head.replace(x_statement, "", 1), x_statement
        return head + guarded("n_pulse", inside + body + "\n" + _COMMIT.format(t_prog=t_prog)
                              + (_FRESH_READ if cached else ""))

    return Brian2Device(_model(device) + extra, update, _read_expression(device, cached=cached),
                        _initialise(device), lambda gain: _read_expression(device, gain, cached),
                        f"abs({_signal(device, _drifted(device))})",
                        f"w_read = w_min + (w_max - w_min) * {_drifted(device)}" if cached else "")


def device_namespace(device: Any) -> dict[str, Any]:
    """The device's parameters by name, and the functions of its code, for the synapses' namespace."""
    model = model_of(device)
    # a measured curve is no Brian2 constant: its model turns it into functions (brian2_namespace)
    card = {f.name: getattr(device, f.name) for f in dataclasses.fields(device) if spec_of(f).kind != "curve"}
    return {**DEVICE_FUNCTIONS, **card, **_constants(device), **model.brian2_namespace()}
