"""Network parameter sets; a model card's ``[network]`` section names one by ``kind``.

Spiking networks (``diehl_cook``, ``querlioz``) are assembled in :mod:`spikenet.networks`; the networks
trained by backpropagation (``mlp``, ``linear``, ``cnn``) in :mod:`spikenet.baseline.models`.

A spiking network card also has a ``[neuron]`` section (the excitatory layer), a ``[plasticity]``
section (the input synapses' rule) and, for Diehl & Cook, an ``[inhibitory]`` section.
How the network is assembled is in :mod:`spikenet.networks`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from brian2.units.fundamentalunits import Quantity

from ..schema import CheckFailed, check_steps, choice, flag, integer, number, quantity, time_step

INHIBITION = ("all_but_self", "none")
"""Which excitatory neurons each inhibitory neuron inhibits."""


def _check_schedule(params, durations: tuple[str, ...]) -> None:
    """Durations are whole numbers of steps, and a rest of at least one step follows each image
    (the schedule ends a presentation in the step after it)."""
    for key in durations:
        check_steps(params, key)
        steps = float(getattr(params, key) / params.dt)
        if abs(steps - round(steps)) > 1e-6:
            raise CheckFailed(key, f"must be a whole number of time steps (dt = {params.dt})", related=("dt",))
    if params.t_rest < params.dt:
        raise CheckFailed("t_rest", f"must be at least one time step (dt = {params.dt}): the schedule ends a "
                          "presentation in the step after it", related=("dt",))


@dataclass(frozen=True, kw_only=True)
class DiehlCookNetworkParams:
    r"""The network of Diehl & Cook (2015): Poisson inputs, an excitatory and an inhibitory layer.

    Each of the 784 inputs fires as a Poisson process at ``rate_per_pixel`` x pixel value
    x ``intensity`` while an image is shown (``t_present``), then nothing for ``t_rest``.
    Excitatory neuron ``k`` excites inhibitory neuron ``k`` (weight ``w_exc_inh``), which
    inhibits every other excitatory neuron (``w_inh_exc``). Before each presentation each
    excitatory neuron's input weights are scaled to sum to ``w_sum``. When the excitatory layer
    fires fewer than ``min_spikes`` spikes during a presentation, the image is shown again with
    ``intensity`` raised by ``intensity_step``.
    """

    KIND: ClassVar[str] = "diehl_cook"

    n_exc: int = integer("excitatory neurons (as many inhibitory ones)", ge=1, le=100_000)
    dt: Quantity = time_step(le=1)
    t_present: Quantity = quantity("ms", "how long an image is shown", gt=0)
    t_rest: Quantity = quantity("ms", "silence after each image, for the variables to decay", ge=0)
    rate_per_pixel: Quantity = quantity("Hz", "input rate per unit of pixel value (0-255) at intensity 1", gt=0)
    intensity: float = number("input intensity at the first showing of an image", gt=0)
    intensity_step: float = number("intensity added at each repeated showing", ge=0)
    min_spikes: int = integer("an image is shown again if the excitatory layer fired fewer spikes than this",
                              ge=0, le=1_000_000)
    max_repeats: int = integer("give up on an image after this many repeated showings (not in the paper: "
                               "a guard against a layer that never fires)", ge=0, le=1000, default=20)
    w_exc_inh: float = number("weight of excitatory -> inhibitory synapses (conductance / leak)", ge=0)
    w_inh_exc: float = number("weight of inhibitory -> excitatory synapses (conductance / leak)", ge=0)
    inhibition: str = choice("which excitatory neurons an inhibitory neuron inhibits", INHIBITION,
                             default="all_but_self")
    w_sum: float = number("each excitatory neuron's input weights are scaled to this sum before every "
                          "presentation (0: no normalisation)", ge=0)
    w_init_scale: float = number("initial weights are (U[0, 1) + w_init_offset) x w_init_scale", gt=0)
    w_init_offset: float = number("see w_init_scale", ge=0, default=0.0)
    delay_max: Quantity = quantity("ms", "input synapses get delays uniform in [0, delay_max)", ge=0)
    v_init_offset: Quantity = quantity("mV", "membranes start this far below rest at the start of a run",
                                       ge=0, le=200, default="0 mV")
    hardware_time_scale: float = number("physical seconds on the hardware this network models per simulated second; "
                                        "device drift follows the physical clock (1: the network runs in real "
                                        "time)", gt=0, le=1e6, default=1.0)

    def check(self) -> None:
        _check_schedule(self, ("t_present", "t_rest", "delay_max"))


HOMEOSTASIS = ("layer_mean", "none")


@dataclass(frozen=True, kw_only=True)
class QuerliozNetworkParams:
    r"""The memristive-synapse network of Querlioz et al. (2013): one layer with winner-take-all.

    Each of the 784 inputs fires as a Poisson process while an image is shown: at
    ``rate_min + (rate_max - rate_min) x p`` for a pixel value ``p`` (0-1) of at least
    ``pixel_cutoff``, not at all below it (CEA N2D2's rate coding of the same model). The output
    neurons (template ``lif_homeostatic``) integrate the weights of the input spikes; when one
    fires, every other one is reset and inhibited for ``t_inhibit`` (lateral inhibition), and
    with ``homeostasis = "layer_mean"`` a neuron that fires more than the layer's average gets a
    higher threshold, one that fires less a lower one (the sum of the thresholds is kept). At
    the start of every image the membranes are reset and no earlier input spike counts for LTP.
    Weights start normal around ``w_init_mean`` with a relative spread ``w_init_spread``.

    The repeat rule of :class:`DiehlCookNetworkParams` is available (``min_spikes``), off by default.
    """

    KIND: ClassVar[str] = "querlioz"

    n_exc: int = integer("output neurons", ge=1, le=100_000)
    dt: Quantity = time_step(le=1)
    t_present: Quantity = quantity("ms", "how long an image is shown", gt=0)
    t_rest: Quantity = quantity("ms", "silence after each image (at least one step)", ge=0)
    rate_max: Quantity = quantity("Hz", "input rate of a white pixel (value 1)", gt=0)
    rate_min: Quantity = quantity("Hz", "input rate a pixel value of 0 would have (the linear map's offset)", ge=0,
                                  default="0 Hz")
    pixel_cutoff: float = number("pixels darker than this (0-1) do not fire", ge=0, le=1, default=0.0)
    t_inhibit: Quantity = quantity("ms", "lateral inhibition: the other neurons stay reset this long after a spike",
                                   ge=0)
    w_init_mean: float = number("mean initial weight (before clipping to the rule's bounds)", ge=0)
    w_init_spread: float = number("relative standard deviation of the initial weights", ge=0, default=0.0)
    homeostasis: str = choice("layer_mean: at every spike the winner's threshold rises by theta_plus and every "
                              "threshold falls by theta_plus / n_exc, so each neuron is held at the layer's mean "
                              "activity; none: only the neuron template's own rule", HOMEOSTASIS, default="layer_mean")
    intensity: float = number("input intensity (multiplies every rate)", gt=0, default=1.0)
    intensity_step: float = number("intensity added at each repeated showing", ge=0, default=0.0)
    min_spikes: int = integer("an image is shown again if the layer fired fewer spikes than this (0: never)",
                              ge=0, le=1_000_000, default=0)
    max_repeats: int = integer("give up on an image after this many repeated showings", ge=0, le=1000, default=0)
    delay_max: Quantity = quantity("ms", "input synapses get delays uniform in [0, delay_max)", ge=0,
                                   default="0 ms")
    hardware_time_scale: float = number("physical seconds on the hardware this network models per simulated second; "
                                        "device drift follows the physical clock (1: the network runs in real "
                                        "time)", gt=0, le=1e6, default=1.0)

    def check(self) -> None:
        _check_schedule(self, ("t_present", "t_rest", "t_inhibit", "delay_max"))
        if self.rate_min > self.rate_max:
            raise CheckFailed("rate_min", f"must not exceed rate_max = {self.rate_max}", related=("rate_max",))


ACTIVATIONS = ("relu", "tanh", "sigmoid")


@dataclass(frozen=True, kw_only=True)
class MlpNetworkParams:
    """A multilayer perceptron 784 - ``hidden`` - 10, trained by backpropagation.

    With ``hidden`` equal to a spiking network's excitatory layer it has the same number of
    input weights per hidden unit (784) as that network has per excitatory neuron.
    """

    KIND: ClassVar[str] = "mlp"

    hidden: int = integer("hidden units", ge=1, le=100_000)
    activation: str = choice("nonlinearity of the hidden layer", ACTIVATIONS, default="relu")


@dataclass(frozen=True, kw_only=True)
class LinearNetworkParams:
    """A 784 - 10 linear readout (softmax regression), trained by backpropagation."""

    KIND: ClassVar[str] = "linear"

    bias: bool = flag("whether each output has a bias", default=True)


@dataclass(frozen=True, kw_only=True)
class CnnNetworkParams:
    """A small convolutional network: two convolution + max-pool stages, a hidden layer, 10 outputs.

    conv(1 -> ``channels_1``, ``kernel``) - ReLU - pool 2 - conv(-> ``channels_2``, ``kernel``) -
    ReLU - pool 2 - dense(``hidden``) - ReLU - dropout - dense(10); no padding (LeNet-5 style).
    """

    KIND: ClassVar[str] = "cnn"

    channels_1: int = integer("feature maps of the first convolution", ge=1, le=1024)
    channels_2: int = integer("feature maps of the second convolution", ge=1, le=1024)
    kernel: int = integer("side of the square convolution kernels (pixels)", ge=1, le=9)
    hidden: int = integer("units of the dense hidden layer", ge=1, le=100_000)
    dropout: float = number("dropout probability before the output layer (training only)", ge=0, lt=1,
                            default=0.0)

    def check(self) -> None:
        side = ((28 - self.kernel + 1) // 2 - self.kernel + 1) // 2
        if side < 1:
            raise CheckFailed("kernel", "too large: two convolutions and poolings leave nothing of 28 x 28")


NETWORKS: dict[str, type] = {
    cls.KIND: cls
    for cls in (DiehlCookNetworkParams, QuerliozNetworkParams, MlpNetworkParams, LinearNetworkParams, CnnNetworkParams)
}
"""Every network a card may name, by its registry name."""
