"""Experiment sections: which runner, which model and device, its protocol, what to expect."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

from brian2.units.fundamentalunits import Quantity

from ..schema import (CheckFailed, check_steps, choice, integer, number, numbers, quantities, quantity, text, texts,
                      time_step)


@dataclass(frozen=True, kw_only=True)
class LIFFICurveProtocol:
    r"""Firing rate of a LIF neuron against a constant input current (the f-I curve).

    One neuron per current, all simulated together for ``duration``. The simulated rate is
    ``1 / mean inter-spike interval`` (the first interval from rest is left out); it is
    compared with the exact rate

    .. math::

        f(I) = \left[t_\mathrm{ref} + \tau_m \ln\frac{v_\infty - v_\mathrm{reset}}
               {v_\infty - v_\mathrm{th}}\right]^{-1}, \quad v_\infty = v_\mathrm{rest} + R_m I,

    above rheobase (:math:`v_\infty > v_\mathrm{th}`).
    """

    KIND: ClassVar[str] = "lif_fi_curve"

    i_min: Quantity = quantity("nA", "smallest input current", default="0 nA")
    i_max: Quantity = quantity("nA", "largest input current")
    n_currents: int = integer("number of currents, evenly spaced from i_min to i_max", ge=2, le=100_000)
    duration: Quantity = quantity("ms", "simulated time per current", gt=0)
    dt: Quantity = time_step(le=1)
    min_intervals: int = integer(
        "currents whose exact rate gives fewer inter-spike intervals than this in `duration` "
        "are left out of max_rel_error",
        ge=1,
        default=5,
    )

    def check(self) -> None:
        if self.i_max <= self.i_min:
            raise CheckFailed("i_max", "must be above i_min", related=("i_min",))
        if self.duration < 10 * self.dt:
            raise CheckFailed("duration", "must be at least 10 time steps (dt)", related=("dt",))
        check_steps(self, "duration")


@dataclass(frozen=True, kw_only=True)
class StdpWindowProtocol:
    """The pairing protocol of Bi & Poo (1998): pre/post pairs at a fixed interval, repeated.

    One synapse per timing difference ``t_post - t_pre``, all simulated together; pairs are
    repeated ``n_pairings`` times at ``pairing_rate``. The weight change per pairing is fitted
    with ``a_plus exp(-dt / tau_plus)`` (dt > 0) and ``-a_minus exp(dt / tau_minus)`` (dt < 0).
    """

    KIND: ClassVar[str] = "stdp_window"

    delta_min: Quantity = quantity("ms", "most negative timing difference t_post - t_pre", ge=-1000, lt=0)
    delta_max: Quantity = quantity("ms", "most positive timing difference", gt=0, le=1000)
    n_deltas: int = integer("number of timing differences, evenly spaced", ge=4, le=10_000)
    n_pairings: int = integer("pairings per timing difference", ge=1, le=10_000)
    pairing_rate: Quantity = quantity("Hz", "repetition rate of the pairings", gt=0, le=100)
    w_init: float = number("initial weight (in the rule's units)")
    dt: Quantity = time_step(le=1)

    def check(self) -> None:
        if 1 / self.pairing_rate <= max(-self.delta_min, self.delta_max):
            raise CheckFailed("pairing_rate", "pairings overlap: 1 / pairing_rate must exceed every |dt|",
                              related=("delta_min", "delta_max"))


@dataclass(frozen=True, kw_only=True)
class TripletFrequencyProtocol:
    """Pairing-frequency dependence (Sjostrom et al. 2001), as fitted by Pfister & Gerstner (2006).

    ``n_pairings`` pairs with ``t_post - t_pre = +delta`` and, separately, ``-delta``, at each
    frequency; the weight change relative to ``w = 1`` (no bounds reached) is compared with the
    published data. The pair rule's amplitudes are fitted to the same data by least squares.
    """

    KIND: ClassVar[str] = "triplet_frequency"

    frequencies: tuple = quantities("Hz", "pairing frequencies", gt=0, le=1000)
    delta: Quantity = quantity("ms", "|t_post - t_pre| of each pair", gt=0, le=100)
    n_pairings: int = integer("pairs per condition", ge=1, le=10_000)
    dt: Quantity = time_step("integration time step; delta and every period must be multiples of it", le=10)
    data_plus: tuple = numbers("published relative weight change for +delta pairings, one per frequency")
    data_plus_sem: tuple = numbers("its standard error", ge=0)
    data_minus: tuple = numbers("published relative weight change for -delta pairings, one per frequency")
    data_minus_sem: tuple = numbers("its standard error", ge=0)

    def check(self) -> None:
        for key in ("data_plus", "data_plus_sem", "data_minus", "data_minus_sem"):
            if len(getattr(self, key)) != len(self.frequencies):
                raise CheckFailed(key, f"needs one value per frequency ({len(self.frequencies)})",
                                  related=("frequencies",))
        for what, interval in [("delta", self.delta)] + [(f"1 / {f}", 1 / f) for f in self.frequencies]:
            steps = float(interval / self.dt)
            if abs(steps - round(steps)) > 1e-6:
                raise CheckFailed("dt", f"{what} = {interval} is not a whole number of steps: spike times would "
                                  "be rounded and the timing differences changed", related=("delta", "frequencies"))


@dataclass(frozen=True, kw_only=True)
class SongBimodalProtocol:
    """Song, Miller & Abbott (2000): one neuron, many Poisson inputs through STDP synapses."""

    KIND: ClassVar[str] = "song2000_bimodal"

    n_inputs: int = integer("number of Poisson inputs", ge=1, le=1_000_000)
    input_rate: Quantity = quantity("Hz", "rate of each input", gt=0, le=1000)
    duration: Quantity = quantity("s", "simulated time", gt=0)
    dt: Quantity = time_step(le=1)
    record_every: Quantity = quantity("s", "interval between weight snapshots", gt=0)
    near_bound: float = number("a weight counts as near a bound within this fraction of w_max", gt=0, lt=0.5,
                               default=0.1)
    rate_window: Quantity = quantity("s", "the output rate is measured over this last part of the run", gt=0)

    def check(self) -> None:
        check_steps(self, "duration")
        if self.rate_window > self.duration:
            raise CheckFailed("rate_window", "must not exceed duration", related=("duration",))
        if self.record_every > self.duration:
            raise CheckFailed("record_every", "must not exceed duration", related=("duration",))


@dataclass(frozen=True, kw_only=True)
class HebbOjaProtocol:
    """Oja's rule on zero-mean Gaussian inputs with one leading principal component.

    Inputs have covariance ``C = other_variance I + (leading_variance - other_variance) u u^T``
    with a random unit vector ``u`` (the first principal component); a new sample is drawn every
    ``sample_every``.
    """

    KIND: ClassVar[str] = "hebb_oja"

    n_inputs: int = integer("number of inputs", ge=2, le=10_000)
    leading_variance: float = number("variance along the first principal component", gt=0)
    other_variance: float = number("variance along every other direction", gt=0)
    duration: Quantity = quantity("s", "simulated time", gt=0)
    sample_every: Quantity = quantity("ms", "how long each input sample is held", gt=0)
    dt: Quantity = time_step(le=10)
    w_init_scale: float = number("initial weights are uniform in [0, w_init_scale)", gt=0, default=0.1)

    def check(self) -> None:
        check_steps(self, "duration")
        if self.other_variance >= self.leading_variance:
            raise CheckFailed("leading_variance", "must exceed other_variance, or there is no leading component",
                              related=("other_variance",))


@dataclass(frozen=True, kw_only=True)
class DeviceCurvesProtocol:
    """Conductance against pulse number: potentiating pulses from g_min, then depressing pulses,
    for many devices of every device card (the LTP/LTD figure of device papers)."""

    KIND: ClassVar[str] = "device_curves"

    n_devices: int = integer("devices simulated per card", ge=2, le=10_000_000)
    n_pulses: int = integer("potentiating pulses, then as many depressing pulses", ge=2, le=100_000)
    n_traces: int = integer("single-device traces drawn per card", ge=0, le=100, default=5)
    devices: tuple = texts("the device cards ('all': every device card in the catalog; the ideal one is "
                           "skipped)", default=("all",), refers_to="devices")


@dataclass(frozen=True, kw_only=True)
class DeviceStdpProtocol(StdpWindowProtocol):
    """The STDP pairing protocol with the weight stored in each device card: the effective window.

    ``n_devices`` synapses (devices) per timing difference give the mean and spread of the
    weight change; the ideal device gives the rule's own window to compare with.
    """

    KIND: ClassVar[str] = "device_stdp"

    n_devices: int = integer("synapses per timing difference and device card", ge=1, le=100_000)
    devices: tuple = texts("the device cards ('all': every device card in the catalog)", default=("all",),
                           refers_to="devices")


ENGINES = ("compiled", "runtime")
DRIFT_COMPENSATIONS = ("none", "per_neuron")
"""How a long network run is executed: one compiled Brian2 program fed chunk after chunk
(``cpp_standalone``), or Brian2's runtime mode (for tiny runs and tests)."""


