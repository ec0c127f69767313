"""Synapses of ``redundancy`` binary devices in parallel, held as counts of devices per state.

A synapse of R binary devices (OxRAM, CBRAM) is fully described, for everything a network reads,
by how many of its free devices are ON (``n_on``), how many are free (``n_free``) and stuck ON
(``n_high``), and its summed conductance. Simulating the R devices one by one (one Brian2 synapse
or one array entry per device) costs R times the memory and the work; the counts cost one entry
per synapse. What the counts keep and what they approximate, against the device-by-device model
(:class:`~spikenet.memristive.numpy_models.DeviceArray` with one entry per device):

* **Pulses and switching: exact in distribution** for devices of equal switching probability. A
  request of ``v`` pulses per device reaches each device independently with ``floor(v)`` pulses
  and one more with probability ``v - floor(v)`` (the device-by-device stochastic rounding of
  N2D2's ``FcCell_Spike_RRAM``, whose extrinsic probability is drawn per device); so the pulsed
  ON and OFF devices are binomial counts, and those that switch a binomial thinning of them
  (:func:`~spikenet.memristive.brian2_functions.switch_probability`).
* **Device-to-device spread of the switching probabilities: averaged per synapse.** Each synapse
  switches with the mean probability of its free devices (drawn device by device at creation);
  which devices are ON is not tracked, so a synapse does not learn that its easy-to-switch
  devices are the ON ones. The error this makes in the fraction ON is bounded by
  :func:`averaging_bound`: at most 0.026 of the devices for ``oxram_hfo2``'s SET (``p`` 0.84 +-
  0.2), reached after two SET pulses to OFF devices; where SET and RESET alternate at equal
  rates the fraction ON is ``p / (p + q)``, concave in ``p``, and averaging overstates it by
  about ``q var(p) / (p + q)^3`` (0.005 for ``oxram_hfo2``, ``q`` 0.99).
* **Conductances: the right mean and variance, redrawn as a whole.** Every pulse redraws a
  device's conductance (log-normal around its state's nominal value); the counts redraw the sum
  of each state's devices, as one log-normal of the same mean and variance (Fenton & Wilkinson's
  approximation; exact for one device), whenever any device of the synapse got a pulse. Each
  read's marginal distribution is kept; devices that got no pulse are redrawn too, which shortens
  the (unobservable to a learning rule) correlation time of the conductance noise.
* Drift: one exponent per synapse; read noise: each device's, averaged over the R reads
  (std / sqrt(R)).

The Brian2 form of the same update is ``memristive.brian2_code._binary_counts``; the tests hold
both against the device-by-device model.
"""

from __future__ import annotations

import numpy as np
from brian2 import siemens

from ..params.devices import _BinaryDeviceParams
from .brian2_functions import fenton_wilkinson_sum
from .numpy_models import drifted

__all__ = ["BinaryCounts", "switch_probability", "mean_switch_probability", "expected_failures_and_pulses",
           "averaging_bound"]

_CHUNK = 1 << 16
"""Synapses whose devices' probabilities are drawn at once (bounds the memory to R x this)."""


