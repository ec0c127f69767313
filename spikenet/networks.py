"""Networks assembled from a model card: the MNIST networks of Diehl & Cook (2015) and of
Querlioz et al. (2013).

The network runs a *schedule* of images by itself, so that a compiled Brian2 program can show
thousands of them without handing control back to Python:

* time is cut into slots of ``t_present + t_rest``; a one-neuron controller group ``ctrl``
  decides at the end of each presentation which image the next slot shows;
* an image is a row of the ``stimulus`` ``TimedArray`` (rates at intensity 1), indexed by the
  controller's ``example``; the inputs fire as Poisson processes at that rate times the
  controller's ``intensity`` while ``presenting``;
* the excitatory spikes of a presentation are counted into ``ctrl.count``; with fewer than
  ``min_spikes`` the same image is shown again in the next slot at a higher intensity
  (Diehl & Cook's rule), otherwise the next image follows;
* Diehl & Cook: at every slot start each excitatory neuron's input weights are scaled to sum
  ``w_sum`` by two ``run_regularly`` passes over the synapses (sum, then scale), the authors'
  normalisation. Querlioz et al.: at every slot start the membranes are reset and no earlier
  input spike counts for LTP; lateral inhibition is a synapse from each neuron to the others.

Everything that changes from one run to the next (the images, the weights and device states,
the thresholds, the learning switches, the random seed) is a variable that
:mod:`spikenet.engine` sets before a run: from Python in runtime mode, through ``run_args``
in a compiled program.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from brian2 import (
    EventMonitor,
    Hz,
    Network,
    NeuronGroup,
    Quantity,
    SpikeMonitor,
    Synapses,
    TimedArray,
    linked_var,
    second,
    volt,
)

from . import memristive
from .encoding import N_PIXELS
from .neurons import neuron_group
from .memristive.models import model_of
from .params.devices import IdealDeviceParams
from .params.networks import DiehlCookNetworkParams, QuerliozNetworkParams
from .plasticity import initialise, synapses

__all__ = [
    "ImageNetwork",
    "NetworkState",
    "Presentations",
    "build_network",
    "build_diehl_cook",
    "build_querlioz",
    "add_drift_compensation",
    "drift_reference",
    "device_on_simulated_clock",
    "initial_state",
    "input_rates",
    "receptive_fields",
]

_CONTROLLER = """
example : integer  # row of the stimulus table shown next
shown : integer  # row shown in the current slot
intensity : 1  # input intensity of the next showing
shown_intensity : 1  # input intensity of the current showing
repeats : integer  # how often the current image has been shown again
layer_spikes : 1  # excitatory spikes during the current presentation
presenting : 1  # 1 while an image is shown, 0 during the rest
accepted : 1  # 1 if the last presentation counted (enough spikes)
slot_start : second
rng_seed : integer  # seed of the compiled program's generator
"""

_INPUT = """
rate : Hz
next_spike : second  # this input's next spike: Poisson process drawn as geometric intervals of steps
example_now : integer (linked)
intensity_now : 1 (linked)
presenting_now : 1 (linked)
"""


@dataclass
class NetworkState:
    """What carries over from one run to the next, and what a checkpoint keeps.

    ``synapses`` holds, per input synapse, ``w``, ``delay`` (seconds; Diehl & Cook only) and the
    device's state (``t_prog`` counted from the start of the next run). ``theta`` is in the unit
    of the neuron template's threshold (volts for Diehl & Cook, weight units for Querlioz).
    """

    synapses: dict[str, np.ndarray]
    theta: np.ndarray
    intensity: float
    repeats: int = 0
    drift_ref: np.ndarray | None = None
    """Drift compensation's reference read per neuron (see :func:`add_drift_compensation`);
    ``None`` where the network has none, or until its first compensated run."""

    def arrays(self) -> dict[str, np.ndarray]:
        """Flat name -> array mapping for an ``.npz`` checkpoint."""
        out = {f"syn_{k}": v for k, v in self.synapses.items()}
        out.update(theta=self.theta, intensity=np.array(self.intensity), repeats=np.array(self.repeats))
        if self.drift_ref is not None:
            out["drift_ref"] = self.drift_ref
        return out

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> "NetworkState":
        syn = {k[4:]: np.asarray(v) for k, v in arrays.items() if k.startswith("syn_")}
        ref = np.asarray(arrays["drift_ref"]) if "drift_ref" in arrays else None
        return cls(syn, np.asarray(arrays["theta"]), float(arrays["intensity"]), int(arrays["repeats"]), ref)


@dataclass
class Presentations:
    """What a run showed: one entry per presentation that counted, in order.

    ``rows`` are stimulus rows (images of this run), ``responses`` the excitatory spike counts
    of each (rows x neurons), ``repeats`` how often each image was shown again first.
    """

    rows: np.ndarray
    responses: np.ndarray
    repeats: np.ndarray
    slots: int
    """Slots used in all, repeats included."""
    excitatory_spikes: int = 0
    input_spikes: int = 0


@dataclass
class ImageNetwork:
    """The Brian2 objects of a network that shows a table of images by itself, and how to set
    and read its state (``inh`` is ``None`` for Querlioz et al., which has no inhibitory layer)."""

    params: Any
    network: Network
    inputs: NeuronGroup
    exc: NeuronGroup
    inh: NeuronGroup | None
    ctrl: NeuronGroup
    input_synapses: Synapses
    stimulus: TimedArray
    exc_spikes: SpikeMonitor
    input_spikes: SpikeMonitor | None
    outcomes: EventMonitor
    slots: int
    carried: tuple[str, ...] = field(default=("w", "delay"))
    device: Any = None
    """Device parameters of the input synapses (``None``: ideal)."""

    @property
    def duration(self) -> Quantity:
        """Simulated time of one run: ``slots`` slots."""
        return self.slots * _slot(self.params["network"])

    def assignments(self, rows: np.ndarray, state: NetworkState, *, plastic: bool, seed: int) -> dict[Any, Any]:
        """Variable -> value for one run (``run_args`` of a compiled program, or set from Python).

        ``rows`` are the images of this run at intensity 1 (Hz, rows x 784); the stimulus table
        is padded with silent rows.
        """
        table = np.zeros(self.stimulus.values.shape)
        table[: len(rows)] = rows
        values: dict[Any, Any] = {
            self.stimulus: table * Hz,
            self.exc.theta: Quantity(state.theta, dim=self.exc.variables["theta"].dim),
            self.exc.adapt: float(plastic),
            self.input_synapses.plastic: float(plastic),
            self.ctrl.intensity: state.intensity,
            self.ctrl.repeats: state.repeats,
            self.ctrl.rng_seed: int(seed),
        }
        for name in self.carried:
            if name == "delay":
                continue  # fixed when the network is built
            unit = self.input_synapses.variables[name].dim
            values[getattr(self.input_synapses, name)] = Quantity(state.synapses[name], dim=unit)
        if "drift_ref" in self.exc.variables:
            ref = state.drift_ref if state.drift_ref is not None else drift_reference(self.device, state, self.params["plasticity"])
            values[self.exc.drift_ref] = np.asarray(ref, dtype=float)
        return values

    def read_state(self) -> NetworkState:
        """The state at the end of a run, as the next run starts from it."""
        syn = {name: np.array(getattr(self.input_synapses, name)[:], dtype=float) for name in self.carried}
        syn.setdefault("delay", np.zeros(len(syn["w"])))  # no delays: Brian2 keeps a single value
        if "t_prog" in syn:
            syn["t_prog"] = syn["t_prog"] - float(self.duration / second)
        ctrl = self.ctrl
        theta = np.array(self.exc.variables["theta"].get_value(), dtype=float)
        ref = np.array(self.exc.drift_ref[:], dtype=float) if "drift_ref" in self.exc.variables else None
        return NetworkState(syn, theta, float(ctrl.intensity[0]), int(ctrl.repeats[0]), ref)

    def read_presentations(self, n_rows: int) -> Presentations:
        """The presentations that counted, with each neuron's spike count during them."""
        shown = np.asarray(self.outcomes.shown[:], dtype=int)
        accepted = np.asarray(self.outcomes.accepted[:]) > 0.5
        start = np.asarray(self.outcomes.slot_start[:] / second)
        end = np.asarray(self.outcomes.t[:] / second)
        t = np.asarray(self.exc_spikes.t[:] / second)
        i = np.asarray(self.exc_spikes.i[:], dtype=int)
        n = self.exc.N
        # Each spike belongs to the last slot that started at or before it, if that slot's
        # presentation had not ended (rest spikes are not counted).
        slot = np.searchsorted(start, t, side="right") - 1
        inside = (slot >= 0) & (t <= end[np.clip(slot, 0, None)] + 1e-12)
        counts = np.zeros((len(start), n), dtype=np.int32)
        np.add.at(counts, (slot[inside], i[inside]), 1)
        counted = np.asarray(self.outcomes.layer_spikes[:])
        if not np.array_equal(counts.sum(axis=1), counted):
            raise RuntimeError("spike counts per presentation disagree with the controller's count: "
                               f"{counts.sum(axis=1)[:8]} vs {counted[:8]}")
        keep = accepted & (shown < n_rows)
        rows = shown[keep]
        repeats = np.bincount(shown[~accepted & (shown < n_rows)], minlength=n_rows + 1)[rows] if len(rows) else rows
        n_input = 0 if self.input_spikes is None else int(self.input_spikes.num_spikes)
        return Presentations(rows, counts[keep], np.asarray(repeats), int(np.sum(shown < n_rows)),
                             int(len(t)), n_input)


