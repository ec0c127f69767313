"""Learning rules: analytic pair results, Brian2 against a NumPy reference, dt independence,
and the public API of the README."""

import numpy as np
import pytest
from brian2 import Network, SpikeGeneratorGroup, ms, second

import spikenet as sn
from spikenet.errors import CardError
from spikenet.plasticity import synapses
from reference_rules import final_weight

DT = 0.1 * ms

RULE_CARDS = [
    ("stdp_pair_all", {}),
    ("stdp_pair_nearest", {}),
    ("stdp_pair_all", {"bounds": "soft"}),
    ("triplet_visual_all", {}),
    ("triplet_visual_nearest", {}),
    ("triplet_hippo_all", {"bounds": "soft"}),
    ("stdp_diehl_cook", {}),
    ("stdp_diehl_cook", {"mu": 0.5}),
    ("stdp_querlioz", {}),
]


def run_pairs(rule, pre_steps, post_steps, w0, dt=DT, **overrides):
    """One synapse per (pre train, post train); returns final weights and rule parameters."""
    n = len(pre_steps)
    pre_idx = np.concatenate([np.full(len(s), i) for i, s in enumerate(pre_steps)])
    post_idx = np.concatenate([np.full(len(s), i) for i, s in enumerate(post_steps)])
    end = max(int(np.max(np.concatenate(pre_steps + post_steps))) + 10, 10)
    pre = SpikeGeneratorGroup(n, pre_idx, np.concatenate(pre_steps) * dt, dt=dt)
    post = SpikeGeneratorGroup(n, post_idx, np.concatenate(post_steps) * dt, dt=dt)
    syn = synapses(pre, post, rule, target=None, connect="i == j", w_init=w0, dt=dt, **overrides)
    Network(pre, post, syn).run(end * dt, namespace={})
    return np.asarray(syn.w[:]), sn.rule_params(rule, **overrides)


