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

from ..params.devices import (
    IdealDeviceParams,
    LinearDeviceParams,
    PCM2DeviceParams,
    PCMDeviceParams,
    SoftBoundDeviceParams,
    _BinaryDeviceParams,
)
from .brian2_functions import DEVICE_FUNCTIONS
from .binary_counts import BinaryCounts
from .numpy_models import DeviceArray

__all__ = ["Brian2Device", "brian2_device", "initial_device_state", "device_namespace"]

@dataclass(frozen=True)
class _Variable:
    """A per-synapse device variable, stored only where the card makes it differ between synapses
    (elsewhere it is the constant ``value`` in the namespace: a synapse's updates are bound by
    the memory traffic of its variables, so each one stored costs time at every event)."""

    name: str
    unit: str
    comment: str
    varies: Callable[[Any], bool]
    value: Callable[[Any], float]


_COMMON = (
    _Variable("stuck", "1", "0 free, -1 stuck at g_min, +1 stuck at g_max",
              lambda p: p.stuck_low + p.stuck_high > 0, lambda p: 0.0),
    _Variable("nu_dev", "1", "its drift exponent", lambda p: p.drift_nu > 0 and p.drift_nu_std > 0,
              lambda p: p.drift_nu),
    _Variable("t_prog", "second", "when it was last programmed", lambda p: p.drift_nu > 0, lambda p: 0.0),
    _Variable("pulses_ltp", "1", "potentiating pulses received (for energy estimates)", lambda p: True, lambda p: 0.0),
    _Variable("pulses_ltd", "1", "depressing pulses received", lambda p: True, lambda p: 0.0),
)
_SPREAD = (_Variable("dscale", "1", "device-to-device factor of its step size or curve shape",
                     lambda p: p.d2d_std > 0, lambda p: 1.0),)
_BINARY = (
    _Variable("n_on", "1", "free devices in the ON (low-resistance) state", lambda p: True, lambda p: 0.0),
    _Variable("n_free", "1", "devices not stuck", lambda p: p.stuck_low + p.stuck_high > 0,
              lambda p: float(p.redundancy)),
    _Variable("n_high", "1", "devices stuck ON", lambda p: p.stuck_high > 0, lambda p: 0.0),
    _Variable("p_set_dev", "1", "mean SET probability of its free devices", lambda p: p.p_set_std > 0,
              lambda p: p.p_set),
    _Variable("p_reset_dev", "1", "mean RESET probability of its free devices", lambda p: p.p_reset_std > 0,
              lambda p: p.p_reset),
)


def _variables(p) -> tuple[_Variable, ...]:
    if isinstance(p, _BinaryDeviceParams):
        return tuple(v for v in _COMMON if v.name != "stuck") + _BINARY
    return _COMMON + _SPREAD


def _model(p) -> str:
    return "".join(f"{v.name} : {v.unit}  # {v.comment}\n" for v in _variables(p) if v.varies(p))


def _constants(p) -> dict[str, float]:
    return {v.name: v.value(p) for v in _variables(p) if not v.varies(p)}


_X = "((w - w_min) / (w_max - w_min))"
"""The normalised conductance ``x`` of a device, from the weight ``w`` that holds it (``x`` is not
stored: one variable fewer to load and store at each event)."""

_PULSES = """
x = {x}
dw_req = {dw}
up_pulse = int(dw_req > 0)
n_pulse = stochastic_round(abs(dw_req) / (w_max - w_min) * ({per_range}))
free = int(stuck == 0) * int(n_pulse > 0)
"""

_COMMIT = """
{t_prog}pulses_ltp += up_pulse * n_pulse
pulses_ltd += (1 - up_pulse) * n_pulse
w = w + free * (w_min + (w_max - w_min) * x_new - w)
"""

_FRESH_READ = "drift_read = drift_read + free * (1 - drift_read)\n"
"""A device just programmed has not drifted yet (its cached drift factor is 1)."""


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
    """Statements that recompute the cached drift factors (``drift_read``) at time ``t``; empty
    when reads evaluate the drift law themselves (or the device does not drift). Run them at
    regular times (:func:`spikenet.plasticity.synapses` with ``drift_refresh``)."""

    @property
    def state(self) -> tuple[str, ...]:
        """Names of the per-synapse device variables (what a checkpoint must keep besides ``w``);
        the cached drift factor is not among them (``refresh`` recomputes it)."""
        names = re.findall(r"^\s*(\w+)\s*:", self.model, flags=re.MULTILINE)
        return tuple(n for n in names if n != "drift_read")


def _linear(p: LinearDeviceParams):
    body = ("x_new = clip(x + (2 * up_pulse - 1) * n_pulse * dscale / (levels - 1)"
            " + c2c_std * sqrt(n_pulse) * randn_if(n_pulse), 0, 1)")
    return "(levels - 1)", body, ""