def _slot(net: DiehlCookNetworkParams) -> Quantity:
    return net.t_present + net.t_rest


def input_rates(net: Any, pixels: np.ndarray) -> np.ndarray:
    """Input rates (Hz, floats, at intensity 1) of 8-bit images (``0 .. 255``, rows x 784).

    Diehl & Cook: ``rate_per_pixel`` x pixel value. Querlioz et al.: linear in the pixel value
    ``p`` (0-1) from ``rate_min`` to ``rate_max``, and 0 below ``pixel_cutoff``.
    """
    pixels = np.asarray(pixels, dtype=float)
    if isinstance(net, QuerliozNetworkParams):
        p = pixels / 255.0
        lo, hi = float(net.rate_min / Hz), float(net.rate_max / Hz)
        return np.where(p >= net.pixel_cutoff, lo + (hi - lo) * p, 0.0) * (pixels > 0)
    return pixels * float(net.rate_per_pixel / Hz)


def initial_state(sections: dict[str, Any], rng: np.random.Generator, device: Any = None,
                  trained: NetworkState | None = None, write_verify: tuple[float, int] | None = None) -> NetworkState:
    """Initial weights, delays, thresholds, and each device's sampled state (``device``: its
    parameters; ``None`` for the ideal device).

    Weights: Diehl & Cook ((U[0, 1) + offset) x scale, delays U[0, delay_max)); Querlioz et al.
    (normal around ``w_init_mean``, relative spread ``w_init_spread``, clipped to the rule's bounds).

    ``trained``: start instead from a trained network's weights, delays and thresholds (one
    value per synapse: an ideal-device network), programmed onto ``device`` with
    ``write_verify = (tolerance, max_pulses)`` (see :func:`spikenet.memristive.initial_device_state`).

    Synapses are ordered as Brian2 connects them: input pixel, then neuron (a binary card's
    parallel devices are counts within a synapse).
    """
    net = sections["network"]
    rule = sections["plasticity"]
    device = device if device is not None else IdealDeviceParams()
    n_syn = N_PIXELS * net.n_exc
    if trained is None:
        if isinstance(net, QuerliozNetworkParams):
            w = rng.normal(net.w_init_mean, net.w_init_mean * net.w_init_spread, n_syn)
            w = np.clip(w, rule.w_min, rule.w_max)
        else:
            w = (rng.random(n_syn) + net.w_init_offset) * net.w_init_scale
        delay = rng.random(n_syn) * float(net.delay_max / second)
        theta = np.full(net.n_exc, float(np.asarray(sections["neuron"].theta_init)))
    else:
        if len(trained.synapses["w"]) != n_syn or len(trained.theta) != net.n_exc:
            raise ValueError(f"the trained network has {len(trained.theta)} neurons and "
                             f"{len(trained.synapses['w'])} input synapses; this one needs {net.n_exc} and {n_syn}")
        w = np.asarray(trained.synapses["w"], dtype=float)
        delay = np.asarray(trained.synapses["delay"], dtype=float)
        theta = np.asarray(trained.theta, dtype=float).copy()
    syn = memristive.initial_device_state(device, np.clip(w, rule.w_min, rule.w_max) if trained else w,
                                          rule.w_min, rule.w_max, rng, write_verify)
    syn["delay"] = delay
    return NetworkState(syn, theta, net.intensity, 0)


