"""Cards: loading, extends, overrides, and one test per kind of error."""

import tomllib

import pytest
from brian2 import ms, mV

from spikenet.catalog import KINDS, card_to_toml, catalog_roots, list_cards, load_card, parse_override
from spikenet.errors import CardError

NEURON = """
[meta]
name = "{name}"
description = "test neuron"
source = "test"

[neuron]
template = "lif"
tau_m = "10 ms"
r_m = "10 Mohm"
v_rest = "-70 mV"
v_reset = "-70 mV"
v_th = "-50 mV"
"""


def test_every_builtin_card_loads():
    for kind in KINDS:
        infos = list_cards(kind)
        assert infos, f"no {kind} cards"
        for info in infos:
            card = load_card(info.name, kind)
            assert card.meta.name == info.name
            assert card.meta.source.strip()
            if kind == "experiments":
                assert load_card(info.name, kind, smoke=True).smoke


def test_every_experiment_card_has_a_smoke_section_and_expectations():
    for info in list_cards("experiments"):
        data = tomllib.loads(card_to_toml(load_card(info.name)))
        assert "smoke" not in data  # applied or dropped in the resolved card
        raw = tomllib.loads(info.path.read_text())
        if "extends" not in raw:
            assert "smoke" in raw, f"{info.path} has no [smoke] section"
            assert "expected" in raw, f"{info.path} says nothing about what it expects"


def test_resolved_card_round_trips(tmp_path):
    card = load_card("lif_fi_curve", overrides=["neuron.tau_m=12 ms", "protocol.n_currents=9"], seed=7)
    path = tmp_path / "card.toml"
    path.write_text(card_to_toml(card))
    again = load_card(path)
    assert again.sections == card.sections
    assert again["neuron"].tau_m == 12 * ms
    assert again["experiment"].seed == 7
    assert again.expected == card.expected


def test_experiment_lays_its_sections_over_the_model_card(write_card):
    write_card("models", "n1", NEURON.format(name="n1"))
    write_card(
        "experiments",
        "e1",
        """
[meta]
name = "e1"
description = "d"
source = "s"
[experiment]
kind = "lif_fi_curve"
model = "n1"
[protocol]
i_max = "5 nA"
n_currents = 3
duration = "10 ms"
dt = "0.1 ms"
[neuron]
v_th = "-40 mV"
""",
    )
    card = load_card("e1")
    assert card["neuron"].v_th == -40 * mV  # the experiment's own value wins
    assert card["neuron"].tau_m == 10 * ms  # the rest comes from the model card
    assert card["protocol"].min_intervals == 5  # a default, written out in the resolved card
    assert "min_intervals = 5" in card_to_toml(card)


def test_extends_inherits_and_overrides(write_card):
    write_card("models", "base", NEURON.format(name="base"))
    write_card("models", "child", 'extends = "base"\n[meta]\nname = "child"\ndescription = "c"\n[neuron]\ntau_m = "30 ms"\n')
    card = load_card("child", "models")
    assert card["neuron"].tau_m == 30 * ms
    assert card["neuron"].v_th == -50 * mV
    assert card.meta.source == "test"


def test_smoke_shrinks_the_protocol():
    full, smoke = load_card("lif_fi_curve"), load_card("lif_fi_curve", smoke=True)
    assert smoke["protocol"].duration < full["protocol"].duration
    assert smoke.expected["max_rel_error"].le > full.expected["max_rel_error"].le


def test_builtin_catalog_is_found_from_the_checkout():
    assert any((root / "experiments" / "lif_fi_curve.toml").is_file() for root in catalog_roots())


def test_scratch_catalog_is_searched_first(write_card):
    write_card("models", "lif_neurodynex", NEURON.format(name="lif_neurodynex"))
    assert load_card("lif_neurodynex", "models")["neuron"].tau_m == 10 * ms