# Each branch calls curve_step with its own pulse count (0 on the other branch), so only the
# branch a spike takes evaluates its exponentials; noise is drawn only for devices that get pulses.
def _soft_bound(p: SoftBoundDeviceParams):
    body = """x_up = curve_step(x, up_pulse * n_pulse, a_ltp * levels_ltp * dscale, levels_ltp)
x_dn = curve_step(x, -(1 - up_pulse) * n_pulse, a_ltd * levels_ltd * dscale, levels_ltd)
x_new = clip(x_up + x_dn - x + c2c_std * sqrt(n_pulse) * randn_if(n_pulse), 0, 1)"""
    return "(up_pulse * levels_ltp + (1 - up_pulse) * levels_ltd)", body, ""


def _pcm(p: PCMDeviceParams):
    body = """noise = c2c_std * randn_if(n_pulse)
x_set = curve_step(x, up_pulse * n_pulse, a_set * levels_set * dscale, levels_set) + sqrt(n_pulse) * noise
x_new = clip(up_pulse * x_set + (1 - up_pulse) * abs(noise), 0, 1)"""
    return "(up_pulse * levels_set + (1 - up_pulse))", body, ""


def _pcm_2pcm(p: PCM2DeviceParams):
    body = """a_pulses = a_set * levels_set * dscale
n_plus = up_pulse * n_pulse
n_minus = (1 - up_pulse) * n_pulse
xp_new = clip(curve_step(xp, n_plus, a_pulses, levels_set) + c2c_std * sqrt(n_plus) * randn_if(n_plus), 0, 1)
xm_new = clip(curve_step(xm, n_minus, a_pulses, levels_set) + c2c_std * sqrt(n_minus) * randn_if(n_minus), 0, 1)
refresh = int((xp_new > refresh_threshold) or (xm_new > refresh_threshold))
d_pair = xp_new - xm_new
write_noise = c2c_std * randn_if(refresh)
xp_new = xp_new + refresh * (clip(d_pair + write_noise, 0, 1) * int(d_pair > 0) - xp_new)
xm_new = xm_new + refresh * (clip(-d_pair + write_noise, 0, 1) * int(d_pair <= 0) - xm_new)
xp = xp + free * (xp_new - xp)
xm = xm + free * (xm_new - xm)
x_new = (xp - xm + 1) / 2"""
    return "(2 * levels_set)", body, "xp : 1  # G+ device\nxm : 1  # G- device\n"


# A synapse of R binary devices as counts (module `binary_counts`, which states what is exact):
# the pulsed ON and OFF devices, those that switch, and the states' summed conductances.
_BINARY_PULSES = """
dw_req = {dw}
up_pulse = int(dw_req > 0)
wanted = abs(dw_req) / (w_max - w_min)
reach = clip(wanted, 0, 1)
m_on = binomial_count(n_on, reach)
m_off = binomial_count(n_free - n_on, reach)
free = int(m_on + m_off > 0)
n_pulse = redundancy * wanted
"""


def _binary(p: _BinaryDeviceParams):
    body = """k_set = binomial_count(up_pulse * m_off, switch_probability(p_set_dev, wanted))
k_reset = binomial_count((1 - up_pulse) * m_on, switch_probability(p_reset_dev, wanted))
n_on = n_on + k_set - k_reset
g_sum = g_max * (lognormal_sum(free * n_on, sigma_ln_on) + n_high) + g_min * (lognormal_sum(free * (n_free - n_on), sigma_ln_off) + redundancy - n_free - n_high)
x_new = (g_sum / redundancy - g_min) / (g_max - g_min)"""
    return None, body, ""


_MODELS: dict[type, Callable] = {
    LinearDeviceParams: _linear,
    SoftBoundDeviceParams: _soft_bound,
    PCMDeviceParams: _pcm,
    PCM2DeviceParams: _pcm_2pcm,
    _BinaryDeviceParams: _binary,
}


# ((t - t_prog + t0) / t0)^-nu as exp(-nu log(...)): the C library's pow() took twice as long here.
_DRIFT_FACTOR = "exp(-nu_dev * log((t - t_prog + drift_t0) / drift_t0))"


def _drifted(p, cached: bool = False) -> str:
    """The normalised conductance ``x`` after the drift since programming (no read noise);
    ``cached``: with the factor of the drift law as last refreshed (``drift_read``)."""
    if p.drift_nu <= 0:
        return _X
    factor = "drift_read" if cached else _DRIFT_FACTOR
    if isinstance(p, PCM2DeviceParams):
        # G+ and G- drift alike, so their difference shrinks and the g_min offsets cancel
        return f"(0.5 + ({_X} - 0.5) * {factor})"
    return f"({_X} * {factor} + g_min / (g_max - g_min) * ({factor} - 1))"


