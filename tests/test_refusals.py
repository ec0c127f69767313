"""A refused command is refused before it writes anything, in one line, with exit code 2 (issue 16):
run folders in use, missing data or extras, checkpoints that are not this run's, impossible values;
and what an accepted run writes is shareable (the user's umask) and says how it ended."""

from __future__ import annotations

import gzip
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from spikenet.experiments import lif_fi_curve

REPO = Path(__file__).resolve().parent.parent


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under ``folder``: its bytes and modification time (ns)."""
    return {str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def one_line_error(code: int, err: str, *needles: str) -> None:
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), (code, err)
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


# --- the lock ------------------------------------------------------------------------------------------------------

@pytest.fixture
def held(tmp_path):
    """held(folder): another process holds ``folder``'s run lock until the test ends."""
    holders = []

    def hold(folder: Path) -> None:
        code = ("import sys, time; from spikenet.runs import RunDir\n"
                f"with RunDir({str(folder)!r}).lock():\n    print('held', flush=True); time.sleep(120)")
        proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
        holders.append(proc)
        assert proc.stdout.readline().strip() == "held"

    yield hold
    for proc in holders:
        proc.kill()
        proc.wait()


def test_a_run_folder_in_use_is_refused(cli, tmp_path, held):
    done = tmp_path / "done"
    assert cli("run", "lif_fi_curve", "--smoke", "--no-progress", "--out", done)[0] == 0
    before = snapshot(done)
    held(done)
    code, _, err = cli("run", "--resume", done, "--no-progress")
    one_line_error(code, err, str(done), "in use")
    assert snapshot(done) == before
    empty = tmp_path / "empty"
    empty.mkdir()
    held(empty)
    code, _, err = cli("run", "lif_fi_curve", "--smoke", "--no-progress", "--out", empty)
    one_line_error(code, err, "in use")
    assert [p.name for p in empty.iterdir()] == ["run.lock"]


def test_the_lock_is_left_behind_but_not_held(cli, tmp_path):
    """A lock file left by a finished (or killed) run does not block the folder: the lock is the
    kernel's (flock), released when its process ends."""
    out = tmp_path / "run"
    assert cli("run", "lif_fi_curve", "--smoke", "--no-progress", "--out", out)[0] == 0
    assert (out / "run.lock").exists()
    code, _, err = cli("run", "--resume", out)
    one_line_error(code, err, "complete")


# --- checks before the first file ------------------------------------------------------------------------------------

def test_corrupt_mnist_is_refused_before_the_run_folder_is_made(cli, tmp_path, mnist_dir, monkeypatch):
    data = tmp_path / "mnist"
    shutil.copytree(mnist_dir, data)
    path = data / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(b"not the labels"))
    monkeypatch.setenv("SPIKENET_DATA", str(data))
    out = tmp_path / "run"
    code, _, err = cli("run", "mnist_dc_n100", "--smoke", "--no-progress", "--out", out)
    one_line_error(code, err, "t10k-labels-idx1-ubyte.gz")
    assert not out.exists()
    out.mkdir()  # an empty folder given as --out stays empty, so the same command works once the data is fixed
    code, _, err = cli("run", "mnist_dc_n100", "--smoke", "--no-progress", "--out", out)
    assert code == 2 and list(out.iterdir()) == []
    path.unlink()
    code, _, err = cli("run", "mnist_dc_n100", "--smoke", "--no-progress", "--out", out)
    one_line_error(code, err, "t10k-labels-idx1-ubyte.gz")
    assert list(out.iterdir()) == []


@pytest.fixture
def without_torch(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a))


@pytest.mark.parametrize("experiment", ["mnist_mlp100", "compare_variability"])
def test_a_missing_extra_is_refused_before_anything_runs(cli, tmp_path, mnist_dir, without_torch, experiment):
    """compare_variability's backprop points need torch: the sweep is refused before its first point."""
    out = tmp_path / "run"
    code, _, err = cli("run", experiment, "--smoke", "--no-progress", "--out", out)
    one_line_error(code, err, "needs torch", "pip install 'spikenet-memristive[torch]'")
    assert not out.exists()


@pytest.mark.parametrize("override, needle", [
    ("protocol.dt=1e-300 ms", "protocol.dt"),
    ("protocol.duration=1e30 ms", "protocol.duration"),
    ("neuron.tau_m=inf ms", "neuron.tau_m"),
    ("protocol.dt=20 ms", "protocol.dt"),
])
def test_values_that_simulate_nothing_or_never_end_are_refused(cli, tmp_path, override, needle):
    out = tmp_path / "run"
    code, _, err = cli("run", "lif_fi_curve", "--smoke", "--no-progress", "--set", override, "--out", out)
    one_line_error(code, err, needle)
    assert not out.exists()


def test_a_card_that_is_not_utf8_is_one_line(cli, tmp_path):
    card = tmp_path / "latin1.toml"
    card.write_bytes('[meta]\nname = "caf\xe9"\n'.encode("latin-1"))
    code, _, err = cli("run", card, "--out", tmp_path / "run")
    one_line_error(code, err, str(card), "UTF-8")