def random_trains(rng, n, steps, rate_per_step):
    trains = [np.flatnonzero(rng.random(steps) < rate_per_step) for _ in range(n)]
    return [t if t.size else np.array([steps // 2]) for t in trains]


@pytest.mark.parametrize("rule, overrides", RULE_CARDS, ids=[f"{r}{o or ''}" for r, o in RULE_CARDS])
def test_brian2_matches_numpy_reference_on_random_trains(rule, overrides):
    rng = np.random.default_rng(42)
    n, steps = 6, 20_000  # 2 s at 0.1 ms, about 20 Hz each side, coincidences included
    pre, post = random_trains(rng, n, steps, 0.002), random_trains(rng, n, steps, 0.002)
    w0 = 0.5
    got, params = run_pairs(rule, pre, post, w0, **overrides)
    expected = [final_weight(params, pre[i] * float(DT / second), post[i] * float(DT / second), w0) for i in range(n)]
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)
    assert np.any(np.abs(got - w0) > 1e-4), "the trains should have changed the weights"


@pytest.mark.parametrize("delta_ms", [-40.0, -10.0, -2.5, 2.5, 10.0, 40.0])
def test_single_pair_gives_the_exponential_window(delta_ms):
    """One pre and one post spike: dw = A+ exp(-dt/tau+) for dt > 0, -A- exp(dt/tau-) for dt < 0."""
    p = sn.rule_params("stdp_pair_all")
    t_pre = 1000  # steps
    t_post = t_pre + int(round(delta_ms / 0.1))
    w, _ = run_pairs("stdp_pair_all", [np.array([t_pre])], [np.array([t_post])], 0.5)
    if delta_ms > 0:
        expected = p.a_plus * np.exp(-delta_ms / float(p.tau_plus / ms))
    else:
        expected = -p.a_minus * np.exp(delta_ms / float(p.tau_minus / ms))
    assert w[0] - 0.5 == pytest.approx(expected, rel=1e-10)


def test_traces_decay_exponentially():
    """A post spike long after a pre spike sees exp(-T / tau+): the trace's decay."""
    p = sn.rule_params("stdp_pair_all")
    gaps = [50, 100, 200]  # ms
    w, _ = run_pairs("stdp_pair_all", [np.array([10])] * 3, [np.array([10 + 10 * g]) for g in gaps], 0.5)
    np.testing.assert_allclose(w - 0.5, p.a_plus * np.exp(-np.array(gaps) / 16.8), rtol=1e-10, atol=1e-15)


def test_hard_bounds_hold():
    many = [np.arange(100, 20_000, 50)]
    w_up, _ = run_pairs("stdp_pair_all", many, [many[0] + 20], 0.99, a_plus=0.1)
    w_down, _ = run_pairs("stdp_pair_all", [many[0] + 20], many, 0.01, a_minus=0.1)
    assert w_up[0] == 1.0 and w_down[0] == 0.0


def test_weight_change_does_not_depend_on_dt():
    """Spike times on a 1 ms grid: the event-driven rule gives the same weights at any finer dt."""
    rng = np.random.default_rng(3)
    trains = [np.sort(rng.choice(2000, 30, replace=False)) for _ in range(4)]
    posts = [np.sort(rng.choice(2000, 30, replace=False)) for _ in range(4)]
    results = []
    for dt_ms in (0.1, 0.5):
        factor = int(round(1 / dt_ms))
        w, _ = run_pairs("triplet_visual_all", [t * factor for t in trains], [t * factor for t in posts], 0.5,
                         dt=dt_ms * ms)
        results.append(w)
    np.testing.assert_allclose(results[0], results[1], rtol=1e-12)


def test_readme_example_runs():
    import brian2 as b2

    b2.seed(7)
    inp = b2.PoissonGroup(100, 15 * b2.Hz)
    out = sn.neuron_group("lif_adaptive", 10)
    syn = sn.synapses(inp, out, rule="stdp_pair_nearest", device="ideal")
    w0 = np.array(syn.w[:])
    spikes = b2.SpikeMonitor(out)
    b2.Network(inp, out, syn, spikes).run(1 * b2.second)
    assert syn.N == 1000
    assert not np.allclose(syn.w[:], w0)  # learning happened
    assert np.all((syn.w[:] >= 0) & (syn.w[:] <= 1))


def test_keyword_overrides_are_checked_like_card_values():
    assert sn.neuron_params("lif_adaptive", tau_m=15 * ms).tau_m == 15 * ms
    assert sn.neuron_params("lif_adaptive", tau_m="15 ms").tau_m == 15 * ms
    with pytest.raises(CardError, match="keyword arguments: neuron.tau_m = .*expected a time"):
        sn.neuron_params("lif_adaptive", tau_m=15 * b2_mV())
    with pytest.raises(CardError, match="unknown key 'plasticity.tau'"):
        sn.rule_params("stdp_pair_all", tau=3 * ms)
    with pytest.raises(CardError, match="unknown model card 'stdp_nope'"):
        sn.rule_params("stdp_nope")
    with pytest.raises(CardError, match="has no \\[plasticity\\] section"):
        sn.rule_params("lif_adaptive")


def test_missing_target_variable_is_a_clear_error():
    pre = SpikeGeneratorGroup(1, [0], [1] * ms)
    post = SpikeGeneratorGroup(1, [0], [2] * ms)
    with pytest.raises(CardError, match="target 'ge': the postsynaptic group .* has no such variable"):
        synapses(pre, post, "stdp_pair_all")


def b2_mV():
    from brian2 import mV

    return mV


@pytest.mark.parametrize("name", [info.name for info in sn.list_cards("models")])
def test_every_model_card_builds_and_runs(name):
    import brian2 as b2

    card = sn.load_card(name, "models")
    objects = []
    if "neuron" in card:
        group = sn.neuron_group(name, 3, dt=DT)
        objects.append(group)
        rest = getattr(card["neuron"], "v_rest", 0.0)  # lif_homeostatic: v in weight units, at rest 0
        assert np.all(group.v[:] == rest)
    if "plasticity" in card:
        if card["plasticity"].RULE == "oja":
            pre, post = b2.NeuronGroup(4, "x : 1", dt=DT), b2.NeuronGroup(1, "y : 1", dt=DT)
            pre.x = "rand()"
            syn = sn.synapses(pre, post, name, w_init="0.1 * rand()", dt=DT)
        else:
            pre, post = b2.PoissonGroup(4, 50 * b2.Hz, dt=DT), b2.PoissonGroup(2, 50 * b2.Hz, dt=DT)
            syn = sn.synapses(pre, post, name, target=None, dt=DT)
        objects += [pre, post, syn]
    b2.Network(*objects).run(20 * ms, namespace={})


def test_adaptive_threshold_rises_by_theta_plus_per_spike():
    import brian2 as b2

    group = sn.neuron_group("lif_adaptive", 2, dt=DT)
    drive = b2.PoissonGroup(2, 2000 * b2.Hz, dt=DT)
    syn = b2.Synapses(drive, group, on_pre="ge_post += 0.5", dt=DT)
    syn.connect(j="i")
    spikes = b2.SpikeMonitor(group)
    b2.Network(group, drive, syn, spikes).run(300 * ms, namespace={})
    p = sn.neuron_params("lif_adaptive")
    counts = np.asarray(spikes.count[:])
    assert counts.min() > 5
    # tau_theta = 1e7 ms: decay over 0.3 s changes theta by 0.3 / 1e4 = 3e-5 of itself.
    np.testing.assert_allclose(np.asarray(group.theta[:] / b2.mV), float(p.theta_init / b2.mV) + counts * 0.05,
                               rtol=1e-4)
