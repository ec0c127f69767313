"""Run folders: atomic writes, no overwriting, CSV round trips."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from spikenet.errors import RunDirError
from spikenet.runs import (
    atomic_save_npz,
    atomic_write_json,
    atomic_write_text,
    create_run_dir,
    open_run_dir,
    read_csv,
    write_csv,
)


def test_interrupted_write_keeps_the_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "metrics.json"
    atomic_write_json(path, {"accuracy": 0.9})

    def interrupted(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_json(path, {"accuracy": 0.1})
    monkeypatch.undo()
    assert json.loads(path.read_text()) == {"accuracy": 0.9}
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]  # no temporary file left


def test_crash_before_rename_keeps_the_previous_checkpoint(tmp_path):
    """A process killed between writing and renaming leaves the old checkpoint readable."""
    path = tmp_path / "checkpoint.npz"
    atomic_save_npz(path, weights=np.arange(5.0))
    code = f"""
import os, numpy as np
from spikenet import runs
os.replace = lambda *a: os._exit(3)   # the process dies just before the rename
runs.atomic_save_npz({str(path)!r}, weights=np.zeros(1000))
"""
    result = subprocess.run([sys.executable, "-c", code])
    assert result.returncode == 3
    with np.load(path) as data:
        np.testing.assert_array_equal(data["weights"], np.arange(5.0))


def test_json_has_no_nan(tmp_path):
    atomic_write_json(tmp_path / "m.json", {"a": float("nan"), "b": [1.0, float("inf")], "c": np.float32(2.5)})
    assert json.loads((tmp_path / "m.json").read_text()) == {"a": None, "b": [1.0, None], "c": 2.5}


def test_csv_round_trip(tmp_path):
    x = np.linspace(0, 1, 7)
    write_csv(tmp_path / "f.csv", {"x_ms": x, "n": np.arange(7), "label": list("abcdefg")})
    data = read_csv(tmp_path / "f.csv")
    np.testing.assert_array_equal(data["x_ms"], x)  # repr() keeps every digit
    assert data["label"].tolist() == list("abcdefg")
    with pytest.raises(ValueError, match="different lengths"):
        write_csv(tmp_path / "g.csv", {"a": [1, 2], "b": [1]})


def test_run_folder_is_never_reused(tmp_path):
    out = tmp_path / "run"
    run = create_run_dir("x", out)
    atomic_write_text(run.card, "[meta]\n")
    with pytest.raises(RunDirError, match="another run's folder"):
        create_run_dir("x", out)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(RunDirError, match="a folder that holds files"):
        create_run_dir("x", tmp_path / "other")
    assert (tmp_path / "other" / "notes.txt").read_text() == "mine"
    (tmp_path / "empty").mkdir()
    assert create_run_dir("x", tmp_path / "empty").path == tmp_path / "empty"


def test_default_folders_are_distinct(tmp_path):
    first = create_run_dir("exp", root=tmp_path)
    second = create_run_dir("exp", root=tmp_path)
    assert first.path != second.path
    assert first.path.name.startswith("exp-") and first.path.parent == tmp_path


def test_open_run_dir_needs_a_card(tmp_path):
    with pytest.raises(RunDirError, match="not a run folder"):
        open_run_dir(tmp_path)
    with pytest.raises(RunDirError, match="no such run folder"):
        open_run_dir(tmp_path / "absent")
