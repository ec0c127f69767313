"""The backprop baseline on MNIST: train (plain PyTorch), test, then test again with the weights
programmed onto each device card of ``protocol.hardware_devices`` (:mod:`spikenet.baseline`).

A checkpoint (weights, optimiser state, history) is written after every epoch; an interrupted
run continues with ``spikenet run --resume RUN_DIR`` and ends as an uninterrupted one would
(each epoch's shuffle and noise are seeded by ``(seed, epoch)``).
"""

from __future__ import annotations

import time
import zlib
from pathlib import Path
from typing import Any

import numpy as np
from brian2 import second

from .. import faults
from .. import figures as fig
from ..catalog import Card, load_card
from ..errors import CardError, install_hint
from ..learning import evaluate
from ..memristive.models import model_of
from ..runs import RunDir, load_checkpoint, read_csv, save_checkpoint, write_csv
from ..params.experiments import MnistBackpropProtocol
from ..running import Contract

METRICS = (
    "test_accuracy",
    "train_accuracy",
    "train_loss",
    "training_seconds",
    "seconds_per_epoch",
    "parameters",
    "macs_per_inference",
)
CONTRACT = Contract(protocol=MnistBackpropProtocol, metrics=METRICS, uses_device=False, resumable=True, needs=("mnist", "torch"))
"""The devices are named in ``protocol.hardware_devices`` (several per run), not ``experiment.device``."""


def _torch():
    try:
        import torch
    except ImportError:
        raise CardError(f"the mnist_backprop experiment needs torch: {install_hint('torch')}") from None
    return torch


def check_checkpoint(card: Card, arrays, meta) -> None:
    """Read a checkpoint as a resume would (before the resumed run writes anything)."""
    torch = _torch()
    from ..baseline import models, training
    from ..errors import RunDirError

    model = models.build_model(card["network"], torch.Generator().manual_seed(card["experiment"].seed))
    try:
        training.state_from_arrays(model, training.make_optimizer(model, card["protocol"]), arrays, meta)
    except (RuntimeError, ValueError, KeyError) as exc:  # load_state_dict's missing / unexpected / mis-sized keys
        raise RunDirError(f"{arrays.where}: the checkpoint does not fit this card's model "
                          f"({str(exc).splitlines()[0]}); start a new run") from None
    meta["history"]


def _device_cards(card: Card) -> dict[str, Any]:
    """The device of every card in ``hardware_devices``, as the card embeds them."""
    return {name: card.used("devices", name)["device"] for name in card["protocol"].hardware_devices}


def trained_model(run_dir: str | Path):
    """The trained torch model of a finished ``mnist_backprop`` run folder (on the CPU)."""
    torch = _torch()
    from ..baseline import models
    from ..runs import open_run_dir

    run = open_run_dir(run_dir)
    card = load_card(run.card, "experiments")
    saved = load_checkpoint(run)
    if card["experiment"].kind != "mnist_backprop" or saved is None:
        raise CardError(f"{run.path}: not an mnist_backprop run with a checkpoint")
    model = models.build_model(card["network"])
    model.load_state_dict({k[len("model."):]: torch.from_numpy(v) for k, v in saved[0].items()
                           if k.startswith("model.")})
    return model.eval(), card


def sample_seed(seed: int, device_name: str, sample: int) -> int:
    """Seed of one set of devices: from the run's seed, the card's name and the sample number."""
    return int(np.random.SeedSequence([seed, zlib.crc32(device_name.encode()), sample]).generate_state(1)[0])


