"""The ``table`` model: a device defined by measured conductance-vs-pulse curves (CSV files)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from brian2 import siemens

import spikenet as sn
from spikenet.errors import CardError
from spikenet.memristive import DeviceArray, model_of
from spikenet.params.devices import TableDeviceParams

from test_conformance import assert_same_distribution, brian2_weights, numpy_reference
from test_refusals import one_line_error

SOFT = sn.load_card("agsi_neurosim", "devices")["device"]


def sampled_from(p) -> TableDeviceParams:
    """A table card whose curves are ``p``'s nominal curves (a soft_bound card) sampled at every
    pulse: potentiation from g_min over levels_ltp pulses, depression from g_max over levels_ltd."""
    g_min, g_max = float(p.g_min / siemens), float(p.g_max / siemens)
    curves = {}
    for key, up, levels in (("ltp_curve", True, p.levels_ltp), ("ltd_curve", False, p.levels_ltd)):
        noiseless = dataclasses.replace(p, c2c_std=0.0, d2d_std=0.0, stuck_low=0.0, stuck_high=0.0)
        devices = DeviceArray(noiseless, 1, np.random.default_rng(0), 0.0 if up else 1.0)
        x = [devices.x[0]]
        for _ in range(levels):
            devices.pulse(up, 1)
            x.append(devices.x[0])
        curves[key] = tuple((float(k), g_min + (g_max - g_min) * v) for k, v in enumerate(x))
    common = {f.name: getattr(p, f.name) for f in dataclasses.fields(p)
              if f.name not in ("levels_ltp", "levels_ltd", "a_ltp", "a_ltd")}
    table = TableDeviceParams(**common, **curves)
    table.check()
    return table


TABLE = sampled_from(SOFT)


def test_a_table_sampled_from_a_soft_bound_card_steps_like_it_on_the_samples():
    """Noiseless, from the ends of the range: whole pulses land on the sampled points."""
    quiet = dict(c2c_std=0.0, d2d_std=0.0, stuck_low=0.0, stuck_high=0.0)
    for x0, up in ((0.0, True), (1.0, False)):
        a = DeviceArray(dataclasses.replace(SOFT, **quiet), 5, np.random.default_rng(0), x0)
        b = DeviceArray(dataclasses.replace(TABLE, **quiet), 5, np.random.default_rng(0), x0)
        for n in (1, 3, 2, 7, 40):
            a.pulse(up, n)
            b.pulse(up, n)
            np.testing.assert_allclose(b.x, a.x, rtol=0, atol=1e-12)
    assert model_of(TABLE).pulses_per_range(np.array([True, False]), sn.memristive.models.NUMPY).tolist() == [
        SOFT.levels_ltp, SOFT.levels_ltd]
    np.testing.assert_allclose(model_of(TABLE).nominal_levels(), model_of(SOFT).nominal_levels(), atol=1e-12)


@pytest.mark.parametrize("backend", ["numpy", "torch", "brian2"])
def test_a_table_sampled_from_a_soft_bound_card_learns_like_it(backend):
    """With the card's noise, spread and stuck devices, a rule's requests move a table device as
    they move the soft_bound device it was sampled from, in every backend (in distribution: off
    the sampled points the table interpolates linearly, an error of order 1e-5 here)."""
    soft = dataclasses.replace(SOFT, stuck_low=0.05, d2d_std=0.1)
    table = dataclasses.replace(TABLE, stuck_low=0.05, d2d_std=0.1)
    n, up, down = 2000, 0.02, -0.02
    reference = numpy_reference(soft, n, 12, 0.3, up, down, synapses=True).x
    if backend == "numpy":
        got = numpy_reference(table, n, 5, 0.3, up, down, synapses=True).x
    elif backend == "torch":
        torch = pytest.importorskip("torch")
        from spikenet.memristive.torch_models import TorchDeviceArray

        devices = TorchDeviceArray(table, n, torch.Generator().manual_seed(5), 0.3)
        for dx in [up] * 6 + [down] * 3:
            devices.request(dx)
        got = devices.x.numpy()
    else:
        got = brian2_weights(table, n, up, down)
    assert_same_distribution(got, reference)


# --------------------------------------------------------------------------- cards and bad input

CARD = """[meta]
name = "{name}"
description = "a measured device"
source = "test"