def receptive_fields(state: NetworkState, n_exc: int) -> np.ndarray:
    """Each neuron's input weights as an image: shape ``(n_exc, 28, 28)`` ."""
    w = np.asarray(state.synapses["w"], dtype=float)
    return w.reshape(N_PIXELS, n_exc).T.reshape(n_exc, 28, 28)


def _schedule(net: Any, state: NetworkState, rows: int, images: np.ndarray | None):
    """The controller (which image, at which intensity, repeat or not) and the Poisson inputs
    that show the stimulus table's rows; see the module docstring."""
    dt = net.dt
    slot = _slot(net)
    ns = {
        "t_present": net.t_present, "min_spikes": net.min_spikes, "max_repeats": net.max_repeats,
        "intensity_start": net.intensity, "intensity_step": net.intensity_step,
    }
    ctrl = NeuronGroup(1, _CONTROLLER, dt=dt, namespace=ns, name="ctrl",
                       events={"stimulus_off": "presenting > 0 and t >= slot_start + t_present - 0.5 * dt"})
    ctrl.run_on_event("stimulus_off", """
        accepted = int(layer_spikes >= min_spikes or repeats >= max_repeats)
        example += int(accepted)
        repeats = (1 - int(accepted)) * (repeats + 1)
        intensity = intensity_start + repeats * intensity_step
        presenting = 0
    """)
    ctrl.run_regularly("shown = example\nshown_intensity = intensity\nslot_start = t\nlayer_spikes = 0\npresenting = 1",
                       dt=slot, when="start", order=0, name="ctrl_slot_start")
    ctrl.intensity = state.intensity
    ctrl.repeats = state.repeats

    table = np.zeros((rows + 1, N_PIXELS))
    if images is not None:
        table[: len(images)] = images
    stimulus = TimedArray(table * Hz, dt=1 * second, name="stimulus")
    # Each input fires in a step with probability p = rate x dt, as Brian2's PoissonGroup does;
    # drawn here as the number of steps to the next spike (geometric: 1 + floor(ln U / ln(1 - p)))
    # whenever the input fires or its rate changes (at slot start), so that the program draws a
    # random number per spike instead of one per input and step (the geometric distribution is
    # memoryless, so redrawing when the rate changes is exact). t >= next_spike - dt / 2 absorbs
    # rounding in t + k dt. The draw is capped at 1e9 steps, i.e. never within a slot (a rate of 0
    # would give ~1e12; Brian2's numpy target computes floor() in int32, which that overflows).
    steps = "floor(clip(log(1 - rand()) / log(1 - clip(rate * dt, 1e-12, 1 - 1e-12)), 0, 1e9))"
    inputs = NeuronGroup(N_PIXELS, _INPUT, dt=dt, name="inputs", namespace={"stimulus": stimulus},
                         threshold="t >= next_spike - 0.5 * dt and presenting_now > 0",  # the rarely true test first
                         reset=f"next_spike = t + (1 + {steps}) * dt")
    index = np.zeros(N_PIXELS, dtype=int)
    inputs.example_now = linked_var(ctrl, "example", index=index)
    inputs.intensity_now = linked_var(ctrl, "intensity", index=index)
    inputs.presenting_now = linked_var(ctrl, "presenting", index=index)
    inputs.run_regularly(f"rate = stimulus(example_now * second, i) * intensity_now\nnext_spike = t + {steps} * dt",
                         dt=slot, when="start", order=1, name="inputs_slot_start")

    return ctrl, inputs, stimulus


