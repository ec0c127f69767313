"""Seconds per MNIST training image on each device card, against the ideal device, in one invocation.

For each network card (``mnist_dc_n100``, ``mnist_querlioz``) and each device (``ideal`` first),
the network is built with spikenet's compiled engine exactly as ``spikenet run`` builds it (same
card, ``experiment.device`` overridden), from the same initial-state seed, and shown the same
training images with learning on: once ``--short`` images in one run, once ``--images`` in one run
(two compiled programs). Every run of a compiled program pays a fixed cost (start, loading and
saving the state); the time per image is the difference of the two runs divided by the images
between them ("less one chunk's fixed cost"), and the fixed cost is reported beside it. The ratio
to the ideal card is taken within this invocation, so the machine's load affects both sides alike;
``--repeats`` rounds over all devices (interleaved) give each device's median and its range.

Run from the repository root (``SPIKENET_DATA`` set)::

    python benchmarks/device_speed.py --images 200
    python benchmarks/device_speed.py --networks mnist_querlioz --devices oxram_hfo2 --images 40

It appends one row per (network, device) to ``benchmarks/results/device_speed.csv`` and writes
the ratios of the invocation to ``benchmarks/results/device_speed.json``.
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import machine as bench_machine

RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_DEVICES = {"mnist_dc_n100": ["ideal", "pcm_2pcm"], "mnist_querlioz": ["ideal", "pcm_2pcm", "oxram_hfo2"]}


def _children_cpu() -> float:
    """CPU seconds (user + system) of the finished child processes: the compiled program runs as one.
    CPU time rather than wall time, because this machine shares its cores with others (load)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run_once(sections: dict, dev, state, rates: np.ndarray) -> tuple[float, float, int]:
    """Compile a program for ``len(rates)`` images (slots to spare for repeats), show them in one run:
    (compile s, CPU s of the run, slots)."""
    from spikenet.engine import CompiledEngine, present
    from spikenet.networks import build_network

    rows = len(rates)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        engine = CompiledEngine(lambda s, images=None: build_network(sections, s, rows=rows, slots=rows + rows // 4 + 5, device=dev,
                                                                     images=images, record_inputs=True),
                                state, Path(tmp) / "build")
        compile_s = time.perf_counter() - t0
        try:
            cpu0 = _children_cpu()
            runs = list(present(engine, rates, state, plastic=True, chunk=rows, seed=1, phase=0))
            run_s = _children_cpu() - cpu0
            if len(runs) != 1:  # an image still repeated at the end of the program's slots
                raise RuntimeError(f"{len(rates)} images took {len(runs)} runs; time them with more slots")
            shown = runs[0][1]
        finally:
            engine.close()
    return compile_s, run_s, shown.slots


def time_device(network_card: str, device: str, rates: np.ndarray, short: int) -> dict:
    """Seconds per training image of the card's network on ``device``: the run of all ``rates``
    less the run of the first ``short`` images (each run pays the program's start and its state's
    loading and saving once), divided by the images between them."""
    from spikenet.catalog import load_card
    from spikenet.networks import initial_state

    card = load_card(network_card, "experiments", overrides=[f"experiment.device={device}"])
    sections = card.sections
    dev = sections.get("device")
    state = initial_state(sections, np.random.default_rng([0, 1]), dev)
    compile_s, short_s, short_slots = _run_once(sections, dev, state, rates[:short])
    _, long_s, long_slots = _run_once(sections, dev, state, rates)
    extra = len(rates) - short
    return {"network": network_card, "device": device, "compile_s": compile_s, "images": len(rates),
            "short_images": short, "short_run_s": short_s, "long_run_s": long_s, "timed_images": extra,
            "timed_slots": long_slots - short_slots, "s_per_image": (long_s - short_s) / extra,
            "fixed_s": short_s - short * (long_s - short_s) / extra, "synapses": int(len(state.synapses["w"]))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", nargs="+", default=list(DEFAULT_DEVICES))
    parser.add_argument("--devices", nargs="+", default=None,
                        help="device cards besides ideal (default: pcm_2pcm, and oxram_hfo2 on mnist_querlioz)")
    parser.add_argument("--images", type=int, default=200, help="training images of the long run per device")
    parser.add_argument("--short", type=int, default=20, help="training images of the short run")
    parser.add_argument("--repeats", type=int, default=3, help="rounds over all devices; the median counts")
    args = parser.parse_args()

    from spikenet.datasets import load_mnist
    from spikenet.networks import input_rates
    from spikenet.catalog import load_card

    train = load_mnist("train")
    rows = []
    for network in args.networks:
        net = load_card(network, "experiments").sections["network"]
        rates = input_rates(net, train.images[: args.images].reshape(args.images, -1))
        devices = ["ideal"] + [d for d in (args.devices or DEFAULT_DEVICES.get(network, [])) if d != "ideal"]
        rounds: dict[str, list[dict]] = {d: [] for d in devices}
        for _ in range(args.repeats):  # interleaved, so that a slow spell of the machine hits all devices
            for device in devices:
                row = time_device(network, device, rates, args.short)
                print(json.dumps(row), flush=True)
                rounds[device].append(row)
        for device, runs in rounds.items():
            per_image = sorted(r["s_per_image"] for r in runs)
            median = dict(sorted(runs, key=lambda r: r["s_per_image"])[len(runs) // 2])
            median.update(repeats=len(runs), s_per_image_min=per_image[0], s_per_image_max=per_image[-1])
            rows.append(median)
    machine, versions, stamp = bench_machine.machine(), bench_machine.versions(), bench_machine.timestamp()
    commit = bench_machine.commit()
    ideal = {r["network"]: r["s_per_image"] for r in rows if r["device"] == "ideal"}
    for r in rows:
        r["ratio_to_ideal"] = r["s_per_image"] / ideal[r["network"]]
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / "device_speed.csv"
    new = not path.exists()
    with path.open("a", newline="") as fh:
        writer = csv.writer(fh)
        if new:
            writer.writerow(["date", "commit", "network", "device", "synapses", "timed_images", "timed_slots",
                             "compile_s", "fixed_s", "repeats", "s_per_image", "s_per_image_min", "s_per_image_max",
                             "ratio_to_ideal", "machine", "versions"])
        for r in rows:
            writer.writerow([stamp, commit, r["network"], r["device"], r["synapses"], r["timed_images"],
                             r["timed_slots"], f"{r['compile_s']:.1f}", f"{r['fixed_s']:.2f}", r["repeats"],
                             f"{r['s_per_image']:.5f}", f"{r['s_per_image_min']:.5f}", f"{r['s_per_image_max']:.5f}",
                             f"{r['ratio_to_ideal']:.2f}", machine, versions])
    summary = {"date": stamp, "commit": commit, "machine": machine, "versions": versions,
               "command": "python benchmarks/device_speed.py " + " ".join(
                   f"--{k.replace('_', '-')} {' '.join(map(str, v)) if isinstance(v, list) else v}"
                   for k, v in vars(args).items() if v is not None),
               "ratios": {f"{r['network']}/{r['device']}": round(r["ratio_to_ideal"], 3) for r in rows}, "rows": rows}
    (RESULTS / "device_speed.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary["ratios"], indent=2))


if __name__ == "__main__":
    main()
