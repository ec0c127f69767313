"""Sweeps on Dask, the STDP transfer, and the variability comparison."""

from __future__ import annotations

import json

import numpy as np
import pytest

import spikenet as sn
from spikenet.running import run_experiment
from spikenet.sweep import Point, run_points


def fi_point(name: str, i_max: str) -> Point:
    """A point of a small sweep: the lif_fi_curve smoke card at another largest current."""
    return Point(name, sn.load_card("lif_fi_curve", smoke=True, overrides=[f'protocol.i_max="{i_max}"']))


def test_a_sweep_runs_on_a_local_dask_cluster_and_does_not_run_finished_points_again(tmp_path):
    pytest.importorskip("dask.distributed")
    points = [fi_point(f"i_max_{i}", f"{i} nA") for i in (5, 6)]
    first = run_points(points, tmp_path, workers=2, progress=False)
    assert set(first) == {"i_max_5", "i_max_6"}
    for p in points:
        assert json.loads((tmp_path / p.name / "run.json").read_text())["status"] == "complete"
    assert first["i_max_5"] != first["i_max_6"]  # different cards, different numbers
    logs = {p.name: (tmp_path / p.name / "log.txt").read_text() for p in points}
    again = run_points(points, tmp_path, workers=1, progress=False)
    assert again == first
    assert all((tmp_path / p.name / "log.txt").read_text() == logs[p.name] for p in points)  # nothing re-ran


def test_a_folder_of_another_card_is_an_error_not_a_result(tmp_path):
    """A finished point is reused only if its folder's run was made from the same resolved card."""
    from spikenet.errors import RunDirError

    run_points([fi_point("p", "5 nA")], tmp_path, workers=1, progress=False)
    before = (tmp_path / "p" / "metrics.json").read_text()
    with pytest.raises(RunDirError, match=r"p: holds a run of another card \(protocol.i_max = '5 nA' there, '6 nA'"):
        run_points([fi_point("p", "6 nA")], tmp_path, workers=1, progress=False)
    assert (tmp_path / "p" / "metrics.json").read_text() == before  # nothing was touched
    # The same values written another way are the same card.
    again = run_points([fi_point("p", "5nA")], tmp_path, workers=1, progress=False)
    assert json.dumps(again["p"], sort_keys=True) == json.dumps(json.loads(before), sort_keys=True)


def test_sweep_point_names_must_be_unique(tmp_path):
    with pytest.raises(ValueError, match="unique"):
        run_points([fi_point("a", "5 nA"), fi_point("a", "6 nA")], tmp_path, workers=1, progress=False)


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


@pytest.mark.parametrize("name, parameter, changes", [
    ("compare_variability", "d2d_std", {"d2d_std": 0.5}),
    ("compare_c2c", "c2c_std", {"c2c_std": 0.032}),
    ("compare_stuck", "stuck", {"stuck_low": 0.05, "stuck_high": 0.05}),
])
def test_each_comparison_card_varies_its_parameter(tmp_path, name, parameter, changes):
    """The three comparison cards (compare_stuck's smoke run: tests/test_cli.py) sweep what they say, up to their last level."""
    from spikenet.experiments.compare_variability import _points

    card = sn.load_card(name, "experiments")
    assert card["protocol"].parameter == parameter
    first, second_stage = _points(card, tmp_path)
    last = len(card["protocol"].levels) - 1
    for point in first + second_stage:
        if point.name.endswith(f"_{last}"):
            resolved = point.card["device"]
            assert {k: getattr(resolved, k) for k in changes} == pytest.approx(changes)


def test_the_comparison_needs_a_device_to_vary(cli, tmp_path):
    code, _, err = cli("run", "compare_variability", "--smoke", "--no-progress", "--set", "experiment.device=ideal",
                       "--out", tmp_path / "x")
    assert code == 2 and "experiment.device" in err
