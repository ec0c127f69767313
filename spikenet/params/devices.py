"""Memristive device parameter sets; a device card's ``[device]`` section names one by ``model``.

Every non-ideal model works on the normalised conductance ``x = (G - g_min) / (g_max - g_min)``
in [0, 1], which a synapse maps onto its learning rule's ``[w_min, w_max]``. A learning rule asks
for a weight change; the device turns it into a number of programming pulses (stochastically
rounded, so that the expected change is the one asked for) and applies them with its own
nonlinearity, noise and faults.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from brian2 import siemens
from brian2.units.fundamentalunits import Quantity

from ..schema import CheckFailed, curve, integer, number, quantity


@dataclass(frozen=True, kw_only=True)
class IdealDeviceParams:
    """The reference synapse: the weight is a floating-point number that takes exactly the
    change the learning rule asks for, clipped to the rule's ``[w_min, w_max]``."""

    MODEL: ClassVar[str] = "ideal"


@dataclass(frozen=True, kw_only=True)
class _DeviceCommon:
    """Behaviours every non-ideal model can switch on from its card."""

    g_min: Quantity = quantity("uS", "lowest conductance (high-resistance state)", ge=0)
    g_max: Quantity = quantity("uS", "highest conductance (low-resistance state)", gt=0)
    c2c_std: float = number("cycle-to-cycle noise: std of each pulse's conductance change, as a fraction of "
                            "(g_max - g_min); n pulses in one write add sqrt(n) times this", ge=0, default=0.0)
    d2d_std: float = number("device-to-device spread: relative std of each device's step size or curve shape",
                            ge=0, default=0.0)
    stuck_low: float = number("fraction of devices stuck at g_min (they never move)", ge=0, le=1, default=0.0)
    stuck_high: float = number("fraction of devices stuck at g_max", ge=0, le=1, default=0.0)
    read_noise_std: float = number("std of each read, as a fraction of (g_max - g_min)", ge=0, default=0.0)
    drift_nu: float = number("drift exponent nu: G(t) = G_prog ((t - t_prog + t0) / t0)^-nu (0: no drift)",
                             ge=0, le=1, default=0.0)
    drift_nu_std: float = number("device-to-device std of nu", ge=0, default=0.0)
    drift_t0: Quantity = quantity("s", "reference time of the drift law", gt=0, default="20 s")
    energy_ltp: Quantity = quantity("pJ", "energy of one potentiating pulse (0: not given by the source)", ge=0,
                                    default="0 pJ")
    energy_ltd: Quantity = quantity("pJ", "energy of one depressing pulse (0: not given by the source)", ge=0,
                                    default="0 pJ")
    energy_read: Quantity = quantity("pJ", "energy of one read, i.e. one transmitted spike (0: not given by the source)",
                                     ge=0, default="0 pJ")

    def check(self) -> None:
        if not self.g_min < self.g_max:
            raise CheckFailed("g_max", f"must be above g_min ({self.g_min})", related=("g_min",))
        if self.stuck_low + self.stuck_high > 1:
            raise CheckFailed("stuck_high", "stuck_low + stuck_high must not exceed 1", related=("stuck_low",))


@dataclass(frozen=True, kw_only=True)
class LinearDeviceParams(_DeviceCommon):
    """Bounded device with equal conductance steps: ``levels`` states, ``levels - 1`` steps."""

    MODEL: ClassVar[str] = "linear"

    levels: int = integer("number of distinguishable conductance states", ge=2, le=1_000_000)


