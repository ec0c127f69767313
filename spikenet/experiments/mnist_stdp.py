"""Unsupervised MNIST learning with STDP (Diehl & Cook 2015; Querlioz et al. 2013), on any device card.

Three phases, each a sequence of runs of the network (:mod:`spikenet.networks`) through an
engine (:mod:`spikenet.engine`): ``train`` (plasticity and threshold adaptation on), ``assign``
(frozen; each neuron takes the class it responds to most) and ``test`` (frozen; classified by
the assigned neurons). A checkpoint is written after every run, so an interrupted run continues
with ``spikenet run --resume RUN_DIR`` and ends exactly as an uninterrupted one would.
"""

from __future__ import annotations

import copy
import resource
import time
from pathlib import Path
from typing import Any

import numpy as np
from brian2 import joule, second
from spikenet.progress import progress_bar

from .. import figures as fig
from ..catalog import load_card
from ..datasets import load_dataset
from ..engine import CompiledEngine, RuntimeEngine, present
from ..learning import assign_labels, classify, evaluate
from ..networks import (NetworkState, build_network, device_on_simulated_clock, drift_reference, initial_state,
                        input_rates, receptive_fields)
from ..errors import CardError, RunDirError
from .. import faults
from ..runs import RunDir, atomic_save_npz, load_checkpoint, open_run_dir, read_csv, save_checkpoint, write_csv
from ..memristive.models import model_of
from ..params.devices import IdealDeviceParams
from ..params.experiments import MnistStdpProtocol
from ..running import Contract

METRICS = (
    "test_accuracy",
    "no_answer_fraction",
    "train_accuracy_last",
    "seconds_per_example",
    "training_seconds",
    "compile_seconds",
    "repeat_fraction",
    "excitatory_spikes_per_example",
    "input_spikes_per_example",
    "synaptic_events_per_example",
    "energy_per_inference_pj",
    "programming_pulses_per_synapse",
    "drift_gain_mean",
    "training_energy_pj",
    "peak_memory_mib",
)
CONTRACT = Contract(protocol=MnistStdpProtocol, metrics=METRICS, uses_device=True, resumable=True, needs=("mnist",))
"""Writes a checkpoint after every run of the network; ``spikenet run --resume RUN_DIR`` continues."""

PHASES = ("train", "assign", "test")
TRAINED = "trained_"
"""Prefix of the checkpoint arrays that keep the network state at the end of training."""


class _Images:
    """A phase's images as rates (Hz at intensity 1), made chunk by chunk from the 8-bit images,
    so that three epochs of MNIST take no more memory than one (N.B. 60,000 images as float64
    rates would be 376 MB per epoch)."""

    def __init__(self, images: np.ndarray, order: np.ndarray, net):
        self.images = images.reshape(len(images), -1)
        self.order = order
        self.net = net

    def __len__(self) -> int:
        return len(self.order)

    def __getitem__(self, part: slice) -> np.ndarray:
        return input_rates(self.net, self.images[self.order[part]])


def _phase_data(card) -> dict[str, tuple[_Images, np.ndarray]]:
    """Images (rates at intensity 1, Hz, made on demand) and labels of each phase."""
    proto, net = card["protocol"], card["network"]
    train, test = load_dataset(proto.dataset, "train"), load_dataset(proto.dataset, "test")
    order = np.arange(proto.epochs * proto.n_train) % proto.n_train
    return {
        "train": (_Images(train.images, order, net), train.labels[order]),
        "assign": (_Images(train.images, np.arange(proto.n_assign), net), train.labels[: proto.n_assign]),
        "test": (_Images(test.images, np.arange(proto.n_test), net), test.labels[: proto.n_test]),
    }


