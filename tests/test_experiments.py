"""The reproduced plasticity experiments, at sizes that run in seconds (full sizes are `slow`)."""

import json

import numpy as np
import pytest

from spikenet.catalog import load_card
from spikenet.running import run_experiment
from spikenet.runs import read_csv


def run(tmp_path, name, *overrides, smoke=False):
    card = load_card(name, overrides=list(overrides), smoke=smoke)
    folder = run_experiment(card, tmp_path / name, progress=False)
    return folder, folder.read_metrics()


@pytest.mark.parametrize("model", ["stdp_pair_all", "stdp_pair_nearest"])
def test_stdp_window_recovers_the_rules_time_constants(tmp_path, model):
    _, m = run(tmp_path, "stdp_window", f"experiment.model={model}", "protocol.n_pairings=2", "protocol.n_deltas=21")
    assert m["tau_plus_ms"] == pytest.approx(16.8, rel=1e-6)
    assert m["tau_minus_ms"] == pytest.approx(33.7, rel=1e-6)
    assert m["a_plus"] == pytest.approx(0.005, rel=1e-6)
    assert m["a_minus"] == pytest.approx(0.002617, rel=1e-6)


def test_stdp_window_with_soft_bounds_scales_with_the_weight(tmp_path):
    """Soft bounds: potentiation times (w_max - w), depression times (w - w_min); at w = 0.25
    of a [0, 1] range that is 0.75 and 0.25."""
    _, m = run(tmp_path, "stdp_window", "plasticity.bounds=soft", "protocol.w_init=0.25", "protocol.n_pairings=1")
    assert m["a_plus"] == pytest.approx(0.75 * 0.005, rel=1e-3)
    assert m["a_minus"] == pytest.approx(0.25 * 0.002617, rel=1e-3)


def test_triplet_rule_fits_the_frequency_data_and_the_pair_rule_does_not(tmp_path):
    folder, m = run(tmp_path, "triplet_frequency")
    assert m["rms_error_triplet"] < 0.16
    assert m["rms_error_pair"] > 1.5 * m["rms_error_triplet"]
    d = read_csv(folder.figures / "triplet_frequency.csv")
    minus = d["delta_t_ms"] < 0
    # Post-pre pairing: depression at 0.1 Hz turns into potentiation at 50 Hz (Sjostrom et al. 2001).
    assert d["triplet_dw"][minus][0] < -0.2 and d["triplet_dw"][minus][-1] > 0.5
    assert m["checks"]["rms_error_triplet"]["passed"] and m["checks"]["rms_ratio_pair_to_triplet"]["passed"]


def test_oja_converges_to_the_first_principal_component(tmp_path):
    _, m = run(tmp_path, "hebb_oja", "protocol.duration=10 s")
    assert m["cosine_to_pc1"] > 0.98
    assert m["weight_norm"] == pytest.approx(1.0, abs=0.05)


def test_oja_with_no_leading_component_is_rejected():
    from spikenet.errors import CardError

    with pytest.raises(CardError, match="protocol.leading_variance: must exceed other_variance"):
        load_card("hebb_oja", overrides=["protocol.leading_variance=1.0"])


@pytest.mark.slow
def test_triplet_frequency_does_not_depend_on_dt(tmp_path):
    _, coarse = run(tmp_path / "a", "triplet_frequency")
    _, fine = run(tmp_path / "b", "triplet_frequency", "protocol.dt=1 ms")
    for key in ("rms_error_triplet", "rms_error_pair", "pair_a2_plus", "pair_a2_minus"):
        assert coarse[key] == pytest.approx(fine[key], rel=1e-9)


@pytest.mark.slow
def test_song2000_weights_become_bimodal(tmp_path):
    folder, m = run(tmp_path, "song2000_bimodal")
    assert all(check["passed"] for check in m["checks"].values()), json.dumps(m["checks"], indent=1)
    hist = read_csv(folder.figures / "song2000_bimodal_histogram.csv")
    counts = hist["count"]
    # Bimodal: both end bins hold more synapses than the middle of the range.
    middle = counts[len(counts) // 4: 3 * len(counts) // 4].mean()
    assert counts[0] > 3 * middle and counts[-1] > 3 * middle
    assert np.sum(counts) == 1000


def test_device_curves_measure_what_the_cards_say(tmp_path):
    _, m = run(tmp_path, "device_curves")
    assert m["max_c2c_relative_error"] < 0.1
    d = m["devices"]
    assert d["linear_64"]["levels_before_saturation"] == 64 and d["linear_64"]["nonlinearity_ltp"] < 1e-9
    assert d["agsi_neurosim"]["dynamic_range"] == pytest.approx(12.5, rel=1e-3)
    assert d["agsi_neurosim"]["nonlinearity_ltp"] > 0.2  # NeuroSim's saturating Ag:a-Si curve
    assert d["pcm_gst"]["nonlinearity_ltd"] == 0.0  # abrupt RESET: one step, no curve
    assert d["oxram_hfo2"]["levels_before_saturation"] == 2


def test_device_stdp_ideal_device_gives_the_rule_and_devices_keep_its_sign(tmp_path):
    _, m = run(tmp_path, "device_stdp", "protocol.delta_min=-40 ms", "protocol.delta_max=40 ms",
               "protocol.n_deltas=8", "protocol.n_pairings=6", "protocol.n_devices=60")
    assert m["ideal_max_abs_error"] < 1e-9
    d = m["devices"]
    assert d["ideal"]["window_correlation"] == pytest.approx(1.0, abs=1e-9)
    # Unbiased stochastic rounding on equal steps keeps the window on average.
    assert d["linear_64"]["window_correlation"] > 0.8
    assert d["linear_64"]["ltp_gain"] == pytest.approx(1.0, abs=0.3)


def test_running_an_experiment_leaves_matplotlib_as_the_user_had_it(tmp_path):
    """A notebook's backend and its open pyplot figures survive a run (figures are drawn on
    Figure objects pyplot does not hold): in a fresh process, as in a fresh kernel."""
    import subprocess
    import sys

    script = f"""
import matplotlib
matplotlib.use("svg")
import matplotlib.pyplot as plt
mine = plt.figure()
from spikenet.catalog import load_card
from spikenet.running import run_experiment
run = run_experiment(load_card("stdp_window", overrides=["protocol.n_pairings=1"]), {str(tmp_path / 'run')!r}, progress=False)
assert list(run.figures.glob("*.png")), "the run drew its figures"
assert matplotlib.get_backend() == "svg", matplotlib.get_backend()
assert plt.get_fignums() == [mine.number], plt.get_fignums()
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]