@dataclass(frozen=True, kw_only=True)
class SoftBoundDeviceParams(_DeviceCommon):
    r"""Nonlinear, asymmetric potentiation and depression: the exponential model of NeuroSim.

    Along each branch the conductance after ``P`` pulses from ``g_min`` is
    :math:`G(P) = B (1 - e^{-P/A}) + g_\min` with :math:`B = (g_\max - g_\min)/(1 - e^{-P_\max/A})`
    (Chen, Peng & Yu, NeuroSim); ``A = a * levels`` in pulses, a negative ``a`` bends the curve the
    other way (NeuroSim's depression branch). Steps shrink as the conductance approaches the end
    it is pushed towards: a soft bound.
    """

    MODEL: ClassVar[str] = "soft_bound"

    levels_ltp: int = integer("potentiating pulses from g_min to g_max", ge=1, le=1_000_000)
    levels_ltd: int = integer("depressing pulses from g_max to g_min", ge=1, le=1_000_000)
    a_ltp: float = number("NeuroSim's normalised A of the potentiation branch (A / levels_ltp; large = linear)")
    a_ltd: float = number("NeuroSim's normalised A of the depression branch (negative for NeuroSim's usual shape)")

    def check(self) -> None:
        super().check()
        for key in ("a_ltp", "a_ltd"):
            if abs(getattr(self, key)) < 1e-3:
                raise CheckFailed(key, "must not be 0: |a| >= 0.001 (a large |a| is nearly linear)")


@dataclass(frozen=True, kw_only=True)
class PCMDeviceParams(_DeviceCommon):
    """Phase-change memory: gradual crystallisation (cumulative SET) and abrupt RESET.

    Potentiating pulses follow the saturating SET curve (the exponential model above with
    ``levels_set`` and ``a_set``); any depression request is one RESET pulse, which melts and
    quenches the cell back to ``g_min`` (the abrupt RESET of Suri et al. 2011; Bichler et al. 2012).
    The amorphous phase drifts (``drift_nu``).
    """

    MODEL: ClassVar[str] = "pcm"

    levels_set: int = integer("SET pulses from g_min to g_max", ge=1, le=1_000_000)
    a_set: float = number("normalised A of the SET curve (A / levels_set)", gt=0)


@dataclass(frozen=True, kw_only=True)
class PCM2DeviceParams(PCMDeviceParams):
    """The 2-PCM synapse: G = G+ - G-, both devices only ever potentiated (SET).

    Potentiation is a SET pulse on G+, depression a SET pulse on G- (Suri et al. 2011; Bichler
    et al. 2012). When either device passes ``refresh_threshold`` both are RESET and the
    difference is programmed back onto one of them. The synapse's weight maps
    ``(x+ - x- + 1) / 2`` onto the rule's range.
    """

    MODEL: ClassVar[str] = "pcm_2pcm"

    refresh_threshold: float = number("normalised conductance of either device that triggers a refresh",
                                      gt=0, le=1, default=0.75)


@dataclass(frozen=True, kw_only=True)
class TableDeviceParams(_DeviceCommon):
    """A device defined by measured data: conductance against pulse number for potentiation
    (``ltp_curve``, rising) and depression (``ltd_curve``, falling), in CSV files beside the card.
    Each step moves along its direction's curve from the device's present conductance
    (interpolated); ``c2c_std``, ``d2d_std`` (a factor on the pulses a step moves), stuck devices,
    read noise and drift as for every model. ``g_min`` and ``g_max`` bound the range the rule's
    weights map onto; both curves must lie within it."""

    MODEL: ClassVar[str] = "table"

    ltp_curve: tuple = curve("S", "potentiation: conductance after each pulse number, rising")
    ltd_curve: tuple = curve("S", "depression: conductance after each pulse number, falling")

    def check(self) -> None:
        super().check()
        g_min, g_max = float(self.g_min / siemens), float(self.g_max / siemens)
        for key, rising in (("ltp_curve", True), ("ltd_curve", False)):
            values = [g for _, g in getattr(self, key)]
            if (values[-1] > values[0]) != rising:
                raise CheckFailed(key, f"must {'rise' if rising else 'fall'} with the pulse number "
                                       f"({'potentiation' if rising else 'depression'})")
            if min(values) < g_min * (1 - 1e-9) or max(values) > g_max * (1 + 1e-9):
                raise CheckFailed(key, f"runs from {min(values):.4g} S to {max(values):.4g} S, outside "
                                       f"[g_min, g_max] = [{g_min:.4g} S, {g_max:.4g} S]", related=("g_min", "g_max"))