def test_a_too_long_run_folder_name_is_one_line(cli, tmp_path):
    out = tmp_path / ("x" * 300)
    code, _, err = cli("run", "lif_fi_curve", "--smoke", "--no-progress", "--out", out)
    one_line_error(code, err, "x" * 20)


# --- checkpoints that are not this run's ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def interrupted_run(tmp_path_factory, mnist_dir) -> Path:
    """A smoke mnist_dc_n100 run stopped by SIGINT right after its second checkpoint."""
    cwd = tmp_path_factory.mktemp("interrupted")
    (cwd / "brian_preferences").write_text("codegen.target = 'numpy'\n")
    env = {**os.environ, "SPIKENET_FAULTS": "at=checkpoint_write,hit=2,signal=SIGINT"}
    result = subprocess.run([sys.executable, "-m", "spikenet", "run", "mnist_dc_n100", "--smoke", "--no-progress",
                             "--out", cwd / "run"], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 130, result.stderr
    assert (cwd / "run" / "checkpoint-2.npz").is_file()
    return cwd / "run"


@pytest.fixture
def copy_run(interrupted_run, tmp_path):
    def copy(name: str = "run") -> Path:
        return Path(shutil.copytree(interrupted_run, tmp_path / name))

    return copy


def edit_json(path: Path, change) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def refused_resume(cli, run: Path, *needles: str) -> None:
    before = snapshot(run)
    code, _, err = cli("run", "--resume", run, "--no-progress")
    one_line_error(code, err, *needles)
    assert snapshot(run) == before


def test_a_checkpoint_outside_the_run_folder_is_neither_loaded_nor_deleted(cli, copy_run, tmp_path):
    run, other = copy_run("run"), copy_run("other")
    edit_json(run / "checkpoint.json", lambda c: c.update(arrays="../other/checkpoint-2.npz"))
    refused_resume(cli, run, "checkpoint.json", "not a checkpoint file of this folder")
    assert (other / "checkpoint-2.npz").is_file()


def test_an_edited_card_is_refused_on_resume(cli, copy_run):
    run = copy_run()
    card = run / "card.toml"
    card.write_text(card.read_text().replace("seed = 1", "seed = 2"))
    refused_resume(cli, run, "card.toml", "changed since the run started")


def test_a_missing_checkpoint_json_is_refused_not_restarted(cli, copy_run):
    run = copy_run()
    (run / "checkpoint.json").unlink()
    refused_resume(cli, run, "checkpoint.json")


@pytest.mark.parametrize("where", ["arrays", "meta"])
def test_a_checkpoint_without_a_key_is_one_line(cli, copy_run, where):
    run = copy_run()
    if where == "meta":
        edit_json(run / "checkpoint.json", lambda c: c.pop("position"))
    else:
        import numpy as np

        from spikenet.runs import file_sha256

        npz = run / "checkpoint-2.npz"
        with np.load(npz) as data:
            arrays = {k: data[k] for k in data.files if k != "state_theta"}
        np.savez(npz, **arrays)
        edit_json(run / "checkpoint.json", lambda c: c.update(sha256=file_sha256(npz)))
    refused_resume(cli, run, "checkpoint", "theta" if where == "arrays" else "position")


def test_a_checkpoint_of_another_card_is_refused(cli, copy_run, tmp_path):
    """checkpoint.json records the card it was written with."""
    run = copy_run()
    edit_json(run / "checkpoint.json", lambda c: c.update(card_sha256="0" * 64))
    refused_resume(cli, run, "checkpoint")


# --- what an accepted run writes -------------------------------------------------------------------------------------

def test_run_files_follow_the_umask(cli, tmp_path):
    old = os.umask(0o002)
    try:
        out = tmp_path / "run"
        assert cli("run", "lif_fi_curve", "--smoke", "--no-progress", "--out", out)[0] == 0
    finally:
        os.umask(old)
    modes = {str(p.relative_to(out)): p.stat().st_mode & 0o777 for p in out.rglob("*")}
    for name in ("card.toml", "run.json", "metrics.json", "log.txt"):
        assert modes[name] == 0o664, (name, oct(modes[name]))
    assert all(mode in (0o664, 0o775) for mode in modes.values()), modes


def test_an_unexpected_error_is_spikenets_one_line_with_the_traceback_in_a_file(cli, tmp_path, monkeypatch):
    def bug(*args, **kwargs):
        return 1 / 0

    monkeypatch.setattr(lif_fi_curve, "simulate", bug)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # gettempdir() reads TMPDIR again
    out = tmp_path / "run"
    code, _, err = cli("run", "lif_fi_curve", "--smoke", "--no-progress", "--out", out)
    lines = err.strip().splitlines()
    assert code == 1 and len(lines) == 1 and lines[0].startswith("error: unexpected ZeroDivisionError"), err
    assert "Brian team" not in err
    [report] = tmp_path.glob("spikenet-error-*.txt")
    assert str(report) in lines[0] and "return 1 / 0" in report.read_text()
    info = json.loads((out / "run.json").read_text())
    assert info["status"] == "failed" and "ZeroDivisionError" in info["error"]
    assert tomllib.loads((out / "card.toml").read_text())["meta"]["name"] == "lif_fi_curve"