def simulate(card: Card, run: RunDir, log, progress: bool) -> dict[str, Any]:
    torch = _torch()
    from spikenet.progress import progress_bar

    from ..baseline import analog, models, training

    proto, seed = card["protocol"], card["experiment"].seed
    devices = _device_cards(card)
    where = training.resolve_device(proto.torch_device)
    x_train, y_train = training.mnist_tensors("train", proto.n_train, dataset=proto.dataset)
    x_test, y_test = training.mnist_tensors("test", proto.n_test, dataset=proto.dataset)
    model = models.build_model(card["network"], torch.Generator().manual_seed(seed)).to(where)
    optimizer = training.make_optimizer(model, proto)
    history: list[dict[str, float]] = []
    saved = load_checkpoint(run)
    if saved is not None:
        arrays, meta = saved
        training.state_from_arrays(model, optimizer, arrays, meta)
        history = meta["history"]
        log.info("resumed after epoch %d", len(history))
    log.info("training on %s: %d parameters", where, sum(p.numel() for p in model.parameters()))

    bar = progress_bar(total=proto.epochs * proto.n_train, initial=len(history) * proto.n_train, unit="img",
               disable=not progress, desc="train", dynamic_ncols=True)
    for epoch in range(len(history), proto.epochs):
        faults.moment("epoch")
        start = time.perf_counter()
        stats = training.train_epoch(model, optimizer, x_train, y_train, batch_size=proto.batch_size,
                                     seed=training.epoch_seed(seed, epoch), weight_noise=proto.train_weight_noise,
                                     on_batch=bar.update)
        seconds = time.perf_counter() - start
        test_accuracy = float(np.mean(training.predict(model, x_test) == y_test.numpy()))
        history.append({"epoch": epoch + 1, **stats, "test_accuracy": test_accuracy, "seconds": seconds})
        arrays, meta = training.state_to_arrays(model, optimizer)
        save_checkpoint(run, arrays, {**meta, "history": history})
        bar.set_postfix(loss=f"{stats['loss']:.3f}", test=f"{test_accuracy:.4f}")
        log.info("epoch %d: loss %.4f, train %.4f, test %.4f, %.1f s", epoch + 1, stats["loss"],
                 stats["train_accuracy"], test_accuracy, seconds)
    bar.close()
    write_csv(run.figures / "training.csv", {k: [h[k] for h in history] for k in history[0]})

    predictions = training.predict(model, x_test)
    result = evaluate(y_test.numpy(), predictions)
    write_csv(run.figures / "confusion.csv", fig.confusion_columns(result["confusion_matrix"]))
    hardware = _evaluate_on_devices(run, model, devices, x_test, y_test, proto, seed, where, log, progress)
    macs = analog.macs_per_inference(model)
    return {
        "test_accuracy": result["accuracy"],
        "per_class_accuracy": result["per_class_accuracy"],
        "confusion_matrix": result["confusion_matrix"],
        "train_accuracy": history[-1]["train_accuracy"],
        "train_loss": history[-1]["loss"],
        "training_seconds": float(sum(h["seconds"] for h in history)),
        "seconds_per_epoch": float(np.mean([h["seconds"] for h in history])),
        "parameters": int(sum(p.numel() for p in model.parameters())),
        "macs_per_inference": macs,
        "torch_device": str(where),
        "hardware": hardware,
    }


