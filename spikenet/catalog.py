"""Find, load, merge and validate cards: the TOML files in ``models/``, ``devices/``, ``experiments/``.

A card is data, not code. It has a ``[meta]`` section (``name``, ``description``, ``source``)
and the sections of its kind. Loading a card:

1. finds the file (an explicit path, or ``<kind>/<name>.toml`` in the first catalog root that
   has it: ``--catalog``, then ``$SPIKENET_CATALOG``, then the source checkout, then the data
   files of an installed wheel);
2. applies ``extends = "other_card"`` (the child's keys win);
3. for experiments, applies ``[smoke]`` (with ``smoke=True``) and the ``--set`` overrides,
   then lays the experiment's own sections over its model card and device card, so that one
   resolved experiment card holds every value the run uses;
4. validates every section into its typed dataclass (:mod:`spikenet.params`).

Every error is a :class:`~spikenet.errors.CardError` whose message names the file the
offending key came from (or ``--set``), the key, and what is allowed.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import tomli_w

from . import schema
from .card_files import (CATALOG_ENV, DEVICE_SECTIONS, EXPERIMENT_OWN, KINDS, MODEL_SECTIONS, SECTIONS,  # noqa: F401
                         CardInfo, Meta, _build_meta, _check_kind, _check_top_level, _is_path, _layer, _load_raw,
                         _merge_into, _names, _Raw, _read_toml, catalog_roots, find_card, list_cards)
from .errors import CardError
from .params import DEVICE_MODELS, NETWORKS, NEURON_TEMPLATES, PLASTICITY_RULES, PROTOCOLS, Expectation, ExperimentSection

__all__ = [
    "KINDS",
    "Meta",
    "Card",
    "CardInfo",
    "catalog_roots",
    "find_card",
    "list_cards",
    "load_card",
    "section_params",
    "parse_override",
    "card_to_toml",
    "card_from_mapping",
    "derive",
]


@dataclass(frozen=True)
class _Selected:
    """A section whose schema is chosen by one of its keys (``template = "lif"``)."""

    key: str
    registry: Mapping[str, type]


# Sections of a model card, and which key picks each one's parameter class.
_MODEL_SECTIONS: dict[str, _Selected] = {
    "network": _Selected("kind", NETWORKS),
    "neuron": _Selected("template", NEURON_TEMPLATES),
    "inhibitory": _Selected("template", NEURON_TEMPLATES),
    "plasticity": _Selected("rule", PLASTICITY_RULES),
}
_DEVICE_SECTIONS: dict[str, _Selected] = {
    "device": _Selected("model", DEVICE_MODELS),
}
_EXPERIMENT_OWN = EXPERIMENT_OWN
# card_files names the sections without importing the registries (so that listing cards imports
# no simulator); they must be the ones selected here
assert (tuple(_MODEL_SECTIONS), tuple(_DEVICE_SECTIONS)) == (MODEL_SECTIONS, DEVICE_SECTIONS)
_SECTIONS = SECTIONS


@dataclass(frozen=True)
class Card:
    """A loaded, merged and validated card.

    ``sections`` maps a section name (``"neuron"``, ``"protocol"``) to its typed parameter
    dataclass; ``card["neuron"]`` is a shortcut. ``expected`` maps metric names to
    :class:`~spikenet.params.Expectation`.
    """

    kind: str
    meta: Meta
    sections: dict[str, Any]
    path: Path | None = None
    expected: dict[str, Expectation] = field(default_factory=dict)
    smoke: bool = False
    uses: dict[str, dict[str, Card]] = field(default_factory=dict)
    """The cards this card's keys name (``refers_to`` in :mod:`spikenet.schema`), by kind and name,
    resolved when it was loaded (an experiment's sub-cards with its smoke setting)."""

    def __getitem__(self, section: str) -> Any:
        try:
            return self.sections[section]
        except KeyError:
            raise KeyError(
                f"card {self.meta.name!r} has no [{section}] section; it has {', '.join(self.sections)}"
            ) from None

    def __contains__(self, section: str) -> bool:
        return section in self.sections

    def used(self, kind: str, name: str) -> Card:
        """The resolved card ``name`` of ``kind`` that one of this card's keys names (a sweep's
        ``stdp_card``, a device of ``hardware_devices``), as it was embedded when this card was loaded."""
        try:
            return self.uses[kind][name]
        except KeyError:
            raise KeyError(f"card {self.meta.name!r} embeds no {kind[:-1]} card {name!r}; it embeds "
                           f"{', '.join(f'{k}/{n}' for k, cards in self.uses.items() for n in cards) or 'none'}") from None

    def to_mapping(self) -> dict[str, Any]:
        """The fully resolved card as a TOML-ready mapping (every default written out, every card
        it names embedded under ``uses``)."""
        out: dict[str, Any] = {"meta": {k: v for k, v in vars(self.meta).items() if v != "" or k != "notes"}}
        for name, params in self.sections.items():
            selector = _selector_for(self.kind, name, self.sections)
            mapping = schema.to_mapping(params)
            if selector is not None:
                mapping = {selector[0]: selector[1], **mapping}
            out[name] = mapping
        if self.expected:
            out["expected"] = {
                metric: {k: v for k, v in schema.to_mapping(exp).items() if v == v and v != ""}
                for metric, exp in self.expected.items()
            }
        if self.uses:
            out["uses"] = {kind: {name: _resolved_mapping(sub) for name, sub in cards.items()}
                           for kind, cards in self.uses.items()}
        return out


def _resolved_mapping(card: Card) -> dict[str, Any]:
    """``card.to_mapping()`` with the marks of a resolved card: ``resolved = true`` (no catalog card
    is laid under it when it is loaded again) and, for a smoke card, ``smoke = true``."""
    marks: dict[str, Any] = {"resolved": True}
    if card.smoke:
        marks["smoke"] = True
    return {**marks, **card.to_mapping()}


def _selector_for(kind: str, section: str, sections: Mapping[str, Any]) -> tuple[str, str] | None:
    """The (key, value) that picked a section's class, so a written card can be read back."""
    selected = {**_MODEL_SECTIONS, **_DEVICE_SECTIONS}.get(section)
    if selected is None:
        return None
    cls = type(sections[section])
    return selected.key, next(name for name, c in selected.registry.items() if c is cls)


def parse_override(text: str) -> tuple[str, str, Any]:
    """Split ``"section.key=value"`` into its parts; the value is read as TOML if it can be.

    ``protocol.n_currents=5`` gives an integer, ``neuron.tau_m=15 ms`` the string
    ``"15 ms"``, ``experiment.model="lif"`` the string ``"lif"``.
    """
    if "=" not in text:
        raise CardError(f"--set {text}: expected SECTION.KEY=VALUE, e.g. neuron.tau_m=15ms")
    dotted, value_text = text.split("=", 1)
    parts = dotted.strip().split(".")
    if len(parts) != 2 or not all(parts):
        raise CardError(f"--set {text}: expected SECTION.KEY=VALUE with one dot in the key, e.g. neuron.tau_m=15ms")
    try:
        value = tomllib.loads(f"v = {value_text}")["v"]
    except tomllib.TOMLDecodeError:
        value = value_text.strip()
    return parts[0], parts[1], value


def _apply_overrides(raw: _Raw, kind: str, overrides: Iterable[str]) -> None:
    for text in overrides:
        section, key, value = parse_override(text)
        if section in ("meta", "smoke", "expected") or section not in _SECTIONS[kind]:
            allowed = ", ".join(s for s in _SECTIONS[kind] if s not in ("smoke", "expected"))
            raise CardError(f"--set {text}: unknown section '{section}'; allowed sections: {allowed}")
        raw.data.setdefault(section, {})[key] = value
        raw.origins[f"{section}.{key}"] = f"--set {section}.{key}"


def _apply_smoke(raw: _Raw) -> None:
    smoke = raw.data.pop("smoke", None) or {}
    source = raw.origin("smoke", None)
    for section, body in smoke.items():
        if section in ("meta", "smoke", "experiment") or section not in _SECTIONS["experiments"]:
            raise CardError(f"{source}: smoke.{section}: [smoke] may only shrink the protocol, model or expected values")
        if not isinstance(body, dict):
            raise CardError(f"{source}: smoke.{section} must be a table, e.g. [smoke.protocol]")
        _merge_into(raw, {section: body}, {f"{section}.{k}": f"{source} [smoke.{section}]" for k in body})


# ----------------------------------------------------------------------------- validation


def _build_selected(raw: _Raw, section: str, selected: _Selected) -> Any:
    body = dict(raw.data[section])
    choice = body.pop(selected.key, None)
    if choice is None:
        raise CardError(
            f"{raw.origin(section, None)}: missing key '{section}.{selected.key}'; "
            f"allowed: {', '.join(selected.registry)}"
        )
    if choice not in selected.registry:
        raise CardError(
            f"{raw.origin(section, selected.key)}: {section}.{selected.key} = {choice!r}: unknown; "
            f"allowed: {', '.join(selected.registry)}"
        )
    return schema.build(selected.registry[choice], body, section=section, origin=lambda k: raw.origin(section, k))


def _build_sections(raw: _Raw, kind: str) -> tuple[dict[str, Any], dict[str, Expectation]]:
    sections: dict[str, Any] = {}
    expected: dict[str, Expectation] = {}
    for section, selected in {**_MODEL_SECTIONS, **_DEVICE_SECTIONS}.items():
        if section in raw.data:
            sections[section] = _build_selected(raw, section, selected)
    if kind == "experiments":
        if "experiment" not in raw.data:
            raise CardError(f"{raw.path}: missing section [experiment] (kind, model, device, seed)")
        exp = schema.build(
            ExperimentSection, raw.data["experiment"], section="experiment", origin=lambda k: raw.origin("experiment", k)
        )
        if exp.kind not in PROTOCOLS:
            raise CardError(
                f"{raw.origin('experiment', 'kind')}: experiment.kind = {exp.kind!r}: unknown; "
                f"allowed: {', '.join(PROTOCOLS)}"
            )
        sections = {
            "experiment": exp,
            "protocol": schema.build(
                PROTOCOLS[exp.kind],
                raw.data.get("protocol", {}),
                section="protocol",
                origin=lambda k: raw.origin("protocol", k),
            ),
            **sections,
        }
        for metric, body in raw.data.get("expected", {}).items():
            where = raw.origin("expected", metric)
            if not isinstance(body, dict):
                raise CardError(f"{where}: expected.{metric} must be a table such as {{ le = 0.01, derivation = \"...\" }}")
            expected[metric] = schema.build(
                Expectation, body, section=f"expected.{metric}", origin=lambda k, w=where: w
            )
    elif kind == "models" and not sections:
        raise CardError(f"{raw.path}: a model card needs at least one of {', '.join(f'[{s}]' for s in _MODEL_SECTIONS)}")
    elif kind == "devices" and "device" not in sections:
        raise CardError(f"{raw.path}: missing section [device] (model = one of {', '.join(DEVICE_MODELS)})")
    return sections, expected


def _lay_over_references(raw: _Raw, roots: list[Path]) -> _Raw:
    """An experiment's own sections laid over its model card's and device card's sections."""
    exp = raw.data.get("experiment", {})
    base = _Raw({}, {}, raw.path)
    for ref_kind, key in (("models", "model"), ("devices", "device")):
        name = exp.get(key)
        if not name:
            continue
        if not isinstance(name, str):
            raise CardError(f"{raw.origin('experiment', key)}: experiment.{key} = {name!r}: expected a card name")
        try:
            path = find_card(name, ref_kind, roots)
        except CardError as exc:
            raise CardError(f"{raw.origin('experiment', key)}: experiment.{key}: {exc}") from None
        ref = _load_raw(path, ref_kind, roots)
        _build_sections(ref, ref_kind)  # a broken model card is reported against its own file
        ref.data.pop("meta", None)
        _merge_into(base, ref.data, {k: v for k, v in ref.origins.items() if not k.startswith("meta")})
    _merge_into(base, raw.data, raw.origins)
    return base


def load_card(
    name_or_path: str | os.PathLike,
    kind: str = "experiments",
    *,
    overrides: Iterable[str] = (),
    smoke: bool = False,
    seed: int | None = None,
    catalog: str | os.PathLike | None = None,
) -> Card:
    """Load, merge and validate a card.

    Parameters
    ----------
    name_or_path
        A card name from the catalog (``"lif_fi_curve"``) or a path to a TOML file
        (a run folder's ``card.toml`` works too).
    kind
        ``"models"``, ``"devices"`` or ``"experiments"``.
    overrides
        ``"section.key=value"`` strings, validated like the card's own values.
    smoke
        Apply the experiment card's ``[smoke]`` section (a seconds-long version).
    seed
        Shortcut for ``overrides=["experiment.seed=N"]``.
    catalog
        A catalog folder searched before the others.

    Raises
    ------
    CardError
        One line naming the file (or ``--set``), the key and what is allowed.
    """
    _check_kind(kind)
    roots = catalog_roots(catalog)
    overrides = list(overrides)
    if seed is not None:
        overrides.append(f"experiment.seed={int(seed)}")
    return _load(name_or_path, kind, roots, overrides, smoke)


def _load(name_or_path: str | os.PathLike, kind: str, roots: list[Path], overrides: list[str], smoke: bool) -> Card:
    if _is_path(name_or_path):
        path = Path(name_or_path)
        if not path.is_file():
            raise CardError(f"{path}: no such card file")
        expect_name = None
    else:
        path = find_card(str(name_or_path), kind, roots)
        expect_name = str(name_or_path)
    return _resolve(_load_raw(path, kind, roots), kind, roots, overrides, smoke, expect_name)


def _resolve(raw: _Raw, kind: str, roots: list[Path], overrides: list[str], smoke: bool,
             expect_name: str | None) -> Card:
    """Steps 3 and 4 of the module's docstring for merged raw data, and the cards it names."""
    resolved = raw.data.pop("resolved", False) is True
    embedded = raw.data.pop("uses", {}) if kind == "experiments" else {}
    if resolved and kind == "experiments":
        was_smoke = raw.data.pop("smoke", False) is True
        if smoke and not was_smoke:
            raise CardError(f"{raw.path}: a resolved card holds no [smoke] values; run the catalog card "
                            f"{raw.data.get('meta', {}).get('name', '')!r} with --smoke instead")
        smoke = was_smoke
        raw = _override_resolved(raw, roots, overrides)
    elif kind == "experiments":
        if smoke:
            _apply_smoke(raw)
        else:
            raw.data.pop("smoke", None)
        _apply_overrides(raw, kind, overrides)
        raw = _lay_over_references(raw, roots)
    elif overrides:
        _apply_overrides(raw, kind, overrides)
    meta = _build_meta(raw, kind, expect_name)
    sections, expected = _build_sections(raw, kind)
    sections, uses = _resolve_uses(raw, sections, embedded, roots, smoke)
    return Card(kind, meta, sections, raw.path, expected, smoke, uses)


def _override_resolved(raw: _Raw, roots: list[Path], overrides: list[str]) -> _Raw:
    """``--set`` on a resolved card. Its sections came from its model and device cards already, so
    none is laid under it again (nothing is looked up in the catalog), except the device card that
    an ``experiment.device`` override names, whose [device] section replaces the card's."""
    device_before = raw.data.get("experiment", {}).get("device")
    model_before = raw.data.get("experiment", {}).get("model")
    _apply_overrides(raw, "experiments", overrides)
    exp = raw.data.get("experiment", {})
    if exp.get("model") != model_before:
        raise CardError(f"--set experiment.model: {raw.path} is a resolved card whose model sections are written "
                        "out; run the catalog card with --set experiment.model instead")
    if exp.get("device") == device_before:
        return raw
    device_keys = {k: v for k, v in raw.data.pop("device", {}).items()
                   if raw.origins.get(f"device.{k}", "").startswith("--set")}
    base = _lay_over_references(_Raw({"experiment": {"device": exp.get("device")}},
                                     {"experiment.device": raw.origin("experiment", "device")}, raw.path), roots)
    raw.data["device"] = {**base.data.get("device", {}), **device_keys}
    raw.origins.update({k: v for k, v in base.origins.items() if k.startswith("device")})
    return raw


def _resolve_uses(raw: _Raw, sections: dict[str, Any], embedded: Mapping[str, Any], roots: list[Path],
                  smoke: bool) -> tuple[dict[str, Any], dict[str, dict[str, Card]]]:
    """Resolve the cards that the sections' ``refers_to`` keys name: from the card's own ``[uses]``
    when it embeds them (a resolved card), else from the catalog (experiment cards with ``smoke``).
    ``"all"`` in a list becomes every card of that kind. Returns the sections (with such lists
    written out) and the cards by kind and name."""
    uses: dict[str, dict[str, Card]] = {}
    if not isinstance(embedded, dict):
        raise CardError(f"{raw.path}: uses must be a table of [uses.<kind>.<name>] cards")
    for section, params in list(sections.items()):
        if not dataclasses.is_dataclass(params):
            continue
        for f in dataclasses.fields(params):
            spec = f.metadata.get("spec")
            if spec is None or spec.refers_to is None:
                continue
            kind, value = spec.refers_to, getattr(params, f.name)
            names = (value,) if isinstance(value, str) else tuple(value)
            if "all" in names:
                names = tuple(dict.fromkeys(n for v in names for n in (_names(kind, roots) if v == "all" else (v,))))
                params = dataclasses.replace(params, **{f.name: names})
                sections[section] = params
            where = raw.origin(section, f.name)
            for name in names:
                if name in uses.get(kind, {}):
                    continue
                body = embedded.get(kind, {}).get(name) if isinstance(embedded.get(kind), dict) else None
                try:
                    if body is not None:
                        sub = card_from_mapping(body, kind, origin=f"{raw.path}: uses.{kind}.{name}", roots=roots)
                    else:
                        sub = _load(name, kind, roots, [], smoke and kind == "experiments")
                except CardError as exc:
                    raise CardError(f"{where}: {section}.{f.name} = {name!r}: {exc}") from None
                uses.setdefault(kind, {})[name] = sub
    return sections, uses


def card_from_mapping(mapping: Mapping[str, Any], kind: str = "experiments", *, origin: str,
                      path: Path | None = None, roots: list[Path] | None = None) -> Card:
    """A card from a resolved mapping (``_resolved_mapping``: a sweep point, an embedded card).

    ``origin`` names where the mapping came from in messages. Nothing is looked up in the catalog
    unless the mapping lacks the ``resolved`` mark.
    """
    data = copy.deepcopy(dict(mapping))
    _check_top_level(data, origin, kind)
    raw = _Raw(data, _layer(data, origin), path)
    return _resolve(raw, kind, catalog_roots() if roots is None else roots, [], False, None)


def derive(card: Card, changes: Mapping[str, Any], *, origin: str) -> Card:
    """``card`` with ``changes`` applied, validated like a card's own values: a sweep's point.

    Parameters
    ----------
    card
        A resolved experiment card (a sub-card a sweep embeds).
    changes
        ``"section.key"`` to a value in Python (``3``, ``0.05``, ``3600 * second``, a tuple), in
        order; a bare ``"section"`` replaces the whole section with a parameter object (the device
        of another card, ``IdealDeviceParams()``) or a mapping.
    origin
        Names the point in messages (``"sweep point stdp_in_place_0"``).
    """
    mapping = _resolved_mapping(card)
    for dotted, value in changes.items():
        section, _, key = dotted.partition(".")
        if not key:
            if dataclasses.is_dataclass(value):
                probe = {section: value}
                selector = _selector_for(card.kind, section, probe)
                value = {**({selector[0]: selector[1]} if selector else {}), **schema.to_mapping(value)}
            mapping[section] = dict(value)
        else:
            mapping.setdefault(section, {})[key] = list(value) if isinstance(value, tuple) else value
    return card_from_mapping(mapping, card.kind, origin=origin, path=card.path)


def section_params(
    source: str | Any,
    section: str,
    *,
    kind: str = "models",
    catalog: str | os.PathLike | None = None,
    **overrides: Any,
) -> Any:
    """The typed parameters of one section of a card, with keyword overrides checked like card values.

    Parameters
    ----------
    source
        A card name (``"lif_adaptive"``) or parameters already loaded (returned as they are,
        or rebuilt with the overrides).
    section
        ``"neuron"``, ``"plasticity"``, ``"device"``, ...
    kind
        The kind of card ``source`` names.
    overrides
        Values in Python (``tau_m=15 * ms``) or as in a card (``tau_m="15 ms"``).
    """
    if isinstance(source, str):
        card = load_card(source, kind, catalog=catalog)
        if section not in card:
            raise CardError(f"{card.path}: {kind[:-1]} card {source!r} has no [{section}] section")
        params = card[section]
    else:
        params = source
    if not overrides:
        return params
    mapping = {**schema.to_mapping(params), **overrides}
    return schema.build(type(params), mapping, section=section, origin=lambda key: "keyword arguments")


def guess_kind(path: str | os.PathLike) -> str:
    """The kind of a card file, from its sections: experiment, device or model."""
    data = _read_toml(Path(path))
    if "experiment" in data:
        return "experiments"
    if "device" in data:
        return "devices"
    return "models"


def card_to_toml(card: Card) -> str:
    """The resolved card as TOML text, loadable again with :func:`load_card` to repeat its run:
    every value, the cards it names under ``[uses]``, and ``smoke = true`` for a smoke card (so
    that the cards it runs in turn, a sweep's points, are smoke runs again)."""
    header = f"# Fully resolved {card.kind[:-1]} card {card.meta.name!r}"
    if card.path is not None:
        header += f", from {card.path}"
    if card.smoke:
        header += " (with its [smoke] values)"
    return header + "\n" + tomli_w.dumps(_resolved_mapping(card))
