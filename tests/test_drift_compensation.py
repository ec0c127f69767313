"""Per-neuron drift compensation of the input devices (aihwkit's PerColumnDriftCompensation):
the Brian2 calibration read against its NumPy twin, and compensation undoing a uniform drift."""

from __future__ import annotations

import copy
import dataclasses

import numpy as np
import pytest
from brian2 import second, siemens

from spikenet.catalog import load_card
from spikenet.engine import CompiledEngine, RuntimeEngine
from spikenet.memristive import DeviceArray, drifted, initial_device_state, read_signal
from spikenet.networks import NetworkState, build_network, device_on_simulated_clock, drift_reference, initial_state
from spikenet.plasticity import device_params

N = 4
FAST = [f"network.n_exc={N}", "network.t_present=40 ms", "network.t_rest=0.5 ms", "neuron.theta_plus=0",
        "network.hardware_time_scale=1"]  # drift in simulated seconds (the card's clock is tested below)
LONG_AGO = -1e6  # programmed 10^6 s before the run: the drift factor hardly changes during it


def sections(*overrides):
    return load_card("querlioz_2013", "models", overrides=[*FAST, *overrides]).sections


def pcm_pair(**changes):
    """The pcm_2pcm card with one drift exponent for every device (nu_std = 0) unless changed."""
    return dataclasses.replace(device_params("pcm_2pcm"), **{"drift_nu_std": 0.0, **changes})


def firing_images(n, rng, lit=40):
    """Images whose lit pixels fire at every step (rate x dt >= 1): no random stream matters."""
    images = np.zeros((n, 784))
    for k in range(n):
        images[k, rng.choice(784, lit, replace=False)] = 2000.0
    return images


def graded_state(sec, device):
    """Neuron k has every input weight 0.2 + 0.2 k (see test_querlioz), stored in ``device``."""
    base = initial_state(sec, np.random.default_rng(0))
    rule = sec["plasticity"]
    syn = initial_device_state(device, np.tile(0.2 + 0.2 * np.arange(N), 784), rule.w_min, rule.w_max,
                               np.random.default_rng(1))
    syn["delay"] = base.synapses["delay"]
    return NetworkState(syn, base.theta, base.intensity)


def run(sec, state, images, device, *, compensate, plastic=False):
    built = {}

    def build(s, images=None):
        built["net"] = build_network(sec, s, rows=len(images), slots=len(images), images=images, device=device,
                                     drift_compensation=compensate)
        return built["net"]

    after, shown = RuntimeEngine(build).run(images, state, plastic=plastic, seed=1)
    return after, shown, built["net"]


def test_numpy_drift_twin_matches_the_device_array():
    device = device_params("pcm_gst")
    devices = DeviceArray(device, 1000, np.random.default_rng(0), np.random.default_rng(1).random(1000))
    devices.t_prog[:] = np.random.default_rng(2).uniform(-100, 0, 1000)
    np.testing.assert_array_equal(devices.read(50.0, noise=False), drifted(device, devices.x, 50.0 - devices.t_prog,
                                                                           devices.nu))
    g = read_signal(device, devices.x) * float((device.g_max - device.g_min) / siemens)
    np.testing.assert_allclose(g, devices.conductance(), rtol=1e-12)  # a single device's signal: its G
    pair = device_params("pcm_2pcm")
    np.testing.assert_array_equal(read_signal(pair, np.array([0.0, 0.5, 1.0])), [-0.5, 0.0, 0.5])