DATASET_NAMES = ("mnist", "fashion_mnist")
"""The image sets with MNIST's format (:data:`spikenet.datasets.DATASETS`; a test keeps them equal)."""

_DATASET_HELP = "the image set: mnist, or fashion_mnist (Xiao et al. 2017, the same format)"


@dataclass(frozen=True, kw_only=True)
class MnistStdpProtocol:
    """Unsupervised learning on MNIST: train with STDP, assign labels, test (Diehl & Cook 2015).

    Training shows the first ``n_train`` training images in order, ``epochs`` times, with
    plasticity and threshold adaptation on. Then both are frozen: each excitatory neuron is
    assigned the class it responds to most on ``n_assign`` training images, and the
    ``n_test`` test images are classified by the mean response of each class's neurons.
    Between training and assignment the devices sit unprogrammed for ``t_read`` of physical
    time (the network card's ``hardware_time_scale`` says how much physical time a simulated
    presentation takes), so that drifting devices can be evaluated after a retention time.
    """

    KIND: ClassVar[str] = "mnist_stdp"

    n_train: int = integer("training images per epoch (the first ones of the training set)", ge=1, le=60_000)
    dataset: str = choice(_DATASET_HELP, DATASET_NAMES, default="mnist")
    epochs: int = integer("passes over the training images (0: no training, with weights_from)", ge=0, le=100)
    n_assign: int = integer("training images (the first ones) used to assign a class to each neuron",
                            ge=1, le=60_000)
    n_test: int = integer("test images (the first ones of the test set) to classify", ge=1, le=10_000)
    chunk: int = integer("images per compiled run; a checkpoint is written after each", ge=1, le=60_000,
                         default=1000)
    engine: str = choice("compiled (Brian2 cpp_standalone, built once) or runtime (Brian2 runtime mode)",
                         ENGINES, default="compiled")
    accuracy_window: int = integer("running training accuracy: labels assigned on this many previous images",
                                   ge=10, le=60_000, default=10_000)
    snapshots: int = integer("weight snapshots kept during training (for figures)", ge=0, le=1000, default=10)

    weights_from: str = text("a finished mnist_stdp run folder (same network) whose trained network this run "
                             "starts from: from a run on the ideal device its weights are programmed onto "
                             "experiment.device with write-verify (with epochs = 0 this tests the transfer); from "
                             "a run on the same device card its devices are read as they were at the end of its "
                             "training (with epochs = 0: the same devices evaluated after another t_read); "
                             "'': train from scratch", default="")
    program_tolerance: float = number("write-verify tolerance when weights_from is given (fraction of the "
                                      "conductance range)", gt=0, le=1, default=0.02)
    program_max_pulses: int = integer("write-verify gives up on a device after this many pulses", ge=1,
                                      le=100_000, default=300)
    drift_compensation: str = choice("drift compensation of the input devices while learning is frozen: none, or "
                                     "per_neuron (each neuron's reads scaled by a calibration read, as aihwkit's "
                                     "PerColumnDriftCompensation); no effect on a device that does not drift",
                                     DRIFT_COMPENSATIONS, default="none")
    t_read: Quantity = quantity("s", "physical time between the end of training and the start of assignment "
                                "and test, in which the devices drift unprogrammed (aihwkit's t_inference)",
                                ge=0, default="0 s")

    def check(self) -> None:
        if self.epochs == 0 and not self.weights_from:
            raise CheckFailed("epochs", "0 epochs means no training: give weights_from (a trained run folder)",
                              related=("weights_from",))