[device]
model = "table"
g_min = "1 uS"
g_max = "10 uS"
ltp_curve = "{ltp}"
ltd_curve = "{ltd}"
"""


def table_card(folder, name="measured", ltp="0,1e-6\n1,4e-6\n2,7e-6\n3,1e-5\n", ltd="pulse,G\n0,1e-5\n1,5e-6\n2,1e-6\n",
               ltp_file="ltp.csv", ltd_file="ltd.csv"):
    devices = folder / "devices"
    devices.mkdir(exist_ok=True)
    if ltp is not None:
        (devices / ltp_file).write_text(ltp)
    if ltd is not None:
        (devices / ltd_file).write_text(ltd)
    path = devices / f"{name}.toml"
    path.write_text(CARD.format(name=name, ltp=ltp_file, ltd=ltd_file))
    return path


def test_a_table_card_reads_its_csv_files_beside_it_and_its_resolved_card_holds_the_points(tmp_path, cli):
    path = table_card(tmp_path)
    p = sn.load_card(path, "devices")["device"]
    assert p.ltp_curve == ((0.0, 1e-6), (1.0, 4e-6), (2.0, 7e-6), (3.0, 1e-5))
    assert p.ltd_curve[0] == (0.0, 1e-5) and len(p.ltd_curve) == 3  # the header row skipped
    code, out, err = cli("show", path)
    assert code == 0, err
    resolved = tmp_path / "resolved.toml"
    resolved.write_text(out)
    assert "ltp_curve = [" in out
    assert sn.load_card(resolved, "devices")["device"] == p  # no CSV needed to repeat the run
    devices = DeviceArray(p, 3, np.random.default_rng(0), 0.0)
    devices.pulse(True, 1)
    np.testing.assert_allclose(devices.x, 1 / 3)  # (4 - 1) / (10 - 1)
    devices.pulse(False, 1)  # 4 uS is 1.25 pulses down the falling curve; 2.25 is past its end (1 uS)
    np.testing.assert_allclose(devices.x, 0.0)


@pytest.mark.parametrize("change, needle", [
    (dict(ltp="0,1e-6\n1,7e-6\n2,4e-6\n3,1e-5\n"), "not monotonic"),
    (dict(ltp="0,1e-6\n"), "at least two points"),
    (dict(ltd="0,1e-5\n1,-1e-6\n"), "negative"),
    (dict(ltp="0,1e-6\n0,2e-6\n"), "pulse numbers must increase"),
    (dict(ltp="0,1e-6\n1,x\n"), "line 2"),
    (dict(ltp="0,1e-6,3\n1,2e-6,4\n"), "two columns"),
    (dict(ltp=None), "no such file"),
    (dict(ltd="0,1e-6\n1,1e-5\n"), "must fall"),
    (dict(ltp="0,1e-6\n1,2e-5\n"), "outside [g_min, g_max]"),
])
def test_a_bad_table_is_refused_in_one_line_naming_the_card_and_the_file(tmp_path, cli, change, needle):
    path = table_card(tmp_path, **change)
    with pytest.raises(CardError, match=None) as info:
        sn.load_card(path, "devices")
    assert str(path) in str(info.value) and needle in str(info.value)
    assert "\n" not in str(info.value)
    code, _, err = cli("show", path)
    one_line_error(code, err, needle, path.name)


def test_an_unreadable_table_is_refused(tmp_path, cli):
    path = table_card(tmp_path, ltp="0,1e-6\n1,2e-6\n")
    (path.parent / "ltp.csv").write_bytes(b"\xff\xfe\x00garbage")
    code, _, err = cli("show", path)
    one_line_error(code, err, "cannot read", "ltp.csv")


def test_the_shipped_table_card_is_the_monotone_fit_of_the_published_points():
    """agsi_jo2010_table's CSV files are recomputed from the digitised points it cites."""
    import csv

    from spikenet.catalog import find_card, catalog_roots
    from spikenet.memristive.models.table import monotone_curve

    card = sn.load_card("agsi_jo2010_table", "devices")
    p = card["device"]
    assert p.MODEL == "table" and "doi:" in card.meta.source
    folder = find_card("agsi_jo2010_table", "devices", catalog_roots(None)).parent
    lines = [line for line in (folder / "agsi_jo2010_digitised.csv").read_text().splitlines() if not line.startswith("#")]
    rows = list(csv.DictReader(lines))
    ltp = np.array([(float(r["pulse"]), float(r["conductance_S"])) for r in rows if r["branch"] == "ltp"])
    mirrored = np.array([(float(r["pulse"]), float(r["conductance_S"])) for r in rows if r["branch"] == "ltd_mirrored"])
    assert (len(ltp), len(mirrored)) == (91, 78)  # NeuroSim's arrays, complete
    ltd = np.column_stack([mirrored[:, 0].max() - mirrored[:, 0], mirrored[:, 1]])
    np.testing.assert_allclose(p.ltp_curve, monotone_curve(ltp, rising=True), rtol=1e-12)
    np.testing.assert_allclose(p.ltd_curve, monotone_curve(ltd, rising=False), rtol=1e-12)
    assert p.ltp_curve[0][1] == pytest.approx(float(p.g_min / siemens), rel=1e-12)  # the range is the measured one
    assert p.ltp_curve[-1][1] == pytest.approx(float(p.g_max / siemens), rel=1e-12)


def test_monotone_curve_merges_the_runs_an_isotonic_fit_makes_flat():
    from spikenet.memristive.models.table import monotone_curve

    curve = monotone_curve([(0, 1.0), (1, 3.0), (2, 2.0), (3, 4.0)], rising=True)
    assert curve == ((0.0, 1.0), (1.5, 2.5), (3.0, 4.0))
    assert monotone_curve([(0, 4.0), (1, 1.0), (2, 2.0)], rising=False) == ((0.0, 4.0), (1.5, 1.5))
