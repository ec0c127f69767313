"""The networks of the backprop baseline, built from a model card's ``[network]`` section.

Every model takes images as a float tensor ``(batch, 1, 28, 28)`` with pixels in [0, 1] (no
mean/std normalisation: on a crossbar the pixels are non-negative read voltages) and returns
``(batch, 10)`` logits. The weight matrices that :mod:`spikenet.baseline.analog` programs
onto devices are those of the ``nn.Linear`` and ``nn.Conv2d`` layers.
"""

from __future__ import annotations

import torch
from torch import nn

from ..params.networks import CnnNetworkParams, LinearNetworkParams, MlpNetworkParams

__all__ = ["build_model", "weight_layers"]

_ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}


def _mlp(p: MlpNetworkParams) -> nn.Module:
    return nn.Sequential(nn.Flatten(), nn.Linear(784, p.hidden), _ACTIVATIONS[p.activation](), nn.Linear(p.hidden, 10))


def _linear(p: LinearNetworkParams) -> nn.Module:
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 10, bias=p.bias))


def _cnn(p: CnnNetworkParams) -> nn.Module:
    side = ((28 - p.kernel + 1) // 2 - p.kernel + 1) // 2
    return nn.Sequential(
        nn.Conv2d(1, p.channels_1, p.kernel), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(p.channels_1, p.channels_2, p.kernel), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(p.channels_2 * side * side, p.hidden), nn.ReLU(), nn.Dropout(p.dropout),
        nn.Linear(p.hidden, 10),
    )


_BUILDERS = {MlpNetworkParams: _mlp, LinearNetworkParams: _linear, CnnNetworkParams: _cnn}


def build_model(params, generator: torch.Generator | None = None) -> nn.Module:
    """The torch module a ``[network]`` section describes, initialised from ``generator``.

    Parameters
    ----------
    params
        :class:`~spikenet.params.networks.MlpNetworkParams`, ``LinearNetworkParams`` or
        ``CnnNetworkParams``.
    generator
        Draws the initial weights (torch's default initialisation, re-drawn from this generator
        so that the model does not depend on the global random state).
    """
    try:
        builder = _BUILDERS[type(params)]
    except KeyError:
        raise TypeError(f"{type(params).__name__} is not a backprop network (mlp, linear, cnn)") from None
    model = builder(params)
    if generator is not None:
        for layer in weight_layers(model):
            # torch's default (kaiming_uniform with a = sqrt(5), i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in))
            # for weights and biases), drawn from the given generator.
            fan_in = layer.weight[0].numel()
            bound = 1.0 / fan_in ** 0.5
            with torch.no_grad():
                layer.weight.uniform_(-bound, bound, generator=generator)
                if layer.bias is not None:
                    layer.bias.uniform_(-bound, bound, generator=generator)
    return model


def weight_layers(model: nn.Module) -> list[nn.Module]:
    """The layers whose weights are synapses (``nn.Linear`` and ``nn.Conv2d``), in order."""
    return [m for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]