def device_on_simulated_clock(device: Any, net: Any) -> Any:
    """``device`` with its drift law on the network's simulated clock.

    A device drifts with physical time, G(t) = G_prog ((t_phys + t0) / t0)^-nu; a network whose
    simulated second stands for ``hardware_time_scale`` physical seconds (CEA N2D2 runs the
    network of Querlioz et al. 10^6 times faster than its card's times) sees the same law with
    ``t0 / hardware_time_scale`` in simulated time. Devices that do not drift, and networks in
    real time, are returned unchanged.
    """
    scale = getattr(net, "hardware_time_scale", 1.0)
    if device is None or scale == 1.0 or getattr(device, "drift_nu", 0.0) <= 0:
        return device
    return dataclasses.replace(device, drift_t0=device.drift_t0 / scale)


def build_network(sections: dict[str, Any], state: NetworkState, **kwargs: Any) -> "ImageNetwork":
    """The network of a model card's ``[network]`` kind (``diehl_cook`` or ``querlioz``); keyword
    arguments as :func:`build_diehl_cook`."""
    if isinstance(sections["network"], QuerliozNetworkParams):
        return build_querlioz(sections, state, **kwargs)
    return build_diehl_cook(sections, state, **kwargs)


def build_diehl_cook(
    sections: dict[str, Any],
    state: NetworkState,
    *,
    rows: int,
    slots: int,
    device: Any = None,
    record_inputs: bool = False,
    images: np.ndarray | None = None,
    drift_compensation: bool = False,
) -> ImageNetwork:
    """Assemble the network of Diehl & Cook (2015) from a card's sections.

    Parameters
    ----------
    sections
        ``network``, ``neuron`` (excitatory), ``inhibitory`` and ``plasticity`` parameters.
    state
        Initial weights, delays, thresholds and device states (:func:`initial_state`).
    rows
        Images per run (the stimulus table has one more, silent, row).
    slots
        Presentation slots per run.
    device
        Device parameters of the input synapses (``None``: ideal).
    record_inputs
        Also count input spikes (for the synaptic-event and energy estimates).
    images
        The images of the run (rates at intensity 1, Hz, rows x 784), for runtime mode, where
        the stimulus table is fixed when the network is built; a compiled program gets them
        through :meth:`ImageNetwork.assignments`.
    drift_compensation
        Compensate the drift of the input synapses' devices per neuron while learning is frozen
        (:func:`add_drift_compensation`); nothing changes for a device that does not drift.
    """
    net: DiehlCookNetworkParams = sections["network"]
    dt = net.dt
    n = net.n_exc
    device = device_on_simulated_clock(device, net)
    ctrl, inputs, stimulus = _schedule(net, state, rows, images)

    normalise = net.w_sum > 0
    compensate = _compensates(device, drift_compensation)
    extra = ("wsum : 1\n" if normalise else "") + (_COMPENSATION if compensate else "")
    exc = neuron_group(sections["neuron"], n, dt=dt, name="exc", extra=extra)
    inh = neuron_group(sections["inhibitory"], n, dt=dt, name="inh")
    exc.v = sections["neuron"].v_rest - net.v_init_offset
    inh.v = sections["inhibitory"].v_rest - net.v_init_offset
    exc.theta = state.theta * volt

    exc_inh = Synapses(exc, inh, on_pre="ge_post += w_exc_inh", namespace={"w_exc_inh": net.w_exc_inh},
                       dt=dt, name="exc_inh")
    exc_inh.connect(j="i")
    inh_exc = Synapses(inh, exc, on_pre="gi_post += w_inh_exc", namespace={"w_inh_exc": net.w_inh_exc},
                       dt=dt, name="inh_exc")
    if net.inhibition == "all_but_self":
        inh_exc.connect(condition="i != j")
    counter = Synapses(exc, ctrl, on_pre="layer_spikes_post += 1", dt=dt, name="spike_counter")
    counter.connect(i=np.arange(n), j=np.zeros(n, dtype=int))

    syn, dev = _input_synapses(sections, inputs, exc, state, device, target="ge", compensate=compensate)
    if normalise:
        _add_normalisation(syn, exc, net, ideal=device is None or model_of(device).exact,
                           update=dev.update)
    if compensate:
        add_drift_compensation(syn, exc, dev, _slot(net))
    return _assemble(sections, [ctrl, inputs, exc, inh, exc_inh, inh_exc, counter], inputs, exc, inh, ctrl, syn,
                     stimulus, slots, record_inputs, ("w", "delay") + dev.state, device)


