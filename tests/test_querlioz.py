"""The Querlioz et al. (2013) network: rate coding, winner-take-all, homeostasis, fresh start per image."""

from __future__ import annotations

import numpy as np
import pytest
from brian2 import Hz

from spikenet.catalog import load_card
from spikenet.engine import RuntimeEngine
from spikenet.errors import CardError
from spikenet.networks import build_network, initial_state, input_rates

FAST = ["network.n_exc=4", "network.t_present=40 ms", "network.t_rest=0.5 ms", "neuron.v_th=6"]


def sections(*overrides):
    return load_card("querlioz_2013", "models", overrides=[*FAST, *overrides]).sections


def run(sec, images, state=None, *, plastic=True):
    state = state if state is not None else initial_state(sec, np.random.default_rng(0))
    built = {}

    def build(s, images=None):
        built["net"] = build_network(sec, s, rows=len(images), slots=len(images), images=images)
        return built["net"]

    after, shown = RuntimeEngine(build).run(images, state, plastic=plastic, seed=1)
    return state, after, shown, built


def firing_images(n, rng, lit=40):
    """Images whose lit pixels fire at every step (rate x dt >= 1): no random stream matters."""
    images = np.zeros((n, 784))
    for k in range(n):
        images[k, rng.choice(784, lit, replace=False)] = 2000.0
    return images


def test_rate_coding_is_linear_above_the_cutoff():
    net = load_card("querlioz_2013", "models").sections["network"]
    pixels = np.array([[0, 50, 84, 85, 128, 255]])  # 84 / 255 < 0.33 <= 85 / 255
    rates = input_rates(net, pixels)[0]
    lo, hi = float(net.rate_min / Hz), float(net.rate_max / Hz)
    np.testing.assert_allclose(rates, [0, 0, 0, lo + (hi - lo) * 85 / 255, lo + (hi - lo) * 128 / 255, hi])
    assert hi == pytest.approx(1000 / 45, rel=1e-3)  # N2D2's PeriodMeanMin = 45 (x 1e6 fs)


def graded_state(sec):
    """Neuron k has every input weight 0.2 + 0.2 k: with 40 inputs firing at every step it gains
    8, 16, 24, 32 per step, so neuron 3 reaches v_th = 100 first (step 4), neuron 2 next (step 5)."""
    state = initial_state(sec, np.random.default_rng(0))
    state.synapses["w"] = np.tile(0.2 + 0.2 * np.arange(4), 784)
    return state


def spikes_by_neuron(sec, state, images):
    _, _, shown, built = run(sec, images, state, plastic=False)
    return np.bincount(np.asarray(built["net"].exc_spikes.i), minlength=4)


def test_the_winner_resets_the_others():
    sec = sections("neuron.v_th=100", "neuron.theta_plus=0")
    counts = spikes_by_neuron(sec, graded_state(sec), firing_images(2, np.random.default_rng(1)))
    assert counts[3] == 2 * 16  # every 5th step (4 steps of input; the spike step's input is lost), 2 x 80 steps
    assert counts[:3].sum() == 0  # neuron 2 would fire at step 5, but the winner reset it at step 4


def test_inhibition_blocks_the_others_for_t_inhibit():
    # The winner is refractory for 5 ms: without inhibition neuron 2 fires meanwhile; blocked for
    # 10 ms it starts after the winner and never wins.
    base = ["neuron.v_th=100", "neuron.theta_plus=0", "neuron.t_ref=5 ms"]
    images = firing_images(2, np.random.default_rng(2))
    free = sections(*base, "network.t_inhibit=0 ms")
    assert spikes_by_neuron(free, graded_state(free), images)[2] > 0
    blocked = sections(*base, "network.t_inhibit=10 ms")
    counts = spikes_by_neuron(blocked, graded_state(blocked), images)
    assert counts[2] == 0 and counts[3] > 0


def test_layer_mean_homeostasis_spreads_activity_and_keeps_the_sum_of_thresholds():
    # Without homeostasis neuron 3 takes every spike (see above); with it, its threshold rises by
    # theta_plus per own spike and falls by theta_plus / n per spike of the layer.
    sec = sections("neuron.v_th=100", "neuron.theta_plus=4")
    state = graded_state(sec)
    _, after, shown, _ = run(sec, firing_images(2, np.random.default_rng(3)), state)
    fired = shown.responses.sum(axis=0)
    assert np.count_nonzero(fired) >= 2
    np.testing.assert_allclose(after.theta - state.theta, 4 * (fired - fired.sum() / 4), atol=1e-9)
    _, frozen, _, _ = run(sec, firing_images(2, np.random.default_rng(3)), state, plastic=False)
    np.testing.assert_array_equal(frozen.theta, state.theta)
    np.testing.assert_array_equal(frozen.synapses["w"], state.synapses["w"])


def test_without_homeostasis_thresholds_only_rise():
    sec = sections("neuron.theta_plus=0.5", "network.homeostasis=none")
    before, after, shown, _ = run(sec, firing_images(2, np.random.default_rng(4)))
    np.testing.assert_allclose(after.theta - before.theta, 0.5 * shown.responses.sum(axis=0))


def test_stdp_potentiates_inputs_of_the_image_and_depresses_the_rest():
    sec = sections()
    images = firing_images(1, np.random.default_rng(5))
    before, after, shown, _ = run(sec, images)
    fired = shown.responses[0] > 0
    assert fired.any()
    dw = (after.synapses["w"] - before.synapses["w"]).reshape(784, -1)[:, fired]
    lit = images[0] > 0
    assert np.all(dw[lit] > 0) and np.all(dw[~lit] < 0)


def test_a_card_with_no_rest_step_is_refused():
    with pytest.raises(CardError, match="t_rest.*at least one time step"):
        sections("network.t_rest=0 ms")
