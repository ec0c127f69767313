"""The registry of experiment runners is derived from their contracts."""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass

import pytest

from spikenet import running
from spikenet.params import PROTOCOLS


def test_every_protocol_has_exactly_one_runner_named_by_its_kind():
    found = running.runners()
    assert set(found) == set(PROTOCOLS)
    for kind, module in found.items():
        assert module.CONTRACT.protocol is PROTOCOLS[kind]
        assert module.__name__ == f"spikenet.experiments.{kind}"


def test_a_protocol_without_a_runner_is_an_error(monkeypatch):
    @dataclass(frozen=True)
    class OrphanProtocol:
        KIND = "orphan"

    monkeypatch.setitem(running.PROTOCOLS, "orphan", OrphanProtocol)
    with pytest.raises(RuntimeError, match="no runner for the protocol of kind 'orphan'"):
        running.runners.__wrapped__()


def test_two_runners_of_one_protocol_are_an_error(monkeypatch, tmp_path):
    package = importlib.import_module("spikenet.experiments")
    (tmp_path / "lif_copy.py").write_text(
        "from spikenet.experiments.lif_fi_curve import CONTRACT, simulate, draw\n")
    monkeypatch.setattr(package, "__path__", [*package.__path__, str(tmp_path)])
    try:
        with pytest.raises(RuntimeError, match="two runners of 'lif_fi_curve'"):
            running.runners.__wrapped__()
    finally:
        sys.modules.pop("spikenet.experiments.lif_copy", None)


def test_a_contract_refuses_an_unknown_need():
    with pytest.raises(ValueError, match="unknown need 'gpu'"):
        running.Contract(protocol=PROTOCOLS["lif_fi_curve"], metrics=(), uses_device=False, needs=("gpu",))


def test_importing_the_run_machinery_does_not_import_the_runners():
    code = ("import sys, spikenet.running, spikenet.sweep; "
            "assert 'spikenet.experiments.mnist_stdp' not in sys.modules, 'runners imported'")
    import subprocess

    subprocess.run([sys.executable, "-c", code], check=True)
