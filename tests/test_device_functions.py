"""The branching device functions in a compiled (C++ standalone) program, in distribution.

Their NumPy and Cython forms are checked through the device models (``test_conformance``); the
C++ forms run only in compiled programs, so this compiles one small program that draws from
them many times and compares the samples with the distributions they stand for.
"""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="module")
def compiled_draws(tmp_path_factory):
    """Per-neuron sums over ``steps`` time steps of ``stochastic_round(v)`` and ``randn_if(flag)``,
    the first two rounded draws of each neuron, and ``drift_factor`` over every neuron (a loop the
    compiler vectorises), from one C++ standalone program."""
    import brian2 as b2

    from spikenet.memristive.brian2_functions import DEVICE_FUNCTIONS

    values = np.repeat([0.0, 1e-12, 0.02, 0.3, 2.0, 3.75], 4000)
    flags = np.tile([0.0, 1.0], len(values) // 2)
    steps = 25
    directory = tmp_path_factory.mktemp("device_functions")
    b2.set_device("cpp_standalone", directory=str(directory), build_on_run=False)
    try:
        b2.prefs.devices.cpp_standalone.openmp_threads = 0
        group = b2.NeuronGroup(len(values), """
            v : 1
            flag : 1
            rounded : 1
            draw1 : 1
            draw2 : 1
            normal : 1
            normal_sq : 1
            nu : 1
            ratio : 1
            factor : 1
            """, namespace=dict(DEVICE_FUNCTIONS), dt=0.1 * b2.ms, name="draws")
        group.v = values
        group.flag = flags
        group.nu = np.linspace(0.0, 0.2, len(values))
        group.ratio = np.geomspace(1.0, 1e7, len(values))
        group.run_regularly("factor = drift_factor(nu, ratio)", dt=0.1 * b2.ms)
        group.run_regularly("""
            k = stochastic_round(v)
            draw2 = draw2 + int(t > 0.5 * dt) * int(t < 1.5 * dt) * k
            draw1 = draw1 + int(t < 0.5 * dt) * k
            rounded = rounded + k
            z = randn_if(flag)
            normal = normal + z
            normal_sq = normal_sq + z * z
            """, dt=0.1 * b2.ms)
        b2.seed(7)
        b2.run(steps * 0.1 * b2.ms)
        b2.device.build(directory=str(directory), run=True, compile=True, with_output=False)
        out = {name: np.array(getattr(group, name)[:]) for name in ("rounded", "draw1", "draw2", "normal", "normal_sq",
                                                                "nu", "ratio", "factor")}
    finally:
        b2.device.reinit()
        b2.set_device("runtime")
    return values, flags, steps, out


def test_stochastic_round_is_unbiased_and_whole(compiled_draws):
    values, _, steps, out = compiled_draws
    for v in np.unique(values):
        sums = out["rounded"][values == v]
        whole, frac = np.floor(v), v - np.floor(v)
        # sum of `steps` draws: steps * floor(v) + Binomial(steps, frac)
        assert np.all(sums == np.round(sums))
        assert np.all((sums >= steps * whole) & (sums <= steps * (whole + 1)))
        mean = sums.mean() / steps
        se = np.sqrt(frac * (1 - frac) / (steps * len(sums)))
        assert abs(mean - v) <= 4 * se + 1e-12, (v, mean, se)


def test_stochastic_round_draws_are_independent(compiled_draws):
    values, _, _, out = compiled_draws
    pick = values == 0.3
    a, b = out["draw1"][pick], out["draw2"][pick]
    # consecutive draws of one neuron and neighbouring neurons' draws: correlation within 4 / sqrt(n)
    assert abs(np.corrcoef(a, b)[0, 1]) < 4 / np.sqrt(pick.sum())
    assert abs(np.corrcoef(a[:-1], a[1:])[0, 1]) < 4 / np.sqrt(pick.sum())


def test_randn_if_draws_only_where_flagged(compiled_draws):
    _, flags, steps, out = compiled_draws
    assert np.all(out["normal"][flags == 0] == 0) and np.all(out["normal_sq"][flags == 0] == 0)
    n = steps * (flags == 1).sum()
    mean = out["normal"][flags == 1].sum() / n
    var = out["normal_sq"][flags == 1].sum() / n - mean**2
    assert abs(mean) < 4 / np.sqrt(n)
    assert abs(var - 1) < 4 * np.sqrt(2 / n)


def test_drift_factor_is_the_power_law(compiled_draws):
    """The compiled drift factor (glibc's vector exp and log where GCC vectorises the loop,
    within 4 ulp each) equals ``ratio ** -nu``."""
    _, _, _, out = compiled_draws
    np.testing.assert_allclose(out["factor"], out["ratio"] ** -out["nu"], rtol=1e-13, atol=0)
