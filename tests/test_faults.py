"""Real signals at seeded random moments of real runs, each followed by ``--resume`` (issue 16).

Every test runs ``python -m spikenet`` in its own session (so that a signal to "the group" reaches
the run and its compiled children, as a terminal's Ctrl-C or a scheduler's SIGTERM does, and
nothing else). ``SPIKENET_FAULTS`` (:mod:`spikenet.faults`) makes the run send the signal itself,
at a named moment and after a drawn delay, so that it lands inside what follows. A chain of
interrupted runs and resumes must end bit for bit where one uninterrupted run ends, and no
interrupted run may say "complete".

The small chains run in the default suite; ``-m slow`` runs more seeds and longer chains.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from run_results import without_timings

from spikenet.faults import FAULTS_ENV

pytestmark = pytest.mark.usefixtures("mnist_dir")


@pytest.fixture
def workdir(tmp_path) -> Path:
    """A working folder whose ``brian_preferences`` sets Brian2's numpy target for runtime-mode code
    (as the in-process tests do); the compiled engine's C++ program is not affected."""
    (tmp_path / "brian_preferences").write_text("codegen.target = 'numpy'\n")
    return tmp_path


def spikenet(*args: object, cwd: Path, faults: str | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """``python -m spikenet ARGS`` as a process group of its own, with ``SPIKENET_FAULTS=faults``."""
    env = {k: v for k, v in os.environ.items() if k != FAULTS_ENV}
    if faults:
        env[FAULTS_ENV] = faults
    return subprocess.run([sys.executable, "-m", "spikenet", *map(str, args)], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout, start_new_session=True)


EXIT = {"SIGINT": 130, "SIGTERM": 143, "SIGKILL": -signal.SIGKILL}


def run_interrupted(args: list[object], *, cwd: Path, fault: str, folder: Path) -> None:
    """Run ``args`` with ``fault`` and check that it was interrupted, and says so."""
    name = re.search(r"signal=(\w+)", fault).group(1)
    result = spikenet(*args, cwd=cwd, faults=fault)
    assert result.returncode == EXIT[name], (fault, result.returncode, result.stderr[-2000:])
    info = json.loads((folder / "run.json").read_text())
    assert info["status"] == ("running" if name == "SIGKILL" else "interrupted"), (fault, info)
    assert not (folder / "metrics.json").exists()
    if name != "SIGKILL":
        assert info["signal"] == name
        assert result.stderr.strip().splitlines()[-1] == ("interrupted" if name == "SIGINT" else f"interrupted ({name})")


def chain(first: list[object], folder: Path, faults: list[str], *, cwd: Path) -> None:
    """``first`` interrupted by ``faults[0]``, then ``--resume`` interrupted by each next fault, then a
    plain ``--resume`` that must complete."""
    run_interrupted(first, cwd=cwd, fault=faults[0], folder=folder)
    for fault in faults[1:]:
        run_interrupted(["run", "--resume", folder, "--no-progress"], cwd=cwd, fault=fault, folder=folder)
    result = spikenet("run", "--resume", folder, "--no-progress", cwd=cwd)
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads((folder / "run.json").read_text())["status"] == "complete"


def assert_same_npz(a: Path, b: Path) -> None:
    with np.load(a) as x, np.load(b) as y:
        assert sorted(x.files) == sorted(y.files)
        for key in x.files:
            np.testing.assert_array_equal(x[key], y[key], err_msg=f"{a.name}: {key}")


def assert_same_run(reference: Path, resumed: Path, arrays: tuple[str, ...] = ("final_state.npz",)) -> None:
    for name in arrays:
        assert_same_npz(reference / name, resumed / name)
    assert without_timings(json.loads((reference / "metrics.json").read_text())) == \
        without_timings(json.loads((resumed / "metrics.json").read_text()))


def mid(rng: random.Random, at: str, hit: int, name: str, *, span: tuple[float, float], to: str = "group") -> str:
    """A fault ``name`` at a drawn moment ``span`` seconds after the ``hit``-th passage of ``at``."""
    return f"at={at},hit={hit},signal={name},delay={rng.uniform(*span):.3f},to={to}"


STDP = ["mnist_dc_n100", "--smoke", "--no-progress", "--seed", "3"]
"""n_train = 20, n_assign = 10, n_test = 10 in chunks of 10: chunks 1-2 train, 3 assign, 4 test."""


@pytest.fixture(scope="module")
def stdp_reference(tmp_path_factory) -> Path:
    cwd = tmp_path_factory.mktemp("reference")
    (cwd / "brian_preferences").write_text("codegen.target = 'numpy'\n")
    result = spikenet("run", *STDP, "--out", cwd / "run", cwd=cwd)
    assert result.returncode == 0, result.stderr
    return cwd / "run"


def runtime_faults(rng: random.Random) -> list[str]:
    """Mid-chunk Ctrl-C to the group, SIGTERM inside a checkpoint write, kill -9 as assignment
    starts, SIGINT to the process alone mid-test."""
    return [
        mid(rng, "chunk", 2, "SIGINT", span=(0.05, 0.5)),
        f"at=checkpoint_write,hit=1,signal=SIGTERM,to={rng.choice(['self', 'group'])}",
        mid(rng, "phase_assign", 1, "SIGKILL", span=(0.0, 0.3)),
        mid(rng, "chunk", 1, "SIGINT", span=(0.05, 0.4), to="self"),
    ]


@pytest.mark.parametrize("seed", [0])
def test_runtime_engine_resumes_bit_identical_after_every_signal(stdp_reference, workdir, seed):
    rng = random.Random(seed)
    folder = workdir / "run"
    chain(["run", *STDP, "--out", folder], folder, runtime_faults(rng), cwd=workdir)
    assert_same_run(stdp_reference, folder)
    assert len(json.loads((folder / "run.json").read_text())["resumed"]) == 4


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(1, 9))
def test_runtime_engine_resumes_bit_identical_at_many_moments(stdp_reference, workdir, seed):
    rng = random.Random(seed)
    faults = runtime_faults(rng) + [mid(rng, "phase_test", 1, rng.choice(["SIGINT", "SIGTERM", "SIGKILL"]),
                                        span=(0.0, 0.5))]
    rng.shuffle(faults)
    folder = workdir / "run"
    first = ["run", *STDP, "--out", folder]
    # a fault whose moment has passed (a chunk already in the checkpoint) does not fire: skip it
    run_interrupted(first, cwd=workdir, fault=faults[0], folder=folder)
    for fault in faults[1:]:
        result = spikenet("run", "--resume", folder, "--no-progress", cwd=workdir, faults=fault)
        if result.returncode == 0:
            break
        name = re.search(r"signal=(\w+)", fault).group(1)
        assert result.returncode == EXIT[name], result.stderr[-2000:]
        assert json.loads((folder / "run.json").read_text())["status"] != "complete"
    else:
        assert spikenet("run", "--resume", folder, "--no-progress", cwd=workdir).returncode == 0
    assert_same_run(stdp_reference, folder)
    assert len(json.loads((folder / "run.json").read_text())["resumed"]) >= 2  # at least two interruptions


