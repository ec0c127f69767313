"""spikenet: neuromorphic learning experiments with Brian2 and noisy memristive synapses."""

__version__ = "0.1.0"
