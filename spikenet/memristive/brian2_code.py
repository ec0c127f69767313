"""Device models as Brian2 synapse code: what a learning rule's weight change does to a device.

A rule asks for ``dw`` (a code expression, in the rule's weight units). The device code turns it
into pulses and a new normalised conductance ``x``, and keeps the rule's weight ``w`` equal to
``w_min + (w_max - w_min) * x`` so that rules with weight dependence read the stored value.
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
from .numpy_models import DeviceArray

__all__ = ["Brian2Device", "brian2_device", "initial_device_state", "device_namespace"]

_STATE = """
x : 1  # normalised conductance of the device
stuck : 1  # 0 free, -1 stuck at g_min, +1 stuck at g_max
dscale : 1  # device-to-device factor of its step size or curve shape
nu_dev : 1  # its drift exponent
t_prog : second  # when it was last programmed
pulses_ltp : 1  # potentiating pulses received (for energy estimates)
pulses_ltd : 1  # depressing pulses received
"""

_PULSES = """
dw_req = {dw}
up_pulse = int(dw_req > 0)
wanted = abs(dw_req) / (w_max - w_min) * ({per_range})
n_pulse = floor(wanted) + int(rand() < wanted - floor(wanted))
free = int(stuck == 0) * int(n_pulse > 0)
"""

_COMMIT = """
x = x + free * (x_new - x)
t_prog = t_prog + free * (t - t_prog)
pulses_ltp += up_pulse * n_pulse
pulses_ltd += (1 - up_pulse) * n_pulse
w = w_min + (w_max - w_min) * x
"""

_EXP_CURVE = "(bcurve_{k} - (bcurve_{k} - {x}) * exp(-({sign}n_pulse) / acurve_{k}))"


@dataclass(frozen=True)
class Brian2Device:
    """A device model's Brian2 code and how to initialise its per-synapse state."""

    model: str
    """Extra synaptic variables."""
    update: Callable[[str], str]
    """Statements that apply a requested change (a code expression) and set ``w``."""
    read: str
    """Expression of the weight a presynaptic spike transmits."""
    multiplicity: int
    """Brian2 synapses per connection (devices in parallel); each transmits ``read / multiplicity``."""
    initialise: Callable[[Any, np.random.Generator], None]
    """Samples each device's state (stuck, spread, drift) and programs ``x`` from ``w``."""
    compensated_read: Callable[[str], str] = lambda gain: "w"
    """The read expression with the drift compensated by a gain (a code expression): the
    device's read signal (a pair's G+ - G-, a single device's conductance) is multiplied by it."""
    signal: str = "0"
    """Magnitude of the noiseless read signal at time ``t`` (drift included), in units of
    ``g_max - g_min``: what a calibration read of this device measures (:func:`drift_signal`)."""

    @property
    def state(self) -> tuple[str, ...]:
        """Names of the per-synapse device variables (what a checkpoint must keep besides ``w``)."""
        return tuple(re.findall(r"^\s*(\w+)\s*:", self.model, flags=re.MULTILINE))


def _curve(k: str, levels: str, a: str) -> str:
    """Temporaries ``acurve_k`` (A, in pulses) and ``bcurve_k`` of NeuroSim's curve for one branch."""
    return f"acurve_{k} = {a} * {levels} * dscale\nbcurve_{k} = 1 / (1 - exp(-{levels} / acurve_{k}))\n"


def _linear(p: LinearDeviceParams):
    body = ("x_new = clip(x + (2 * up_pulse - 1) * n_pulse * dscale / (levels - 1)"
            " + c2c_std * sqrt(n_pulse) * randn(), 0, 1)")
    return "(levels - 1)", body, ""


def _soft_bound(p: SoftBoundDeviceParams):
    body = (_curve("up", "levels_ltp", "a_ltp") + _curve("dn", "levels_ltd", "a_ltd")
            + "x_new = clip(up_pulse * " + _EXP_CURVE.format(k="up", x="x", sign="")
            + " + (1 - up_pulse) * " + _EXP_CURVE.format(k="dn", x="x", sign="-")
            + " + c2c_std * sqrt(n_pulse) * randn(), 0, 1)")
    return "(up_pulse * levels_ltp + (1 - up_pulse) * levels_ltd)", body, ""


def _pcm(p: PCMDeviceParams):
    body = (_curve("set", "levels_set", "a_set")
            + "x_new = clip(up_pulse * (" + _EXP_CURVE.format(k="set", x="x", sign="")
            + " + c2c_std * sqrt(n_pulse) * randn()) + (1 - up_pulse) * abs(c2c_std * randn()), 0, 1)")
    return "(up_pulse * levels_set + (1 - up_pulse))", body, ""