OPTIMIZERS = ("adam", "sgd")
TORCH_DEVICES = ("auto", "cpu", "cuda")


@dataclass(frozen=True, kw_only=True)
class MnistBackpropProtocol:
    """Train a network by backpropagation on MNIST, then evaluate it programmed onto device cards.

    Training uses the first ``n_train`` training images, shuffled anew each epoch (mini-batches
    of ``batch_size``, cross-entropy loss); testing the first ``n_test`` test images. Every
    weight matrix is then mapped onto each card of ``hardware_devices`` (a differential pair
    of devices per weight, see :mod:`spikenet.baseline.analog`), ``device_samples`` times with
    fresh devices, and the test set is classified with the weights as the devices hold them.
    """

    KIND: ClassVar[str] = "mnist_backprop"

    n_train: int = integer("training images (the first ones of the training set)", ge=1, le=60_000)
    n_test: int = integer("test images (the first ones of the test set)", ge=1, le=10_000)
    dataset: str = choice(_DATASET_HELP, DATASET_NAMES, default="mnist")
    epochs: int = integer("passes over the training images", ge=1, le=1000)
    batch_size: int = integer("images per gradient step", ge=1, le=60_000)
    optimizer: str = choice("the optimiser", OPTIMIZERS, default="adam")
    learning_rate: float = number("the optimiser's learning rate", gt=0, le=10)
    momentum: float = number("momentum (sgd only)", ge=0, lt=1, default=0.9)
    weight_decay: float = number("L2 penalty on the weights", ge=0, default=0.0)
    train_weight_noise: float = number(
        "noise-aware training: Gaussian noise added to every weight in each training forward pass, "
        "std as a fraction of the layer's largest |weight| (0: plain training)", ge=0, le=1, default=0.0)
    hardware_devices: tuple = texts("device cards the trained weights are programmed onto ('ideal' is the "
                                    "exact reference; 'all': every device card)", default=("ideal",),
                                    refers_to="devices")
    device_samples: int = integer("independent sets of devices per card (mean and spread are reported)",
                                  ge=1, le=10_000, default=5)
    range_quantile: float = number("each layer's weights are scaled so that this quantile of |w| fills a "
                                   "device's range (1: the largest |w|; larger weights are clipped)",
                                   gt=0, le=1, default=1.0)
    program_tolerance: float = number("write-verify stops when a device reads within this of its target "
                                      "(fraction of its conductance range)", gt=0, le=1, default=0.02)
    program_max_pulses: int = integer("write-verify gives up on a device after this many pulses", ge=1,
                                      le=100_000, default=100)
    t_read: Quantity = quantity("s", "time between programming and inference (drift)", ge=0, default="0 s")
    torch_device: str = choice("where torch computes: auto (a GPU if there is one), cpu or cuda", TORCH_DEVICES,
                               default="auto")


