"""A digital synapse: a ``bits``-bit integer weight, stochastically rounded updates (Loihi-style).

The stored state stays exactly on its grid of ``2**bits`` levels: the normalised weight is kept as
``k / (2**bits - 1)`` with an integer ``k``, rounded afresh at every step so that no floating-point
error accumulates over millions of updates. The steps themselves come from the common machinery:
a requested change of ``dw`` is ``|dw| / (w_max - w_min) * (2**bits - 1)`` grid steps, stochastically
rounded (so its expectation is the requested change), which is how brian2-loihi's
``LoihiSynapses`` rounds a learned ``dw`` to its weight precision. Lava's bit-approximate learning
engine rounds to the 8-bit mantissa's least significant bit instead, and truncates to
``num_weight_bits`` only when the weights are first set; the former is the one modelled here.
"""

from __future__ import annotations

from ...params.devices import DigitalDeviceParams
from .linear import LinearModel


class DigitalModel(LinearModel):
    """Equal steps like ``linear`` (its pulses per range and nominal levels), held on the grid."""

    params = DigitalDeviceParams
    physical = False  # an integer, not a conductance

    def start(self, a, x0) -> None:
        """The initial weights rounded to the nearest level of the grid."""
        steps = self.p.levels - 1
        a.x = a.ops.floor(a.ops.clip(x0, 0.0, 1.0) * steps + 0.5) / steps

    def step(self, a, up, n, free, noise):
        steps = self.p.levels - 1
        k = a.ops.floor(a.x * steps + 0.5)  # the stored integer (x is on the grid up to rounding)
        return (k + (2.0 * a.ops.float(up) - 1.0) * n) / steps

    @property
    def signal_zero(self) -> float:
        return 0.0  # the integer 0 transmits nothing

    def brian2_per_range(self) -> str:
        return "(2**bits - 1)"

    def brian2_step(self) -> str:
        return "x_new = clip((floor(x * (2**bits - 1) + 0.5) + (2 * up_pulse - 1) * n_pulse) / (2**bits - 1), 0, 1)"