def _pcm_2pcm(p: PCM2DeviceParams):
    body = (_curve("set", "levels_set", "a_set")
            + "xp_new = clip(xp + up_pulse * (" + _EXP_CURVE.format(k="set", x="xp", sign="")
            + " - xp + c2c_std * sqrt(n_pulse) * randn()), 0, 1)\n"
            + "xm_new = clip(xm + (1 - up_pulse) * (" + _EXP_CURVE.format(k="set", x="xm", sign="")
            + " - xm + c2c_std * sqrt(n_pulse) * randn()), 0, 1)\n"
            + """refresh = int((xp_new > refresh_threshold) or (xm_new > refresh_threshold))
d_pair = xp_new - xm_new
write_noise = c2c_std * randn()
xp_new = xp_new + refresh * (clip(d_pair + write_noise, 0, 1) * int(d_pair > 0) - xp_new)
xm_new = xm_new + refresh * (clip(-d_pair + write_noise, 0, 1) * int(d_pair <= 0) - xm_new)
xp = xp + free * (xp_new - xp)
xm = xm + free * (xm_new - xm)
x_new = (xp - xm + 1) / 2""")
    return "(2 * levels_set)", body, "xp : 1  # G+ device\nxm : 1  # G- device\n"


def _binary(p: _BinaryDeviceParams):
    body = """prob = up_pulse * (1 - (1 - p_set_dev)**n_pulse) + (1 - up_pulse) * (1 - (1 - p_reset_dev)**n_pulse)
switched = int(rand() < prob)
on = on + free * switched * (up_pulse - on)
g_drawn = on * g_max * exp(sigma_ln_on * randn()) + (1 - on) * g_min * exp(sigma_ln_off * randn())
x_new = (g_drawn - g_min) / (g_max - g_min)"""
    extra = "on : 1  # 1 when the device is in its ON (low-resistance) state\np_set_dev : 1\np_reset_dev : 1\n"
    return "1", body, extra


_MODELS: dict[type, Callable] = {
    LinearDeviceParams: _linear,
    SoftBoundDeviceParams: _soft_bound,
    PCMDeviceParams: _pcm,
    PCM2DeviceParams: _pcm_2pcm,
    _BinaryDeviceParams: _binary,
}


def _drifted(p) -> str:
    """The normalised conductance ``x`` after the drift since programming (no read noise)."""
    if p.drift_nu <= 0:
        return "x"
    factor = "((t - t_prog + drift_t0) / drift_t0)**(-nu_dev)"
    if isinstance(p, PCM2DeviceParams):
        # G+ and G- drift alike, so their difference shrinks and the g_min offsets cancel
        return f"(0.5 + (x - 0.5) * {factor})"
    return f"(x * {factor} + g_min / (g_max - g_min) * ({factor} - 1))"


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


def _read_expression(p, gain: str | None = None) -> str:
    x = _drifted(p)
    if gain is not None:
        x = _compensated(p, x, gain)
    if p.read_noise_std > 0:
        x = f"({x} + read_noise_std * randn())"
    return f"(w_min + (w_max - w_min) * {x})"


def initial_device_state(p: Any, w: np.ndarray, w_min: float, w_max: float, rng: np.random.Generator,
                         write_verify: tuple[float, int] | None = None) -> dict[str, np.ndarray]:
    """Each device's sampled state (stuck, spread, drift, ...) programmed from weights ``w``.

    Returns every per-synapse variable of the device's Brian2 code, and ``w`` as the devices
    hold it (the requested weights are clipped to the range and, for binary devices, rounded).

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
    if write_verify is None:
        devices = DeviceArray(p, len(x0), rng, x0)
    else:
        devices = DeviceArray(p, len(x0), rng, 0.5 if isinstance(p, PCM2DeviceParams) else 0.0)
        devices.program(x0, *write_verify)
        devices.t_prog[:] = 0.0
    state = {name: np.zeros(len(x0)) for name in brian2_device(p).state}
    state.update(x=devices.x, stuck=devices.stuck, dscale=devices.scale, nu_dev=devices.nu)
    if isinstance(p, _BinaryDeviceParams):
        state.update(on=devices.on, p_set_dev=devices.p_set, p_reset_dev=devices.p_reset)
    if isinstance(p, PCM2DeviceParams):
        state.update(xp=devices.xp, xm=devices.xm)
    state["w"] = w_min + (w_max - w_min) * devices.x
    return {k: np.asarray(v, dtype=float) for k, v in state.items()}


def _initialise(p) -> Callable[[Any, np.random.Generator], None]:
    def initialise(syn, rng: np.random.Generator) -> None:
        state = initial_device_state(p, np.asarray(syn.w[:]), syn.namespace["w_min"], syn.namespace["w_max"], rng)
        for name, values in state.items():
            if name != "t_prog":
                setattr(syn, name, values)

    return initialise


def brian2_device(device: Any) -> Brian2Device:
    """The Brian2 code of a device model (``ideal``: the change itself, clipped to the rule's range)."""
    if isinstance(device, IdealDeviceParams):
        return Brian2Device("", lambda dw: f"w = clip(w + ({dw}), w_min, w_max)", "w", 1, lambda syn, rng: None)
    kind = next(cls for cls in type(device).__mro__ if cls in _MODELS)  # the most specific model
    per_range, body, extra = _MODELS[kind](device)

    def update(dw: str) -> str:
        return _PULSES.format(dw=dw, per_range=per_range) + body + "\n" + _COMMIT

    multiplicity = getattr(device, "redundancy", 1)
    return Brian2Device(_STATE + extra, update, _read_expression(device), multiplicity, _initialise(device),
                        lambda gain: _read_expression(device, gain), f"abs({_signal(device, _drifted(device))})")


def device_namespace(device: Any) -> dict[str, Any]:
    """The device's parameters by name, for the synapses' namespace."""
    return {f.name: getattr(device, f.name) for f in dataclasses.fields(device)}
