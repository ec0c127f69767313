"""Typed parameter sets that cards are validated into.

They live in the bottom layer (plain Python, Brian2 units only) so that :mod:`spikenet.catalog`
can validate every card without importing the simulators that use the parameters.
Each template or model name a card may use maps to one dataclass in a dict below.
"""

from .devices import DEVICE_MODELS
from .experiments import PROTOCOLS, ExperimentSection, Expectation
from .networks import NETWORKS
from .neurons import NEURON_TEMPLATES
from .plasticity import PLASTICITY_RULES

__all__ = ["DEVICE_MODELS", "NETWORKS", "NEURON_TEMPLATES", "PLASTICITY_RULES", "PROTOCOLS", "ExperimentSection", "Expectation"]