@pytest.mark.parametrize("card", ["pcm_2pcm", "pcm_gst"])
def test_frozen_gain_is_the_reference_over_the_calibration_read(card):
    """Brian2's calibration read at the last slot start equals the NumPy one; the reference is kept."""
    device = dataclasses.replace(device_params(card), drift_nu_std=0.02)
    sec = sections("neuron.v_th=100")
    state = graded_state(sec, device)
    state.synapses["t_prog"] = np.random.default_rng(3).uniform(-5000, 0, len(state.synapses["w"]))
    state.drift_ref = drift_reference(device, state, sec["plasticity"]) * np.array([1.0, 1.1, 1.2, 1.3])
    images = firing_images(3, np.random.default_rng(1))
    after, _, net = run(sec, state, images, device, compensate=True)
    last_start = 2 * float((sec["network"].t_present + sec["network"].t_rest) / second)
    expected = state.drift_ref / drift_reference(device, state, sec["plasticity"], t=last_start)
    np.testing.assert_allclose(np.asarray(net.exc.drift_gain[:]), expected, rtol=1e-10)
    assert np.all(expected > 1.0)  # drift lowered every read since the reference
    np.testing.assert_array_equal(after.drift_ref, state.drift_ref)


def test_compensation_undoes_a_uniform_drift():
    """One exponent for all devices, all programmed long ago: compensated reads are the undrifted
    weights, so the network fires exactly as one whose devices never drifted; uncompensated it does not."""
    sec = sections("neuron.v_th=125")
    device = pcm_pair()
    state = graded_state(sec, device)
    images = firing_images(3, np.random.default_rng(1))
    _, undrifted, _ = run(sec, state, images, pcm_pair(drift_nu=0.0), compensate=False)

    old = copy.deepcopy(state)
    old.drift_ref = drift_reference(device, state, sec["plasticity"])  # read just after programming (t_prog = 0)
    old.synapses["t_prog"] = np.full(len(state.synapses["w"]), LONG_AGO)
    _, compensated, net = run(sec, old, images, device, compensate=True)
    _, plain, _ = run(sec, old, images, device, compensate=False)

    assert undrifted.responses.sum() > 0
    np.testing.assert_array_equal(compensated.responses, undrifted.responses)
    assert not np.array_equal(plain.responses, undrifted.responses)
    factor = ((-LONG_AGO + 20.0) / 20.0) ** -device.drift_nu
    np.testing.assert_allclose(np.asarray(net.exc.drift_gain[:]), 1 / factor, rtol=1e-6)


def test_while_learning_the_reference_follows_the_devices():
    sec = sections("neuron.v_th=100")
    device = pcm_pair(drift_nu_std=0.01)
    state = graded_state(sec, device)
    state.synapses["t_prog"] = np.full(len(state.synapses["w"]), -1000.0)
    state.drift_ref = drift_reference(device, state, sec["plasticity"]) * 2  # a stale reference: replaced while learning
    images = firing_images(2, np.random.default_rng(1))
    after, _, net = run(sec, state, images, device, compensate=True, plastic=True)
    np.testing.assert_allclose(np.asarray(net.exc.drift_gain[:]), 1.0, rtol=1e-12)
    assert np.all(after.drift_ref < state.drift_ref)
    np.testing.assert_allclose(after.drift_ref, np.asarray(net.exc.drift_now[:]), rtol=1e-12)


def test_no_compensation_for_a_device_that_does_not_drift():
    sec = sections()
    device = pcm_pair(drift_nu=0.0)
    state = graded_state(sec, device)
    _, _, net = run(sec, state, firing_images(1, np.random.default_rng(1)), device, compensate=True)
    assert "drift_gain" not in net.exc.variables


def test_compiled_program_takes_the_reference_from_the_state(tmp_path):
    sec = sections("neuron.v_th=125")
    device = pcm_pair()
    state = graded_state(sec, device)
    state.drift_ref = drift_reference(device, state, sec["plasticity"])
    state.synapses["t_prog"] = np.full(len(state.synapses["w"]), LONG_AGO)
    images = firing_images(3, np.random.default_rng(1))
    _, runtime, _ = run(sec, state, images, device, compensate=True)

    def build(s, images=None):
        return build_network(sec, s, rows=3, slots=3, images=images, device=device, drift_compensation=True)

    with CompiledEngine(build, state, tmp_path / "build") as engine:
        after, compiled = engine.run(images, state, plastic=False, seed=1)
    np.testing.assert_array_equal(compiled.responses, runtime.responses)
    np.testing.assert_array_equal(after.drift_ref, state.drift_ref)


