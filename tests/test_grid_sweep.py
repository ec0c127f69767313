"""``spikenet sweep``: a grid of runs times seeds, aggregated with confidence intervals."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys

import numpy as np
import pytest

from spikenet.errors import CardError
from spikenet.grid import parse_grid, split_values
from spikenet.runs import read_csv
from spikenet.stats import difference_spread, spread

TAU_GRID = ("--grid", "neuron.tau_m=10 ms,20 ms", "--grid", "protocol.n_currents=5,9")


def test_values_split_at_top_level_commas_only():
    assert split_values("0,0.05, 0.1") == ["0", "0.05", "0.1"]
    assert split_values('[0.1, 0.2],[0.3]') == ["[0.1, 0.2]", "[0.3]"]
    assert split_values('"a,b",c') == ['"a,b"', "c"]
    assert parse_grid("device.c2c_std=0,0.1").values == ("0", "0.1")


@pytest.mark.parametrize("text, message", [
    ("device.c2c_std=", "empty value"),
    ("device.c2c_std=0,,0.1", "empty value"),
    ("device.c2c_std=0,0", "given twice"),
    ("c2c_std=0,1", "one dot"),
    ("device.c2c_std", "expected SECTION.KEY"),
])
def test_malformed_grids_are_refused(text, message):
    with pytest.raises(CardError, match=message):
        parse_grid(text)


def test_the_interval_is_students_t():
    # Values 1, 2, 3: mean 2, sample std 1; t(0.975, 2 degrees of freedom) = 4.302653 (any t
    # table), so the half width is 4.302653 / sqrt(3) = 2.48414.
    s = spread([1.0, 2.0, 3.0])
    assert (s.n, s.mean, s.std) == (3, 2.0, 1.0)
    assert s.ci_low == pytest.approx(2 - 2.48414, abs=1e-5) and s.ci_high == pytest.approx(2 + 2.48414, abs=1e-5)
    assert s.excludes(-1) and not s.excludes(0)
    one = spread([0.5, float("nan"), None])  # failed runs are left out
    assert one.n == 1 and one.mean == 0.5 and math.isnan(one.ci_low)
    assert spread([]).n == 0
    # differences 0.10, 0.05, 0.05: mean 0.0667, std 0.0289, half width 4.3027 * 0.0289 / sqrt(3)
    # = 0.0717 > the mean: three seeds do not show this effect
    unclear = difference_spread([0.9, 0.8, 0.85], [0.8, 0.75, 0.8])
    assert unclear.mean == pytest.approx(0.06667, abs=1e-5) and unclear.half_width == pytest.approx(0.0717, abs=1e-4)
    assert not unclear.excludes(0)
    clear = difference_spread([0.9, 0.85, 0.88], [0.8, 0.76, 0.79])  # 0.10, 0.09, 0.09: half width 0.0143
    assert clear.excludes(0) and clear.text(scale=100) == "9.3 +- 1.4 (n = 3)"


@pytest.mark.parametrize("args, message", [
    (("--grid", "protocol.bogus=1,2"), "unknown key 'protocol.bogus'"),
    (("--grid", "protocol.n_currents=5,1"), "protocol.n_currents = 1: out of range"),
    (("--grid", "protocol.n_currents="), "empty value"),
    (("--grid", "network.n_exc=10,20"), "the card has no [network] section"),
    (("--grid", "device.c2c_std=0,0.1"), "experiment.device is ideal"),
    (("--grid", "meta.name=a,b"), "[meta] changes no run"),
    (("--grid", "experiment.seed=1,2"), "--seeds N instead"),
    (("--grid", "protocol.n_currents=5", "--grid", "protocol.n_currents=9"), "given twice"),
    (("--grid", "protocol.n_currents=5", "--metric", "accuracy"), "does not measure it"),
])
def test_bad_sweeps_are_one_line_and_start_nothing(cli, tmp_path, args, message):
    out = tmp_path / "sweep"
    code, stdout, err = cli("sweep", "lif_fi_curve", *args, "--smoke", "--out", out, "--no-progress")
    assert code == 2, (stdout, err)
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1 and message in err, err
    assert not out.exists()


def test_a_grid_times_seeds_writes_every_run_and_its_spread(cli, tmp_path):
    out = tmp_path / "sweep"
    code, stdout, err = cli("sweep", "lif_fi_curve", *TAU_GRID, "--seeds", "2", "--seed", "4", "--smoke",
                            "--workers", "1", "--out", out, "--no-progress")
    assert code == 0, err
    assert "8 runs, one after the other in this process" in err
    info = json.loads((out / "sweep.json").read_text())
    assert info["status"] == "complete" and info["seeds"] == [4, 5] and info["failed"] == 0
    assert sorted(p.name for p in (out / "runs").iterdir()) == sorted(
        f"tau_m-{t}ms__n_currents-{n}__seed-{s}" for t in (10, 20) for n in (5, 9) for s in (4, 5))
    runs = read_csv(out / "runs.csv")
    table = read_csv(out / "sweep.csv")
    assert len(runs["run"]) == 8 and set(runs["status"]) == {"complete"}
    for folder, tau, n, seed, error in zip(runs["run"], runs["neuron.tau_m"], runs["protocol.n_currents"],
                                           runs["seed"], runs["max_rel_error"]):
        card = (out / folder / "card.toml").read_text()
        assert f'tau_m = "{tau}"' in card and f"n_currents = {int(n)}" in card and f"seed = {int(seed)}" in card
        assert json.loads((out / folder / "metrics.json").read_text())["max_rel_error"] == error
    pick = table["metric"] == "max_rel_error"
    assert pick.sum() == 4 and set(table["n"][pick]) == {2}
    for row in np.flatnonzero(pick):
        same = (runs["neuron.tau_m"] == table["neuron.tau_m"][row]) & (
            runs["protocol.n_currents"] == table["protocol.n_currents"][row])
        assert table["mean"][row] == pytest.approx(runs["max_rel_error"][same].mean())
        assert [table["seed_4"][row], table["seed_5"][row]] == list(runs["max_rel_error"][same])
    # the metric depends on tau_m (the grid reached the runs), not on the seed (a deterministic neuron)
    assert len(set(table["mean"][pick])) == 4 and np.all(table["std"][pick] == 0)
    assert (out / "figures" / "sweep_max_rel_error.png").stat().st_size > 10_000

    # Run again with one more seed: the finished runs are read, not run again.
    before = {p.name: (p / "run.json").stat().st_mtime_ns for p in (out / "runs").iterdir()}
    code, stdout, err = cli("sweep", "lif_fi_curve", *TAU_GRID, "--seeds", "3", "--seed", "4", "--smoke",
                            "--workers", "1", "--out", out, "--no-progress")
    assert code == 0, err
    after = {p.name: (p / "run.json").stat().st_mtime_ns for p in (out / "runs").iterdir()}
    assert {k: after[k] for k in before} == before and len(after) == 12
    assert set(read_csv(out / "sweep.csv")["n"]) == {3}


def test_seeds_give_a_spread_and_a_students_t_interval(cli, tmp_path):
    out = tmp_path / "sweep"
    code, _, err = cli("sweep", "song2000_bimodal", "--seeds", "3", "--smoke", "--workers", "1", "--out", out,
                       "--no-progress")
    assert code == 0, err
    table = read_csv(out / "sweep.csv")
    row = int(np.flatnonzero(table["metric"] == "mean_weight_fraction")[0])
    values = [table[f"seed_{s}"][row] for s in (0, 1, 2)]
    assert len(set(values)) == 3  # the seeds differ
    from scipy import stats

    half = stats.t.ppf(0.975, 2) * np.std(values, ddof=1) / np.sqrt(3)
    assert table["ci95_low"][row] == pytest.approx(np.mean(values) - half)
    assert table["ci95_high"][row] == pytest.approx(np.mean(values) + half)
    assert not (out / "figures").exists() or not any((out / "figures").iterdir())  # no grid: nothing to draw


def test_a_failed_run_is_recorded_and_the_others_go_on(cli, tmp_path, monkeypatch):
    from spikenet.experiments import lif_fi_curve

    real = lif_fi_curve.simulate

    def fails_at_20_ms(card, run, log, progress):
        if "20" in str(card["neuron"].tau_m):
            raise RuntimeError("the amplifier caught fire")
        return real(card, run, log, progress)

    monkeypatch.setattr(lif_fi_curve, "simulate", fails_at_20_ms)
    out = tmp_path / "sweep"
    args = ("sweep", "lif_fi_curve", "--grid", "neuron.tau_m=10 ms,20 ms", "--seeds", "2", "--smoke", "--workers",
            "1", "--out", out, "--no-progress")
    code, stdout, err = cli(*args)
    assert code == 1
    assert stdout.count("FAILED: RuntimeError: the amplifier caught fire") == 2 and "2 of 4 runs complete" in stdout
    runs = read_csv(out / "runs.csv")
    assert list(runs["status"]) == ["complete", "complete", "failed", "failed"]
    assert "amplifier" in runs["error"][2] and np.isnan(runs["max_rel_error"][2])
    table = read_csv(out / "sweep.csv")
    pick = table["metric"] == "max_rel_error"
    assert list(table["n"][pick]) == [2, 0] and list(table["failed"][pick]) == [0, 2]
    info = json.loads((out / "sweep.json").read_text())
    assert info["failed"] == 2 and [p["status"] for p in info["points"]] == ["complete"] * 2 + ["failed"] * 2
    monkeypatch.setattr(lif_fi_curve, "simulate", real)
    code, stdout, err = cli(*args)  # fixed: the failed runs run again, the others are read
    assert code == 0 and "4 of 4 runs complete" in stdout, err
    assert set(read_csv(out / "runs.csv")["status"]) == {"complete"}


def test_a_folder_with_a_sweep_of_another_card_is_refused(cli, tmp_path):
    out = tmp_path / "sweep"
    assert cli("sweep", "lif_fi_curve", "--smoke", "--workers", "1", "--out", out, "--no-progress")[0] == 0
    before = (out / "sweep.json").read_text()
    code, _, err = cli("sweep", "lif_fi_curve", "--smoke", "--set", "neuron.tau_m=5 ms", "--workers", "1",
                       "--out", out, "--no-progress")
    assert code == 2 and "holds a sweep of another card (neuron.tau_m differs" in err
    assert (out / "sweep.json").read_text() == before
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    code, _, err = cli("sweep", "lif_fi_curve", "--smoke", "--out", tmp_path / "other", "--no-progress")
    assert code == 2 and "not empty and not a sweep's folder" in err


def test_an_interrupted_sweep_says_so_and_resumes(tmp_path):
    """A real SIGINT at the third run: exit 130, sweep.json "interrupted", no sweep.csv; run
    again, the two finished runs are read and the rest run."""
    out = tmp_path / "sweep"
    command = [sys.executable, "-m", "spikenet", "sweep", "lif_fi_curve", "--grid", "neuron.tau_m=10 ms,15 ms,20 ms",
               "--smoke", "--workers", "1", "--out", str(out), "--no-progress"]
    env = {**os.environ, "SPIKENET_FAULTS": "at=sweep_point,hit=3,signal=SIGINT,delay=0.3"}
    proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 128 + signal.SIGINT, proc.stderr
    assert json.loads((out / "sweep.json").read_text())["status"] == "interrupted"
    assert not (out / "sweep.csv").exists()
    finished = {p.name: (p / "run.json").stat().st_mtime_ns for p in (out / "runs").iterdir()
                if json.loads((p / "run.json").read_text())["status"] == "complete"}
    assert len(finished) == 2
    proc = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert json.loads((out / "sweep.json").read_text())["status"] == "complete"
    assert all((out / "runs" / name / "run.json").stat().st_mtime_ns == t for name, t in finished.items())
    assert len(read_csv(out / "runs.csv")["run"]) == 3