def switch_probability(p: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Probability that a device that got at least one pulse of a ``wanted``-pulse request switched
    (the NumPy form of :func:`spikenet.memristive.brian2_functions.switch_probability`)."""
    p, wanted = np.broadcast_arrays(np.asarray(p, dtype=float), np.asarray(wanted, dtype=float))
    whole = np.floor(wanted)
    return np.where(wanted < 1, p, 1 - (1 - p) ** whole * (1 - (wanted - whole) * p))


def _clipped_normal(mean: float, std: float, size, rng: np.random.Generator) -> np.ndarray:
    return np.clip(mean + std * rng.standard_normal(size), 0.0, 1.0)


def mean_switch_probability(mean: float, std: float, n_free: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each synapse's mean switching probability over its ``n_free`` devices, each drawn from
    ``clip(N(mean, std), 0, 1)`` (the card's device-to-device spread); ``mean`` where none is free."""
    n_free = np.asarray(n_free, dtype=int)
    r = int(n_free.max(initial=1))
    out = np.empty(len(n_free))
    for start in range(0, len(n_free), _CHUNK):
        part = n_free[start:start + _CHUNK]
        draws = _clipped_normal(mean, std, (len(part), r), rng)
        used = np.arange(r) < part[:, None]
        out[start:start + _CHUNK] = np.where(part > 0, (draws * used).sum(1) / np.maximum(part, 1), mean)
    return out


def _clipped_normal_grid(mean: float, std: float) -> tuple[np.ndarray, np.ndarray]:
    """Values and probabilities of ``clip(N(mean, std), 0, 1)`` on a fine grid (atoms at 0 and 1)."""
    if std <= 0:
        return np.array([float(np.clip(mean, 0, 1))]), np.array([1.0])
    from scipy.stats import norm

    edges = np.linspace(0.0, 1.0, 4001)
    cdf = norm.cdf((edges - mean) / std)
    p = np.concatenate([[0.0], (edges[1:] + edges[:-1]) / 2, [1.0]])
    return p, np.concatenate([[cdf[0]], np.diff(cdf), [1.0 - cdf[-1]]])


def expected_failures_and_pulses(mean: float, std: float, max_pulses: int) -> tuple[float, float]:
    """For one device of probability ``p ~ clip(N(mean, std), 0, 1)`` pulsed until it switches or
    ``max_pulses`` pulses: the probability it has not switched, and the expected pulses it took.

    Integrated over the clipped normal (the devices of a card are independent, so counts of
    failed devices are exactly binomial with this probability)."""
    p, weight = _clipped_normal_grid(mean, std)
    fail = (1 - p) ** max_pulses
    with np.errstate(divide="ignore", invalid="ignore"):
        pulses = np.where(p > 0, (1 - fail) / p, float(max_pulses))  # E[min(geometric, max)]
    return float(np.sum(weight * fail)), float(np.sum(weight * pulses))


def averaging_bound(mean: float, std: float, max_pulses: int = 200) -> float:
    r"""The largest error in the fraction of devices switched that averaging the switching
    probability per synapse makes, over runs of 1 to ``max_pulses`` pulses in one direction:
    :math:`\max_k E[(1-p)^k] - (1 - E[p])^k` for ``p ~ clip(N(mean, std), 0, 1)``.

    After ``k`` pulses a device has not switched with probability :math:`(1-p)^k`; devices that
    keep their own ``p`` leave the hard-to-switch ones behind, which the mean probability does
    not (Jensen's inequality). 0.026 for ``oxram_hfo2``'s SET (0.843 +- 0.197, at 2 pulses),
    0.015 for ``cbram_ag_ges2`` (0.5 +- 0.1); 0 without spread."""
    p, weight = _clipped_normal_grid(mean, std)
    k = np.arange(1, max_pulses + 1)[:, None]
    gaps = (weight * (1 - p) ** k).sum(axis=1) - (1 - np.sum(weight * p)) ** k[:, 0]
    return float(max(gaps.max(), 0.0))


class BinaryCounts:
    """``n`` synapses, each of ``params.redundancy`` binary devices in parallel, as counts.

    Attributes mirror :class:`~spikenet.memristive.numpy_models.DeviceArray` where they mean
    the same (``x``: the synapse's mean normalised conductance, ``stuck``, ``nu``, ``t_prog``,
    ``pulses_ltp`` / ``pulses_ltd``: pulses summed over its devices); the counts are ``n_on``,
    ``n_free`` and ``n_high``, and ``p_set`` / ``p_reset`` are per synapse.

    Parameters
    ----------
    params
        A binary device card's ``[device]`` section.
    n
        Number of synapses.
    rng
        Random generator for everything random about these devices.
    x0
        Initial state: each free device is ON with this probability (as ``DeviceArray`` does
        for one device), so ``n_on ~ Binomial(n_free, x0)``.
    """

    def __init__(self, params: _BinaryDeviceParams, n: int, rng: np.random.Generator, x0: float | np.ndarray = 0.0):
        p = params
        self.p, self.n, self.rng = p, n, rng
        self.redundancy = r = int(p.redundancy)
        self.n_high = rng.binomial(r, p.stuck_high, n).astype(float)
        low_share = p.stuck_low / (1 - p.stuck_high) if p.stuck_high < 1 else 0.0
        n_low = rng.binomial((r - self.n_high).astype(int), min(low_share, 1.0))
        self.n_free = r - self.n_high - n_low
        self.stuck = np.where(self.n_free > 0, 0, np.where(self.n_high >= n_low, 1, -1))
        self.p_set = mean_switch_probability(p.p_set, p.p_set_std, self.n_free, rng)
        self.p_reset = mean_switch_probability(p.p_reset, p.p_reset_std, self.n_free, rng)
        self.nu = np.abs(p.drift_nu + p.drift_nu_std * rng.standard_normal(n))
        self.t_prog = np.zeros(n)
        self.pulses_ltp = np.zeros(n)
        self.pulses_ltd = np.zeros(n)
        x0 = np.clip(np.broadcast_to(np.asarray(x0, dtype=float), (n,)), 0, 1)
        self.n_on = rng.binomial(self.n_free.astype(int), x0).astype(float)
        self.x = self._draw()

    @property
    def n_low(self) -> np.ndarray:
        """Devices stuck OFF, per synapse."""
        return self.redundancy - self.n_free - self.n_high

    def _draw(self, redraw: np.ndarray | None = None) -> np.ndarray:
        """Mean normalised conductance from the counts, the states' sums drawn afresh (where ``redraw``)."""
        p = self.p
        g_min, g_max = float(p.g_min / siemens), float(p.g_max / siemens)
        on = fenton_wilkinson_sum(self.n_on, np.full(self.n, p.sigma_ln_on), self.rng.standard_normal(self.n))
        off = fenton_wilkinson_sum(self.n_free - self.n_on, np.full(self.n, p.sigma_ln_off),
                                   self.rng.standard_normal(self.n))
        g = (g_max * (on + self.n_high) + g_min * (off + self.n_low)) / self.redundancy
        x = (g - g_min) / (g_max - g_min)
        return x if redraw is None else np.where(redraw, x, self.x)

    def conductance(self) -> np.ndarray:
        """Each synapse's mean device conductance (siemens, floats), as programmed."""
        g_min, g_max = float(self.p.g_min / siemens), float(self.p.g_max / siemens)
        return g_min + (g_max - g_min) * self.x

    def request(self, dx: np.ndarray | float, t: float = 0.0) -> np.ndarray:
        """Apply a learning rule's change ``dx`` (normalised units: ``|dx|`` pulses per device,
        rounded device by device); returns whether each synapse got any pulse."""
        dx = np.broadcast_to(np.asarray(dx, dtype=float), (self.n,))
        up = dx > 0
        wanted = np.abs(dx)
        reach = np.clip(wanted, 0, 1)  # a device gets at least one pulse
        m_on = self.rng.binomial(self.n_on.astype(int), reach)
        m_off = self.rng.binomial((self.n_free - self.n_on).astype(int), reach)
        k_set = self.rng.binomial(np.where(up, m_off, 0), switch_probability(self.p_set, wanted))
        k_reset = self.rng.binomial(np.where(up, 0, m_on), switch_probability(self.p_reset, wanted))
        pulsed = (m_on + m_off) > 0
        self.n_on = self.n_on + k_set - k_reset
        self.x = self._draw(pulsed)
        self.t_prog = np.where(pulsed, t, self.t_prog)
        pulses = self.redundancy * wanted  # expected pulses over all devices (stuck ones too)
        self.pulses_ltp += np.where(up, pulses, 0)
        self.pulses_ltd += np.where(up, 0, pulses)
        return pulsed

    def read(self, t: float | None = None, *, noise: bool = True) -> np.ndarray:
        """Mean normalised conductance as read at ``t`` (s): drift, and the R devices' read noise
        averaged (std ``read_noise_std / sqrt(R)``) unless ``noise`` is false."""
        p = self.p
        x = self.x if t is None else drifted(p, self.x, t - self.t_prog, self.nu)
        if noise and p.read_noise_std > 0:
            x = x + p.read_noise_std / np.sqrt(self.redundancy) * self.rng.standard_normal(self.n)
        return x

    def program(self, wanted_on: np.ndarray, max_pulses: int) -> tuple[np.ndarray, np.ndarray]:
        """Write-verify ``wanted_on`` devices ON and the others OFF, in each synapse: SET pulses to
        the wanted devices until they switch, RESET pulses to the others likewise, at most
        ``max_pulses`` each (a binary device is verified for its state: ON reads near 1, OFF near 0).

        Which devices are stuck is uniformly random, so the stuck ones among the wanted are
        hypergeometric; the free ones that fail within ``max_pulses`` are binomial with the card's
        failure probability (:func:`expected_failures_and_pulses`). Returns, per synapse, the
        devices that verified and the pulses used (expected value: pulses only count energy)."""
        p, rng, r = self.p, self.rng, self.redundancy
        wanted = np.clip(np.broadcast_to(np.asarray(wanted_on, dtype=float), (self.n,)), 0, r).astype(int)
        high, free = self.n_high.astype(int), self.n_free.astype(int)
        high_wanted = _hypergeometric(rng, high, r - high, wanted)
        low = r - high - free
        low_wanted = _hypergeometric(rng, low, free, wanted - high_wanted)
        free_wanted = wanted - high_wanted - low_wanted
        on = self.n_on.astype(int)
        on_wanted = _hypergeometric(rng, on, free - on, free_wanted)
        on_unwanted = on - on_wanted
        fail_set, pulses_set = expected_failures_and_pulses(p.p_set, p.p_set_std, max_pulses)
        fail_reset, pulses_reset = expected_failures_and_pulses(p.p_reset, p.p_reset_std, max_pulses)
        to_set, to_reset = free_wanted - on_wanted, on_unwanted
        set_ok = rng.binomial(to_set, 1 - fail_set)
        reset_ok = rng.binomial(to_reset, 1 - fail_reset)
        self.n_on = (on_wanted + set_ok + to_reset - reset_ok).astype(float)
        pulsed = (to_set + to_reset) > 0
        self.x = self._draw(pulsed)
        # stuck devices against their wanted state get every pulse and never verify
        stuck_wrong = (wanted - high_wanted - free_wanted) + (high - high_wanted)
        self.pulses_ltp += to_set * pulses_set + (wanted - high_wanted - free_wanted) * max_pulses
        self.pulses_ltd += to_reset * pulses_reset + (high - high_wanted) * max_pulses
        converged = r - stuck_wrong - (to_set - set_ok) - (to_reset - reset_ok)
        return converged.astype(float), (to_set * pulses_set + to_reset * pulses_reset
                                         + stuck_wrong * max_pulses).astype(float)


def _hypergeometric(rng: np.random.Generator, good: np.ndarray, bad: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """Hypergeometric draws that allow an empty urn (NumPy refuses ``ngood + nbad = 0``)."""
    good, bad, draws = (np.asarray(a, dtype=int) for a in (good, bad, draws))
    empty = (good + bad) == 0
    out = rng.hypergeometric(np.where(empty, 0, good), np.where(empty, 1, bad), np.where(empty, 0, draws))
    return np.where(empty, 0, out)