VARIABILITY = ("c2c_std", "d2d_std", "stuck")
"""What a variability sweep varies on the device card: cycle-to-cycle noise, device-to-device
spread, or the fraction of stuck devices (half stuck at g_min, half at g_max)."""
COMPARED = ("stdp_in_place", "stdp_transfer", "mlp_transfer", "mlp_noise_aware")
"""The learners compared against device variability: the spiking network trained on the devices,
the spiking network trained on ideal weights and then programmed onto them, the MLP trained on
ideal weights and programmed onto them, and the MLP trained with weight noise and programmed."""


@dataclass(frozen=True, kw_only=True)
class CompareVariabilityProtocol:
    """Accuracy against device variability for the spiking network and the backprop baseline.

    ``experiment.device`` is the device card varied: at each of ``levels``, ``parameter`` is set
    to that value and every method in ``methods`` is tested. The spiking runs are runs of
    ``stdp_card`` and the MLP runs of ``backprop_card`` (their sizes set from this section), each
    in its own folder inside this run, on Dask (:mod:`spikenet.sweep`).
    """

    KIND: ClassVar[str] = "compare_variability"

    parameter: str = choice("the device parameter varied", VARIABILITY)
    levels: tuple = numbers("its values (fractions: 0.1 is 10 %)", ge=0, le=1)
    methods: tuple = texts("the learners compared (" + ", ".join(COMPARED) + ")", default=COMPARED)
    stdp_card: str = text("the mnist_stdp experiment card of the spiking runs", default="mnist_dc_n100",
                          refers_to="experiments")
    backprop_card: str = text("the mnist_backprop experiment card of the MLP runs", default="mnist_mlp100",
                              refers_to="experiments")
    n_train: int = integer("training images of every learner", ge=1, le=60_000)
    n_assign: int = integer("training images that assign the spiking neurons' classes", ge=1, le=60_000)
    n_test: int = integer("test images", ge=1, le=10_000)
    noise_aware_std: float = number("weight noise of the noise-aware MLP's training (fraction of each "
                                    "layer's largest |w|)", gt=0, le=1, default=0.1)
    device_samples: int = integer("sets of devices per level for the transferred MLPs", ge=1, le=1000,
                                  default=3)
    seeds: int = integer("runs of every learner at every level, with seeds experiment.seed, +1, ...; the "
                         "metrics are their means, with a 95 % interval in metrics.json", ge=1, le=100, default=3)
    workers: int = integer("local Dask workers (0: one per core); a scheduler address in "
                           "$SPIKENET_DASK_SCHEDULER runs the sweep there instead", ge=0, le=1024, default=0)

    def check(self) -> None:
        unknown = [m for m in self.methods if m not in COMPARED]
        if unknown:
            raise CheckFailed("methods", f"unknown method {unknown[0]!r}; allowed: {', '.join(COMPARED)}")