def _signal(p, x: str) -> str:
    """The physical read signal of normalised conductance ``x``, in units of ``g_max - g_min``:
    a pair's G+ - G- (signed), a single device's conductance G (positive)."""
    if isinstance(p, PCM2DeviceParams):
        return f"({x} - 0.5)"
    return f"({x} + g_min / (g_max - g_min))"


def _compensated(p, x: str, gain: str) -> str:
    """``x`` whose read signal is multiplied by ``gain`` (the inverse of :func:`_signal`)."""
    if isinstance(p, PCM2DeviceParams):
        return f"(0.5 + ({x} - 0.5) * {gain})"
    return f"(({x} + g_min / (g_max - g_min)) * {gain} - g_min / (g_max - g_min))"


def _read_expression(p, gain: str | None = None, cached: bool = False) -> str:
    x = _drifted(p, cached)
    if x == _X and gain is None and p.read_noise_std <= 0:
        return "w"
    if gain is not None:
        x = _compensated(p, x, gain)
    if p.read_noise_std > 0:  # R parallel devices: their independent read noises averaged
        share = " / sqrt(redundancy)" if isinstance(p, _BinaryDeviceParams) else ""
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
    if isinstance(p, IdealDeviceParams):
        return {"w": np.asarray(w, dtype=float)}
    x0 = np.clip((np.asarray(w, dtype=float) - w_min) / (w_max - w_min), 0, 1)
    if isinstance(p, _BinaryDeviceParams):  # R devices per synapse, as counts
        devices = BinaryCounts(p, len(x0), rng, x0 if write_verify is None else 0.0)
        if write_verify is not None:  # round(x0 R) devices switched ON, each verified for its state
            devices.program(np.round(x0 * p.redundancy), write_verify[1])
            devices.t_prog[:] = 0.0
    elif write_verify is None:
        devices = DeviceArray(p, len(x0), rng, x0)
    else:
        devices = DeviceArray(p, len(x0), rng, 0.5 if isinstance(p, PCM2DeviceParams) else 0.0)
        devices.program(x0, *write_verify)
        devices.t_prog[:] = 0.0
    names = brian2_device(p).state
    state = {name: np.zeros(len(x0)) for name in names}
    state.update(x=devices.x, stuck=devices.stuck, nu_dev=devices.nu)
    if isinstance(p, _BinaryDeviceParams):
        state.update(n_on=devices.n_on, n_free=devices.n_free, n_high=devices.n_high, p_set_dev=devices.p_set,
                     p_reset_dev=devices.p_reset, dscale=np.ones(len(x0)))
    else:
        state["dscale"] = devices.scale
    if isinstance(p, PCM2DeviceParams):
        state.update(xp=devices.xp, xm=devices.xm)
    state["w"] = w_min + (w_max - w_min) * devices.x
    return {k: np.asarray(v, dtype=float) for k, v in state.items() if k in names or k == "w"}


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
        Reads use a per-synapse drift factor that :attr:`Brian2Device.refresh` recomputes (and
        programming resets to 1) instead of evaluating the drift's power law at every transmitted
        spike. Between two refreshes ``T`` apart a read overstates the drifted conductance by at
        most a factor ``(1 + T / t0)^nu`` (the whole drift of a device programmed just after a
        refresh): 1.0012 for ``t0`` = 20 s, ``T`` = 500 ms, ``nu`` = 0.05.
    """
    if isinstance(device, IdealDeviceParams):
        return Brian2Device("", lambda dw: f"w = clip(w + ({dw}), w_min, w_max)", "w", lambda syn, rng: None)
    kind = next(cls for cls in type(device).__mro__ if cls in _MODELS)  # the most specific model
    per_range, body, extra = _MODELS[kind](device)
    pulses = _PULSES if per_range is not None else _BINARY_PULSES
    cached = cached_drift and device.drift_nu > 0
    if cached:
        extra += "drift_read : 1  # cached drift factor of the read, refreshed by `refresh`\n"

    def update(dw: str) -> str:
        t_prog = "t_prog = t_prog + free * (t - t_prog)\n" if device.drift_nu > 0 else ""
        return (pulses.format(x=_X, dw=dw, per_range=per_range) + body + "\n" + _COMMIT.format(t_prog=t_prog)
                + (_FRESH_READ if cached else ""))

    return Brian2Device(_model(device) + extra, update, _read_expression(device, cached=cached),
                        _initialise(device), lambda gain: _read_expression(device, gain, cached),
                        f"abs({_signal(device, _drifted(device))})",
                        f"drift_read = {_DRIFT_FACTOR}" if cached else "")


def device_namespace(device: Any) -> dict[str, Any]:
    """The device's parameters by name, and the functions of its code, for the synapses' namespace."""
    constants = {} if isinstance(device, IdealDeviceParams) else _constants(device)
    return {**DEVICE_FUNCTIONS, **{f.name: getattr(device, f.name) for f in dataclasses.fields(device)}, **constants}
