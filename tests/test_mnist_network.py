"""The Diehl & Cook network and its engines: schedule, repeat rule, normalisation, compiled vs
runtime, checkpoints and resume."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from spikenet.catalog import load_card
from spikenet.engine import CompiledEngine, RuntimeEngine, present
from spikenet.networks import build_diehl_cook, initial_state

FAST = ["network.n_exc=4", "network.min_spikes=2", "network.t_present=40 ms", "network.t_rest=10 ms", "network.delay_max=2 ms"]


def sections(*overrides):
    return load_card("diehl_cook_2015", "models", overrides=[*FAST, *overrides]).sections


def builder(sec, rows, slots=None, **kwargs):
    def build(state, images=None):
        return build_diehl_cook(sec, state, rows=rows, slots=slots or rows, images=images, **kwargs)

    return build


def deterministic_images(n, rng):
    """Images whose lit pixels fire at every step (rate x dt = 1), so no random stream matters."""
    images = np.zeros((n, 784))
    for k in range(n):
        images[k, rng.choice(784, 30, replace=False)] = 2000.0  # Hz at intensity 1; x 2 x 0.5 ms >= 1
    return images


def test_silent_image_is_repeated_with_rising_intensity_then_given_up():
    sec = sections("network.max_repeats=3")
    state = initial_state(sec, np.random.default_rng(0))
    engine = RuntimeEngine(builder(sec, rows=2, slots=5))
    images = np.zeros((2, 784))
    _, shown = engine.run(images, state, plastic=True, seed=1)
    assert list(shown.rows) == [0]  # 4 showings of the first image, then 1 slot left for the second
    assert list(shown.repeats) == [3]
    net = engine._build(state, images=images)
    net.network.run(net.duration, namespace={})
    assert list(np.asarray(net.outcomes.shown_intensity[:])) == [2.0, 3.0, 4.0, 5.0, 2.0]  # then the next image


def test_weights_are_normalised_at_every_slot_start():
    sec = sections("network.w_sum=20")
    state = initial_state(sec, np.random.default_rng(0))
    assert not np.allclose(state.synapses["w"].reshape(784, 4).sum(axis=0), 20)
    after, _ = RuntimeEngine(builder(sec, rows=1)).run(np.zeros((1, 784)), state, plastic=True, seed=1)
    np.testing.assert_allclose(after.synapses["w"].reshape(784, 4).sum(axis=0), 20, rtol=1e-12)
    frozen, _ = RuntimeEngine(builder(sec, rows=1)).run(np.zeros((1, 784)), state, plastic=False, seed=1)
    np.testing.assert_array_equal(frozen.synapses["w"], state.synapses["w"])
    np.testing.assert_array_equal(frozen.theta, state.theta)


def test_a_device_the_normalisation_programs_is_read_at_its_new_weight():
    """With drifting devices a transmitted spike reads the cached drifted weight ``w_read``; a
    normalisation pulse (at the slot start, after the refresh) must set it to the new weight, as an
    STDP pulse does, or the slot's transmissions read the weight from before the normalisation."""
    from spikenet.plasticity import device_params

    sec = sections("network.w_sum=20")
    device = device_params("pcm_2pcm")
    state = initial_state(sec, np.random.default_rng(0), device)
    state.synapses["t_prog"][:] = -3600.0  # programmed an hour before: reads have drifted
    from spikenet.engine import _assign

    images = np.zeros((1, 784))  # a blank image: no input spike, so no STDP pulse either
    net = builder(sec, rows=1, device=device)(state, images=images)
    for view, value in net.assignments(images, state, plastic=True, seed=1).items():
        _assign(view, value)
    net.network.run(net.duration, namespace={})
    syn = net.input_synapses
    w, w_read = np.asarray(syn.w[:]), np.asarray(syn.w_read[:])
    programmed = np.asarray(syn.t_prog[:]) >= 0
    assert 0 < programmed.sum() < len(w)  # the normalisation pulsed some devices, not all
    np.testing.assert_array_equal(w_read[programmed], w[programmed])
    assert np.mean(w_read[~programmed] != w[~programmed]) > 0.9  # the others are read drifted


def test_learning_changes_weights_and_thresholds_only_when_plastic():
    sec = sections()
    state = initial_state(sec, np.random.default_rng(0))
    images = deterministic_images(3, np.random.default_rng(1))
    learnt, shown = RuntimeEngine(builder(sec, rows=3)).run(images, state, plastic=True, seed=1)
    assert shown.responses.sum() > 0
    assert np.all(learnt.theta > state.theta)  # every neuron that fired raised its threshold
    assert np.max(np.abs(learnt.synapses["w"] - state.synapses["w"])) > 1e-3


