"""How a Brian2 network is run: seeding, an explicit namespace, and a progress bar.

For now only Brian2's runtime mode; the compiled, chunked engine for long MNIST training
lives here too when it lands.
"""

from __future__ import annotations

import random

import numpy as np
from brian2 import Network, Quantity, check_units, second
from brian2 import seed as brian2_seed
from tqdm.auto import tqdm

__all__ = ["seed_everything", "run_network"]


def seed_everything(seed: int) -> np.random.Generator:
    """Seed Brian2's generator (used by generated code), NumPy's global one and Python's.

    Returns a fresh :class:`numpy.random.Generator` from the same seed, for code of our own.
    """
    brian2_seed(seed)
    np.random.seed(seed)
    random.seed(seed)
    return np.random.default_rng(seed)


@check_units(duration=second)
def run_network(network: Network, duration: Quantity, *, progress: bool = True, description: str = "simulating") -> None:
    """Run ``network`` for ``duration`` with an explicit (empty) namespace and a progress bar.

    Every group must carry its own namespace (the builders in :mod:`spikenet.neurons` do), so
    nothing is picked up from the caller's variables.
    """
    total = float(duration / second)
    bar = tqdm(total=total, unit="s sim", desc=description, disable=not progress, leave=False)

    def report(elapsed, completed, start, period):  # Brian2's report callback signature
        bar.n = round(float(completed) * total, 6)
        bar.refresh()

    try:
        network.run(duration, namespace={}, report=report, report_period=1 * second)
    finally:
        bar.close()