def build_querlioz(
    sections: dict[str, Any],
    state: NetworkState,
    *,
    rows: int,
    slots: int,
    device: Any = None,
    record_inputs: bool = False,
    images: np.ndarray | None = None,
    drift_compensation: bool = False,
) -> ImageNetwork:
    """Assemble the memristive-synapse network of Querlioz et al. (2013) from a card's sections.

    ``network`` (:class:`~spikenet.params.networks.QuerliozNetworkParams`), ``neuron`` (template
    ``lif_homeostatic``) and ``plasticity`` (rule ``querlioz``); other arguments as
    :func:`build_diehl_cook`. Each input spike adds its weight to the output neuron's ``v``;
    the first neuron to reach threshold resets and inhibits all others for ``t_inhibit``.
    """
    net: QuerliozNetworkParams = sections["network"]
    dt = net.dt
    n = net.n_exc
    device = device_on_simulated_clock(device, net)
    ctrl, inputs, stimulus = _schedule(net, state, rows, images)
    compensate = _compensates(device, drift_compensation)
    exc = neuron_group(sections["neuron"], n, dt=dt, name="exc", extra=_COMPENSATION if compensate else "")
    exc.theta = state.theta
    # Lateral inhibition: the winner resets the others and blocks them for t_inhibit (a block
    # already longer, e.g. a refractory period, is kept). The winner reaches itself too, for the
    # homeostasis: every threshold gives up theta_plus / n of the winner's rise.
    share = sections["neuron"].theta_plus / n if net.homeostasis == "layer_mean" else 0.0
    wta = Synapses(exc, exc, on_pre="""
        theta_post -= adapt_post * theta_share
        other = int(i != j)
        v_post = v_post * (1 - other)
        t_block_post = clip(t_block_post, t + other * t_inhibit, t_block_post + t + t_inhibit)
        """, namespace={"t_inhibit": net.t_inhibit, "theta_share": share}, dt=dt, name="lateral_inhibition")
    wta.connect()
    counter = Synapses(exc, ctrl, on_pre="layer_spikes_post += 1", dt=dt, name="spike_counter")
    counter.connect(i=np.arange(n), j=np.zeros(n, dtype=int))
    # Every image starts afresh: membranes at 0, no block, no input spike recent enough for LTP.
    slot = _slot(net)
    exc.run_regularly("v = 0\nt_block = t", dt=slot, when="start", order=2, name="exc_slot_start")
    syn, dev = _input_synapses(sections, inputs, exc, state, device, target="v", compensate=compensate)
    syn.run_regularly("t_lastpre = t - 2 * t_ltp - 1 * second", dt=slot, when="start", order=3,
                      name="input_slot_start")
    if compensate:
        add_drift_compensation(syn, exc, dev, slot)
    carried = (("w", "delay") if net.delay_max > 0 * second else ("w",)) + dev.state
    return _assemble(sections, [ctrl, inputs, exc, wta, counter], inputs, exc, None, ctrl, syn, stimulus, slots,
                     record_inputs, carried, device)


