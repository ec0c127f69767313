"""Seconds per MNIST training image of the Diehl & Cook network: compiled engine vs plain Brian2.

Both sides use the same cards (``models/diehl_cook_2015.toml``), the same images and the same
Brian2 objects (``spikenet.neurons`` / ``spikenet.plasticity``):

* ``compiled``: spikenet's engine (one ``cpp_standalone`` program; schedule, repeats and
  normalisation inside it), ``--images`` training images after the compile;
* ``plain_runtime``: the way Brian2's own example (examples/frompapers/Diehl_Cook_2015.py)
  runs it: Brian2 runtime mode (Cython target), per image set the rates, ``run(350 ms)``,
  ``run(150 ms)``, repeat at a higher intensity below 5 spikes, normalise in Python.

Run from the repository root (``SPIKENET_DATA`` set)::

    python benchmarks/engine_speed.py --n-exc 100 --images 1000 --plain-images 100

It appends one row per engine to ``benchmarks/results/engine_speed.csv`` and writes the ratio
of the two, measured in the same invocation, to ``benchmarks/results/engine_speed_n<N>.json``.
``s_per_slot`` is the time per slot the program simulated (rows from 2026-12-02 on; earlier rows
divided by the slots the images used, which left the compiled engine's idle last run in).
"""

from __future__ import annotations

import argparse
import csv
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import machine as bench_machine

RESULTS = Path(__file__).resolve().parent / "results"



def compiled(n_exc: int, images: np.ndarray, chunk: int) -> dict:
    from spikenet.catalog import load_card
    from spikenet.engine import CompiledEngine, present
    from spikenet.networks import build_diehl_cook, initial_state

    sec = load_card("diehl_cook_2015", "models", overrides=[f"network.n_exc={n_exc}"]).sections
    state = initial_state(sec, np.random.default_rng(0))
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        engine = CompiledEngine(lambda s, images=None: build_diehl_cook(sec, s, rows=chunk, slots=chunk), state,
                                Path(tmp) / "build")
        compile_s = time.perf_counter() - t0
        slots = runs = 0
        t1 = time.perf_counter()
        try:
            for _, shown, state, _ in present(engine, images, state, plastic=True, chunk=chunk, seed=1, phase=0):
                slots += shown.slots
                runs += 1
        finally:
            engine.close()
        run_s = time.perf_counter() - t1
    # A compiled run simulates all `chunk` slots of its program, also when the images are finished
    # early (the last run of a phase): `simulated_slots` is what was computed.
    return {"engine": "compiled", "compile_s": compile_s, "run_s": run_s, "images": len(images), "slots": slots,
            "simulated_slots": runs * chunk}


def plain_runtime(n_exc: int, images: np.ndarray) -> dict:
    """Brian2's example loop, with the same cards and builders."""
    from brian2 import Hz, Network, PoissonGroup, SpikeMonitor, Synapses, defaultclock, ms, prefs

    from spikenet.catalog import load_card
    from spikenet.neurons import neuron_group
    from spikenet.plasticity import synapses

    prefs.codegen.target = "cython"
    sec = load_card("diehl_cook_2015", "models", overrides=[f"network.n_exc={n_exc}"]).sections
    net_p = sec["network"]
    rng = np.random.default_rng(0)
    defaultclock.dt = net_p.dt
    t0 = time.perf_counter()
    inputs = PoissonGroup(784, 0 * Hz, dt=net_p.dt, name="inp")
    exc = neuron_group(sec["neuron"], n_exc, dt=net_p.dt, name="exc")
    inh = neuron_group(sec["inhibitory"], n_exc, dt=net_p.dt, name="inh")
    exc.v = sec["neuron"].v_rest - net_p.v_init_offset
    inh.v = sec["inhibitory"].v_rest - net_p.v_init_offset
    ei = Synapses(exc, inh, on_pre="ge_post += 10.4", dt=net_p.dt)
    ei.connect(j="i")
    ie = Synapses(inh, exc, on_pre="gi_post += 17.0", dt=net_p.dt)
    ie.connect(condition="i != j")
    w0 = (rng.random(784 * n_exc) + net_p.w_init_offset) * net_p.w_init_scale
    syn = synapses(inputs, exc, sec["plasticity"], w_init=w0, dt=net_p.dt)
    syn.delay = rng.random(784 * n_exc) * net_p.delay_max
    mon = SpikeMonitor(exc)
    net = Network(inputs, exc, inh, ei, ie, syn, mon)
    net.run(0 * ms, namespace={})
    build_s = time.perf_counter() - t0
    slots = 0
    t1 = time.perf_counter()
    for image in images:
        intensity = net_p.intensity
        while True:
            w = np.asarray(syn.w[:]).reshape(784, n_exc)
            syn.w = (w * (net_p.w_sum / w.sum(axis=0))).ravel()
            before = mon.num_spikes
            inputs.rates = image * intensity * Hz
            net.run(net_p.t_present, namespace={})
            fired = mon.num_spikes - before
            inputs.rates = 0 * Hz
            net.run(net_p.t_rest, namespace={})
            slots += 1
            if fired >= net_p.min_spikes:
                break
            intensity += net_p.intensity_step
    run_s = time.perf_counter() - t1
    return {"engine": "plain_runtime", "compile_s": build_s, "run_s": run_s, "images": len(images), "slots": slots,
            "simulated_slots": slots}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-exc", type=int, default=100)
    parser.add_argument("--images", type=int, default=1000, help="training images for the compiled engine")
    parser.add_argument("--plain-images", type=int, default=100, help="training images for plain Brian2")
    parser.add_argument("--chunk", type=int, default=1000)
    args = parser.parse_args()

    from spikenet.datasets import load_mnist

    train = load_mnist("train")
    rates = train.images.reshape(len(train.images), -1).astype(float) * 0.125  # Hz at intensity 1
    rows = [compiled(args.n_exc, rates[: args.images], args.chunk), plain_runtime(args.n_exc, rates[: args.plain_images])]
    machine, versions, stamp = bench_machine.machine(), bench_machine.versions(), bench_machine.timestamp()
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / "engine_speed.csv"
    new = not path.exists()
    with path.open("a", newline="") as fh:
        writer = csv.writer(fh)
        if new:
            writer.writerow(["date", "n_exc", "engine", "images", "slots", "compile_s", "run_s", "s_per_image",
                             "s_per_slot", "machine", "versions"])
        for r in rows:
            writer.writerow([stamp, args.n_exc, r["engine"], r["images"], r["slots"], f"{r['compile_s']:.2f}",
                             f"{r['run_s']:.2f}", f"{r['run_s'] / r['images']:.5f}",
                             f"{r['run_s'] / r['simulated_slots']:.5f}",
                             machine, versions])
    c, p = rows
    summary = {
        "date": stamp, "n_exc": args.n_exc, "machine": machine, "versions": versions,
        "compiled_s_per_image": c["run_s"] / c["images"], "plain_s_per_image": p["run_s"] / p["images"],
        "compiled_s_per_slot": c["run_s"] / c["simulated_slots"], "plain_s_per_slot": p["run_s"] / p["slots"],
        "ratio_per_slot": (p["run_s"] / p["slots"]) / (c["run_s"] / c["simulated_slots"]),
        "note": "per image depends on how many repeats the first images need and includes the idle slots of the "
                "compiled engine's last run; per slot (one 500 ms presentation + rest, every slot the program "
                "simulated) compares the same simulated time",
        "rows": rows,
    }
    (RESULTS / f"engine_speed_n{args.n_exc}.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps({k: v for k, v in summary.items() if k != "rows"}, indent=2))


if __name__ == "__main__":
    main()
