"""Conformance: every device card's model in every backend equals the NumPy reference.

Each model kind writes its array equations once for NumPy and torch
(:mod:`spikenet.memristive.models`) and its Brian2 code separately; this suite holds the three
together for every card in the catalog (a new card or model kind is tested without editing it):

* exactly, where nothing is random: the card without noise, spread or faults (binary devices
  switching with certainty), requests of whole pulses;
* in distribution, with everything the card has (noise, spread, faults, stochastic rounding):
  means and standard deviations within 4 standard errors of their difference (the standard
  error of a standard deviation from the sample's fourth moment: a card with stuck devices is
  a mixture, whose spread moves with the number of stuck devices drawn).

The Brian2 side runs the requests through a learning rule (Querlioz et al.'s, whose step is
``alpha`` when its exponents are 0) with the device under it; a binary card's parallel devices
are counts there, so its NumPy reference is the model's ``synapses`` array (counts too;
``tests/test_binary_counts.py`` holds the counts against the devices one by one).
"""

import dataclasses

import numpy as np
import pytest
from brian2 import second

import spikenet as sn
from spikenet.memristive import DeviceArray, brian2_device, model_of
from spikenet.memristive.models import NUMPY
from spikenet.memristive.brian2_functions import DEVICE_FUNCTIONS

CARDS = [info.name for info in sn.list_cards("devices")]
DEVICES = {name: sn.load_card(name, "devices")["device"] for name in CARDS}
N_UP, N_DOWN = 6, 3


def noiseless(p):
    """The card with nothing random left: no noise, spread or faults; binary devices always switch."""
    if model_of(p).exact:
        return p
    changes = dict(c2c_std=0.0, d2d_std=0.0, stuck_low=0.0, stuck_high=0.0, read_noise_std=0.0, drift_nu_std=0.0)
    fields = {f.name for f in dataclasses.fields(p)}
    binary = dict(p_set=1.0, p_reset=1.0, p_set_std=0.0, p_reset_std=0.0, sigma_ln_on=0.0, sigma_ln_off=0.0)
    changes.update({k: v for k, v in binary.items() if k in fields})
    return dataclasses.replace(p, **changes)


def whole_pulse_requests(p) -> tuple[float, float]:
    """A potentiating request of 2 pulses and a depressing one of 1 pulse (normalised units)."""
    if model_of(p).exact:
        return 0.07, -0.05
    per_range = model_of(p).pulses_per_range(np.array([True, False]), NUMPY)
    return 2.0 / per_range[0], -1.0 / per_range[1]


def numpy_reference(p, n, seed, x0, up, down, *, synapses: bool):
    """Final normalised conductances after N_UP requests ``up`` then N_DOWN ``down``, in NumPy
    (``synapses``: the array a network's synapses use, counts for a binary card)."""
    rng = np.random.default_rng(seed)
    devices = model_of(p).synapses(n, rng, x0) if synapses else DeviceArray(p, n, rng, x0)
    for dx in [up] * N_UP + [down] * N_DOWN:
        devices.request(dx)
    return devices


def brian2_weights(p, n, up, down, seed=11):
    """The same requests through a learning rule on ``p`` in Brian2 (weights in [0, 1] are ``x``)."""
    import brian2 as b2

    from spikenet.pairing import pairing_weights

    rule = sn.rule_params("stdp_querlioz", beta_plus=0.0, beta_minus=0.0, alpha_plus=up, alpha_minus=-down,
                          w_min=0.0, w_max=1.0, t_ltp=0.01 * b2.second)
    pre = [np.arange(N_UP) * 0.2 + 0.1] * n  # each followed 5 ms later by a post spike (LTP)
    post = [np.concatenate([np.arange(N_UP) * 0.2 + 0.105, N_UP * 0.2 + 0.3 + np.arange(N_DOWN) * 0.2])] * n
    b2.seed(seed)
    np.random.seed(seed)  # the devices' initial state
    return pairing_weights(rule, pre, post, w_init=0.3, dt=0.1 * b2.ms, device=p)


def assert_same_distribution(a: np.ndarray, b: np.ndarray) -> None:
    """Mean and standard deviation of two samples equal within 4 standard errors of the difference."""
    def se_of_std(x):
        var = x.var()
        return np.sqrt(max(np.mean((x - x.mean()) ** 4) - var**2, 0.0) / (4 * len(x) * max(var, 1e-300)))

    se_mean = np.sqrt(a.var() / len(a) + b.var() / len(b))
    assert abs(a.mean() - b.mean()) < 4 * se_mean + 1e-9
    assert abs(a.std() - b.std()) < 4 * np.hypot(se_of_std(a), se_of_std(b)) + 1e-9


# --------------------------------------------------------------------------- exact