def _input_synapses(sections: dict[str, Any], inputs: NeuronGroup, exc: NeuronGroup, state: NetworkState,
                    device: Any, target: str, compensate: bool = False) -> tuple[Synapses, Any]:
    """The plastic input synapses (one per pixel and neuron), set to ``state``."""
    device = device if device is not None else IdealDeviceParams()
    # the same code as the synapses' own (cached drifted reads): the normalisation's pulses then
    # set a programmed device's read to its new weight, as an STDP pulse does
    dev = memristive.brian2_device(device, cached_drift=True)
    syn = synapses(inputs, exc, sections["plasticity"], device=device, target=target, connect=False,
                   dt=sections["network"].dt, name="input_synapses", drift_gain="drift_gain" if compensate else None,
                   drift_refresh=_slot(sections["network"]))
    syn.connect()
    # The switches and spike times; weights and device states come from `state` (a compiled
    # program cannot read values back before it has run, so nothing is sampled here).
    initialise(syn, sections["plasticity"], IdealDeviceParams(), 0.0)
    syn.w = state.synapses["w"]
    if np.any(state.synapses["delay"]):  # no delays: Brian2's cheaper homogeneous spike queue
        syn.delay = state.synapses["delay"] * second
    for name in dev.state:
        setattr(syn, name, Quantity(state.synapses[name], dim=syn.variables[name].dim))
    return syn, dev


def _assemble(sections, objects, inputs, exc, inh, ctrl, syn, stimulus, slots, record_inputs,
              carried, device) -> ImageNetwork:
    """The monitors every image network has, and the network of all objects."""
    exc_spikes = SpikeMonitor(exc, name="exc_spikes")
    input_spikes = SpikeMonitor(inputs, record=False, name="input_spikes") if record_inputs else None
    outcomes = EventMonitor(ctrl, "stimulus_off", variables=["shown", "shown_intensity", "layer_spikes", "accepted",
                                                             "slot_start"],
                            when="after_resets", name="outcomes")
    objects = objects + [syn, exc_spikes, outcomes] + ([input_spikes] if input_spikes is not None else [])
    return ImageNetwork(sections, Network(*objects), inputs, exc, inh, ctrl, syn, stimulus, exc_spikes,
                        input_spikes, outcomes, slots, carried, device)