@dataclass(frozen=True, kw_only=True)
class _BinaryDeviceParams(_DeviceCommon):
    """A binary stochastic device: a pulse switches it (OFF to ON for SET, ON to OFF for RESET)
    with probability ``p_set`` / ``p_reset``; each state's conductance is log-normal around
    ``g_max`` (ON) / ``g_min`` (OFF), re-drawn at every switch. ``redundancy`` devices in
    parallel make one synapse."""

    p_set: float = number("probability that a SET pulse switches an OFF device ON", ge=0, le=1)
    p_set_std: float = number("device-to-device std of p_set", ge=0, default=0.0)
    p_reset: float = number("probability that a RESET pulse switches an ON device OFF", ge=0, le=1)
    p_reset_std: float = number("device-to-device std of p_reset", ge=0, default=0.0)
    sigma_ln_on: float = number("std of ln(G) in the ON state, drawn at each SET", ge=0, default=0.0)
    sigma_ln_off: float = number("std of ln(G) in the OFF state, drawn at each RESET", ge=0, default=0.0)
    redundancy: int = integer("devices in parallel per synapse", ge=1, le=1024, default=1)

    def check(self) -> None:
        super().check()
        if self.g_min <= 0 * self.g_max:
            raise CheckFailed("g_min", "must be above 0 for a log-normal conductance")


@dataclass(frozen=True, kw_only=True)
class OxRAMDeviceParams(_BinaryDeviceParams):
    """Filamentary HfO2 OxRAM used as a binary stochastic synapse (Garbin et al. 2014, 2015)."""

    MODEL: ClassVar[str] = "oxram"


@dataclass(frozen=True, kw_only=True)
class CBRAMDeviceParams(_BinaryDeviceParams):
    """Ag/GeS2 conductive-bridge RAM as a binary stochastic synapse whose switching probability
    plays the role of a learning rate (Suri et al. 2012)."""

    MODEL: ClassVar[str] = "cbram"


@dataclass(frozen=True, kw_only=True)
class DigitalDeviceParams(_DeviceCommon):
    """A digital synapse as a neuromorphic chip's on-chip learning stores it (Intel's Loihi): an
    unsigned ``bits``-bit integer mantissa, ``2**bits`` equally spaced weights from the rule's
    ``w_min`` to ``w_max``; each requested change is stochastically rounded to whole steps of the
    grid (the update of brian2-loihi's ``LoihiSynapses``), and there is no analog noise, spread
    or drift. The mantissa's scale (Loihi's weight exponent, weight = mantissa x 2^(6 + weight_exp))
    is the rule's ``w_max`` here: the grid always spans the rule's range.

    A digital synapse has no conductance; ``g_min`` / ``g_max`` keep their defaults and only
    normalise the stored integer to [0, 1].
    """

    MODEL: ClassVar[str] = "digital"

    bits: int = integer("bits of the weight's mantissa: 2**bits levels from w_min to w_max (Loihi: 1 to 8)",
                        ge=1, le=8)
    g_min: Quantity = quantity("uS", "not a conductance: the stored integer 0 (leave at 0)", ge=0, default="0 uS")
    g_max: Quantity = quantity("uS", "not a conductance: the stored integer 2**bits - 1 (leave at 1)", gt=0,
                               default="1 uS")

    @property
    def levels(self) -> int:
        """Distinguishable weights, ``2**bits``."""
        return 2**self.bits

    def check(self) -> None:
        super().check()
        for key in ("c2c_std", "d2d_std", "read_noise_std", "drift_nu", "drift_nu_std"):
            if getattr(self, key) != 0:
                raise CheckFailed(key, "must be 0: a digital synapse has no analog noise, spread or drift")


def _models(cls: type) -> list[type]:
    found = [cls] if "MODEL" in cls.__dict__ else []
    for sub in cls.__subclasses__():
        found += _models(sub)
    return found


DEVICE_MODELS: dict[str, type] = {cls.MODEL: cls for cls in [IdealDeviceParams, *_models(_DeviceCommon)]}
"""Every device model a card may name, by its registry name: every parameter class of this
module with a ``MODEL`` (a new model kind's class is found without being listed)."""
