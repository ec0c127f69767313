"""What a record names: the code (commit) a run was made with, and the benchmark CSVs that keep it."""

from __future__ import annotations

import csv
import re
import subprocess
from pathlib import Path

import pytest

from spikenet.running import _versions, source_commit

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture()
def machine_module(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import machine

    return machine


def test_a_run_records_the_commit_of_its_checkout():
    package = Path(__file__).resolve().parents[1] / "spikenet"
    inside_git = subprocess.run(["git", "-C", str(package), "rev-parse", "HEAD"], capture_output=True, text=True)
    if inside_git.returncode != 0:
        pytest.skip("not a git checkout")
    head = inside_git.stdout.strip()
    commit = source_commit()
    assert re.fullmatch(r"[0-9a-f]{7,}(-dirty)?", commit), commit
    assert head.startswith(commit.removesuffix("-dirty"))
    assert _versions()["source"] == commit


def test_a_record_gains_a_column_without_losing_or_shifting_its_old_rows(machine_module, tmp_path):
    record = tmp_path / "runs.csv"
    machine_module.append_rows(record, [{"date": "d1", "accuracy": "0.5"}, {"date": "d2", "accuracy": "0.6"}])
    machine_module.append_rows(record, [{"date": "d3", "commit": "abc1234", "accuracy": "0.7"}])
    machine_module.append_rows(record, [{"date": "d4", "commit": "def5678", "accuracy": "0.8"}])
    with record.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["date"] for r in rows] == ["d1", "d2", "d3", "d4"]
    assert [r["accuracy"] for r in rows] == ["0.5", "0.6", "0.7", "0.8"]
    assert [r["commit"] for r in rows] == ["", "", "abc1234", "def5678"]  # "" = not recorded then
    assert not list(tmp_path.glob("*.tmp"))


def test_the_committed_records_have_one_header_and_aligned_rows():
    for record in sorted((BENCHMARKS / "results").glob("*.csv")):
        with record.open(newline="") as fh:
            header, *rows = list(csv.reader(fh))
        assert rows, record
        assert {len(r) for r in rows} == {len(header)}, f"{record.name}: rows not aligned with the header"
        assert len(set(header)) == len(header), record.name



def test_a_finished_run_becomes_one_row_per_scalar_metric_and_an_interrupted_one_is_refused(cli, tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import json

    import record_metrics

    run = tmp_path / "oja"
    code, _, err = cli("run", "hebb_oja", "--smoke", "--no-progress", "--out", str(run))
    assert code == 0, err
    metrics = json.loads((run / "metrics.json").read_text())
    rows = record_metrics.rows_of(run)
    by_name = {r["metric"]: float(r["value"]) for r in rows}
    assert by_name["wall_time_s"] > 0
    numbers = {k: v for k, v in metrics.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    assert numbers and all(by_name[k] == pytest.approx(v, rel=1e-15) for k, v in numbers.items())
    assert {r["experiment"] for r in rows} == {"hebb_oja"} and {r["smoke"] for r in rows} == {True}
    info = json.loads((run / "run.json").read_text())
    (run / "run.json").write_text(json.dumps({**info, "status": "interrupted"}))
    with pytest.raises(SystemExit, match="not complete"):
        record_metrics.rows_of(run)