def test_drift_runs_on_the_hardware_clock():
    """A network whose simulated second is 1 ms of device time drifts 1000 times slower in
    simulated time: programmed 10^9 simulated seconds ago it fires as the real-time network
    programmed 10^6 s ago, and its compensation gain is the same."""
    device = pcm_pair()
    images = firing_images(3, np.random.default_rng(1))
    outcomes = []
    for scale, ago in ((1.0, LONG_AGO), (1e-3, LONG_AGO / 1e-3)):
        sec = sections("neuron.v_th=125", f"network.hardware_time_scale={scale}")
        state = graded_state(sec, device)
        state.drift_ref = drift_reference(device, state, sec["plasticity"])
        state.synapses["t_prog"] = np.full(len(state.synapses["w"]), ago)
        _, plain, _ = run(sec, state, images, device, compensate=False)
        _, _, net = run(sec, state, images, device, compensate=True)
        outcomes.append((plain.responses, np.asarray(net.exc.drift_gain[:])))
    np.testing.assert_array_equal(outcomes[0][0], outcomes[1][0])
    # the last calibration is 81 ms of simulated time into the run: 81 ms against 81 us of device time
    np.testing.assert_allclose(outcomes[0][1], outcomes[1][1], rtol=1e-7)
    factor = ((-LONG_AGO + 20.0) / 20.0) ** -device.drift_nu
    np.testing.assert_allclose(outcomes[1][1], 1 / factor, rtol=1e-6)


def test_device_on_the_simulated_clock_keeps_the_physical_law():
    device = pcm_pair(drift_nu_std=0.01)
    net = sections("network.hardware_time_scale=1e-6")["network"]
    on_clock = device_on_simulated_clock(device, net)
    x, nu = np.linspace(0, 1, 11), np.full(11, 0.05)
    simulated = np.array([0.0, 1.0, 3600.0, 1e8])
    for elapsed in simulated:
        np.testing.assert_allclose(drifted(on_clock, x, elapsed, nu), drifted(device, x, elapsed * 1e-6, nu),
                                   rtol=1e-12)
    assert device_on_simulated_clock(device, sections()["network"]) is device  # real time: unchanged
    assert device_on_simulated_clock(pcm_pair(drift_nu=0.0), net).drift_t0 == device.drift_t0
    assert device_on_simulated_clock(None, net) is None


def test_retention_ages_every_device_and_keeps_the_reference_from_before():
    """protocol.t_read: every device was programmed that much physical time earlier (in simulated
    seconds on the card's clock); a compensation that has no reference yet takes it first."""
    from spikenet.experiments.mnist_stdp import _retention

    card = load_card("mnist_querlioz_pcm_2pcm_compensated", "experiments", smoke=True)
    net, device = card["network"], card.sections["device"]
    state = initial_state(card.sections, np.random.default_rng(0), device)
    state.synapses["t_prog"] = np.linspace(-3.0, 0.0, len(state.synapses["w"]))
    before = copy.deepcopy(state)
    fresh_reference = drift_reference(device_on_simulated_clock(device, net), before, card["plasticity"])
    after = _retention(card, state)
    shift = float(card["protocol"].t_read / second) / net.hardware_time_scale
    assert shift == pytest.approx(86400 / 1e-6)
    np.testing.assert_allclose(after.synapses["t_prog"], before.synapses["t_prog"] - shift)
    np.testing.assert_array_equal(after.drift_ref, fresh_reference)
    aged = drift_reference(device_on_simulated_clock(device, net), after, card["plasticity"])
    one_day = ((86400.0 + 20.0) / 20.0) ** -device.drift_nu
    assert np.all(aged < fresh_reference) and np.median(aged / fresh_reference) == pytest.approx(one_day, rel=0.1)

    no_wait = load_card("mnist_querlioz_pcm_2pcm", "experiments", smoke=True)
    untouched = copy.deepcopy(before)
    assert _retention(no_wait, untouched).synapses["t_prog"] is untouched.synapses["t_prog"]