@pytest.mark.parametrize(
    "text, parsed",
    [
        ("protocol.n_currents=5", ("protocol", "n_currents", 5)),
        ("neuron.tau_m=15 ms", ("neuron", "tau_m", "15 ms")),
        ('neuron.tau_m="15 ms"', ("neuron", "tau_m", "15 ms")),
        ("device.w_max=0.5", ("device", "w_max", 0.5)),
        ("x.flag=true", ("x", "flag", True)),
    ],
)
def test_parse_override(text, parsed):
    assert parse_override(text) == parsed


# --------------------------------------------------------------------------- errors
# Each error is one line that names the file (or --set), the key, and what is allowed.


@pytest.mark.parametrize(
    "override, message",
    [
        ("neuron.tau_m=10 mV", r"--set neuron.tau_m: neuron.tau_m = '10 mV': .*expected a time"),
        ("neuron.tau_m=10", r"--set neuron.tau_m: .*has no unit: expected a time"),
        ("neuron.colour=3", r"--set neuron.colour: unknown key 'neuron.colour'; allowed keys: tau_m, r_m"),
        ("protocol.n_currents=1", r"--set protocol.n_currents: .*out of range: must be >= 2"),
        ("protocol.n_currents=2.5", r"expected an integer"),
        ("protocol.dt=-1 ms", r"protocol.dt = '-1 ms': out of range: must be >= 0.001 ms and <= 1 ms"),
        ("neuron.v_reset=-40 mV", r"--set neuron.v_reset and .*lif_neurodynex.toml: neuron.v_reset: -40. mV must be below v_th = -50. mV"),
        ("experiment.kind=nonsense", r"experiment.kind = 'nonsense': unknown; allowed: lif_fi_curve"),
        ("experiment.model=nonsense", r"experiment.model: unknown model card 'nonsense'; available: .*lif_neurodynex"),
        ("nosuch.key=1", r"--set nosuch.key=1: unknown section 'nosuch'; allowed sections: experiment, protocol"),
        ("meta.name=x", r"unknown section 'meta'"),
        ("no_equals_sign", r"expected SECTION.KEY=VALUE"),
        ("a.b.c=1", r"one dot in the key"),
    ],
)
def test_override_errors(override, message):
    with pytest.raises(CardError, match=message) as info:
        load_card("lif_fi_curve", overrides=[override])
    assert "\n" not in str(info.value)


def test_unknown_card_name_lists_what_exists():
    with pytest.raises(CardError, match=r"unknown experiment card 'nope'; available: (\w+, )*lif_fi_curve, (\w+, )*quickstart"):
        load_card("nope")
    with pytest.raises(CardError, match="unknown kind of card"):
        load_card("ideal", "gadgets")


@pytest.mark.parametrize(
    "body, message",
    [
        (NEURON.replace('tau_m = "10 ms"', 'tau_m = "10 ms"\nspeed = 3'), r"n\.toml: unknown key 'neuron.speed'; allowed keys"),
        (NEURON.replace('tau_m = "10 ms"\n', ""), r"n\.toml: missing key 'neuron.tau_m' \(membrane time constant\)"),
        (NEURON.replace('"10 ms"', '"10 nS"'), r"n\.toml: neuron.tau_m = '10 nS': '10 nS' is a conductance: expected a time"),
        (NEURON.replace('"10 ms"', '"-10 ms"'), r"neuron.tau_m = '-10 ms': out of range: must be > 0 ms"),
        (NEURON.replace('"lif"', '"hodgkin_huxley"'), r"neuron.template = 'hodgkin_huxley': unknown; allowed: lif"),
        (NEURON.replace('template = "lif"\n', ""), r"missing key 'neuron.template'; allowed: lif"),
        (NEURON.replace('source = "test"\n', ""), r"missing key 'meta.source'"),
        (NEURON.replace('name = "{name}"', 'name = "other"'), r"meta.name = 'other' must match the file name 'n'"),
        (NEURON + "\n[synapse]\nw = 1\n", r"unknown section or key 'synapse'; a model card has \[meta\], \[network\], \[neuron\]"),
        (NEURON.replace("[neuron]", "[neuron\n"), r"n\.toml: not valid TOML"),
        ('extends = "n"\n' + NEURON, r"extends: cycle n -> n"),
        ('extends = "ghost"\n' + NEURON, r"extends: unknown model card 'ghost'"),
        (NEURON.replace('description = "test neuron"', 'description = "x"\ncolour = "red"'), r"unknown key 'meta.colour'"),
    ],
)
def test_card_file_errors(write_card, body, message):
    path = write_card("models", "n", body.format(name="n"))
    with pytest.raises(CardError, match=message) as info:
        load_card("n", "models")
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)