def test_compiled_and_runtime_engines_agree(tmp_path):
    """Same network, same (deterministic) input: the same spikes, weights and thresholds."""
    sec = sections()
    state = initial_state(sec, np.random.default_rng(0))
    images = deterministic_images(6, np.random.default_rng(1))
    runtime = [r for r in present(RuntimeEngine(builder(sec, rows=4)), images, state, plastic=True, chunk=4, seed=5,
                                  phase=0)]
    with CompiledEngine(builder(sec, rows=4), state, tmp_path / "build") as engine:
        compiled = list(present(engine, images, state, plastic=True, chunk=4, seed=5, phase=0))
    assert len(runtime) == len(compiled) >= 2
    for (pos_r, shown_r, state_r, _), (pos_c, shown_c, state_c, _) in zip(runtime, compiled):
        assert pos_r == pos_c
        np.testing.assert_array_equal(shown_r.responses, shown_c.responses)
        np.testing.assert_allclose(state_c.synapses["w"], state_r.synapses["w"], rtol=0, atol=1e-9)
        np.testing.assert_allclose(state_c.theta, state_r.theta, rtol=0, atol=1e-12)
    assert sum(s.responses.sum() for _, s, _, _ in runtime) > 10
    assert not (tmp_path / "build").exists()  # the C++ project is removed
    from brian2 import get_device

    assert type(get_device()).__name__ == "RuntimeDevice"  # and Brian2's runtime device is back


def test_compiled_engine_runs_a_device_card(tmp_path):
    """Device states go in and come out of the compiled program (no values read before it runs)."""
    from spikenet.plasticity import device_params

    sec = sections()
    # stuck devices and spread, so that the state holds those variables too
    device = dataclasses.replace(device_params("pcm_2pcm"), stuck_low=0.05, d2d_std=0.1)
    state = initial_state(sec, np.random.default_rng(0), device)
    assert {"stuck", "dscale", "nu_dev", "t_prog", "xp", "xm"} <= set(state.synapses)
    images = deterministic_images(2, np.random.default_rng(1))
    build = builder(sec, rows=2, device=device)
    with CompiledEngine(build, state, tmp_path / "build") as engine:
        after, shown = engine.run(images, state, plastic=True, seed=3)
        _a_run_counts_only_when_the_program_reports_all_of_it(engine, images, state)
    assert set(after.synapses) == set(state.synapses)
    assert np.all((after.synapses["w"] >= 0) & (after.synapses["w"] <= 1))
    assert after.synapses["pulses_ltp"].sum() + after.synapses["pulses_ltd"].sum() > 0  # normalisation, STDP
    np.testing.assert_array_equal(after.synapses["stuck"], state.synapses["stuck"])
    runtime, _ = RuntimeEngine(build).run(images, state, plastic=True, seed=3)
    assert set(runtime.synapses) == set(after.synapses)


def _a_run_counts_only_when_the_program_reports_all_of_it(engine, images, state):
    """The compiled program stops early, without an error, when it gets SIGINT (Brian2's handler in
    main.cpp), and reports what it simulated in results/last_run_info.txt: half of it is an
    interruption, no report at all an incomplete simulation; neither is taken as a finished run."""
    from spikenet.engine import IncompleteSimulation, Interrupted

    device, real_run = engine._device, engine._device.run
    info = Path(engine._device.results_dir)
    info = (info if info.is_absolute() else engine.directory / info) / "last_run_info.txt"

    def stopped_half_way(**kwargs):
        real_run(**kwargs)
        run_time = info.read_text().split()[0]
        info.write_text(f"{run_time} 0.5")  # what main.cpp writes when SIGINT stopped it half-way

    def no_report(**kwargs):
        real_run(**kwargs)
        info.unlink()

    try:
        device.run = stopped_half_way
        with pytest.raises(Interrupted, match="simulated .* of the .* asked for"):
            engine.run(images, state, plastic=True, seed=3)
        device.run = no_report
        with pytest.raises(IncompleteSimulation, match="wrote no report"):
            engine.run(images, state, plastic=True, seed=3)
    finally:
        device.run = real_run


def test_interrupted_run_resumes_to_the_same_result(cli, tmp_path, mnist_dir, monkeypatch):
    from spikenet.experiments import mnist_stdp

    args = ["run", "mnist_dc_n100", "--smoke", "--no-progress", "--seed", "4"]
    code, _, err = cli(*args, "--out", str(tmp_path / "whole"))
    assert code == 0, err

    real_save = mnist_stdp.save_checkpoint
    calls = {"n": 0}

    def save_then_interrupt(*a, **k):
        real_save(*a, **k)
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(mnist_stdp, "save_checkpoint", save_then_interrupt)
    code, _, err = cli(*args, "--out", str(tmp_path / "cut"))
    assert code == 130
    assert json.loads((tmp_path / "cut" / "run.json").read_text())["status"] == "interrupted"
    monkeypatch.setattr(mnist_stdp, "save_checkpoint", real_save)
    code, out, err = cli("run", "--resume", str(tmp_path / "cut"), "--no-progress")
    assert code == 0, err
    whole = np.load(tmp_path / "whole" / "final_state.npz")
    cut = np.load(tmp_path / "cut" / "final_state.npz")
    np.testing.assert_array_equal(whole["receptive_fields"], cut["receptive_fields"])
    np.testing.assert_array_equal(whole["theta"], cut["theta"])
    m_whole = json.loads((tmp_path / "whole" / "metrics.json").read_text())
    m_cut = json.loads((tmp_path / "cut" / "metrics.json").read_text())
    assert m_whole["confusion_matrix"] == m_cut["confusion_matrix"]
    assert "resumed" in json.loads((tmp_path / "cut" / "run.json").read_text())
    code, _, err = cli("run", "--resume", str(tmp_path / "cut"))
    assert code == 2 and "complete" in err


