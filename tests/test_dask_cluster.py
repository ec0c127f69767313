"""Sweeps on a Dask cluster started by hand: a ``dask scheduler`` and two ``dask worker`` processes
on 127.0.0.1, as a user would start them (the embedded LocalCluster is tested in test_sweep.py)."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("dask.distributed")

SWEEP = """
import json, sys
import spikenet as sn
from spikenet.sweep import Point, run_points
points = [Point(f"i_max_{i}", sn.load_card("lif_fi_curve", smoke=True, overrides=[f'protocol.i_max="{i} nA"']))
          for i in sys.argv[2:]]
metrics = run_points(points, "runs", scheduler=sys.argv[1], progress=False)
print(json.dumps({k: v["max_rel_error"] for k, v in metrics.items()}))
"""


@contextlib.contextmanager
def dask_cluster(where: Path, worker_envs: list[dict[str, str]], nanny: bool = True):
    """Start ``dask scheduler`` and one single-threaded ``dask worker`` per entry of ``worker_envs``
    (extra environment variables) on 127.0.0.1; yields (address, worker processes)."""
    scheduler_file = where / "scheduler.json"
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    procs = [subprocess.Popen([bin_dir / "dask", "scheduler", "--host", "127.0.0.1", "--port", "0",
                               "--no-dashboard", "--scheduler-file", scheduler_file], cwd=where, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        deadline = time.monotonic() + 60
        while not scheduler_file.is_file() and time.monotonic() < deadline:
            time.sleep(0.2)
        address = json.loads(scheduler_file.read_text())["address"]
        for n, extra in enumerate(worker_envs):
            worker_dir = where / f"worker{n}"  # its own working directory, unlike the sweeps'
            worker_dir.mkdir()
            procs.append(subprocess.Popen([bin_dir / "dask", "worker", address, "--nthreads", "1", "--nworkers", "1",
                                           "--no-dashboard", *([] if nanny else ["--no-nanny"])], cwd=worker_dir,
                                          env={**env, **extra}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        from dask.distributed import Client

        with Client(address, timeout="30s") as client:
            client.wait_for_workers(len(worker_envs), timeout=60)
        yield address, procs[1:]
    finally:
        for proc in reversed(procs):
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:  # a worker without a nanny may wait for its running simulation before it stops
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=15)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """The scheduler's address; the scheduler and its two single-threaded workers are stopped after."""
    with dask_cluster(tmp_path_factory.mktemp("cluster"), [{}, {}]) as (address, _):
        yield address


def sweep(address: str, cwd: Path, *currents: int) -> subprocess.Popen:
    cwd.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen([sys.executable, "-c", SWEEP, address, *map(str, currents)], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_sweeps_at_once_on_one_scheduler_each_get_their_own_points(cluster, tmp_path):
    """Relative ``runs`` folders (made absolute before they are sent) and points of the same names in
    both sweeps: each sweep's folder holds its own runs, and the numbers equal a run made here."""
    import spikenet as sn
    from spikenet.running import run_experiment

    first, second = sweep(cluster, tmp_path / "a", 5, 6), sweep(cluster, tmp_path / "b", 6, 7)
    results = []
    for proc in (first, second):
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        results.append(json.loads(out.splitlines()[-1]))
    assert set(results[0]) == {"i_max_5", "i_max_6"} and set(results[1]) == {"i_max_6", "i_max_7"}
    for folder, names in ((tmp_path / "a" / "runs", results[0]), (tmp_path / "b" / "runs", results[1])):
        assert sorted(p.name for p in folder.iterdir()) == sorted(names)
        for name in names:
            assert json.loads((folder / name / "run.json").read_text())["status"] == "complete"
    local = run_experiment(sn.load_card("lif_fi_curve", smoke=True, overrides=['protocol.i_max="6 nA"']),
                           tmp_path / "local", progress=False).read_metrics()
    assert results[0]["i_max_6"] == results[1]["i_max_6"] == local["max_rel_error"]


@pytest.mark.parametrize("address", ["tcp://127.0.0.1:1", "not an address"])
def test_a_wrong_scheduler_address_is_one_line(cli, mnist_dir, tmp_path, monkeypatch, address):
    monkeypatch.setenv("SPIKENET_DASK_SCHEDULER", address)
    started = time.monotonic()
    code, _, err = cli("run", "mnist_querlioz_pcm_2pcm_retention", "--smoke", "--no-progress", "--out", tmp_path / "r")
    assert time.monotonic() - started < 30
    assert code != 0 and len(err.strip().splitlines()) == 1, err
    assert "Dask scheduler" in err and "cannot connect" in err


def test_a_card_from_the_callers_own_catalog_runs_on_workers_that_do_not_have_it(cluster, tmp_path):
    """The points travel as resolved cards: a card in a catalog that only the caller knows (its
    SPIKENET_CATALOG; the workers were started without it) runs on the cluster."""
    from spikenet.catalog import find_card

    catalog = tmp_path / "mine"
    (catalog / "experiments").mkdir(parents=True)
    text = find_card("lif_fi_curve", "experiments").read_text()
    (catalog / "experiments" / "my_fi.toml").write_text(text.replace('name = "lif_fi_curve"', 'name = "my_fi"', 1))
    script = SWEEP.replace('sn.load_card("lif_fi_curve"', 'sn.load_card("my_fi"')
    proc = subprocess.run([sys.executable, "-c", script, cluster, "5"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=300, env={**os.environ, "SPIKENET_CATALOG": str(catalog)})
    assert proc.returncode == 0, proc.stderr
    assert json.loads((tmp_path / "runs" / "i_max_5" / "run.json").read_text())["status"] == "complete"
    assert "my_fi" in (tmp_path / "runs" / "i_max_5" / "card.toml").read_text()


def test_a_sweep_survives_a_worker_killed_mid_run(cli, tmp_path):
    """``spikenet sweep --scheduler`` on two workers, one of which is killed (SIGKILL, no nanny to
    restart it) half a second into its first run: Dask gives its run to the other worker, which
    starts it again in a clean folder, and sweep.csv equals that of the same sweep run here."""
    from spikenet.runs import read_csv

    grid = ("--grid", "neuron.tau_m=8 ms,10 ms,12 ms,14 ms")
    doomed = {"SPIKENET_FAULTS": "at=sweep_point,hit=1,signal=SIGKILL,delay=0.5"}
    with dask_cluster(tmp_path, [{}, doomed], nanny=False) as (address, workers):
        code, stdout, err = cli("sweep", "lif_fi_curve", *grid, "--smoke", "--scheduler", address,
                                "--out", tmp_path / "there", "--no-progress")
        assert workers[1].poll() == -9, "the doomed worker was given no run: the test tested nothing"
    assert code == 0, err
    assert f"4 runs on {address}" in err and "4 of 4 runs complete" in stdout
    code, _, err = cli("sweep", "lif_fi_curve", *grid, "--smoke", "--workers", "1", "--out", tmp_path / "here",
                       "--no-progress")
    assert code == 0, err
    there, here = read_csv(tmp_path / "there" / "sweep.csv"), read_csv(tmp_path / "here" / "sweep.csv")
    assert list(there["metric"]) == list(here["metric"]) and np.array_equal(there["mean"], here["mean"])
