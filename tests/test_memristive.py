"""Device models: every check runs over every device card automatically."""

import dataclasses

import numpy as np
import pytest
from brian2 import siemens
from hypothesis import given, settings
from hypothesis import strategies as st

import spikenet as sn
from spikenet.errors import CardError
from spikenet.memristive import DeviceArray
from spikenet.memristive.brian2_functions import DEVICE_FUNCTIONS
from spikenet.params.devices import IdealDeviceParams, _BinaryDeviceParams

CARDS = [info.name for info in sn.list_cards("devices")]
DEVICES = {name: sn.load_card(name, "devices")["device"] for name in CARDS}
REAL = [name for name in CARDS if not isinstance(DEVICES[name], IdealDeviceParams)]


def with_(name, **changes):
    return dataclasses.replace(DEVICES[name], **changes)


@pytest.mark.parametrize("name", REAL)
@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), x0=st.floats(0, 1), p_up=st.floats(0, 1), max_n=st.integers(1, 5))
def test_state_stays_in_bounds_over_1e5_random_pulses(name, seed, x0, p_up, max_n):
    rng = np.random.default_rng(seed)
    devices = DeviceArray(DEVICES[name], 1000, rng, x0)
    for _ in range(100):  # 1000 devices x 100 pulse trains = 1e5 writes
        devices.pulse(rng.random(1000) < p_up, rng.integers(0, max_n + 1, 1000))
        if isinstance(DEVICES[name], _BinaryDeviceParams):
            assert set(np.unique(devices.on)) <= {0.0, 1.0}
            assert np.all(np.isfinite(devices.x)) and np.all(devices.conductance() > 0)
        else:
            assert np.all((devices.x >= 0) & (devices.x <= 1))


@pytest.mark.parametrize("name", REAL)
def test_stuck_devices_never_move(name):
    p = with_(name, stuck_low=0.2, stuck_high=0.1)
    rng = np.random.default_rng(1)
    devices = DeviceArray(p, 5000, rng, 0.5)
    stuck = devices.stuck != 0
    assert abs(np.mean(devices.stuck < 0) - 0.2) < 0.03 and abs(np.mean(devices.stuck > 0) - 0.1) < 0.03
    before = devices.x[stuck].copy()
    for k in range(50):
        devices.pulse(k % 3 != 0, 2)
    np.testing.assert_array_equal(devices.x[stuck], before)
    assert np.all(devices.x[devices.stuck > 0] == 1.0) and np.all(devices.x[devices.stuck < 0] == 0.0)


def test_cycle_to_cycle_noise_matches_the_card():
    """One pulse's change has std c2c_std: a chi-square interval for the sample std of 20,000 changes."""
    p = with_("linear_64", c2c_std=0.01)
    devices = DeviceArray(p, 20_000, np.random.default_rng(2), 0.5)
    before = devices.x.copy()
    devices.pulse(True, 1)
    steps = devices.x - before
    assert np.mean(steps) == pytest.approx(1 / 63, rel=0.01)
    # std of a sample std is sigma / sqrt(2 (n - 1)): 0.5 % here; allow 4 of them.
    assert np.std(steps) == pytest.approx(0.01, rel=0.02)


def test_device_to_device_spread_matches_the_card():
    p = with_("linear_64", d2d_std=0.2)
    devices = DeviceArray(p, 20_000, np.random.default_rng(3), 0.0)
    devices.pulse(True, 10)
    per_device_step = devices.x / (10 / 63)
    assert np.mean(per_device_step) == pytest.approx(1.0, abs=0.01)
    assert np.std(per_device_step) == pytest.approx(0.2, rel=0.03)


def test_multiple_pulses_add_up_like_single_ones():
    """n pulses in one write land where n single pulses land (noise off)."""
    for name in ("agsi_neurosim", "pcm_gst", "linear_64"):
        p = with_(name, c2c_std=0.0)
        one, many = (DeviceArray(p, 50, np.random.default_rng(4), 0.3) for _ in range(2))
        for _ in range(7):
            one.pulse(True, 1)
        many.pulse(True, 7)
        np.testing.assert_allclose(one.x, many.x, rtol=1e-12, atol=1e-12)


def test_neurosim_curve_reaches_g_max_after_its_levels():
    p = with_("agsi_neurosim", c2c_std=0.0)
    devices = DeviceArray(p, 3, np.random.default_rng(5), 0.0)
    devices.pulse(True, p.levels_ltp)
    np.testing.assert_allclose(devices.x, 1.0, atol=1e-12)
    devices.pulse(False, p.levels_ltd)
    np.testing.assert_allclose(devices.x, 0.0, atol=1e-12)


