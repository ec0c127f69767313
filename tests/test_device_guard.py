"""The compiled engine's guarded device updates (:mod:`spikenet.memristive.brian2_guard`) change
nothing but the speed: one ``cpp_standalone`` program with the guard and one without, each holding
plastic synapses on every model kind (with stuck devices, spread and drift where the kind has
them), driven by the same spike trains from the same seed, end in the same state, bit for bit
(the guard's prefetching included)."""

import dataclasses

import numpy as np
import pytest

import spikenet as sn
from spikenet.memristive import brian2_guard, initial_device_state
from spikenet.params.devices import IdealDeviceParams
from spikenet.plasticity import initialise

CARDS = {  # one card per model kind; extras exercise the branches of the update
    "linear_64": dict(d2d_std=0.1, stuck_low=0.05),
    "pcm_gst": dict(stuck_high=0.05),
    "pcm_2pcm": dict(stuck_low=0.05, stuck_high=0.05, d2d_std=0.1),
    "agsi_neurosim": dict(d2d_std=0.1),
    "agsi_jo2010_table": dict(stuck_low=0.05),
    "oxram_hfo2": dict(redundancy=8, stuck_low=0.05),
    "loihi_4bit": dict(stuck_high=0.05),
}
N_PRE, N_POST, DURATION_S = 20, 5, 0.5


def _spike_trains(rng: np.random.Generator, n: int, count: int, dt):
    """About ``count`` random spikes of ``n`` neurons over the run (at most one per neuron and step)."""
    import brian2 as b2

    steps = np.unique(rng.integers(0, n * round(DURATION_S / float(dt)), count))
    return b2.SpikeGeneratorGroup(n, steps % n, (steps // n) * dt, dt=dt)


def _program(directory, guard: bool) -> dict[str, dict[str, np.ndarray]]:
    """Build, compile and run the program; each card's synapse variables at the end."""
    import brian2 as b2

    b2.set_device("cpp_standalone", directory=str(directory), build_on_run=False)
    brian2_guard.ENABLED = guard
    gcc_args = list(b2.prefs.codegen.cpp.extra_compile_args_gcc)
    try:
        b2.prefs.devices.cpp_standalone.openmp_threads = 0
        b2.prefs.codegen.cpp.extra_compile_args_gcc = ["-O1", "-w"]  # the semantics are tested, not the speed
        b2.seed(7)
        rng = np.random.default_rng(3)
        rule = sn.rule_params("stdp_diehl_cook")
        objects, groups = [], {}
        for k, (name, extras) in enumerate(CARDS.items()):
            device = dataclasses.replace(sn.load_card(name, "devices")["device"], **extras)
            dt = 0.1 * b2.ms
            pre, post = (_spike_trains(rng, n, count, dt) for n, count in ((N_PRE, 300), (N_POST, 60)))
            drift = {"drift_refresh": 50 * b2.ms} if device.drift_nu > 0 else {}
            syn = sn.synapses(pre, post, rule, device=device, target=None, connect=False, dt=dt, name=f"card{k}",
                              **drift)
            syn.connect()
            # as the MNIST networks set a compiled program's synapses: no values read back before it runs
            initialise(syn, rule, IdealDeviceParams(), 0.0)
            state = initial_device_state(device, np.full(N_PRE * N_POST, 0.5), rule.w_min, rule.w_max, np.random.default_rng(k))
            for variable, values in state.items():
                if variable != "t_prog":
                    setattr(syn, variable, b2.Quantity(values, dim=syn.variables[variable].dim))
            objects += [pre, post, syn]
            groups[name] = syn
        b2.Network(*objects).run(DURATION_S * b2.second)
        b2.device.build(directory=str(directory), run=True, compile=True, with_output=False)
        code = {side: next((directory / "code_objects").glob(f"card2_{side}_codeobject*.cpp")).read_text()
                for side in ("pre", "post")}
        assert all(("if (int_(n_pulse != 0))" in c) == guard for c in code.values())
        # the postsynaptic pathway visits strided synapses: prefetched; the presynaptic one not
        assert ("__builtin_prefetch" in code["post"]) == guard and "__builtin_prefetch" not in code["pre"]
        return {name: {v: np.array(getattr(syn, v)[:]) for v in syn.equations.names} for name, syn in groups.items()}
    finally:
        brian2_guard.ENABLED = True
        b2.prefs.codegen.cpp.extra_compile_args_gcc = gcc_args
        b2.device.reinit()
        b2.set_device("runtime")


def test_guarded_and_unguarded_device_updates_end_in_the_same_state(tmp_path):
    guarded = _program(tmp_path / "guarded", guard=True)
    plain = _program(tmp_path / "plain", guard=False)
    for name in CARDS:
        assert guarded[name].keys() == plain[name].keys()
        for variable, values in plain[name].items():
            np.testing.assert_array_equal(guarded[name][variable], values, err_msg=f"{name}: {variable}")
        pulses = plain[name]["pulses_ltp"] + plain[name]["pulses_ltd"]
        assert pulses.sum() > 0, name  # the devices were pulsed
        assert np.any(plain[name]["w"] != 0.5), name


def test_a_temporary_of_the_block_used_after_it_is_refused():
    import brian2 as b2

    b2.set_device("cpp_standalone", build_on_run=False)
    try:
        pre = b2.SpikeGeneratorGroup(1, [0], [1] * b2.ms)
        post = b2.NeuronGroup(1, "v : 1")
        code = brian2_guard.guarded("flag", "inner = 2 * w\nw += flag * inner") + "v_post += inner"
        syn = b2.Synapses(pre, post, "w : 1\nflag : 1", on_pre=code, codeobj_class=brian2_guard.GuardedCodeObject)
        syn.connect()
        with pytest.raises(b2.BrianObjectException) as info:
            b2.Network(pre, post, syn).run(2 * b2.ms)
        assert "used after it: ['inner']" in str(info.value.__cause__)
    finally:
        b2.device.reinit()
        b2.set_device("runtime")
