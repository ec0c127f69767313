"""spikenet: neuromorphic learning experiments with Brian2 and noisy memristive synapses.

The public API::

    import brian2 as b2
    import spikenet as sn

    inp = b2.PoissonGroup(100, 15 * b2.Hz)
    out = sn.neuron_group("lif_adaptive", 10)                    # a Brian2 NeuronGroup from a card
    syn = sn.synapses(inp, out, rule="stdp_pair_nearest", device="ideal")   # Brian2 Synapses
    b2.Network(inp, out, syn).run(1 * b2.second)

    card = sn.load_card("stdp_window", overrides=["plasticity.tau_plus=20 ms"])
    run = sn.run_experiment(card)                                # a run folder with figures
"""

from __future__ import annotations

__version__ = "0.1.0"

from .catalog import list_cards, load_card
from .datasets import load_mnist
from .errors import CardError, DataError, SpikenetError, UnitError
from .neurons import neuron_group, neuron_params
from .plasticity import rule_params, synapses
from .units import parse_quantity

__all__ = [
    "__version__",
    "neuron_group",
    "neuron_params",
    "synapses",
    "rule_params",
    "load_card",
    "list_cards",
    "load_mnist",
    "parse_quantity",
    "run_experiment",
    "SpikenetError",
    "CardError",
    "DataError",
    "UnitError",
]


def __getattr__(name: str):
    # Experiments pull in matplotlib; load them only when asked for.
    if name == "run_experiment":
        from .running import run_experiment

        return run_experiment
    raise AttributeError(f"module 'spikenet' has no attribute {name!r}")