@dataclass(frozen=True, kw_only=True)
class DriftRetentionProtocol:
    """Accuracy of a spiking network trained on drifting devices against the time it waits before use.

    ``stdp_card`` is trained once on ``experiment.device`` (an ordinary run, in this run's
    ``runs/trained``); its devices, as they were at the end of training, are then evaluated
    (assignment and test, learning frozen) after each retention time of ``t_reads``, with each
    drift compensation of ``compensations``. Runs are on Dask (:mod:`spikenet.sweep`).
    """

    KIND: ClassVar[str] = "drift_retention"

    stdp_card: str = text("the mnist_stdp experiment card trained on the device", default="mnist_querlioz_pcm_2pcm",
                          refers_to="experiments")
    t_reads: tuple = quantities("s", "retention times: physical time between the end of training and the "
                                "evaluation", ge=0)
    compensations: tuple = texts("drift compensations evaluated at each retention time ("
                                 + ", ".join(DRIFT_COMPENSATIONS) + ")", default=DRIFT_COMPENSATIONS)
    n_train: int = integer("training images (0: the stdp card's)", ge=0, le=60_000, default=0)
    n_assign: int = integer("training images that assign the neurons' classes (0: the stdp card's)", ge=0,
                            le=60_000, default=0)
    n_test: int = integer("test images (0: the stdp card's)", ge=0, le=10_000, default=0)
    seeds: int = integer("trainings (each evaluated at every retention time), with seeds experiment.seed, +1, "
                         "...; the metrics are their means, with a 95 % interval in metrics.json", ge=1, le=100,
                         default=3)
    workers: int = integer("local Dask workers (0: one per core); a scheduler address in "
                           "$SPIKENET_DASK_SCHEDULER runs the sweep there instead", ge=0, le=1024, default=0)

    def check(self) -> None:
        unknown = [c for c in self.compensations if c not in DRIFT_COMPENSATIONS]
        if unknown:
            raise CheckFailed("compensations", f"unknown compensation {unknown[0]!r}; allowed: "
                              + ", ".join(DRIFT_COMPENSATIONS))


