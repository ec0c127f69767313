"""The backprop baseline (optional ``torch`` extra): networks trained by backpropagation on the
same MNIST data as the spiking networks, and evaluated with their weights programmed onto the
same device cards.

* :mod:`~spikenet.baseline.models`: MLP 784-N-10, linear readout 784-10, a small CNN, from a
  model card's ``[network]`` section.
* :mod:`~spikenet.baseline.training`: the training loop, evaluation, checkpoints.
* :mod:`~spikenet.baseline.analog`: weights onto devices (differential pairs, levels,
  write-verify, spread, stuck devices, drift, read noise) and inference with them.
"""

from .analog import AnalogWeights, macs_per_inference, nominal_levels, program_model, program_weights
from .models import build_model, weight_layers
from .training import make_optimizer, mnist_tensors, predict, resolve_device, train_epoch

__all__ = [
    "AnalogWeights",
    "build_model",
    "weight_layers",
    "make_optimizer",
    "mnist_tensors",
    "predict",
    "resolve_device",
    "train_epoch",
    "macs_per_inference",
    "nominal_levels",
    "program_model",
    "program_weights",
]