def test_drift_follows_its_power_law():
    p = with_("pcm_gst", drift_nu_std=0.0, read_noise_std=0.0)
    devices = DeviceArray(p, 4, np.random.default_rng(6), 0.6)
    g0 = devices.conductance()
    t0 = 20.0
    for t in (1.0, 100.0, 1e4, 1e6):
        x = devices.read(t)
        g = float(p.g_min / siemens) + float((p.g_max - p.g_min) / siemens) * x
        np.testing.assert_allclose(g, g0 * ((t + t0) / t0) ** (-0.05), rtol=1e-12)


def test_a_pcm_pair_drifts_towards_zero_weight():
    """Both devices of a 2-PCM synapse drift alike: G+ - G- shrinks by the drift factor, a zero
    weight stays zero (the g_min offsets cancel), in NumPy, torch and the Brian2 read expression."""
    torch = pytest.importorskip("torch")
    from spikenet.memristive import brian2_device
    from spikenet.memristive.torch_models import TorchDeviceArray

    p = with_("pcm_2pcm", drift_nu_std=0.0, read_noise_std=0.0, c2c_std=0.0)
    x0 = np.array([0.5, 0.8, 0.2, 1.0])
    t, factor = 3600.0, ((3600.0 + 20.0) / 20.0) ** (-0.05)
    expected = 0.5 + (x0 - 0.5) * factor
    np.testing.assert_allclose(DeviceArray(p, 4, np.random.default_rng(0), x0).read(t), expected, rtol=1e-12)
    torch_read = TorchDeviceArray(p, 4, torch.Generator().manual_seed(0), torch.tensor(x0)).read(t)
    np.testing.assert_allclose(torch_read.numpy(), expected, rtol=1e-12)
    code = brian2_device(p).read  # w_min + (w_max - w_min) * <drifted (w - w_min) / (w_max - w_min)>, on plain numbers
    values = dict(w_min=0.0, w_max=1.0, w=x0, t=t, t_prog=0.0, drift_t0=20.0, nu_dev=0.05, exp=np.exp, log=np.log,
                  drift_factor=DEVICE_FUNCTIONS["drift_factor"].pyfunc)
    np.testing.assert_allclose(eval(code, {}, values), expected, rtol=1e-12)


def test_program_to_target_converges_or_reports_failure():
    p = with_("linear_64", c2c_std=0.002, stuck_low=0.1)
    devices = DeviceArray(p, 2000, np.random.default_rng(7), 0.0)
    target = np.random.default_rng(8).uniform(0.2, 0.8, 2000)
    ok, used = devices.program(target, tolerance=1 / 63, max_pulses=200)
    free = devices.stuck == 0
    assert np.all(ok[free]) and not np.any(ok[~free])
    assert np.all(np.abs(devices.x[free] - target[free]) <= 1 / 63)
    assert np.all(used[~free] == 200)  # stuck devices used every pulse and said so


def test_pcm_program_down_goes_through_reset():
    p = with_("pcm_gst", c2c_std=0.0)
    devices = DeviceArray(p, 10, np.random.default_rng(9), 0.9)
    ok, used = devices.program(np.full(10, 0.3), tolerance=0.01, max_pulses=100)
    assert np.all(ok) and np.all(used > 1)


@pytest.mark.parametrize(
    "name, override, message",
    [
        ("linear_64", "g_min=10 uS", r"device.g_max: must be above g_min"),
        ("linear_64", "c2c_std=-0.1", r"device.c2c_std = -0.1: out of range: must be >= 0"),
        ("oxram_hfo2", "p_set=1.5", r"device.p_set = 1.5: out of range: must be >= 0 and <= 1"),
        ("linear_64", "levels=0", r"device.levels = 0: out of range: must be >= 2"),
        ("agsi_neurosim", "g_max=5 mV", r"device.g_max = '5 mV': .*expected a conductance"),
        ("linear_64", "stuck_high=0.9", r"stuck_low \+ stuck_high"),
    ],
)
def test_impossible_device_values_are_rejected(name, override, message):
    key, value = override.split("=")
    with pytest.raises(CardError, match=message):
        sn.load_card(name, "devices", overrides=[f"device.{key}={value}"] if key != "stuck_high" else
                     ["device.stuck_high=0.9", "device.stuck_low=0.2"])


# Brian2 and torch against NumPy, card by card: tests/test_conformance.py


def test_learning_on_a_device_card_runs_in_brian2():
    """The public API with a device: weights move, stay in range, and count their pulses."""
    import brian2 as b2

    b2.seed(3)
    inp = b2.PoissonGroup(50, 20 * b2.Hz)
    out = sn.neuron_group("lif_adaptive", 5)
    syn = sn.synapses(inp, out, rule="stdp_diehl_cook", device="agsi_neurosim", rng=np.random.default_rng(0))
    w0 = np.array(syn.w[:])
    b2.Network(inp, out, syn).run(0.5 * b2.second)
    assert not np.allclose(syn.w[:], w0)
    assert np.all((syn.w[:] >= 0) & (syn.w[:] <= 1))
    assert np.sum(syn.pulses_ltp[:]) + np.sum(syn.pulses_ltd[:]) > 0