def _evaluate_on_devices(run: RunDir, model, devices: dict[str, Any], x_test, y_test, proto, seed: int, where,
                         log, progress: bool) -> dict[str, Any]:
    """Program the trained weights onto each card ``device_samples`` times and test each programmed
    copy; writes ``figures/hardware_accuracy.csv`` (one row per sample) and returns a summary per card."""
    import torch
    from spikenet.progress import progress_bar

    from ..baseline import analog, training

    rows: dict[str, list] = {k: [] for k in ("device", "sample", "accuracy", "pulses_per_device", "converged",
                                             "programming_error_rms", "read_std_relative", "devices")}
    labels = y_test.numpy()
    layers = analog.weight_layers(model)
    n_weights = sum(layer.weight.numel() for layer in layers)
    jobs = [(name, s) for name, p in devices.items()
            for s in range(1 if model_of(p).exact else proto.device_samples)]
    for name, sample in progress_bar(jobs, desc="devices", disable=not progress, dynamic_ncols=True):
        faults.moment("evaluate")
        generator = torch.Generator(device=where).manual_seed(sample_seed(seed, name, sample))
        programmed_model, programmed = analog.program_model(
            model, devices[name], generator, tolerance=proto.program_tolerance,
            max_pulses=proto.program_max_pulses, t_read=float(proto.t_read / second),
            range_quantile=proto.range_quantile)
        accuracy = float(np.mean(training.predict(programmed_model, x_test) == labels))
        n_devices = sum(a.devices for a in programmed)
        squared = sum(float(((a.weight - layer.weight.detach()) / a.w_max).pow(2).sum())
                      for a, layer in zip(programmed, layers))
        rows["device"].append(name)
        rows["sample"].append(sample)
        rows["accuracy"].append(accuracy)
        rows["pulses_per_device"].append(sum(a.pulses for a in programmed) / max(n_devices, 1))
        rows["converged"].append(sum(a.converged * a.devices for a in programmed) / n_devices if n_devices else 1.0)
        rows["programming_error_rms"].append(float(np.sqrt(squared / n_weights)))
        rows["read_std_relative"].append(float(np.mean([a.read_std / a.w_max for a in programmed])))
        rows["devices"].append(n_devices)
        log.info("%s sample %d: accuracy %.4f, %.1f pulses per device, %.4f converged", name, sample, accuracy,
                 rows["pulses_per_device"][-1], rows["converged"][-1])
    write_csv(run.figures / "hardware_accuracy.csv", rows)
    summary = {}
    for name in devices:
        pick = [i for i, d in enumerate(rows["device"]) if d == name]
        acc = np.array([rows["accuracy"][i] for i in pick])
        summary[name] = {
            "accuracy_mean": float(acc.mean()),
            "accuracy_std": float(acc.std(ddof=1)) if len(acc) > 1 else 0.0,
            "accuracy_min": float(acc.min()),
            "samples": len(acc),
            "devices_per_weight": rows["devices"][pick[0]] / n_weights,
            **{k: float(np.mean([rows[k][i] for i in pick]))
               for k in ("pulses_per_device", "converged", "programming_error_rms", "read_std_relative")},
        }
    return summary


def draw(run: RunDir) -> list[Path]:
    from spikenet.figures import subplots
    from matplotlib.ticker import MaxNLocator

    paths = []
    history = read_csv(run.figures / "training.csv")
    with fig.style():
        figure, (left, right) = subplots(1, 2, figsize=(9, 3.5))
        left.plot(history["epoch"], history["loss"], marker="o")
        left.set_xlabel("epoch")
        left.set_ylabel("training loss (cross-entropy)")
        right.plot(history["epoch"], 100 * history["train_accuracy"], marker="o", label="training images")
        right.plot(history["epoch"], 100 * history["test_accuracy"], marker="s", label="test images")
        right.set_xlabel("epoch")
        right.set_ylabel("accuracy (%)")
        right.legend()
        for ax in (left, right):
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        figure.suptitle("Backprop training")
        paths.append(fig.save_figure(figure, run.figure("training")))

        hw = read_csv(run.figures / "hardware_accuracy.csv")
        names = list(dict.fromkeys(hw["device"].tolist()))
        figure, ax = subplots(figsize=(max(4.0, 1.1 * len(names) + 2), 3.8))
        for k, name in enumerate(names):
            acc = 100 * hw["accuracy"][hw["device"] == name]
            ax.bar(k, acc.mean(), yerr=acc.std(ddof=1) if len(acc) > 1 else 0, color="0.8", capsize=4)
            ax.plot(np.full(len(acc), k), acc, "k.", alpha=0.6)
            ax.text(k, acc.mean() - 1, f"{acc.mean():.1f}", ha="center", va="top", fontsize=8)
        ax.axhline(10, ls=":", color="0.4", lw=1)
        ax.text(len(names) - 0.5, 10.5, "chance", ha="right", va="bottom", fontsize=8, color="0.4")
        ax.set_xticks(range(len(names)), names, rotation=30, ha="right")
        ax.set_ylabel("test accuracy (%)")
        low = max(0.0, 100 * hw["accuracy"].min() - 10)
        ax.set_ylim(low, 100)
        ax.set_title("Trained weights programmed onto devices (bar: mean, dots: device samples)")
        paths.append(fig.save_figure(figure, run.figure("hardware_accuracy")))
    paths.append(fig.draw_confusion(run))
    return paths