def test_corrupt_checkpoint_is_reported_not_loaded(cli, tmp_path, mnist_dir, monkeypatch):
    from spikenet.experiments import mnist_stdp

    real_save = mnist_stdp.save_checkpoint

    def save_then_interrupt(*a, **k):
        real_save(*a, **k)
        raise KeyboardInterrupt

    monkeypatch.setattr(mnist_stdp, "save_checkpoint", save_then_interrupt)
    out = tmp_path / "run"
    code, _, _ = cli("run", "mnist_dc_n100", "--smoke", "--no-progress", "--out", str(out))
    assert code == 130
    monkeypatch.setattr(mnist_stdp, "save_checkpoint", real_save)
    npz = next(out.glob("checkpoint-*.npz"))
    data = bytearray(npz.read_bytes())
    data[len(data) // 2] ^= 0xFF
    npz.write_bytes(bytes(data))
    code, stdout, err = cli("run", "--resume", str(out), "--no-progress")
    assert code == 2
    assert "corrupt checkpoint" in err and len(err.strip().splitlines()) == 1


def test_resume_refuses_other_options(cli, tmp_path):
    code, _, err = cli("run", "mnist_dc_n100", "--resume", str(tmp_path))
    assert code == 2 and "--resume" in err


@pytest.mark.slow
def test_quickstart_learns_digits_with_the_compiled_engine(cli, tmp_path, mnist_dir):
    """The full quickstart (2,000 training images, compiled): 0.724 measured, chance is 0.1."""
    out = tmp_path / "qs"
    code, stdout, err = cli("run", "quickstart", "--no-progress", "--out", str(out))
    assert code == 0, err
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["test_accuracy"] >= 0.6
    assert metrics["repeat_fraction"] < 0.2
    assert (out / "figures" / "receptive_fields.png").is_file()


def test_inputs_fire_as_poisson_processes_at_the_image_rates():
    """Per step each input fires with probability p = rate x intensity x dt (Brian2's PoissonGroup
    process), drawn as geometric intervals: mean counts and the Fano factor 1 - p, nothing at rest."""
    from brian2 import SpikeMonitor

    sec = sections("network.t_present=1000 ms", "network.min_spikes=0")  # intensity 2
    state = initial_state(sec, np.random.default_rng(0))
    rates = np.zeros((2, 784))
    rates[0, :392], rates[0, 392:], rates[1] = 10.0, 100.0, 400.0  # Hz at intensity 1
    net = builder(sec, rows=2)(state, images=rates)
    spikes = SpikeMonitor(net.inputs, name="input_monitor")
    net.network.add(spikes)
    net.network.run(net.duration, namespace={})
    t, i = np.asarray(spikes.t[:]), np.asarray(spikes.i[:])
    slot = 1.010
    # Inputs fire from the slot's first step to the step in which the controller ends the
    # presentation (t_present after the start), then are silent for the rest of the slot.
    assert not np.any(np.round(t * 2000) % 2020 > 2000)
    for image, columns, rate in ((0, slice(0, 392), 10.0), (0, slice(392, 784), 100.0), (1, slice(0, 784), 400.0)):
        inside = (t > image * slot - 1e-9) & (t < image * slot + 1.0 + 1e-9)
        counts = np.bincount(i[inside], minlength=784)[columns]
        p = 2 * rate * 0.5e-3
        mean, n_steps = counts.mean(), 2001
        assert abs(mean - n_steps * p) < 4 * np.sqrt(n_steps * p * (1 - p) / counts.size)
        assert counts.var() / mean == pytest.approx(1 - p, abs=0.25)


def test_test_accuracy_blocks_follow_the_test_order():
    from spikenet.experiments.mnist_stdp import _blocks

    labels = np.arange(25) % 10
    predictions = labels.copy()
    predictions[20:] = -1  # the last block all wrong, as after drift
    blocks = _blocks(predictions, labels, blocks=5)
    np.testing.assert_array_equal(blocks["first"], [0, 5, 10, 15, 20])
    np.testing.assert_array_equal(blocks["last"], [4, 9, 14, 19, 24])
    np.testing.assert_array_equal(blocks["accuracy"], [1, 1, 1, 1, 0])
    assert len(_blocks(labels[:3], labels[:3])["accuracy"]) == 3  # fewer images than blocks
