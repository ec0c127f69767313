"""The command line: exit codes, one-line errors, and every experiment card in smoke size."""

import dataclasses
import json
import subprocess
import sys
import tomllib

import pytest
from conftest import REPO
from run_results import without_timings

import spikenet as sn
from spikenet.catalog import list_cards
from spikenet.experiments import lif_fi_curve


def test_help_lists_the_commands(cli):
    code, out, _ = cli("--help")
    assert code == 0
    for command in ("list", "show", "run", "figures", "data"):
        assert f"  {command} " in out


def test_list(cli):
    code, out, _ = cli("list", "devices")
    assert code == 0 and "ideal" in out and "source:" not in out
    assert any(line.split()[:2] == ["pcm_2pcm", "pcm_2pcm"] for line in out.splitlines())  # name, model
    code, out, _ = cli("list", "devices", "--long")
    assert code == 0 and "source:" in out
    code, out, _ = cli("list")
    assert code == 0 and "experiments:" in out and "lif_fi_curve" in out
    lines = out.splitlines()
    assert max(map(len, lines)) <= 100, "a table line per card, cut to the (default) terminal width"
    assert any(line.split()[:2] == ["mnist_dc_n100", "mnist_stdp"] for line in lines)


def test_help_and_list_do_not_import_the_simulator():
    """`spikenet --help` and `list` start fast: they import neither Brian2 nor matplotlib."""
    import subprocess
    import sys

    for args in (["--help"], ["list"], ["--version"]):
        code = ("import sys; from spikenet.cli import main; rc = main(%r); "
                "heavy = [m for m in ('brian2', 'matplotlib', 'numpy', 'torch') if m in sys.modules]; "
                "print('HEAVY', heavy)" % (args,))
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
        assert "HEAVY []" in done.stdout, (args, done.stdout[-500:], done.stderr[-1000:])


def test_show_prints_a_loadable_card(cli):
    code, out, _ = cli("show", "lif_fi_curve", "--set", "neuron.tau_m=9 ms")
    assert code == 0
    card = tomllib.loads(out)
    assert card["neuron"]["tau_m"] == "9 ms" and card["protocol"]["dt"] == "0.01 ms"
    code, out, _ = cli("show", "devices/ideal")
    assert code == 0 and tomllib.loads(out)["device"]["model"] == "ideal"


def test_show_asks_which_kind_when_a_name_is_ambiguous(cli, write_card):
    write_card("devices", "lif_fi_curve", '[meta]\nname="lif_fi_curve"\ndescription="d"\nsource="s"\n[device]\nmodel="ideal"\n')
    code, _, err = cli("show", "lif_fi_curve")
    assert code == 2 and "say which: devices/lif_fi_curve, experiments/lif_fi_curve" in err


@pytest.mark.parametrize("name", [info.name for info in list_cards("experiments")])
def test_every_experiment_runs_in_smoke_size(cli, tmp_path, name):
    out = tmp_path / name
    code, stdout, err = cli("run", name, "--smoke", "--out", out, "--no-progress", "--seed", "3")
    assert code == 0, err
    assert f"results in {out}" in stdout
    for filename in ("card.toml", "metrics.json", "log.txt", "run.json"):
        assert (out / filename).is_file()
    # a smoke run says it is one, and does not judge its numbers by the full-size expectations
    assert json.loads((out / "metrics.json").read_text())["smoke"] is True
    assert "smoke run:" in stdout and "MISSES" not in stdout and "meets" not in stdout
    pngs = sorted((out / "figures").glob("*.png"))
    # Each figure has the data it is drawn from: <figure>.csv or <figure>_<part>.csv.
    assert pngs and all(list(png.parent.glob(f"{png.stem}*.csv")) for png in pngs)
    card = tomllib.loads((out / "card.toml").read_text())
    assert card["experiment"]["seed"] == 3
    # The resolved card repeats the run: a sweep's points in smoke size again, the same numbers.
    again = tmp_path / "again"
    code, _, err = cli("run", out / "card.toml", "--out", again, "--no-progress")
    assert code == 0, err
    assert (again / "card.toml").read_text().split("\n", 1)[1] == (out / "card.toml").read_text().split("\n", 1)[1]
    assert without_timings(json.loads((again / "metrics.json").read_text())) == \
        without_timings(json.loads((out / "metrics.json").read_text()))
    # It holds every card it used: the ones its keys name are embedded, nothing is looked up again.
    loaded = sn.load_card(out / "card.toml")
    for section in loaded.sections.values():
        for field in dataclasses.fields(section):
            kind = field.metadata.get("spec") and field.metadata["spec"].refers_to
            if kind:
                value = getattr(section, field.name)
                for used in (value,) if isinstance(value, str) else value:
                    assert used in card["uses"][kind], f"{field.name} = {used!r} is not embedded"
    for check in AFTER_SMOKE.get(name, ()):
        check(out)


