"""The digital synapse (model ``digital``, cards ``loihi_*bit``): b-bit weights on an exact grid,
stochastically rounded updates whose expectation is the requested change, no analog noise.

(The conformance suite holds its Brian2 and torch forms equal to NumPy; these are its own claims.)"""

from __future__ import annotations

import numpy as np
import pytest

import spikenet as sn
from spikenet.memristive import DeviceArray

from test_conformance import brian2_weights
from test_refusals import one_line_error

BITS = {"loihi_1bit": 1, "loihi_2bit": 2, "loihi_4bit": 4, "loihi_8bit": 8}


def on_grid(x: np.ndarray, bits: int) -> bool:
    """Every value is exactly k / (2**bits - 1) for an integer k in [0, 2**bits - 1]."""
    steps = 2**bits - 1
    k = np.round(x * steps)
    return bool(np.all((k >= 0) & (k <= steps)) and np.array_equal(k / steps, x))


@pytest.mark.parametrize("name", BITS)
def test_the_cards_have_their_bits_and_nothing_analog(name):
    p = sn.load_card(name, "devices")["device"]
    assert p.MODEL == "digital" and p.bits == BITS[name] and p.levels == 2 ** BITS[name]
    assert p.c2c_std == p.d2d_std == p.read_noise_std == p.drift_nu == 0


@pytest.mark.parametrize("name", BITS)
def test_weights_stay_exactly_on_the_grid_after_many_random_requests(name):
    p = sn.load_card(name, "devices")["device"]
    rng = np.random.default_rng(0)
    devices = DeviceArray(p, 2000, rng, rng.uniform(0, 1, 2000))  # initial weights rounded onto the grid
    assert on_grid(devices.x, p.bits)
    for _ in range(300):
        devices.request(rng.normal(0, 0.05, 2000))
    assert on_grid(devices.x, p.bits)
    assert len(np.unique(devices.x)) == min(p.levels, 2000) or p.bits == 8  # every level is reachable


@pytest.mark.parametrize("name", ["loihi_1bit", "loihi_2bit", "loihi_8bit"])
def test_a_request_moves_the_weight_by_the_requested_change_on_average(name):
    """Stochastic rounding: a request of 0.3 of a step moves 30 % of the synapses one step (away from
    the bounds), so the mean change is the request; a rounding to nearest would move none."""
    p = sn.load_card(name, "devices")["device"]
    steps, n = p.levels - 1, 200_000
    middle = 0.5 if steps > 1 else 0.0  # 1 bit: start at 0 and potentiate
    devices = DeviceArray(p, n, np.random.default_rng(1), middle)
    x0 = devices.x.copy()
    request = 0.3 / steps
    devices.request(np.full(n, request))
    moved = devices.x - x0
    assert set(np.round(moved * steps).astype(int)) <= {0, 1}
    se = np.sqrt(0.3 * 0.7 / n) / steps
    assert abs(moved.mean() - request) < 4 * se


def test_the_brian2_synapse_keeps_the_grid():
    """Through a learning rule in Brian2 (runtime mode): requests of 1.3 and 0.6 steps end on the grid."""
    p = sn.load_card("loihi_4bit", "devices")["device"]
    w = np.asarray(brian2_weights(p, 400, 1.3 / 15, -0.6 / 15))
    assert on_grid(w, 4)
    assert len(np.unique(w)) > 2  # the rounding spread the synapses over several levels


@pytest.mark.parametrize("key, value", [("c2c_std", "0.01"), ("drift_nu", "0.05"), ("bits", "9"), ("bits", "0")])
def test_analog_noise_or_bits_out_of_range_are_refused_in_one_line(cli, tmp_path, key, value):
    code, _, err = cli("show", "loihi_8bit", "--set", f"device.{key}={value}")
    one_line_error(code, err, "--set", key)
    card = tmp_path / "my_digital.toml"
    lines = {"model": '"digital"', "bits": "8", key: value}
    card.write_text('[meta]\nname = "my_digital"\ndescription = "d"\nsource = "s"\n\n[device]\n' + "".join(f"{k} = {v}\n" for k, v in lines.items()))
    code, _, err = cli("show", str(card))
    one_line_error(code, err, str(card), key)