COMPILED = [*STDP, "--set", "protocol.engine=compiled"]


def test_compiled_engine_resumes_bit_identical(workdir):
    """Ctrl-C to the group while the compiled program runs its second chunk, SIGTERM to the group
    while g++ compiles; neither chunk counts, and the chain ends as the uninterrupted run."""
    rng = random.Random(0)
    reference = workdir / "reference"
    result = spikenet("run", *COMPILED, "--out", reference, cwd=workdir)
    assert result.returncode == 0, result.stderr
    folder = workdir / "run"
    chain(["run", *COMPILED, "--out", folder], folder,
          [mid(rng, "chunk", 2, "SIGINT", span=(0.02, 0.2)), mid(rng, "compile", 1, "SIGTERM", span=(2.0, 6.0))],
          cwd=workdir)
    assert_same_run(reference, folder)
    assert not (folder / "build").exists()  # the C++ project of each interrupted run was removed


BACKPROP = ["mnist_mlp100", "--smoke", "--no-progress", "--set", "protocol.epochs=3"]


def test_backprop_run_resumes_bit_identical(workdir):
    """Ctrl-C between epochs, kill -9 inside a checkpoint write, SIGTERM while the trained network is
    programmed onto PCM pairs (the evaluation keeps no checkpoint: it is done again)."""
    pytest.importorskip("torch")
    rng = random.Random(0)
    reference = workdir / "reference"
    assert spikenet("run", *BACKPROP, "--out", reference, cwd=workdir).returncode == 0
    folder = workdir / "run"
    chain(["run", *BACKPROP, "--out", folder], folder,
          ["at=epoch,hit=2,signal=SIGINT,to=group", "at=checkpoint_write,hit=1,signal=SIGKILL,to=self",
           mid(rng, "evaluate", 2, "SIGTERM", span=(0.02, 0.2))],
          cwd=workdir)
    assert_same_run(reference, folder, arrays=())
    assert_same_npz(next(reference.glob("checkpoint-*.npz")), next(folder.glob("checkpoint-*.npz")))


RETENTION = ["mnist_querlioz_pcm_2pcm_retention", "--smoke", "--no-progress"]


def test_sweep_resumes_bit_identical(workdir):
    """A retention sweep cut inside its training point and again before its first evaluation."""
    rng = random.Random(0)
    reference = workdir / "reference"
    assert spikenet("run", *RETENTION, "--out", reference, cwd=workdir).returncode == 0
    folder = workdir / "run"
    chain(["run", *RETENTION, "--out", folder], folder,
          [mid(rng, "chunk", 2, "SIGTERM", span=(0.05, 0.4)), "at=sweep_point,hit=2,signal=SIGINT,to=group"],
          cwd=workdir)
    assert_same_run(reference, folder, arrays=())
    points = sorted(p.relative_to(reference) for p in reference.glob("runs/*/final_state.npz"))
    assert len(points) >= 3
    for point in points:
        assert_same_npz(reference / point, folder / point)
