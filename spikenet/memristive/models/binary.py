"""Binary stochastic devices (OxRAM, CBRAM): a pulse switches a device with a probability; a
synapse is ``redundancy`` of them in parallel.

In arrays, one entry per device (the device-by-device reference); a network's synapses and the
analog mapping hold a synapse's devices as counts instead
(:class:`~spikenet.memristive.binary_counts.BinaryCounts`, Brian2 code below).
"""

from __future__ import annotations

import numpy as np
from brian2 import siemens

from ...params.devices import _BinaryDeviceParams
from .base import DeviceModel, Variable


class BinaryModel(DeviceModel):
    params = _BinaryDeviceParams
    state = ("p_set", "p_reset", "on")
    mapping = "counts"
    clipped = False  # each state's conductance is log-normal, re-drawn at every pulse

    def pulses_per_range(self, up, ops):
        return ops.full_like(up, 1.0)

    def start(self, a, x0) -> None:
        p, ops = self.p, a.ops
        a.p_set = ops.clip(p.p_set + p.p_set_std * a.randn(), 0, 1)
        a.p_reset = ops.clip(p.p_reset + p.p_reset_std * a.randn(), 0, 1)
        a.on = ops.float(a.rand() < x0)
        a.x = self._draw(a, a.on)

    def _draw(self, a, on):
        p = self.p
        g_min, g_max = float(p.g_min / siemens), float(p.g_max / siemens)
        g_on = g_max * a.ops.exp(p.sigma_ln_on * a.randn())
        g_off = g_min * a.ops.exp(p.sigma_ln_off * a.randn())
        return (a.ops.where(on > 0, g_on, g_off) - g_min) / (g_max - g_min)

    def step(self, a, up, n, free, noise):
        ops = a.ops
        prob = ops.where(up, 1 - (1 - a.p_set) ** n, 1 - (1 - a.p_reset) ** n)
        switched = a.rand() < prob
        a.on = ops.where(free, ops.where(switched, ops.float(up), a.on), a.on)
        return self._draw(a, a.on)  # every pulse re-draws the state's conductance

    def synapses(self, n, rng, x0=0.0):
        """A network's synapses as counts of their devices per state."""
        from ..binary_counts import BinaryCounts

        return BinaryCounts(self.p, n, rng, x0)

    def write_verify(self, synapses, x, tolerance, max_pulses) -> None:
        """``round(x R)`` devices switched ON, each verified for its state (``tolerance`` is moot)."""
        synapses.program(np.round(np.asarray(x) * self.p.redundancy), max_pulses)

    @property
    def devices_per_synapse(self) -> int:
        return int(self.p.redundancy)

    @property
    def reads_per_weight(self) -> int:
        return 2 * int(self.p.redundancy)

    # A synapse of R binary devices as counts (module `binary_counts`, which states what is exact).
    def brian2_variables(self):
        from ..brian2_code import COMMON_VARIABLES

        return tuple(v for v in COMMON_VARIABLES if v.name != "stuck") + _COUNTS

    def brian2_pulses(self) -> str:
        # the pulsed ON and OFF devices
        return """
dw_req = {dw}
up_pulse = int(dw_req > 0)
wanted = abs(dw_req) / (w_max - w_min)
reach = clip(wanted, 0, 1)
m_on = binomial_count(n_on, reach)
m_off = binomial_count(n_free - n_on, reach)
free = int(m_on + m_off > 0)
n_pulse = redundancy * wanted
"""

    def brian2_step(self) -> str:
        # those that switch, and the states' summed conductances
        return """k_set = binomial_count(up_pulse * m_off, switch_probability(p_set_dev, wanted))
k_reset = binomial_count((1 - up_pulse) * m_on, switch_probability(p_reset_dev, wanted))
n_on = n_on + k_set - k_reset
g_sum = g_max * (lognormal_sum(free * n_on, sigma_ln_on) + n_high) + g_min * (lognormal_sum(free * (n_free - n_on), sigma_ln_off) + redundancy - n_free - n_high)
x_new = (g_sum / redundancy - g_min) / (g_max - g_min)"""


_COUNTS = (
    Variable("n_on", "1", "free devices in the ON (low-resistance) state", lambda p: True, lambda p: 0.0),
    Variable("n_free", "1", "devices not stuck", lambda p: p.stuck_low + p.stuck_high > 0,
             lambda p: float(p.redundancy)),
    Variable("n_high", "1", "devices stuck ON", lambda p: p.stuck_high > 0, lambda p: 0.0),
    Variable("p_set_dev", "1", "mean SET probability of its free devices", lambda p: p.p_set_std > 0,
             lambda p: p.p_set, "p_set"),
    Variable("p_reset_dev", "1", "mean RESET probability of its free devices", lambda p: p.p_reset_std > 0,
             lambda p: p.p_reset, "p_reset"),
)