class _Progress:
    """Everything a checkpoint holds besides the network state, with its array form."""

    def __init__(self, card):
        n = card["network"].n_exc
        proto = card["protocol"]
        self.phase = 0
        self.position = 0
        self.run_index = 0
        self.seconds = {p: 0.0 for p in PHASES}
        self.responses = {"assign": np.zeros((proto.n_assign, n), np.int16),
                          "test": np.zeros((proto.n_test, n), np.int16)}
        self.window = np.zeros((0, n), np.int16)  # recent training responses, for the running accuracy
        self.window_labels = np.zeros(0, np.int64)
        self.log = {k: [] for k in ("examples", "running_accuracy", "seconds", "slots", "excitatory_spikes",
                                    "input_spikes")}
        self.counters = {p: {"slots": 0, "examples": 0, "excitatory_spikes": 0, "input_spikes": 0} for p in PHASES}
        self.snapshots: list[np.ndarray] = []
        self.trained: dict[str, np.ndarray] | None = None
        """The network state at the end of training (before ``t_read``), for runs that start from it."""

    def arrays(self) -> dict[str, np.ndarray]:
        out = {f"responses_{k}": v for k, v in self.responses.items()}
        out.update(window=self.window, window_labels=self.window_labels)
        out.update({f"log_{k}": np.asarray(v, float) for k, v in self.log.items()})
        if self.snapshots:
            out["snapshots"] = np.stack(self.snapshots)
        if self.trained is not None:
            out.update({f"{TRAINED}{k}": v for k, v in self.trained.items()})
        return out

    def meta(self) -> dict[str, Any]:
        return {"phase": PHASES[self.phase] if self.phase < len(PHASES) else "done", "phase_index": self.phase,
                "position": self.position, "run_index": self.run_index, "seconds": self.seconds,
                "counters": self.counters}

    def restore(self, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
        self.phase, self.position, self.run_index = meta["phase_index"], meta["position"], meta["run_index"]
        self.seconds, self.counters = meta["seconds"], meta["counters"]
        for k in self.responses:
            self.responses[k] = arrays[f"responses_{k}"]
        self.window, self.window_labels = arrays["window"], arrays["window_labels"]
        self.log = {k: list(arrays[f"log_{k}"]) for k in self.log}
        self.snapshots = list(arrays["snapshots"]) if "snapshots" in arrays else []
        self.trained = _prefixed(arrays, TRAINED) or None


def _engine(card, run: RunDir, state: NetworkState, rows: int):
    sections, device = card.sections, card.sections.get("device")

    compensate = card["protocol"].drift_compensation == "per_neuron"

    def build(state, images=None):
        return build_network(sections, state, rows=rows, slots=rows, device=device, images=images,
                             record_inputs=True, drift_compensation=compensate)

    if card["protocol"].engine == "runtime":
        return RuntimeEngine(build)
    return CompiledEngine(build, state, run.path / "build")


def simulate(card, run: RunDir, log, progress: bool) -> dict[str, Any]:
    proto, net = card["protocol"], card["network"]
    seed = card["experiment"].seed
    data = _phase_data(card)
    prog = _Progress(card)
    checkpoint = load_checkpoint(run)
    if checkpoint is None:
        trained, write_verify = _trained(card)
        if trained is not None and write_verify is None:
            state = trained  # trained on these devices: they are read as they are
            log.info("starting from the devices of the trained network in %s", proto.weights_from)
        else:
            state = initial_state(card.sections, np.random.default_rng([seed, 1]), card.sections.get("device"),
                                  trained, write_verify)
            if trained is not None:
                log.info("starting from the trained network in %s, programmed onto the devices", proto.weights_from)
    else:
        arrays, meta = checkpoint
        state = _restore(card, arrays, meta, prog)
        log.info("resumed from checkpoint %d: phase %s, image %d", meta["number"], meta["phase"], meta["position"])

    total = sum(len(data[p][0]) for p in PHASES)
    done_before = sum(len(data[p][0]) for p in PHASES[: prog.phase]) + prog.position
    bar = progress_bar(total=total, initial=done_before, unit="img", desc=PHASES[min(prog.phase, 2)], disable=not progress,
               dynamic_ncols=True)
    snapshot_every = max(1, len(data["train"][0]) // proto.snapshots) if proto.snapshots else 0
    started = time.perf_counter()
    engine = None
    try:
        if prog.phase < len(PHASES):
            engine = _engine(card, run, state, min(proto.chunk, max(len(d[0]) for d in data.values())))
            compile_seconds = time.perf_counter() - started
            prog.seconds["compile"] = prog.seconds.get("compile", 0.0) + compile_seconds
            log.info("engine %s ready in %.1f s", proto.engine, compile_seconds)
        while prog.phase < len(PHASES):
            phase = PHASES[prog.phase]
            faults.moment(f"phase_{phase}")
            images, labels = data[phase]
            t0 = time.perf_counter()
            fresh = _fresh(net)
            # present() started from the state given here and yields each run's new state.
            for position, shown, state, run_index in present(  # noqa: B020
                engine, images, state, plastic=phase == "train", chunk=proto.chunk, seed=seed,
                phase=prog.phase, start=prog.position, run_index=prog.run_index, fresh=fresh,
            ):
                k = len(shown.rows)
                _record(prog, phase, position, shown, labels, proto, snapshot_every, state, net.n_exc)
                prog.position, prog.run_index = position + k, run_index
                now = time.perf_counter()
                prog.seconds[phase] += now - t0
                t0 = now
                _checkpoint(run, state, prog)
                bar.update(k)
                bar.set_description(phase)
                if phase == "train" and prog.log["running_accuracy"]:
                    bar.set_postfix(acc=f"{prog.log['running_accuracy'][-1]:.3f}")
            prog.phase, prog.position, prog.run_index = prog.phase + 1, 0, 0
            state = fresh(state)
            if phase == "train":
                prog.trained = copy.deepcopy(state.arrays())
                state = _retention(card, state)
            _checkpoint(run, state, prog)
            log.info("phase %s done in %.1f s", phase, prog.seconds[phase])
    finally:
        bar.close()
        if engine is not None:
            engine.close()
    return _finish(card, run, prog, state, data)


def _restore(card, arrays, meta, prog: _Progress) -> NetworkState:
    """The network state and the progress a checkpoint holds (a missing key: RunDirError)."""
    state = _prefixed(arrays, "state_")
    for key in ("theta", "intensity", "repeats", "syn_w"):
        if key not in state:
            arrays[f"state_{key}"]  # CheckpointData: raises RunDirError naming the file and key
    prog.restore(arrays, meta)
    return NetworkState.from_arrays(state)


def check_checkpoint(card, arrays, meta) -> None:
    """Read a checkpoint as a resume would (before the resumed run writes anything)."""
    _restore(card, arrays, meta, _Progress(card))


def _trained(card) -> tuple[NetworkState | None, tuple[float, int] | None]:
    """The trained network ``protocol.weights_from`` names, and the write-verify settings; or ``(None, None)``."""
    proto = card["protocol"]
    if not proto.weights_from:
        return None, None
    where = f"{card.path}: protocol.weights_from = {proto.weights_from!r}"
    try:
        source = open_run_dir(proto.weights_from)
        info = source.read_info()
        saved = load_checkpoint(source)
    except RunDirError as exc:
        raise CardError(f"{where}: {exc}") from None
    if info.get("kind") != "mnist_stdp" or info.get("status") != "complete" or saved is None:
        raise CardError(f"{where}: not a complete mnist_stdp run")
    arrays, _ = saved
    trained = NetworkState.from_arrays(_prefixed(arrays, TRAINED) or _prefixed(arrays, "state_"))
    if len(trained.theta) != card["network"].n_exc:
        raise CardError(f"{where}: it has {len(trained.theta)} excitatory neurons, this card {card['network'].n_exc}")
    if set(trained.synapses) - {"delay"} == {"w"}:
        return trained, (proto.program_tolerance, proto.program_max_pulses)
    # Trained on devices: the same devices, as they were at the end of training, not reprogrammed.
    there = load_card(source.card, "experiments")
    device, net = card.sections.get("device"), card["network"]
    if there.sections.get("device") != device:
        raise CardError(f"{where}: its weights are stored in device {there['experiment'].device!r} (with its "
                        f"values); this card's is {card['experiment'].device!r}: give a run on the ideal device "
                        "(to program its weights) or one on the same device card (to read its devices)")
    if there["network"].hardware_time_scale != net.hardware_time_scale:
        raise CardError(f"{where}: network.hardware_time_scale is {there['network'].hardware_time_scale} there, "
                        f"{net.hardware_time_scale} here: its devices' programming times would be misread")
    if TRAINED + "theta" not in arrays:
        raise CardError(f"{where}: it keeps no state from the end of its training (made by an older spikenet); "
                        "run it again")
    return trained, None


def _retention(card, state: NetworkState) -> NetworkState:
    """The state after ``protocol.t_read`` of physical time without programming: every device
    was programmed that much earlier (``t_prog`` counts simulated time from the next run).

    A drift compensation keeps the reference it took while learning; a network that has none
    yet (trained elsewhere and transferred) takes it now, before the devices drift.
    """
    t_read = float(card["protocol"].t_read / second)
    if t_read == 0 or "t_prog" not in state.synapses:
        return state
    net = card["network"]
    if card["protocol"].drift_compensation == "per_neuron" and state.drift_ref is None:
        device = device_on_simulated_clock(card.sections.get("device"), net)
        state.drift_ref = drift_reference(device, state, card["plasticity"])
    state.synapses["t_prog"] = state.synapses["t_prog"] - t_read / net.hardware_time_scale
    return state


def _prefixed(arrays: dict[str, np.ndarray], prefix: str) -> dict[str, np.ndarray]:
    return {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}


def _checkpoint(run: RunDir, state: NetworkState, prog: _Progress) -> None:
    """The network state (arrays prefixed ``state_``) and the progress, as one checkpoint."""
    save_checkpoint(run, {**{f"state_{k}": v for k, v in state.arrays().items()}, **prog.arrays()}, prog.meta())


def _fresh(net):
    def fresh(state: NetworkState) -> NetworkState:
        state.intensity, state.repeats = net.intensity, 0
        return state

    return fresh


def _record(prog: _Progress, phase: str, position: int, shown, labels, proto, snapshot_every: int, state,
            n_exc: int) -> None:
    k = len(shown.rows)
    c = prog.counters[phase]
    c["slots"] += shown.slots
    c["examples"] += k
    c["excitatory_spikes"] += shown.excitatory_spikes
    c["input_spikes"] += shown.input_spikes
    if phase in prog.responses:
        prog.responses[phase][position: position + k] = shown.responses
        return
    run_labels = labels[position: position + k]
    if len(prog.window_labels) >= 10 * 10:  # enough examples to assign a class to most neurons
        predicted = classify(shown.responses, assign_labels(prog.window, prog.window_labels))
        accuracy = float(np.mean(predicted == run_labels)) if k else float("nan")
    else:
        accuracy = float("nan")
    prog.window = np.concatenate([prog.window, shown.responses.astype(np.int16)])[-proto.accuracy_window:]
    prog.window_labels = np.concatenate([prog.window_labels, run_labels])[-proto.accuracy_window:]
    for key, value in (("examples", position + k), ("running_accuracy", accuracy), ("seconds", prog.seconds["train"]),
                       ("slots", shown.slots), ("excitatory_spikes", shown.excitatory_spikes),
                       ("input_spikes", shown.input_spikes)):
        prog.log[key].append(value)
    if snapshot_every and (position + k) // snapshot_every > position // snapshot_every:
        prog.snapshots.append(receptive_fields(state, n_exc).astype(np.float32))


def _finish(card, run: RunDir, prog: _Progress, state: NetworkState, data) -> dict[str, Any]:
    net = card["network"]
    assign_labels_ = data["assign"][1]
    assignments = assign_labels(prog.responses["assign"], assign_labels_)
    test_labels = data["test"][1]
    predictions = classify(prog.responses["test"], assignments)
    result = evaluate(test_labels, predictions)
    fields = receptive_fields(state, net.n_exc)
    atomic_save_npz(run.path / "final_state.npz", receptive_fields=fields, theta=state.theta,
                    assignments=assignments)
    run.figures.mkdir(exist_ok=True)
    write_csv(run.figures / "training_accuracy.csv", prog.log)
    flat = fields.reshape(net.n_exc, -1)
    write_csv(run.figures / "receptive_fields.csv",
              {"neuron": np.arange(net.n_exc), **{f"pixel_{k}": flat[:, k] for k in range(flat.shape[1])}})
    counts, edges = np.histogram(state.synapses["w"], bins=50, range=(card["plasticity"].w_min, card["plasticity"].w_max))
    write_csv(run.figures / "weight_histogram.csv", {"w_low": edges[:-1], "w_high": edges[1:], "synapses": counts})
    theta = {"theta_mV": state.theta * 1e3} if net.KIND == "diehl_cook" else {"theta": state.theta}
    write_csv(run.figures / "thresholds.csv", {"neuron": np.arange(net.n_exc), **theta, "assigned_class": assignments})
    write_csv(run.figures / "confusion.csv", fig.confusion_columns(result["confusion_matrix"]))
    write_csv(run.figures / "test_accuracy_blocks.csv", _blocks(predictions, test_labels))
    if prog.snapshots:
        atomic_save_npz(run.figures / "receptive_fields_history.npz", snapshots=np.stack(prog.snapshots))

    test = prog.counters["test"]
    train = prog.counters["train"]
    n_test = max(test["examples"], 1)
    device = card.sections.get("device")
    copies = model_of(device if device is not None else IdealDeviceParams()).devices_per_synapse  # read per spike
    input_per = test["input_spikes"] / n_test
    events = input_per * net.n_exc + test["excitatory_spikes"] / n_test * (net.n_exc + 1)
    # Running accuracy over the last accuracy_window training images (each run weighted by its
    # images, so that a short last run does not decide it).
    ends = np.asarray(prog.log["examples"], float)
    sizes = np.diff(np.concatenate([[0.0], ends]))
    accs = np.asarray(prog.log["running_accuracy"], float)
    recent = (ends > (ends[-1] if len(ends) else 0) - card["protocol"].accuracy_window) & ~np.isnan(accs)
    train_last = float(np.average(accs[recent], weights=sizes[recent])) if recent.any() else float("nan")
    ltp = float(np.sum(state.synapses.get("pulses_ltp", 0.0)))
    ltd = float(np.sum(state.synapses.get("pulses_ltd", 0.0)))
    pulses = ltp + ltd if "pulses_ltp" in state.synapses else float("nan")
    return {
        "test_accuracy": result["accuracy"],
        "no_answer_fraction": result["no_answer_fraction"],
        "per_class_accuracy": result["per_class_accuracy"],
        "confusion_matrix": result["confusion_matrix"],
        "train_accuracy_last": train_last,
        "seconds_per_example": ((prog.seconds["train"] + prog.seconds.get("compile", 0.0)) / train["examples"]
                                if train["examples"] else float("nan")),
        "training_seconds": prog.seconds["train"],
        "compile_seconds": prog.seconds.get("compile", 0.0),
        "phase_seconds": {p: prog.seconds[p] for p in PHASES},
        "repeat_fraction": 1 - train["examples"] / train["slots"] if train["slots"] else float("nan"),
        "excitatory_spikes_per_example": test["excitatory_spikes"] / n_test,
        "input_spikes_per_example": input_per,
        "synaptic_events_per_example": events,
        "energy_per_inference_pj": _energy(device, "energy_read", input_per * net.n_exc * copies),
        "programming_pulses_per_synapse": pulses / max(len(state.synapses["w"]), 1),
        "training_energy_pj": _energy(device, "energy_ltp", ltp) + _energy(device, "energy_ltd", ltd),
        # The compiled program is a child process: the larger of the two peaks (resident, MiB).
        "peak_memory_mib": max(resource.getrusage(who).ru_maxrss for who in
                               (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)) / 1024,
        "assigned_neurons": int(np.sum(assignments >= 0)),
        "drift_gain_mean": _drift_gain(device_on_simulated_clock(device, net), state, card["plasticity"]),
    }


MNIST_TEST_HALF = 5000
"""Images 0-4,999 of the MNIST test set were written by other people than images 5,000-9,999."""


def _blocks(predictions: np.ndarray, labels: np.ndarray, blocks: int = 10) -> dict[str, np.ndarray]:
    """Test accuracy in consecutive blocks of the test images (in the order shown): a decline
    along the test set is the devices changing while learning is frozen (drift)."""
    edges = np.linspace(0, len(labels), min(blocks, len(labels)) + 1).astype(int)
    right = predictions == labels
    return {"first": edges[:-1], "last": edges[1:] - 1,
            "accuracy": np.array([right[a:b].mean() for a, b in zip(edges[:-1], edges[1:])])}


def _drift_gain(device, state: NetworkState, rule) -> float:
    """Mean over neurons of the drift compensation's gain at the end of the run (NaN: none)."""
    if state.drift_ref is None:
        return float("nan")
    return float(np.mean(state.drift_ref / np.clip(drift_reference(device, state, rule), 1e-12, None)))


def _energy(device, key: str, count: float) -> float:
    """``count`` reads or pulses times the device card's energy per event (NaN if the card gives none)."""
    energy = getattr(device, key, None)
    if energy is None or float(energy / joule) == 0:
        return float("nan")
    return float(count * energy / joule) * 1e12


def draw(run: RunDir) -> list[Path]:
    paths = []
    table = read_csv(run.figures / "receptive_fields.csv")
    fields = np.stack([table[f"pixel_{k}"] for k in range(784)], axis=1).reshape(-1, 28, 28)
    n = len(fields)
    cols = int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    with fig.style():
        from spikenet.figures import subplots

        figure, axes = subplots(rows, cols, figsize=(min(12, cols * 0.6 + 1), min(12, rows * 0.6 + 1)),
                                    squeeze=False)
        vmax = float(np.percentile(fields, 99.5)) or 1.0
        image = None
        for k, ax in enumerate(axes.flat):
            ax.axis("off")
            if k < n:
                image = ax.imshow(fields[k], cmap="hot_r", vmin=0, vmax=vmax, interpolation="nearest")
        figure.colorbar(image, ax=list(axes.flat), shrink=0.5, pad=0.02, label="weight w")
        figure.suptitle(f"Receptive fields: input weights of the {n} excitatory neurons\n"
                        "(colour scale up to the 99.5th percentile of all weights)", fontsize=9)
        paths.append(fig.save_figure(figure, run.figure("receptive_fields")))

        log = read_csv(run.figures / "training_accuracy.csv")
        figure, ax = subplots(figsize=(6, 3.5))
        if len(log.get("examples", [])):
            ax.plot(log["examples"], 100 * log["running_accuracy"], marker=".")
        ax.set_xlabel("training images shown")
        ax.set_ylabel("running accuracy (%)")
        ax.set_title("Accuracy during training (labels from the previous images)")
        paths.append(fig.save_figure(figure, run.figure("training_accuracy")))

        if (run.figures / "weight_histogram.csv").exists():  # not in run folders older than this figure
            hist = read_csv(run.figures / "weight_histogram.csv")
            figure, ax = subplots(figsize=(5, 3.5))
            ax.stairs(hist["synapses"], np.append(hist["w_low"], hist["w_high"][-1]), fill=True)
            ax.set_yscale("log")
            ax.set_xlabel("input weight w (as stored: device conductance, normalised)")
            ax.set_ylabel("synapses")
            ax.set_title("Input weights after training")
            paths.append(fig.save_figure(figure, run.figure("weight_histogram")))

        th = read_csv(run.figures / "thresholds.csv")
        figure, ax = subplots(figsize=(5, 3.5))
        in_mv = "theta_mV" in th
        ax.hist(th["theta_mV"] if in_mv else th["theta"], bins=30)
        ax.set_xlabel("adaptive threshold theta (mV)" if in_mv else "homeostatic threshold change theta (weight units)")
        ax.set_ylabel("neurons")
        ax.set_title("Thresholds after training")
        paths.append(fig.save_figure(figure, run.figure("thresholds")))

        if (run.figures / "test_accuracy_blocks.csv").exists():  # not in run folders older than this figure
            blocks = read_csv(run.figures / "test_accuracy_blocks.csv")
            figure, ax = subplots(figsize=(6, 3.5))
            ax.plot((blocks["first"] + blocks["last"] + 1) / 2, 100 * blocks["accuracy"], marker="o")
            if blocks["last"][-1] >= MNIST_TEST_HALF and fig.run_dataset(run) == "mnist":
                # The MNIST test set's two halves come from different writers (LeCun et al.'s
                # description of the data: the first 5,000 images from NIST's SD-3, the rest from SD-1),
                # so a step at image 5,000 may be the data's rather than the devices'.
                ax.axvline(MNIST_TEST_HALF, color="0.5", linestyle=":")
                ax.annotate("MNIST test set: other writers from here", (MNIST_TEST_HALF, 0.02),
                            xycoords=("data", "axes fraction"), xytext=(4, 0), textcoords="offset points",
                            fontsize=8, color="0.4")
            ax.set_xlabel("test image (in the order shown)")
            ax.set_ylabel("accuracy in the block (%)")
            ax.set_title("Test accuracy along the test set (learning frozen)")
            paths.append(fig.save_figure(figure, run.figure("test_accuracy_blocks")))

        paths.append(fig.draw_confusion(run))
    return paths


def check(card) -> None:
    """Fail before the run starts if ``protocol.weights_from`` is not a usable trained run."""
    _trained(card)