def a_comparison_collects_every_method_at_every_level(out):
    """compare_stuck's smoke run: every method at both levels, the points' devices and transfers."""
    run = sn.runs.open_run_dir(out)
    table = sn.runs.read_csv(run.figures / "accuracy_vs_variability.csv")
    for method in ("stdp_in_place", "stdp_transfer", "mlp_transfer", "mlp_noise_aware"):  # two seeds, one sample
        pick = table["method"] == method
        assert sorted(zip(table["seed"][pick], table["level"][pick])) == [(3, 0.0), (3, 0.4), (4, 0.0), (4, 0.4)]
    stuck = sn.load_card(run.path / "runs" / "stdp_in_place_1_seed4" / "card.toml")
    assert stuck["device"].stuck_low == stuck["device"].stuck_high == 0.2 and stuck["experiment"].seed == 4
    transfer = sn.load_card(run.path / "runs" / "stdp_transfer_1_seed4" / "card.toml")["protocol"]
    assert transfer.epochs == 0 and transfer.weights_from == str(run.path / "runs" / "stdp_ideal_seed4")
    metrics = run.read_metrics()
    assert metrics["in_place_advantage"] == pytest.approx(metrics["stdp_transfer_loss"] - metrics["stdp_in_place_loss"])
    spread = metrics["spread"]["stdp_in_place_loss"]
    assert metrics["seeds"] == [3, 4] and spread["n"] == 2 and set(spread["per_seed"]) == {"3", "4"}
    assert spread["mean"] == pytest.approx(sum(spread["per_seed"].values()) / 2)
    assert spread["ci95_low"] <= spread["mean"] <= spread["ci95_high"]
    assert metrics["costs_per_inference"]["mlp_transfer"]["synaptic_events"] == 784 * 100 + 100 * 10
    assert sn.load_card(run.card, "experiments")["protocol"].levels == (0.0, 0.4)  # the card runs as written
    # The points are the embedded cards at the comparison's sizes, in smoke size.
    point = sn.load_card(run.path / "runs" / "stdp_in_place_0_seed3" / "card.toml")
    assert point.smoke and point["protocol"].n_train == 20 and point["experiment"].seed == 3


AFTER_SMOKE = {"compare_stuck": (a_comparison_collects_every_method_at_every_level,)}
"""Checks of particular cards' smoke runs, made on the run of the test above (not a second run)."""


