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

# The public names are imported when first used (PEP 562), so that ``import spikenet`` (and with
# it ``spikenet --help`` and ``spikenet list``) does not import Brian2 and matplotlib.
_PUBLIC = {
    "neuron_group": "neurons",
    "neuron_params": "neurons",
    "synapses": "plasticity",
    "rule_params": "plasticity",
    "load_card": "catalog",
    "list_cards": "card_files",
    "load_mnist": "datasets",
    "parse_quantity": "units",
    "run_experiment": "running",
    "open_run": "results",
    "plan_sweep": "grid",
    "run_sweep": "grid",
    "read_csv": "runs",
    "SpikenetError": "errors",
    "CardError": "errors",
    "DataError": "errors",
    "UnitError": "errors",
}

__all__ = ["__version__", *_PUBLIC]


def __getattr__(name: str):
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'spikenet' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # the next look-up is an ordinary attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PUBLIC))
