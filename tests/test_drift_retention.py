"""Devices trained in place, evaluated again later: protocol.weights_from on the same device card,
protocol.t_read, and the drift_retention experiment."""

from __future__ import annotations

import json

import numpy as np
import pytest
from brian2 import second

import spikenet as sn
from spikenet.running import run_experiment
from spikenet.runs import load_checkpoint, open_run_dir, read_csv

PCM = "mnist_querlioz_pcm_2pcm"


@pytest.fixture(scope="module")
def trained_on_pcm(mnist_dir, tmp_path_factory):
    """The smoke run of mnist_querlioz_pcm_2pcm (trained and tested on its PCM pairs)."""
    return run_experiment(sn.load_card(PCM, smoke=True), tmp_path_factory.mktemp("pcm") / "trained", progress=False)


def evaluate(source, folder, *overrides):
    card = sn.load_card(PCM, smoke=True, overrides=["protocol.epochs=0",
                                                    f"protocol.weights_from={json.dumps(str(source.path))}",
                                                    *overrides])
    return run_experiment(card, folder, progress=False)


def test_devices_read_again_answer_as_in_the_run_they_come_from(trained_on_pcm, tmp_path):
    """No retention: the devices as training left them, read with the same input spikes, give the
    trained run's own test responses, spike for spike."""
    again = evaluate(trained_on_pcm, tmp_path / "again")
    first, _ = load_checkpoint(trained_on_pcm)
    second, _ = load_checkpoint(again)
    assert first["responses_test"].sum() > 0
    np.testing.assert_array_equal(second["responses_test"], first["responses_test"])
    np.testing.assert_array_equal(second["responses_assign"], first["responses_assign"])
    assert again.read_metrics()["training_seconds"] == 0
    # the devices were not reprogrammed: their pulse counts are training's
    for name in ("xp", "xm", "pulses_ltp", "nu_dev"):
        np.testing.assert_array_equal(second[f"trained_syn_{name}"], first[f"trained_syn_{name}"])


def test_a_year_of_drift_changes_the_answers_and_compensation_sees_it(trained_on_pcm, tmp_path):
    late = evaluate(trained_on_pcm, tmp_path / "late", 'protocol.t_read="31536000 s"')
    fixed = evaluate(trained_on_pcm, tmp_path / "fixed", 'protocol.t_read="31536000 s"',
                     "protocol.drift_compensation=per_neuron")
    first, _ = load_checkpoint(trained_on_pcm)
    assert not np.array_equal(load_checkpoint(late)[0]["responses_test"], first["responses_test"])
    device = sn.load_card(PCM, smoke=True)["device"]
    one_year = ((31536000 + 20.0) / 20.0) ** -device.drift_nu
    gain = fixed.read_metrics()["drift_gain_mean"]
    assert gain == pytest.approx(1 / one_year, rel=0.15)  # the exponents vary from device to device
    assert late.read_metrics()["drift_gain_mean"] is None  # no compensation (NaN is written as null)


def test_devices_of_another_card_are_an_error(cli, trained_on_pcm, tmp_path):
    code, _, err = cli("run", PCM, "--smoke", "--no-progress", "--out", tmp_path / "x", "--set", "protocol.epochs=0",
                       "--set", f"protocol.weights_from={json.dumps(str(trained_on_pcm.path))}",
                       "--set", "device.drift_nu=0.08")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "protocol.weights_from" in err and "same device card" in err
    assert not (tmp_path / "x").exists()


def test_retention_sweep_through_the_cli(cli, mnist_dir, tmp_path):
    out = tmp_path / "ret"
    code, stdout, err = cli("run", "mnist_querlioz_pcm_2pcm_retention", "--smoke", "--no-progress", "--out", out)
    assert code == 0, err
    run = open_run_dir(out)
    table = read_csv(run.figures / "accuracy_vs_retention.csv")
    assert sorted(zip(table["seed"], table["t_read_s"], table["compensation"])) == [
        (1, 3600.0, "none"), (1, 3600.0, "per_neuron"), (2, 3600.0, "none"), (2, 3600.0, "per_neuron")]
    card = sn.load_card(run.path / "runs" / "t_read_0_per_neuron_seed2" / "card.toml")["protocol"]
    assert card.epochs == 0 and card.weights_from.endswith("trained_seed2") and card.drift_compensation == "per_neuron"
    assert float(card.t_read / second) == pytest.approx(3600.0)
    metrics = run.read_metrics()
    trained = [json.loads((run.path / "runs" / f"trained_seed{s}" / "metrics.json").read_text())["test_accuracy"]
               for s in (1, 2)]
    assert metrics["accuracy_after_training"] == pytest.approx(sum(trained) / 2)
    assert metrics["spread"]["accuracy_after_training"]["per_seed"] == {"1": trained[0], "2": trained[1]}
    assert (run.figures / "accuracy_vs_retention.png").is_file()


def test_retention_needs_a_drifting_device(cli, tmp_path):
    code, _, err = cli("run", "mnist_querlioz_pcm_2pcm_retention", "--smoke", "--no-progress", "--out", tmp_path / "r",
                       "--set", "experiment.device=linear_64")
    assert code == 2 and "does not drift" in err and len(err.strip().splitlines()) == 1