def _add_normalisation(syn: Synapses, exc: NeuronGroup, net: DiehlCookNetworkParams, *, ideal: bool, update) -> None:
    """Scale each neuron's input weights to sum ``w_sum`` at every slot start (while learning).

    Two passes over the synapses (sum, then scale) in ``run_regularly`` operations, because a
    compiled program cannot hand the weights to Python between images. With the ideal device
    the weights are scaled exactly (the authors' code does not clip here); with a memristive
    device the scaling is a requested change that the device carries out in pulses.
    """
    slot = _slot(net)
    exc.run_regularly("wsum = 0", dt=slot, when="start", order=2, name="exc_wsum_reset")
    syn.run_regularly("wsum_post += w", dt=slot, when="start", order=3, name="input_wsum")
    factor = "(w_sum / clip(wsum_post, 1e-9, 1e30) - 1)"
    code = f"w = w + plastic * w * {factor}" if ideal else update(f"plastic * w * {factor}")
    syn.run_regularly(code, dt=slot, when="start", order=4, name="input_normalise")
    syn.namespace["w_sum"] = net.w_sum


_COMPENSATION = """
drift_ref : 1  # reference read of this neuron's input devices (sum of |signal|), taken while learning
drift_now : 1  # the same read at the start of the current slot
drift_gain : 1  # drift_ref / drift_now: the factor each read's signal is multiplied by
"""


def _compensates(device: Any, requested: bool) -> bool:
    return bool(requested) and device is not None and getattr(device, "drift_nu", 0.0) > 0


def add_drift_compensation(syn: Synapses, exc: NeuronGroup, dev: memristive.Brian2Device, slot: Quantity) -> None:
    """Per-neuron drift compensation of the input devices, re-calibrated at every slot start.

    The scheme of aihwkit's ``PerColumnDriftCompensation`` (IBM, ``inference/compensation/drift.py``):
    a calibration read of every device of a column (here: a neuron's input synapses) gives
    ``drift_now``, the sum of the magnitudes of their read signals (a pair's G+ - G-, a single
    device's G), and every read of that column is multiplied by ``drift_ref / drift_now``.
    While learning (``adapt = 1``) the reference follows the devices (``drift_ref = drift_now``,
    gain 1): the learning rule sees the devices as they are. When learning is frozen the reference
    keeps the last read taken while learning (for a transferred network: the read just after
    programming), so that drift during a long evaluation no longer scales the weights down.
    The exponents vary from device to device (``drift_nu_std``), so the compensation is exact
    only on average. The calibration read has no read noise (it is the mean of many reads).

    ``exc`` needs the variables of ``_COMPENSATION``; ``syn`` must read through ``drift_gain_post``
    (:func:`spikenet.plasticity.synapses` with ``drift_gain="drift_gain"``). Three passes at each
    slot start, after the weight normalisation (orders 5-7).
    """
    exc.drift_gain = 1.0
    exc.run_regularly("drift_now = 0", dt=slot, when="start", order=5, name="exc_drift_reset")
    syn.run_regularly(f"drift_now_post += {dev.signal}", dt=slot, when="start", order=6, name="input_drift_read")
    exc.run_regularly("drift_ref = adapt * drift_now + (1 - adapt) * drift_ref\n"
                      "drift_gain = drift_ref / clip(drift_now, 1e-12, 1e30)",
                      dt=slot, when="start", order=7, name="exc_drift_gain")


def drift_reference(device: Any, state: NetworkState, rule: Any, t: float = 0.0) -> np.ndarray:
    """Each neuron's calibration read (sum over its input devices of |read signal|) at time ``t``
    of the next run, in NumPy: the reference of a network whose state has none yet.

    ``rule``: the learning rule's parameters, whose ``[w_min, w_max]`` the devices' conductances
    map onto (the state holds the weights, not the normalised conductances)."""
    syn = state.synapses
    x = (syn["w"] - rule.w_min) / (rule.w_max - rule.w_min)
    # a variable the card does not spread is not stored (memristive.brian2_code._Variable)
    x = memristive.drifted(device, x, t - syn.get("t_prog", 0.0), syn.get("nu_dev", device.drift_nu))
    return np.abs(memristive.read_signal(device, x)).reshape(N_PIXELS, -1).sum(axis=0)