@pytest.mark.parametrize("name", CARDS)
def test_brian2_equals_numpy_without_randomness(name):
    p = noiseless(DEVICES[name])
    up, down = whole_pulse_requests(p)
    w = brian2_weights(p, 50, up, down)
    ref = numpy_reference(p, 50, 0, 0.3, up, down, synapses=True)
    np.testing.assert_allclose(w, ref.x, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", CARDS)
def test_torch_equals_numpy_without_randomness(name):
    torch = pytest.importorskip("torch")
    from spikenet.memristive.torch_models import TorchDeviceArray

    p = noiseless(DEVICES[name])
    rng = np.random.default_rng(13)
    x0 = rng.uniform(0, 1, 200)
    if not model_of(p).clipped:  # a binary device starts ON with probability x0: certain only at 0 and 1
        x0 = np.round(x0)
    a = DeviceArray(p, 200, np.random.default_rng(0), x0)
    b = TorchDeviceArray(p, 200, torch.Generator().manual_seed(0), torch.tensor(x0))
    up, down = whole_pulse_requests(p)
    for _ in range(20):
        dx = np.where(rng.random(200) < 0.6, up, down) * rng.integers(0, 4, 200)
        pulses_a = a.request(dx, t=1.0)
        pulses_b = b.request(torch.tensor(dx), t=1.0)
        np.testing.assert_array_equal(pulses_b.numpy(), pulses_a)
        np.testing.assert_allclose(b.x.numpy(), a.x, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(b.read(t=3600.0).numpy(), a.read(t=3600.0), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", CARDS)
def test_brian2_read_equals_numpy_read_with_drift(name):
    """The read expression a transmitted spike uses (drift at every read, and as cached per slot
    just after a refresh) equals DeviceArray.read, for single devices and pairs alike."""
    p = noiseless(DEVICES[name])
    if model_of(p).exact:
        assert brian2_device(p).read == "w"
        return
    p = dataclasses.replace(p, drift_nu=max(p.drift_nu, 0.05))
    x0 = np.array([0.0, 0.2, 0.5, 0.8, 1.0])
    devices = DeviceArray(p, 5, np.random.default_rng(0), x0)
    t, t_prog = 3600.0, np.array([0.0, 10.0, 100.0, 1000.0, 3000.0])
    devices.t_prog[:] = t_prog
    values = dict(w_min=0.0, w_max=1.0, w=devices.x, t=t, t_prog=t_prog, drift_t0=float(p.drift_t0 / second),
                  nu_dev=p.drift_nu, exp=np.exp, log=np.log, drift_factor=DEVICE_FUNCTIONS["drift_factor"].pyfunc)
    expected = devices.read(t, noise=False)
    np.testing.assert_allclose(eval(brian2_device(p).read, {}, values), expected, rtol=1e-12)
    cached = brian2_device(p, cached_drift=True)
    values["w_read"] = eval(cached.refresh.split("=", 1)[1], {}, values)
    np.testing.assert_allclose(eval(cached.read, {}, values), expected, rtol=1e-12)


@pytest.mark.parametrize("name", CARDS)
def test_nominal_levels_are_the_noiseless_pulse_response(name):
    """The analog mapping's levels are where whole potentiating pulses from g_min take a device."""
    p = noiseless(DEVICES[name])
    model = model_of(p)
    if model.mapping in ("exact", "counts"):
        return  # no levels: the weight itself, or counts of ON devices
    levels = model.nominal_levels()
    devices = DeviceArray(p, 1, np.random.default_rng(0), model.unprogrammed)
    reached = [devices.x[0]]
    for _ in range(len(levels) - 1):
        devices.pulse(True, 1)
        reached.append(devices.x[0])
    x = np.array(reached)
    if model.mapping == "pair":  # the G+ device of the pair
        x = 2 * x - 1
    np.testing.assert_allclose(x, levels, rtol=1e-9, atol=1e-12)


# --------------------------------------------------------------------------- in distribution

@pytest.mark.parametrize("name", CARDS)
def test_brian2_matches_numpy_in_distribution(name):
    """The card as it is (noise, spread, faults, stochastic rounding) plus stuck devices and spread."""
    p = DEVICES[name]
    if not model_of(p).exact:
        p = dataclasses.replace(p, stuck_low=max(p.stuck_low, 0.05), d2d_std=max(p.d2d_std, 0.1))
    n, up, down = 2000, 0.02, -0.02
    w = brian2_weights(p, n, up, down)
    assert_same_distribution(w, numpy_reference(p, n, 12, 0.3, up, down, synapses=True).x)


@pytest.mark.parametrize("name", CARDS)
def test_torch_matches_numpy_in_distribution(name):
    torch = pytest.importorskip("torch")
    from spikenet.memristive.torch_models import TorchDeviceArray

    p = DEVICES[name]
    if not model_of(p).exact:
        p = dataclasses.replace(p, stuck_low=0.05, d2d_std=max(p.d2d_std, 0.1))
    n = 20_000
    a = DeviceArray(p, n, np.random.default_rng(1), 0.3)
    b = TorchDeviceArray(p, n, torch.Generator().manual_seed(1), 0.3)
    for dx in [0.05] * 10 + [-0.03] * 5:
        a.request(dx)
        b.request(dx)
    assert_same_distribution(a.read(), b.read().numpy())
    if model_of(p).exact:
        return
    ok_a, _ = a.program(np.full(n, 0.5), 0.05, 30)
    ok_b, _ = b.program(torch.full((n,), 0.5, dtype=torch.float64), 0.05, 30)
    assert ok_b.double().mean().item() == pytest.approx(ok_a.mean(), abs=0.02)
