"""The backprop baseline: training, weights onto devices, read noise, checkpoints, reproducibility."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import spikenet as sn  # noqa: E402
from spikenet.baseline import (  # noqa: E402
    build_model,
    macs_per_inference,
    make_optimizer,
    nominal_levels,
    predict,
    program_model,
    program_weights,
    train_epoch,
)
from spikenet.baseline.training import mnist_tensors  # noqa: E402
from spikenet.running import resume_experiment, run_experiment  # noqa: E402
from spikenet.params.networks import CnnNetworkParams, LinearNetworkParams, MlpNetworkParams  # noqa: E402
from spikenet.runs import load_checkpoint  # noqa: E402


def device(name, **changes):
    return dataclasses.replace(sn.load_card(name, "devices")["device"], **changes)


def test_training_on_a_small_subset_beats_chance_quickly(mnist_dir):
    x, y = mnist_tensors("train", 2000, mnist_dir)
    x_test, y_test = mnist_tensors("test", 1000, mnist_dir)
    model = build_model(MlpNetworkParams(hidden=50), torch.Generator().manual_seed(0))
    proto = sn.load_card("mnist_mlp100", "experiments")["protocol"]
    optimizer = make_optimizer(model, proto)
    before = np.mean(predict(model, x_test) == y_test.numpy())
    for epoch in range(3):
        train_epoch(model, optimizer, x, y, batch_size=50, seed=epoch)
    after = np.mean(predict(model, x_test) == y_test.numpy())
    # chance is 0.1; 2,000 images and three epochs give about 0.85 (measured 0.86)
    assert before < 0.25 and after > 0.75


def test_the_models_have_the_layers_the_cards_name():
    mlp = build_model(MlpNetworkParams(hidden=100))
    assert macs_per_inference(mlp) == 784 * 100 + 100 * 10
    assert macs_per_inference(build_model(LinearNetworkParams())) == 7840
    cnn = build_model(CnnNetworkParams(channels_1=32, channels_2=64, kernel=5, hidden=128))
    # conv1: 24x24 outputs x 32 maps x 25 taps; conv2: 8x8 x 64 x (32 x 25); dense 1024 -> 128 -> 10
    assert macs_per_inference(cnn) == 24 * 24 * 32 * 25 + 8 * 8 * 64 * 32 * 25 + 1024 * 128 + 128 * 10
    assert cnn(torch.zeros(3, 1, 28, 28)).shape == (3, 10)


def test_an_ideal_device_maps_and_unmaps_weights_exactly():
    w = torch.randn(30, 40, generator=torch.Generator().manual_seed(1))
    aw = program_weights(w, device("ideal"), torch.Generator().manual_seed(2))
    assert torch.equal(aw.weight, w) and aw.read_std == 0 and aw.devices == 0


def test_a_noiseless_linear_device_holds_the_weights_on_its_levels():
    """No noise, no spread: write-verify with a tolerance below half a level lands every device on
    the level nearest its target, so each weight is w_max x (k+ - k-) / 63 with |error| <= w_max / 126."""
    p = device("linear_64")
    w = torch.randn(50, 60, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    aw = program_weights(w, p, torch.Generator().manual_seed(4), tolerance=0.4 / 63, max_pulses=200)
    steps = aw.weight / aw.w_max * 63
    np.testing.assert_allclose(steps, torch.round(steps), atol=1e-9)
    assert float((aw.weight - w).abs().max()) <= aw.w_max / 126 + 1e-12
    assert aw.converged == 1.0 and aw.devices == 2 * w.numel()


def test_nominal_levels_follow_the_device_curve():
    pcm = device("pcm_gst")
    levels = nominal_levels(pcm)
    assert len(levels) == pcm.levels_set + 1 and levels[0] == 0 and levels[-1] == pytest.approx(1)
    assert np.all(np.diff(levels) > 0) and np.diff(levels)[0] > np.diff(levels)[-1]  # saturating
    np.testing.assert_allclose(nominal_levels(device("linear_64")), np.arange(64) / 63)


def test_stuck_devices_are_reported_not_hidden():
    p = device("linear_64", stuck_low=0.1, stuck_high=0.05)
    w = torch.rand(100, 100, generator=torch.Generator().manual_seed(5)) - 0.5
    aw = program_weights(w, p, torch.Generator().manual_seed(6), tolerance=0.02, max_pulses=200)
    # Free devices all converge (200 pulses cover 63 levels). A stuck-low device converges only if
    # its target is within 0.02 of g_min: every idle (minus or plus) side, and 2 % of the active
    # ones (|w| / w_max is uniform); a stuck-high one only if its target is within 0.02 of g_max
    # (1 % of all devices). Expected: 1 - 0.1 x 0.5 x 0.98 - 0.05 x 0.99 = 0.901.
    assert aw.converged == pytest.approx(0.901, abs=0.015)
    assert float((aw.weight - w).abs().max()) > 0.9 * aw.w_max  # some weights are far off: stuck high


@pytest.mark.parametrize("layer", ["linear", "conv"])
def test_read_noise_at_the_output_equals_independent_per_weight_noise(layer):
    """The hook adds std read_std x ||input patch|| per output: the distribution of summing
    independent noise of every weight read. Compared with drawing a noisy weight matrix per input."""
    g = torch.Generator().manual_seed(7)
    module = torch.nn.Linear(20, 3) if layer == "linear" else torch.nn.Conv2d(2, 3, 3)
    model = torch.nn.Sequential(module)
    p = device("linear_64", read_noise_std=0.05)
    analog, programmed = program_model(model, p, g, tolerance=1e-3, max_pulses=500)
    x = torch.rand((1, 20) if layer == "linear" else (1, 2, 5, 5), generator=g)
    n = 4000
    with torch.no_grad():
        hooked = torch.stack([analog(x)[0] for _ in range(n)])
        weight, bias = analog[0].weight, analog[0].bias
        std = programmed[0].read_std
        explicit = []
        for _ in range(n):
            noisy = weight + std * torch.randn(weight.shape, generator=g)
            explicit.append((x @ noisy.T + bias)[0] if layer == "linear"
                            else torch.nn.functional.conv2d(x, noisy, bias)[0])
        explicit = torch.stack(explicit)
    assert std == pytest.approx(programmed[0].w_max * 0.05 * np.sqrt(2))  # two devices per weight
    # means agree within 4 standard errors; standard deviations within 8 % (n = 4000: se ~1.1 %)
    se = (hooked.std(0) / np.sqrt(n)).clamp(min=1e-9)
    assert torch.all((hooked.mean(0) - explicit.mean(0)).abs() < 4 * np.sqrt(2) * se)
    np.testing.assert_allclose(hooked.std(0).numpy(), explicit.std(0).numpy(), rtol=0.08)


def test_binary_devices_with_redundancy_hold_round_w_r_devices_on():
    p = device("oxram_hfo2", p_set_std=0.0, p_set=1.0, p_reset=1.0, sigma_ln_on=0.0, sigma_ln_off=0.0,
               redundancy=8)
    w = torch.tensor([[-1.0, -0.5, 0.0, 0.26, 0.74, 1.0]])
    aw = program_weights(w, p, torch.Generator().manual_seed(8))
    np.testing.assert_allclose(aw.weight.numpy(), [[-1.0, -0.5, 0.0, 0.25, 0.75, 1.0]], atol=1e-12)
    assert aw.devices == 2 * 8 * 6


def _smoke_card(*overrides):
    return sn.load_card("mnist_mlp100", "experiments", smoke=True,
                        overrides=["protocol.n_train=300", "protocol.n_test=100", "protocol.epochs=3",
                                   'protocol.hardware_devices=["ideal", "pcm_2pcm"]', *overrides])


def test_a_run_is_reproducible_and_resumes_exactly(mnist_dir, tmp_path, monkeypatch):
    from spikenet.baseline import training

    card = _smoke_card()
    first = run_experiment(card, tmp_path / "a", progress=False)
    second = run_experiment(card, tmp_path / "b", progress=False)
    a, b = load_checkpoint(first)[0], load_checkpoint(second)[0]
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
    assert first.read_metrics()["hardware"] == second.read_metrics()["hardware"]

    real, calls = training.train_epoch, []

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(training, "train_epoch", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_experiment(card, tmp_path / "c", progress=False)
    monkeypatch.setattr(training, "train_epoch", real)
    assert load_checkpoint(sn.runs.open_run_dir(tmp_path / "c"))[1]["history"][-1]["epoch"] == 1
    resumed = resume_experiment(tmp_path / "c", progress=False)
    c = load_checkpoint(resumed)[0]
    for key in a:
        np.testing.assert_array_equal(a[key], c[key])
    assert resumed.read_metrics()["test_accuracy"] == first.read_metrics()["test_accuracy"]


def test_noise_aware_training_changes_the_weights_and_still_learns(mnist_dir, tmp_path):
    plain = run_experiment(_smoke_card(), tmp_path / "plain", progress=False)
    noisy = run_experiment(_smoke_card("protocol.train_weight_noise=0.1"), tmp_path / "noisy", progress=False)
    a, b = load_checkpoint(plain)[0], load_checkpoint(noisy)[0]
    assert not np.array_equal(a["model.1.weight"], b["model.1.weight"])
    assert noisy.read_metrics()["test_accuracy"] > 0.4


def test_an_unknown_device_card_is_a_one_line_error_before_the_run(cli, tmp_path):
    out = tmp_path / "run"
    code, _, err = cli("run", "mnist_mlp100", "--smoke", "--no-progress", "--out", out,
                       "--set", 'protocol.hardware_devices=["ideal", "pcm_9000"]')
    assert code == 2 and "protocol.hardware_devices" in err and "pcm_9000" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not out.exists() or not any(out.iterdir())


def test_the_mlp400_programs_onto_64_binary_devices_per_weight_in_under_1_gib():
    """784 x 400 + 400 x 10 weights on oxram_hfo2 (R = 64: 40 million devices) as counts: the
    programming's peak resident memory grows by less than 1 GiB (it took 7.4 GB device by device)."""
    code = """
import resource, torch, spikenet as sn
from spikenet.baseline.analog import program_weights
p = sn.load_card("oxram_hfo2", "devices")["device"]
layers = [torch.randn(400, 784) * 0.05, torch.randn(10, 400) * 0.1]
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
g = torch.Generator().manual_seed(0)
programmed = [program_weights(w, p, g) for w in layers]
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(after - before, sum(a.devices for a in programmed), min(a.converged for a in programmed))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    grown_kib, devices, converged = int(out[0]), int(out[1]), float(out[2])
    assert devices == 2 * 64 * (784 * 400 + 400 * 10)
    assert grown_kib < 1024 * 1024
    assert converged > 0.99