def test_expected_needs_a_reason(write_card):
    write_card("models", "n", NEURON.format(name="n"))
    write_card(
        "experiments",
        "e",
        '[meta]\nname="e"\ndescription="d"\nsource="s"\n[experiment]\nkind="lif_fi_curve"\nmodel="n"\n'
        '[protocol]\ni_max="5 nA"\nn_currents=3\nduration="10 ms"\ndt="0.1 ms"\n'
        "[expected.max_rel_error]\nle = 0.01\n",
    )
    with pytest.raises(CardError, match=r"e\.toml: expected.max_rel_error.source: say where the expected value comes from"):
        load_card("e")


def test_missing_catalog_folder_is_an_error(monkeypatch, tmp_path):
    monkeypatch.setenv("SPIKENET_CATALOG", str(tmp_path / "absent"))
    with pytest.raises(CardError, match=r"SPIKENET_CATALOG=.*absent: no such folder"):
        load_card("lif_fi_curve")


def _device_card(folder, name, text):
    (folder / "devices").mkdir(parents=True, exist_ok=True)
    (folder / "devices" / f"{name}.toml").write_text(text)


def _listed(catalog):
    return {info.name: info for info in list_cards("devices", catalog)}


def test_the_listing_cache_follows_every_file_a_card_was_read_from(tmp_path, monkeypatch):
    import json

    from spikenet.card_files import listing_cache_file

    monkeypatch.setenv("SPIKENET_CACHE", str(tmp_path / "cache"))
    mine, earlier = tmp_path / "mine", tmp_path / "earlier"
    _device_card(mine, "zz_base", '[meta]\nname = "zz_base"\ndescription = "base"\nsource = "test"\n'
                                  '[device]\nmodel = "linear"\ng_min = "1 uS"\ng_max = "2 uS"\nlevels = 8\n')
    _device_card(mine, "zz_child", 'extends = "zz_base"\n[meta]\nname = "zz_child"\ndescription = "child"\n'
                                   'source = "test"\n')
    first = _listed(mine)
    assert first["zz_child"].what == "linear" and first["zz_child"].description == "child"
    cached = json.loads(listing_cache_file().read_text())["cards"]
    entry = cached[f"devices:{mine / 'devices' / 'zz_child.toml'}"]
    assert [f[0] for f in entry["files"]] == [str(mine / "devices" / n) for n in ("zz_child.toml", "zz_base.toml")]
    assert _listed(mine) == first  # read back from the cache

    # the card edited, then its parent edited: each is seen
    _device_card(mine, "zz_child", 'extends = "zz_base"\n[meta]\nname = "zz_child"\ndescription = "edited child"\n'
                                   'source = "test"\n')
    assert _listed(mine)["zz_child"].description == "edited child"
    _device_card(mine, "zz_base", '[meta]\nname = "zz_base"\ndescription = "base"\nsource = "test"\n'
                                  '[device]\nmodel = "binary"\ng_min = "1 uS"\ng_max = "2 uS"\n')
    assert _listed(mine)["zz_child"].what == "binary"
    # a parent of the same name in a folder searched first now wins
    _device_card(earlier, "zz_base", '[meta]\nname = "zz_base"\ndescription = "other"\nsource = "test"\n'
                                     '[device]\nmodel = "soft_bound"\n')
    listed = {i.name: i for i in list_cards("devices", [earlier, mine])}
    assert listed["zz_child"].what == "soft_bound"
    # a corrupt cache is parsing again, and rewritten
    listing_cache_file().write_text("{not json")
    from spikenet.card_files import _ListingCache

    monkeypatch.setattr(_ListingCache, "_loaded", None)
    assert _listed(mine)["zz_child"].what == "binary"
    assert "zz_child" in listing_cache_file().read_text()
