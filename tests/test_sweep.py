"""Sweeps on Dask, the STDP transfer, and the variability comparison."""

from __future__ import annotations

import json

import numpy as np
import pytest

import spikenet as sn
from spikenet.experiments import run_experiment
from spikenet.sweep import Point, run_points


def test_a_sweep_runs_on_a_local_dask_cluster_and_does_not_run_finished_points_again(tmp_path):
    pytest.importorskip("dask.distributed")
    points = [Point(f"i_max_{i}", "lif_fi_curve", (f"protocol.i_max=\"{i} nA\"",)) for i in (5, 6)]
    first = run_points(points, tmp_path, smoke=True, workers=2, progress=False)
    assert set(first) == {"i_max_5", "i_max_6"}
    for p in points:
        assert json.loads((tmp_path / p.name / "run.json").read_text())["status"] == "complete"
    assert first["i_max_5"] != first["i_max_6"]  # different cards, different numbers
    logs = {p.name: (tmp_path / p.name / "log.txt").read_text() for p in points}
    again = run_points(points, tmp_path, smoke=True, workers=1, progress=False)
    assert again == first
    assert all((tmp_path / p.name / "log.txt").read_text() == logs[p.name] for p in points)  # nothing re-ran


def test_a_folder_of_another_card_is_an_error_not_a_result(tmp_path):
    """A finished point is reused only if its folder's run was made from the same resolved card."""
    from spikenet.errors import RunDirError

    run_points([Point("p", "lif_fi_curve", ('protocol.i_max="5 nA"',))], tmp_path, smoke=True, workers=1, progress=False)
    before = (tmp_path / "p" / "metrics.json").read_text()
    with pytest.raises(RunDirError, match=r"p: holds a run of another card \(protocol.i_max = '5 nA' there, '6 nA'"):
        run_points([Point("p", "lif_fi_curve", ('protocol.i_max="6 nA"',))], tmp_path, smoke=True, workers=1,
                   progress=False)
    assert (tmp_path / "p" / "metrics.json").read_text() == before  # nothing was touched
    # The same values written another way are the same card.
    again = run_points([Point("p", "lif_fi_curve", ('protocol.i_max="5nA"',))], tmp_path, smoke=True, workers=1,
                       progress=False)
    assert json.dumps(again["p"], sort_keys=True) == json.dumps(json.loads(before), sort_keys=True)


def test_sweep_point_names_must_be_unique(tmp_path):
    with pytest.raises(ValueError, match="unique"):
        run_points([Point("a", "lif_fi_curve"), Point("a", "lif_fi_curve")], tmp_path, workers=1, progress=False)


def test_stdp_weights_transfer_onto_an_ideal_device_unchanged(mnist_dir, tmp_path):
    """Transferred onto the ideal device (no write-verify error), a trained network answers the
    test images exactly as the network it came from (same seed, same input spikes)."""
    source = run_experiment(sn.load_card("mnist_dc_n100", smoke=True), tmp_path / "trained", progress=False)
    copy = sn.load_card("mnist_dc_n100", smoke=True,
                        overrides=["protocol.epochs=0", f"protocol.weights_from={json.dumps(str(source.path))}"])
    moved = run_experiment(copy, tmp_path / "moved", progress=False)
    a = np.load(source.path / "final_state.npz")
    b = np.load(moved.path / "final_state.npz")
    np.testing.assert_array_equal(a["receptive_fields"], b["receptive_fields"])
    np.testing.assert_array_equal(a["theta"], b["theta"])
    assert moved.read_metrics()["training_seconds"] == 0


def test_a_transfer_needs_a_finished_ideal_run(cli, mnist_dir, tmp_path):
    code, _, err = cli("run", "mnist_dc_n100", "--smoke", "--no-progress", "--out", tmp_path / "x",
                       "--set", "protocol.epochs=0", "--set", f"protocol.weights_from={json.dumps(str(tmp_path))}")
    assert code == 2 and "protocol.weights_from" in err and len(err.strip().splitlines()) == 1
    code, _, err = cli("run", "mnist_dc_n100", "--smoke", "--no-progress", "--set", "protocol.epochs=0")
    assert code == 2 and "weights_from" in err


def test_the_comparison_collects_every_method_at_every_level(cli, mnist_dir, tmp_path):
    """The compare_stuck card's smoke run through the CLI (tests/test_cli.py leaves it to this test)."""
    pytest.importorskip("torch")
    out = tmp_path / "cv"
    code, stdout, err = cli("run", "compare_stuck", "--smoke", "--no-progress", "--out", out)
    assert code == 0, err
    assert f"results in {out}" in stdout
    run = sn.runs.open_run_dir(out)
    table = sn.runs.read_csv(run.figures / "accuracy_vs_variability.csv")
    for method in ("stdp_in_place", "stdp_transfer", "mlp_transfer", "mlp_noise_aware"):
        assert sorted(table["level"][table["method"] == method]) == [0.0, 0.4]
    stuck = sn.load_card(run.path / "runs" / "stdp_in_place_1" / "card.toml")["device"]
    assert stuck.stuck_low == stuck.stuck_high == 0.2
    transfer = sn.load_card(run.path / "runs" / "stdp_transfer_1" / "card.toml")["protocol"]
    assert transfer.epochs == 0 and transfer.weights_from.endswith("stdp_ideal")
    metrics = run.read_metrics()
    assert metrics["in_place_advantage"] == pytest.approx(metrics["stdp_transfer_loss"] - metrics["stdp_in_place_loss"])
    assert metrics["costs_per_inference"]["mlp_transfer"]["synaptic_events"] == 784 * 100 + 100 * 10
    assert (run.figures / "accuracy_vs_variability.png").is_file()
    assert sn.load_card(run.card, "experiments")["protocol"].levels == (0.0, 0.4)  # the card runs as written


@pytest.mark.parametrize("name, parameter, changes", [
    ("compare_variability", "d2d_std", {"d2d_std": 0.5}),
    ("compare_c2c", "c2c_std", {"c2c_std": 0.032}),
    ("compare_stuck", "stuck", {"stuck_low": 0.05, "stuck_high": 0.05}),
])
def test_each_comparison_card_varies_its_parameter(tmp_path, name, parameter, changes):
    """The three comparison cards (compare_stuck's smoke run is above) sweep what they say, up to their last level."""
    from spikenet.experiments.compare_variability import _points

    card = sn.load_card(name, "experiments")
    assert card["protocol"].parameter == parameter
    first, second_stage = _points(card, tmp_path)
    last = len(card["protocol"].levels) - 1
    for point in first + second_stage:
        if point.name.endswith(f"_{last}"):
            resolved = sn.load_card(point.card, "experiments", overrides=point.overrides)["device"]
            assert {k: getattr(resolved, k) for k in changes} == pytest.approx(changes)


def test_the_comparison_needs_a_device_to_vary(cli, tmp_path):
    code, _, err = cli("run", "compare_variability", "--smoke", "--no-progress", "--set", "experiment.device=ideal",
                       "--out", tmp_path / "x")
    assert code == 2 and "experiment.device" in err
