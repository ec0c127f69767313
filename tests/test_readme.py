"""The README's Quick start is what users and CI run."""

import re

import pytest

from conftest import REPO


def quick_start_commands() -> list[str]:
    text = (REPO / "README.md").read_text()
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.+?)\n```", section)


def test_quick_start_has_exactly_two_one_line_commands():
    commands = quick_start_commands()
    assert len(commands) == 2 and all("\n" not in c for c in commands)
    install_and_run, install_and_test = commands
    assert install_and_run.endswith("spikenet run quickstart") and "-c constraints.txt" in install_and_run
    assert install_and_test.endswith("pytest") and "-c constraints.txt" in install_and_test


def test_ci_runs_the_readme_test_command_verbatim():
    ci = (REPO / ".ci" / "run").read_text().splitlines()
    assert quick_start_commands()[1] in ci


def test_constraints_pin_torch_and_numpy():
    pins = dict(
        line.split("==") for line in (REPO / "constraints.txt").read_text().splitlines() if "==" in line
    )
    assert pins["torch"] == "2.13.0"
    major, minor = map(int, pins["numpy"].split(".")[:2])
    assert (major, minor) < (2, 4)  # Brian2 2.9.0 does not import with numpy 2.4
    assert pins["Brian2"] == "2.9.0"


def readme_python_block_with(text: str) -> str:
    blocks = re.findall(r"```python\n(.+?)\n```", (REPO / "README.md").read_text(), flags=re.S)
    matching = [b for b in blocks if text in b]
    assert len(matching) == 1, f"expected one python block with {text!r} in the README"
    return matching[0]


def test_the_readme_slurm_cluster_gives_one_job_of_single_threaded_workers_with_the_data(monkeypatch):
    """Builds the README's SLURMCluster without submitting anything (no SLURM here): everything up
    to ``cluster.scale``; the job script must activate the venv, export SPIKENET_DATA and start
    16 single-threaded workers; its sweep must plan (every point's card valid) and be run on
    the cluster's scheduler."""
    import inspect

    pytest.importorskip("dask_jobqueue")
    from spikenet.grid import plan_sweep, run_sweep

    code = readme_python_block_with("SLURMCluster(")
    setup, rest = code.split("cluster.scale(", 1)
    namespace: dict = {}
    exec(setup, namespace)  # noqa: S102 - the README's own example, run as a user would
    cluster = namespace["cluster"]
    try:
        script = cluster.job_script()
    finally:
        cluster.close()
    assert "source /shared/spikenet/.venv/bin/activate" in script
    assert "export SPIKENET_DATA=/shared/data/mnist" in script
    assert "--nthreads 1" in script and "--nworkers 16" in script
    assert "#SBATCH -t 08:00:00" in script
    sweep_call = re.search(r"plan_sweep\((.+?)\)\n", rest).group(1)
    run_call = re.search(r"run_sweep\((.+?)\)\n?$", rest.strip() + "\n").group(1)
    sweep = eval(f"plan_sweep({sweep_call})", {"plan_sweep": plan_sweep})  # noqa: S307 - the README's call
    assert len(sweep.points) == 9  # 3 values x 3 seeds, every card checked
    assert "scheduler=cluster.scheduler_address" in run_call
    assert "scheduler" in inspect.signature(run_sweep).parameters
