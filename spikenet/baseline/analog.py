"""Trained weights programmed onto memristive devices, and inference with the weights they hold.

Mapping (one weight matrix at a time, as on a crossbar tile):

* scale: ``w_max``, the layer's largest ``|w|`` (or the ``range_quantile`` quantile of ``|w|``,
  larger weights clipped to it), maps to a device's full conductance range;
* differential pair: ``w = w_max (x+ - x-)`` with ``x = (G - g_min) / (g_max - g_min)``; the
  device that carries the sign is programmed, the other stays at ``g_min``. A ``pcm_2pcm``
  card is itself such a pair (``x = (x+ - x- + 1) / 2``), so it holds one target per weight;
  a binary card (OxRAM, CBRAM) with ``redundancy`` R has R devices per side, of which
  ``round(|w| / w_max x R)`` are switched ON (held as counts per weight and side, so memory does
  not grow with R: :class:`~spikenet.memristive.binary_counts.BinaryCounts`);
* quantised: each target is moved to the nearest conductance the device reaches with whole
  pulses from ``g_min`` on its nominal curve (its ``levels``);
* programmed with write-verify (:meth:`TorchDeviceArray.program`): pulses, each with the
  card's cycle-to-cycle noise, until the read is within ``tolerance`` (binary devices: until
  they are in the wanted state). Device-to-device spread and stuck devices come from the card;
  devices that do not converge within ``max_pulses`` are counted, not hidden;
* read at ``t_read`` after programming (drift), with read noise. Read noise is independent at
  every read, so a layer's output gets, for each input and output, Gaussian noise of std
  ``read_std x ||x_patch||_2`` -- exactly the sum of independent per-weight read noises, without
  drawing a weight matrix per input.

Biases stay digital (exact): they are few, and crossbar designs usually add them in the
periphery.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..memristive.models import model_of
from ..memristive.torch_models import TorchDeviceArray
from .models import weight_layers

__all__ = ["AnalogWeights", "nominal_levels", "program_weights", "program_model", "macs_per_inference"]


@dataclass
class AnalogWeights:
    """One weight tensor as a set of devices holds it.

    Attributes
    ----------
    weight
        The effective weight (same shape as the original), as read at ``t_read`` without read noise.
    read_std
        Std of each effective weight's read noise (weight units), independent at every read.
    devices
        Devices used (all sides and redundant copies).
    pulses
        Programming pulses applied in all.
    converged
        Fraction of devices that write-verify brought within tolerance.
    w_max
        The weight that maps to a full conductance range.
    """

    weight: torch.Tensor
    read_std: float
    devices: int
    pulses: float
    converged: float
    w_max: float


def nominal_levels(params) -> np.ndarray:
    """Normalised conductances a device reaches with 0, 1, 2, ... potentiating pulses from g_min
    on its nominal curve (no noise, no spread): the states its targets are quantised to
    (the model's :meth:`~spikenet.memristive.models.DeviceModel.nominal_levels`)."""
    return model_of(params).nominal_levels()


def _quantise(target: torch.Tensor, grid: np.ndarray) -> torch.Tensor:
    g = torch.as_tensor(grid, dtype=target.dtype, device=target.device)
    upper = torch.clamp(torch.bucketize(target, g), 1, len(g) - 1)
    lo, hi = g[upper - 1], g[upper]
    return torch.where(target - lo <= hi - target, lo, hi)


def _program(params, targets: torch.Tensor, generator: torch.Generator, tolerance: float, max_pulses: int,
             t_read: float) -> tuple[torch.Tensor, TorchDeviceArray, torch.Tensor]:
    """Write-verify ``targets`` (flat) onto fresh devices at g_min; their drifted mean reads."""
    start = model_of(params).unprogrammed  # g_min (a pair: G+ = G- = g_min)
    devices = TorchDeviceArray(params, targets.numel(), generator, start, device=targets.device)
    converged, _ = devices.program(targets, tolerance, max_pulses)
    return devices.read(t_read, noise=False), devices, converged


@torch.no_grad()
def program_weights(weight: torch.Tensor, params, generator: torch.Generator, *, tolerance: float = 0.02,
                    max_pulses: int = 100, t_read: float = 0.0, range_quantile: float = 1.0) -> AnalogWeights:
    """Program one weight tensor onto devices of one card (see the module docstring).

    Parameters
    ----------
    weight
        The trained weights (any shape).
    params
        A device card's ``[device]`` section; :class:`IdealDeviceParams` returns the weights unchanged.
    generator
        ``torch.Generator`` (on the weights' device) for everything random about the devices.
    tolerance
        Write-verify tolerance, as a fraction of the conductance range.
    max_pulses
        Write-verify gives up on a device after this many pulses.
    t_read
        Seconds between programming and reading (drift).
    range_quantile
        ``w_max`` is this quantile of ``|w|`` (1: the largest); weights beyond it are clipped.
        Below 1 it trades clipping for resolution (few levels: binary devices).
    """
    w = weight.detach().to(torch.float64)
    magnitude = w.abs().flatten()
    w_max = float(magnitude.max() if range_quantile >= 1 else np.quantile(magnitude.cpu().numpy(), range_quantile)) or 1.0
    mapping = model_of(params).mapping
    if mapping == "exact":
        return AnalogWeights(weight.detach().clone(), 0.0, 0, 0.0, 1.0, w_max)
    t = torch.clamp(w / w_max, -1.0, 1.0).flatten()
    sigma = params.read_noise_std
    if mapping == "counts":
        return _program_binary(weight, t, params, generator, max_pulses, t_read, w_max)
    if mapping == "pair":
        grid = nominal_levels(params)
        q = torch.sign(t) * _quantise(t.abs(), grid)
        x, *rest = _program(params, (q + 1) / 2, generator, tolerance, max_pulses, t_read)
        sides = [(x, *rest)]
        effective = (2 * x - 1) * w_max
        read_std = 2 * w_max * sigma
    else:
        grid = nominal_levels(params)
        sides = [_program(params, _quantise(side, grid), generator, tolerance, max_pulses, t_read)
                 for side in (torch.clamp(t, min=0), torch.clamp(-t, min=0))]
        effective = (sides[0][0] - sides[1][0]) * w_max
        read_std = w_max * sigma * math.sqrt(2.0)
    n_devices = sum(s[1].n for s in sides)
    pulses = sum(float((s[1].pulses_ltp + s[1].pulses_ltd).sum()) for s in sides)
    converged = sum(float(s[2].sum()) for s in sides) / n_devices
    return AnalogWeights(effective.reshape(weight.shape).to(weight.dtype), read_std, n_devices, pulses, converged,
                         w_max)


def _program_binary(weight: torch.Tensor, t: torch.Tensor, params, generator: torch.Generator,
                    max_pulses: int, t_read: float, w_max: float) -> AnalogWeights:
    """``round(|t| R)`` of each side's R binary devices switched ON, held as counts
    (:class:`~spikenet.memristive.binary_counts.BinaryCounts`: one entry per weight and side, not
    per device; NumPy, seeded from ``generator``)."""
    r = params.redundancy
    model = model_of(params)
    rng = np.random.default_rng(int(torch.randint(0, 2**62, (1,), generator=generator)))
    reads, devices, pulses, converged = [], 0, 0.0, 0.0
    for side in (torch.clamp(t, min=0), torch.clamp(-t, min=0)):
        wanted = np.round(side.cpu().numpy() * r)
        counts = model.synapses(len(wanted), rng, 0.0)
        ok, used = counts.program(wanted, max_pulses)
        reads.append(counts.read(t_read, noise=False))
        devices += len(wanted) * r
        pulses += float(used.sum())
        converged += float(ok.sum())
    effective = torch.as_tensor((reads[0] - reads[1]) * w_max, dtype=weight.dtype, device=weight.device)
    read_std = w_max * params.read_noise_std * math.sqrt(2.0 / r)
    return AnalogWeights(effective.reshape(weight.shape), read_std, devices, pulses, converged / devices, w_max)


def _read_noise_hook(read_std: float, generator: torch.Generator):
    """A forward hook adding the summed read noise of every weight a layer read (module docstring)."""

    def hook(module: nn.Module, inputs: tuple[torch.Tensor], output: torch.Tensor) -> torch.Tensor:
        x = inputs[0]
        if isinstance(module, nn.Conv2d):
            ones = torch.ones((1, *module.weight.shape[1:]), dtype=x.dtype, device=x.device)
            energy = F.conv2d(x * x, ones, stride=module.stride, padding=module.padding, dilation=module.dilation)
        else:
            energy = (x * x).sum(-1, keepdim=True)
        noise = torch.randn(output.shape, generator=generator, dtype=output.dtype, device=output.device)
        return output + read_std * energy.sqrt() * noise

    return hook


def program_model(model: nn.Module, params, generator: torch.Generator, **kwargs) -> tuple[nn.Module, list[AnalogWeights]]:
    """A copy of ``model`` whose weight layers hold the weights as programmed onto ``params``'s devices,
    with read noise at every inference. ``kwargs`` go to :func:`program_weights`."""
    analog = copy.deepcopy(model)
    programmed = []
    for layer in weight_layers(analog):
        aw = program_weights(layer.weight, params, generator, **kwargs)
        with torch.no_grad():
            layer.weight.copy_(aw.weight)
        if aw.read_std > 0:
            layer.register_forward_hook(_read_noise_hook(aw.read_std, generator))
        programmed.append(aw)
    return analog, programmed


def macs_per_inference(model: nn.Module) -> int:
    """Multiply-accumulates (weight reads) of one 28 x 28 image through ``model``'s weight layers."""
    total = 0

    def count(module, inputs, output):
        nonlocal total
        total += output[0].numel() * module.weight[0].numel()

    handles = [layer.register_forward_hook(count) for layer in weight_layers(model)]
    try:
        with torch.no_grad():
            device = next(model.parameters()).device
            model.eval()(torch.zeros(1, 1, 28, 28, device=device))
    finally:
        for h in handles:
            h.remove()
    return total
