"""A resolved card (a run folder's ``card.toml``) holds every value its run used, the cards it names
included, so running it again repeats the run whatever the catalog says by then."""

from __future__ import annotations

import pytest
from brian2 import second

import spikenet as sn
from spikenet.catalog import card_to_toml, derive, list_cards
from spikenet.errors import CardError
from spikenet.params.devices import IdealDeviceParams


def resolved(tmp_path, name: str, **kwargs) -> sn.catalog.Card:
    """``name`` loaded, written as a run's card.toml and loaded back from there."""
    path = tmp_path / f"{name}.card.toml"
    path.write_text(card_to_toml(sn.load_card(name, **kwargs)))
    return sn.load_card(path)


def test_a_resolved_card_looks_nothing_up_in_the_catalog(tmp_path, write_card):
    again = resolved(tmp_path, "mnist_dc_n100_pcm_2pcm", smoke=True)
    # The catalog's pcm_2pcm changes afterwards: the catalog card sees it, the resolved card does not.
    original = (sn.catalog.find_card("pcm_2pcm", "devices", sn.catalog.catalog_roots()[1:])).read_text()
    write_card("devices", "pcm_2pcm", original.replace("refresh_threshold = 0.75", "refresh_threshold = 0.5"))
    assert sn.load_card("mnist_dc_n100_pcm_2pcm")["device"].refresh_threshold == 0.5
    assert again["device"].refresh_threshold == 0.75
    assert again.smoke and again["protocol"].n_train == sn.load_card("mnist_dc_n100_pcm_2pcm", smoke=True)["protocol"].n_train


def test_a_sweep_card_embeds_its_sub_cards_in_smoke_size(tmp_path, write_card):
    first = sn.load_card("compare_c2c", smoke=True)
    stdp = first.used("experiments", "mnist_dc_n100")
    assert stdp.smoke and stdp["protocol"].n_train == sn.load_card("mnist_dc_n100", smoke=True)["protocol"].n_train
    again = resolved(tmp_path, "compare_c2c", smoke=True)
    # Edited in the catalog later (here: shadowed by a scratch copy with other sizes), the sub-card
    # of the resolved card stays as it was used.
    text = sn.catalog.find_card("mnist_dc_n100", "experiments").read_text()
    write_card("experiments", "mnist_dc_n100", text.replace("n_test = 10\n", "n_test = 7\n", 1))
    assert sn.load_card("compare_c2c", smoke=True).used("experiments", "mnist_dc_n100")["protocol"].n_test == 7
    assert again.used("experiments", "mnist_dc_n100").to_mapping() == stdp.to_mapping()
    mlp = again.used("experiments", "mnist_mlp100")  # and the devices its hardware_devices name
    assert mlp.used("devices", "pcm_2pcm").to_mapping() == sn.load_card("pcm_2pcm", "devices").to_mapping()
    assert card_to_toml(again).split("\n", 1)[1] == card_to_toml(first).split("\n", 1)[1]


def test_smoke_values_are_inherited_key_by_key():
    """compare_c2c changes only the smoke levels of compare_variability; its smoke sizes are the parent's."""
    child, parent = sn.load_card("compare_c2c", smoke=True), sn.load_card("compare_variability", smoke=True)
    assert child["protocol"].levels == (0.0, 0.032)
    for key in ("n_train", "n_assign", "n_test", "device_samples", "workers"):
        assert getattr(child["protocol"], key) == getattr(parent["protocol"], key)
    assert child["protocol"].n_train == 20


def test_all_names_every_device_card_and_the_resolved_card_lists_them(tmp_path):
    card = resolved(tmp_path, "device_curves", smoke=True)
    names = tuple(info.name for info in list_cards("devices"))
    assert card["protocol"].devices == names and set(card.uses["devices"]) == set(names)


def test_another_device_on_a_resolved_card_takes_that_device_cards_values(tmp_path):
    path = tmp_path / "card.toml"
    path.write_text(card_to_toml(sn.load_card("mnist_dc_n100_pcm_2pcm", smoke=True)))
    moved = sn.load_card(path, overrides=["experiment.device=oxram_hfo2", "device.redundancy=4"])
    oxram = sn.load_card("oxram_hfo2", "devices")["device"]
    assert type(moved["device"]) is type(oxram) and moved["device"].g_max == oxram.g_max
    assert moved["device"].redundancy == 4
    assert sn.load_card(path, overrides=["device.c2c_std=0.2"])["device"].c2c_std == 0.2


@pytest.mark.parametrize("overrides, smoke, message", [
    (["experiment.model=lif_adaptive"], False, "resolved card whose model sections are written out"),
    ([], True, "a resolved card holds no \\[smoke\\] values"),
])
def test_what_a_resolved_card_cannot_do(tmp_path, overrides, smoke, message):
    path = tmp_path / "card.toml"
    path.write_text(card_to_toml(sn.load_card("mnist_dc_n100")))
    with pytest.raises(CardError, match=message):
        sn.load_card(path, overrides=overrides, smoke=smoke)


@pytest.mark.parametrize("body, message", [
    ("smoke = true\n", "only a resolved card"),
    ("[uses.devices.x]\n", r"\[uses\] is written by spikenet"),
    ("resolved = 1\n", "expected true"),
])
def test_a_catalog_card_cannot_fake_the_marks(write_card, body, message):
    write_card("experiments", "fake", body + '[meta]\nname="fake"\ndescription="d"\nsource="s"\n'
               '[experiment]\nkind="lif_fi_curve"\nmodel="lif_neurodynex"\n')
    with pytest.raises(CardError, match=message):
        sn.load_card("fake")


def test_an_unknown_sub_card_names_the_key(write_card):
    write_card("experiments", "cv", 'extends = "compare_variability"\n[meta]\nname="cv"\ndescription="d"\nsource="s"\n'
               '[protocol]\nstdp_card = "no_such_card"\n')
    with pytest.raises(CardError, match=r"cv.toml: protocol.stdp_card = 'no_such_card': .*no_such_card"):
        sn.load_card("cv")


def test_derive_checks_a_point_like_a_card():
    base = sn.load_card("mnist_dc_n100", smoke=True)
    point = derive(base, {"protocol.n_train": 5, "protocol.t_read": 3600 * second, "experiment.device": "ideal",
                          "device": IdealDeviceParams()}, origin="sweep point p")
    assert point["protocol"].n_train == 5 and float(point["protocol"].t_read / second) == 3600
    assert point.smoke and isinstance(point["device"], IdealDeviceParams)
    with pytest.raises(CardError, match=r"^sweep point q: protocol.n_train = -1: out of range"):
        derive(base, {"protocol.n_train": -1}, origin="sweep point q")
