"""The LIF neuron against its exact solutions, and the lif_fi_curve experiment."""

import numpy as np
import pytest
from brian2 import Mohm, Network, StateMonitor, mV, ms, nA, second

from spikenet.catalog import load_card
from spikenet.running import redraw, run_experiment
from spikenet.neurons import lif_group, lif_rate, lif_rheobase
from spikenet.params.neurons import LIFParams


@pytest.fixture
def neuron() -> LIFParams:
    return load_card("lif_neurodynex", "models")["neuron"]


def test_membrane_relaxes_exactly_to_its_steady_state(neuron):
    """Below threshold, v(t) = v_inf + (v_rest - v_inf) exp(-t / tau_m), with v_inf = v_rest + R I."""
    group = lif_group(neuron, 3, dt=0.1 * ms)
    currents = np.array([0.5, 1.0, 1.9]) * nA  # all below the 2 nA rheobase
    group.I_ext = currents
    trace = StateMonitor(group, "v", record=True)
    Network(group, trace).run(50 * ms, namespace={})
    t = np.asarray(trace.t / second)
    for i, current in enumerate(currents):
        v_inf = float((neuron.v_rest + neuron.r_m * current) / mV)
        exact = v_inf + (float(neuron.v_rest / mV) - v_inf) * np.exp(-t / float(neuron.tau_m / second))
        np.testing.assert_allclose(np.asarray(trace.v[i] / mV), exact, rtol=0, atol=1e-9)


def test_exact_rate_reduces_to_the_textbook_form():
    """With v_reset = v_rest: f = 1 / (t_ref + tau ln(RI / (RI - (v_th - v_reset))))."""
    p = LIFParams(tau_m=10 * ms, r_m=10 * Mohm,
                  v_rest=-65 * mV, v_reset=-65 * mV, v_th=-50 * mV, t_ref=2 * ms)
    current = np.array([1.6, 2.0, 4.0]) * nA
    ri = np.asarray(p.r_m * current / mV)
    textbook = 1.0 / (0.002 + 0.010 * np.log(ri / (ri - 15.0)))
    np.testing.assert_allclose(lif_rate(p, current), textbook, rtol=1e-12)
    assert lif_rate(p, np.array([0.0, 1.5]) * nA).tolist() == [0.0, 0.0]  # at or below rheobase (1.5 nA)
    assert float(lif_rheobase(p) / nA) == pytest.approx(1.5)


def test_fi_curve_error_below_one_percent_at_dt_0_01_ms(tmp_path):
    card = load_card("lif_fi_curve")
    assert float(card["protocol"].dt / ms) == pytest.approx(0.01)
    run = run_experiment(card, tmp_path / "run", progress=False)
    metrics = run.read_metrics()
    assert metrics["max_rel_error"] < 0.01
    assert metrics["n_compared"] >= 30
    assert metrics["spikes_below_rheobase"] == 0
    assert metrics["checks"]["max_rel_error"]["passed"] is True
    assert run.figure("fi_curve").stat().st_size > 10_000
    assert run.read_info()["status"] == "complete"
    # The figure is redrawn from the files alone.
    run.figure("fi_curve").unlink()
    assert redraw(run.path) == [run.figure("fi_curve")]
    assert run.figure("fi_curve").is_file()


def test_fi_curve_error_follows_the_time_step(tmp_path):
    """The error bound is about 2 dt / shortest interval, so ten times the step gives more error."""
    errors = {}
    for dt in ("0.1 ms", "0.01 ms"):
        card = load_card("lif_fi_curve", overrides=[f"protocol.dt={dt}", "protocol.n_currents=21"])
        errors[dt] = run_experiment(card, tmp_path / dt.replace(" ", ""), progress=False).read_metrics()["max_rel_error"]
    shortest_isi_ms = 4.55  # at 6 nA, derived on the card
    assert errors["0.1 ms"] > errors["0.01 ms"]
    assert errors["0.1 ms"] <= 2 * 0.1 / shortest_isi_ms
    assert errors["0.01 ms"] <= 2 * 0.01 / shortest_isi_ms
