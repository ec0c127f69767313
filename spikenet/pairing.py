"""Spike-pairing protocols: imposed pre- and postsynaptic spike trains on isolated synapses.

The plasticity experiments (STDP window, frequency dependence) drive each synapse with spike
trains of their own, with no neuron dynamics: a presynaptic and a postsynaptic
``SpikeGeneratorGroup`` per synapse, connected one to one, with no transmission.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from brian2 import Network, Quantity, SpikeGeneratorGroup, second

from .engine import run_network
from .plasticity import synapses

__all__ = ["pairing_trains", "pairing_weights"]


def pairing_trains(delta_s: float, n_pairings: int, period_s: float, start_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Pre and post spike times (s) of ``n_pairings`` pairs with ``t_post - t_pre = delta_s``."""
    pre = start_s + period_s * np.arange(n_pairings)
    return pre, pre + delta_s


def pairing_weights(
    rule: Any,
    pre_times: Sequence[np.ndarray],
    post_times: Sequence[np.ndarray],
    *,
    w_init: float,
    dt: Quantity,
    device: Any = "ideal",
    progress: bool = False,
    description: str = "pairing",
) -> np.ndarray:
    """Final weight of each synapse ``k`` driven by ``pre_times[k]`` and ``post_times[k]`` (seconds).

    Spike times are rounded to the ``dt`` grid. Returns one weight per synapse (the mean over a
    device card's parallel devices, if it has several).
    """
    n = len(pre_times)
    dt_s = float(dt / second)

    def generator(trains: Sequence[np.ndarray]) -> SpikeGeneratorGroup:
        indices = np.concatenate([np.full(len(t), k) for k, t in enumerate(trains)])
        times = np.round(np.concatenate(trains) / dt_s) * dt_s
        return SpikeGeneratorGroup(n, indices, times * second, dt=dt)

    pre, post = generator(pre_times), generator(post_times)
    syn = synapses(pre, post, rule, device=device, target=None, connect="i == j", w_init=w_init, dt=dt)
    last = max(float(np.max(np.concatenate(pre_times))), float(np.max(np.concatenate(post_times))))
    run_network(Network(pre, post, syn), (last + 10 * dt_s) * second, progress=progress, description=description)
    # A connection may hold several devices in parallel (Brian2 synapses with the same i):
    # its weight is their mean, which is what a spike transmits.
    index = np.asarray(syn.i[:])
    return np.bincount(index, np.asarray(syn.w[:]), minlength=n) / np.bincount(index, minlength=n)
