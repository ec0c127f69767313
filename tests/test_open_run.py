"""`sn.open_run`: a run folder as Python objects (card, metrics, figure data, final state, figures)."""

import json

import numpy as np
import pytest

import spikenet as sn
from spikenet.catalog import load_card
from spikenet.errors import RunDirError
from spikenet.running import run_experiment
from spikenet.runs import read_csv


def test_open_run_reads_what_the_run_wrote(tmp_path):
    folder = run_experiment(load_card("stdp_window", overrides=["protocol.n_pairings=1"]), tmp_path / "run",
                            progress=False)
    run = sn.open_run(folder.path)
    assert run.status == "complete" and not run.smoke
    assert run.metrics == json.loads((folder.path / "metrics.json").read_text())
    assert run.card["plasticity"] == load_card(folder.path / "card.toml")["plasticity"]
    assert set(run.csv) == {p.stem for p in folder.figures.glob("*.csv")} and run.csv
    name = next(iter(run.csv))
    expected = read_csv(folder.figures / f"{name}.csv")
    assert all(np.array_equal(run.csv[name][k], expected[k]) for k in expected)
    assert run.figures and all(p.suffix == ".png" and p.is_file() for p in run.figures.values())
    assert run.final_state == {}  # stdp_window keeps no state
    assert run.info["versions"]["spikenet"] == sn.__version__
    with pytest.raises(KeyError, match="no such figure data"):
        run.csv["nothing"]


def test_open_run_refuses_what_is_not_a_run_and_says_a_run_did_not_finish(tmp_path):
    with pytest.raises(RunDirError, match="no such run folder"):
        sn.open_run(tmp_path / "missing")
    with pytest.raises(RunDirError, match="not a run folder"):
        sn.open_run(tmp_path)
    (tmp_path / "card.toml").write_text("")
    (tmp_path / "run.json").write_text(json.dumps({"status": "interrupted"}))
    run = sn.open_run(tmp_path)
    assert run.status == "interrupted"
    with pytest.raises(RunDirError, match="no metrics.json .the run is interrupted.; resume it with"):
        run.metrics


def test_draw_hands_back_every_figure_as_a_figure_and_writes_nothing(tmp_path):
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    folder = run_experiment(load_card("stdp_window", overrides=["protocol.n_pairings=1"]), tmp_path / "run",
                            progress=False)
    before = {p: p.stat().st_mtime_ns for p in folder.path.rglob("*")}
    open_before = plt.get_fignums()
    figures = sn.open_run(folder.path).draw()
    assert set(figures) == set(sn.open_run(folder.path).figures) and figures
    assert all(isinstance(f, Figure) and f.axes for f in figures.values())
    assert plt.get_fignums() == open_before  # pyplot holds none of them
    assert {p: p.stat().st_mtime_ns for p in folder.path.rglob("*")} == before
    (name, figure), = list(figures.items())[:1]
    figure.axes[0].set_title("mine")  # the user's to change and save
    figure.savefig(tmp_path / "mine.png")
    assert (tmp_path / "mine.png").stat().st_size > 5_000