PROTOCOLS: dict[str, type] = {
    cls.KIND: cls
    for cls in (LIFFICurveProtocol, StdpWindowProtocol, TripletFrequencyProtocol, SongBimodalProtocol,
                HebbOjaProtocol, DeviceCurvesProtocol, DeviceStdpProtocol, MnistStdpProtocol,
                MnistBackpropProtocol, CompareVariabilityProtocol, DriftRetentionProtocol)
}
"""Every experiment kind, by registry name, with the protocol section it takes."""


@dataclass(frozen=True, kw_only=True)
class ExperimentSection:
    """The ``[experiment]`` section: which runner, on which model and device, with which seed."""

    kind: str = text("the experiment runner (a registry name)")
    model: str = text("the model card the experiment simulates ('' for none)", default="")
    device: str = text("the device card holding the plastic weights ('' for none)", default="")
    seed: int = integer("seed of every random number generator in the run", ge=0, le=2**32 - 1, default=0)


@dataclass(frozen=True, kw_only=True)
class Expectation:
    """What a metric is expected to be, and why: a published value or a derived bound.

    Give ``value`` (with ``tolerance`` or ``rel_tolerance``) for a published number, or
    ``le`` / ``ge`` for a bound; ``source`` cites where the value comes from, or
    ``derivation`` says how a bound was derived.
    """

    value: float = number("the published or derived value", default=math.nan)
    tolerance: float = number("allowed absolute difference from value", ge=0, default=math.nan)
    rel_tolerance: float = number("allowed relative difference from value", ge=0, default=math.nan)
    le: float = number("the metric must be at most this", default=math.nan)
    ge: float = number("the metric must be at least this", default=math.nan)
    unit: str = text("unit of the metric, for display", default="")
    source: str = text("citation of a published value (paper, table or figure)", default="")
    derivation: str = text("how the value or bound was derived", default="")

    def check(self) -> None:
        if all(math.isnan(x) for x in (self.value, self.le, self.ge)):
            raise CheckFailed("value", "give value (with tolerance or rel_tolerance), le or ge")
        if not self.source and not self.derivation:
            raise CheckFailed("source", "say where the expected value comes from (source or derivation)")

    def passed(self, measured: float) -> bool:
        """Whether ``measured`` meets this expectation (NaN never does)."""
        if math.isnan(measured):
            return False
        ok = True
        if not math.isnan(self.le):
            ok &= measured <= self.le
        if not math.isnan(self.ge):
            ok &= measured >= self.ge
        if not math.isnan(self.value):
            if not math.isnan(self.tolerance):
                ok &= abs(measured - self.value) <= self.tolerance
            if not math.isnan(self.rel_tolerance):
                ok &= abs(measured - self.value) <= self.rel_tolerance * abs(self.value)
        return bool(ok)
