"""Redundant binary devices as counts, held against the device-by-device model.

Tolerances: the counts are exact in distribution where the devices of a synapse switch with
equal probability (the means must agree within sampling error, 4 standard errors); with the
cards' device-to-device spread of the probabilities they average them per synapse, which moves
the fraction of devices switched by at most ``averaging_bound`` of SET plus that of RESET (0.026
for ``oxram_hfo2``; see the ``binary_counts`` module docstring), so the means may differ by that
much more. Spreads (standard deviations between synapses) within 10 %.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import spikenet as sn
from spikenet.memristive.binary_counts import BinaryCounts, averaging_bound, expected_failures_and_pulses
from spikenet.memristive.numpy_models import DeviceArray

REQUESTS = [0.3] * 10 + [-0.5] * 5 + [1.5] * 3 + [-0.05] * 20
"""Pulses per device: fractions of one (stochastically rounded), and more than one."""


def card(name: str, **changes):
    return dataclasses.replace(sn.load_card(name, "devices")["device"], **changes)


def per_device(p, n: int, rng: np.random.Generator, x0: float) -> DeviceArray:
    return DeviceArray(p, n * p.redundancy, rng, x0)


def synapse_means(devices: DeviceArray, r: int) -> np.ndarray:
    return devices.x.reshape(-1, r).mean(axis=1)


CASES = {
    "oxram_hfo2 (64 devices, card spreads)": ("oxram_hfo2", {}),
    "oxram_hfo2, 8 devices, 5 % stuck": ("oxram_hfo2", {"redundancy": 8, "stuck_low": 0.05, "stuck_high": 0.02}),
    "oxram_hfo2, equal probabilities (exact)": ("oxram_hfo2", {"p_set_std": 0.0, "p_reset_std": 0.0}),
    "cbram_ag_ges2, 4 devices": ("cbram_ag_ges2", {"redundancy": 4}),
    "cbram_ag_ges2, 1 device (exact: nothing to average)": ("cbram_ag_ges2", {}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_counts_follow_the_devices_through_a_learning_sequence(case):
    name, changes = CASES[case]
    p = card(name, **changes)
    bias = 0.0 if p.redundancy == 1 else averaging_bound(p.p_set, p.p_set_std) + averaging_bound(p.p_reset, p.p_reset_std)
    n = 3000
    ref = per_device(p, n, np.random.default_rng(1), 0.3)
    counts = BinaryCounts(p, n, np.random.default_rng(2), 0.3)
    for dx in REQUESTS:
        ref.request(dx)
        counts.request(dx)
        a, b = synapse_means(ref, p.redundancy), counts.x
        se = np.sqrt(a.var() / n + b.var() / n)
        assert abs(a.mean() - b.mean()) < 4 * se + bias + 1e-12, dx
    assert b.std() == pytest.approx(a.std(), rel=0.1, abs=1e-4)
    ref_pulses = (ref.pulses_ltp.sum(), ref.pulses_ltd.sum())
    assert counts.pulses_ltp.sum() == pytest.approx(ref_pulses[0], rel=0.02)
    assert counts.pulses_ltd.sum() == pytest.approx(ref_pulses[1], rel=0.02)


def test_one_device_switches_with_its_probability():
    """R = 1, no spread: a SET request of 0.4 pulses switches an OFF device with probability 0.4 p."""
    p = card("cbram_ag_ges2", p_set_std=0.0, sigma_ln_on=0.0, sigma_ln_off=0.0)
    n = 200_000
    counts = BinaryCounts(p, n, np.random.default_rng(3), 0.0)
    counts.request(0.4)
    assert counts.n_on.mean() == pytest.approx(0.4 * p.p_set, abs=4 * np.sqrt(0.2 * 0.8 / n))
    assert set(np.unique(counts.x)) <= {0.0, 1.0}


def test_stuck_devices_stay_and_counts_stay_in_range():
    p = card("oxram_hfo2", redundancy=16, stuck_low=0.1, stuck_high=0.1)
    counts = BinaryCounts(p, 5000, np.random.default_rng(4), 0.5)
    high, free = counts.n_high.copy(), counts.n_free.copy()
    assert counts.n_high.mean() == pytest.approx(1.6, rel=0.05)
    assert counts.n_low.mean() == pytest.approx(1.6, rel=0.05)
    rng = np.random.default_rng(5)
    for _ in range(30):
        counts.request(rng.normal(0, 1.0, 5000))
        assert np.all((counts.n_on >= 0) & (counts.n_on <= counts.n_free))
    np.testing.assert_array_equal(counts.n_high, high)
    np.testing.assert_array_equal(counts.n_free, free)
    # all ON but the stuck-low ones: x is about 1 - n_low / R
    counts.request(20.0)
    assert np.all(counts.n_on == counts.n_free)


def test_write_verify_by_counts_matches_the_devices():
    """Programming round(x R) devices ON: verified devices and pulses as device-by-device write-verify."""
    p = card("oxram_hfo2", redundancy=8, stuck_low=0.05)
    n, r, max_pulses = 4000, 8, 5
    wanted = np.random.default_rng(6).integers(0, r + 1, n)
    counts = BinaryCounts(p, n, np.random.default_rng(7), 0.0)
    ok_counts, pulses_counts = counts.program(wanted, max_pulses)
    ref = per_device(p, n, np.random.default_rng(8), 0.0)
    target = (np.arange(r)[None, :] < wanted[:, None]).astype(float).ravel()
    ok_ref, pulses_ref = ref.program(target, 0.5, max_pulses)
    assert ok_counts.sum() == pytest.approx(ok_ref.sum(), rel=0.005)
    assert pulses_counts.sum() == pytest.approx(pulses_ref.sum(), rel=0.03)
    a, b = synapse_means(ref, r), counts.x
    assert abs(a.mean() - b.mean()) < 4 * np.sqrt(a.var() / n + b.var() / n)


def test_averaging_bound_is_the_largest_gap_after_a_run_of_pulses():
    assert averaging_bound(0.843, 0.0) == 0.0
    draws = np.clip(np.random.default_rng(10).normal(0.843, 0.197, 400_000), 0, 1)
    gaps = [np.mean((1 - draws) ** k) - (1 - draws.mean()) ** k for k in range(1, 30)]
    assert averaging_bound(0.843, 0.197) == pytest.approx(max(gaps), abs=2e-3)
    assert 0.02 < averaging_bound(0.843, 0.197) < 0.03


def test_failure_probability_integrates_the_spread():
    fail, pulses = expected_failures_and_pulses(0.5, 0.0, 3)
    assert fail == pytest.approx(0.125) and pulses == pytest.approx(1.75)
    draws = np.clip(np.random.default_rng(9).normal(0.3, 0.3, 400_000), 0, 1)
    fail, pulses = expected_failures_and_pulses(0.3, 0.3, 4)
    assert fail == pytest.approx(np.mean((1 - draws) ** 4), abs=3e-3)
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = np.where(draws > 0, (1 - (1 - draws) ** 4) / draws, 4.0)
    assert pulses == pytest.approx(expected.mean(), abs=1e-2)