@pytest.mark.parametrize(
    "args, message",
    [
        (["run", "nope"], "error: unknown experiment card 'nope'; available:"),
        (["run", "lif_fi_curve", "--set", "neuron.tau_m=5 mV"], "error: --set neuron.tau_m: neuron.tau_m = '5 mV'"),
        (["run", "lif_fi_curve", "--set", "protocol.bogus=1"], "error: --set protocol.bogus: unknown key 'protocol.bogus'"),
        (["run", "lif_neurodynex"], "error: unknown experiment card 'lif_neurodynex'"),
        (["show", "nope"], "error: no card named 'nope'"),
        (["figures", "."], "error: .: not a run folder (no card.toml)"),
        (["--catalog", "/nonexistent", "list"], "error: --catalog /nonexistent: no such folder"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(cli, tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    code, out, err = cli(*args)
    assert code == 2
    assert err.startswith(message), err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "runs").exists()  # nothing was started


def test_a_run_never_overwrites_another(cli, tmp_path):
    out = tmp_path / "run"
    assert cli("run", "lif_fi_curve", "--smoke", "--out", out, "--no-progress")[0] == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    code, _, err = cli("run", "lif_fi_curve", "--smoke", "--out", out, "--no-progress")
    assert code == 2 and "another run's folder" in err
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_default_run_folder(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, _ = cli("run", "lif_fi_curve", "--smoke", "--no-progress")  # any card; this one takes a second
    assert code == 0
    (folder,) = (tmp_path / "runs").iterdir()
    assert folder.name.startswith("lif_fi_curve-") and f"results in runs/{folder.name}" in out


def test_figures_are_redrawn_without_simulating(cli, tmp_path, monkeypatch):
    out = tmp_path / "run"
    assert cli("run", "lif_fi_curve", "--smoke", "--out", out, "--no-progress")[0] == 0
    png = out / "figures" / "fi_curve.png"
    png.unlink()

    def no_simulation(*args, **kwargs):
        raise AssertionError("spikenet figures must not simulate")

    monkeypatch.setattr(lif_fi_curve, "simulate", no_simulation)
    code, stdout, _ = cli("figures", out)
    assert code == 0 and str(png) in stdout and png.is_file()


def test_data_check(cli, mnist_dir, monkeypatch):
    monkeypatch.setenv("SPIKENET_DATA", str(mnist_dir))
    code, out, _ = cli("data", "check")
    assert code == 0 and str(mnist_dir) in out and "f68b3c2dcbeaaa9fbdd348bbdeb94873" in out
    code, _, err = cli("data", "check", "--path", mnist_dir / "absent")
    assert code == 2 and err.startswith("error: ") and "no such folder" in err


def test_data_check_fashion(cli, fashion_dir, monkeypatch):
    monkeypatch.setenv("SPIKENET_FASHION_DATA", str(fashion_dir))
    code, out, _ = cli("data", "check", "--dataset", "fashion_mnist")
    assert code == 0 and "Fashion-MNIST found in" in out and "decompressed contents match" in out
    assert "f4a8712d7a061bf5bd6d2ca38dc4d50a (contents)" in out
    code, _, err = cli("data", "check", "--dataset", "kmnist")
    assert code == 2 and "kmnist" in err and "fashion_mnist" in err


def test_console_script_has_no_traceback(tmp_path):
    """The real process: exit code 2 and one line on stderr."""
    result = subprocess.run(
        [sys.executable, "-m", "spikenet", "run", "lif_fi_curve", "--set", "neuron.v_th=-80 mV"],
        capture_output=True, text=True, cwd=tmp_path,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"error: {REPO / 'models' / 'lif_neurodynex.toml'} and --set neuron.v_th: neuron.v_reset: "
        "-65. mV must be below v_th = -80. mV, or the neuron fires at every step"
    ]


def test_ctrl_c_exits_130_and_marks_the_run_interrupted(cli, tmp_path, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(lif_fi_curve, "simulate", interrupted)
    out = tmp_path / "run"
    code, _, err = cli("run", "lif_fi_curve", "--smoke", "--out", out, "--no-progress")
    assert code == 130 and err.strip() == "interrupted"
    info = json.loads((out / "run.json").read_text())
    assert info["status"] == "interrupted"
    assert tomllib.loads((out / "card.toml").read_text())["meta"]["name"] == "lif_fi_curve"
    assert not (out / "metrics.json").exists()


def test_compiled_target_gives_the_same_result(cli, tmp_path):
    """The tests run Brian2's numpy target; a real run uses the compiled (Cython) default."""
    import os

    env = {k: v for k, v in os.environ.items() if k != "SPIKENET_TEST_TARGET"}
    compiled = tmp_path / "compiled"
    code = ("from brian2 import prefs; prefs.codegen.target = 'cython'; "
            "from spikenet.cli import main; import sys; "
            f"sys.exit(main(['run', 'lif_fi_curve', '--smoke', '--no-progress', '--out', {str(compiled)!r}]))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    assert cli("run", "lif_fi_curve", "--smoke", "--no-progress", "--out", tmp_path / "numpy")[0] == 0
    a = json.loads((compiled / "metrics.json").read_text())
    b = json.loads((tmp_path / "numpy" / "metrics.json").read_text())
    for key in ("max_rel_error", "mean_rel_error", "n_compared", "max_rate_Hz"):
        assert a[key] == pytest.approx(b[key], rel=1e-9), key


def test_catalog_option_reaches_the_runners(cli, tmp_path, monkeypatch):
    """A device card in --catalog DIR shows up in device_curves, which lists every device card."""
    monkeypatch.setenv("SPIKENET_CATALOG", "")  # restored after the test, whatever the CLI sets
    (tmp_path / "mine" / "devices").mkdir(parents=True)
    (tmp_path / "mine" / "devices" / "my_pcm.toml").write_text(
        'extends = "pcm_gst"\n[meta]\nname = "my_pcm"\ndescription = "a noisier GST"\nsource = "mine"\n'
        "[device]\nc2c_std = 0.05\n"
    )
    out = tmp_path / "run"
    code, _, err = cli("--catalog", tmp_path / "mine", "run", "device_curves", "--smoke", "--out", out, "--no-progress")
    assert code == 0, err
    devices = json.loads((out / "metrics.json").read_text())["devices"]
    assert devices["my_pcm"]["c2c_card"] == 0.05


def test_a_device_is_used_or_refused_never_ignored(cli, tmp_path):
    code, _, err = cli("run", "triplet_frequency", "--smoke", "--set", "experiment.device=pcm_gst",
                       "--out", tmp_path / "a", "--no-progress")
    assert code == 2 and "does not store weights in a device card" in err
    assert not (tmp_path / "a").exists()
    # stdp_window does use it; with an abrupt-RESET device no exponential may fit: NaN, not a crash.
    code, out, err = cli("run", "stdp_window", "--smoke", "--set", "experiment.device=pcm_gst",
                         "--out", tmp_path / "b", "--no-progress")
    assert code == 0, err
    assert (tmp_path / "b" / "figures" / "stdp_window.png").is_file()


def test_figures_redraws_with_vector_formats_and_marks_a_smoke_run(cli, tmp_path):
    out = tmp_path / "fi"
    assert cli("run", "lif_fi_curve", "--smoke", "--out", out, "--no-progress")[0] == 0
    code, stdout, err = cli("figures", out, "--format", "svg", "--format", "pdf")
    assert code == 0, err
    pngs = sorted((out / "figures").glob("*.png"))
    assert pngs
    for png in pngs:
        svg, pdf = png.with_suffix(".svg"), png.with_suffix(".pdf")
        assert str(svg) in stdout and pdf.read_bytes().startswith(b"%PDF")
        text = svg.read_text()
        assert text.lstrip().startswith("<?xml") and "SMOKE RUN" in text  # text kept as text
    code, _, err = cli("figures", out, "--format", "eps")
    assert code == 2 and "eps" in err


def complete(words: str, env_extra: dict | None = None) -> list[str]:
    """What `spikenet`'s bash completion offers for the last word of ``words``."""
    import os

    env = {**os.environ, "COMP_WORDS": words, "COMP_CWORD": str(len(words.split(" ")) - 1),
           "_SPIKENET_COMPLETE": "bash_complete", **(env_extra or {})}
    result = subprocess.run([sys.executable, "-m", "spikenet"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return [line.split(",", 1)[1] for line in result.stdout.splitlines()]


def test_shell_completion_offers_card_names(tmp_path):
    experiments = {p.stem for p in (REPO / "experiments").glob("*.toml")}
    assert set(complete("spikenet run ")) == experiments
    assert complete("spikenet sweep mnist_querlioz_pcm") == sorted(e for e in experiments
                                                                    if e.startswith("mnist_querlioz_pcm"))
    assert {"ideal", "lif_adaptive", "stdp_window"} <= set(complete("spikenet show "))
    (tmp_path / "experiments").mkdir()
    (tmp_path / "experiments" / "zz_mine.toml").write_text((REPO / "experiments" / "quickstart.toml").read_text()
                                                           .replace('name = "quickstart"', 'name = "zz_mine"'))
    assert complete(f"spikenet --catalog {tmp_path} run zz") == ["zz_mine"]
    assert complete("spikenet run ./my") == ["./my"]  # a path: the shell's own file completion
