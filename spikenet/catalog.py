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
import os
import site
import sysconfig
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import tomli_w

from . import schema
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
]

KINDS = ("models", "devices", "experiments")
"""The three kinds of card, which are also the names of their folders."""

CATALOG_ENV = "SPIKENET_CATALOG"


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
_EXPERIMENT_OWN = ("experiment", "protocol", "expected", "smoke")
_SECTIONS: dict[str, tuple[str, ...]] = {
    "models": tuple(_MODEL_SECTIONS),
    "devices": tuple(_DEVICE_SECTIONS),
    "experiments": _EXPERIMENT_OWN + tuple(_MODEL_SECTIONS) + tuple(_DEVICE_SECTIONS),
}
_META_KEYS = ("name", "description", "source", "notes")
_TOP_LEVEL_KEYS = ("meta", "extends")


@dataclass(frozen=True)
class Meta:
    """The ``[meta]`` section every card has."""

    name: str
    """The card's name; for a card in the catalog, its file name without ``.toml``."""
    description: str
    """One line: what the card is."""
    source: str
    """Citation: the paper (table, figure) or code the values come from."""
    notes: str = ""
    """Anything a user should know: which values are estimated or read off a figure."""


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

    def __getitem__(self, section: str) -> Any:
        try:
            return self.sections[section]
        except KeyError:
            raise KeyError(
                f"card {self.meta.name!r} has no [{section}] section; it has {', '.join(self.sections)}"
            ) from None

    def __contains__(self, section: str) -> bool:
        return section in self.sections

    def to_mapping(self) -> dict[str, Any]:
        """The fully resolved card as a TOML-ready mapping (every default written out)."""
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
        return out


def _selector_for(kind: str, section: str, sections: Mapping[str, Any]) -> tuple[str, str] | None:
    """The (key, value) that picked a section's class, so a written card can be read back."""
    selected = {**_MODEL_SECTIONS, **_DEVICE_SECTIONS}.get(section)
    if selected is None:
        return None
    cls = type(sections[section])
    return selected.key, next(name for name, c in selected.registry.items() if c is cls)


@dataclass(frozen=True)
class CardInfo:
    """One line of ``spikenet list``."""

    kind: str
    name: str
    description: str
    source: str
    path: Path


# ----------------------------------------------------------------------------- locating


def _checkout_root() -> Path | None:
    """The source checkout this package was imported from, if it is one."""
    root = Path(__file__).resolve().parent.parent
    if (root / "setup.cfg").is_file() and any((root / kind).is_dir() for kind in KINDS):
        return root
    return None


def _installed_roots() -> list[Path]:
    """Where ``setup.cfg``'s data files land: ``<prefix>/share/spikenet`` (and the user base)."""
    roots = [Path(sysconfig.get_path("data")) / "share" / "spikenet"]
    user_base = getattr(site, "USER_BASE", None)
    if user_base:
        roots.append(Path(user_base) / "share" / "spikenet")
    return roots


def catalog_roots(explicit: str | os.PathLike | Iterable[str | os.PathLike] | None = None) -> list[Path]:
    """The folders searched for cards, in order; each holds ``models/``, ``devices/``, ``experiments/``.

    Parameters
    ----------
    explicit
        A folder (or folders) given by the caller, e.g. ``spikenet --catalog DIR``; searched first.
        It must exist.
    """
    roots: list[Path] = []
    if explicit is not None:
        items = [explicit] if isinstance(explicit, (str, os.PathLike)) else list(explicit)
        for item in items:
            path = Path(item).expanduser()
            if not path.is_dir():
                raise CardError(f"--catalog {item}: no such folder; it must hold models/, devices/ or experiments/")
            roots.append(path)
    for item in filter(None, os.environ.get(CATALOG_ENV, "").split(os.pathsep)):
        path = Path(item).expanduser()
        if not path.is_dir():
            raise CardError(f"${CATALOG_ENV}={item}: no such folder; it must hold models/, devices/ or experiments/")
        roots.append(path)
    checkout = _checkout_root()
    if checkout is not None:
        roots.append(checkout)
    roots.extend(root for root in _installed_roots() if root.is_dir())
    unique: list[Path] = []
    for root in roots:
        if root.resolve() not in [r.resolve() for r in unique]:
            unique.append(root)
    return unique


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise CardError(f"unknown kind of card {kind!r}; allowed: {', '.join(KINDS)}")


def _names(kind: str, roots: list[Path]) -> list[str]:
    names: set[str] = set()
    for root in roots:
        names.update(p.stem for p in (root / kind).glob("*.toml"))
    return sorted(names)


def find_card(name: str, kind: str, roots: list[Path] | None = None) -> Path:
    """The file of card ``name`` of ``kind``: the first catalog root that has it wins."""
    _check_kind(kind)
    roots = catalog_roots() if roots is None else roots
    for root in roots:
        path = root / kind / f"{name}.toml"
        if path.is_file():
            return path
    available = _names(kind, roots)
    raise CardError(
        f"unknown {kind[:-1]} card {name!r}; available: {', '.join(available) or '(none)'} "
        f"(searched {', '.join(str(r / kind) for r in roots) or 'no catalog folder'})"
    )


def _is_path(name_or_path: str | os.PathLike) -> bool:
    text = str(name_or_path)
    return isinstance(name_or_path, os.PathLike) or text.endswith(".toml") or os.sep in text


# ----------------------------------------------------------------------------- raw layers


@dataclass
class _Raw:
    """A card's merged TOML mapping with the file every key came from."""

    data: dict[str, Any]
    origins: dict[str, str]
    """``"section.key"`` (or ``"section"``) to the file or ``--set`` it came from."""
    path: Path | None

    def origin(self, section: str, key: str | None) -> str:
        if key is not None and f"{section}.{key}" in self.origins:
            return self.origins[f"{section}.{key}"]
        return self.origins.get(section, str(self.path) if self.path else "<card>")


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise CardError(f"{path}: not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise CardError(f"{path}: not UTF-8 text (byte {exc.start}: {exc.reason}); a card is a UTF-8 TOML file") from None
    except OSError as exc:
        raise CardError(f"{path}: cannot read: {exc.strerror or exc}") from None


def _layer(data: dict[str, Any], source: str) -> dict[str, str]:
    """Origins for every section and key of one file."""
    origins: dict[str, str] = {}
    for section, body in data.items():
        origins[section] = source
        if isinstance(body, dict):
            for key in body:
                origins[f"{section}.{key}"] = source
    return origins


def _merge_into(base: _Raw, data: Mapping[str, Any], origins: Mapping[str, str]) -> None:
    """Lay ``data`` over ``base`` one key deep: a child's key replaces the parent's key."""
    for section, body in data.items():
        if isinstance(body, dict) and isinstance(base.data.get(section), dict):
            base.data[section].update(copy.deepcopy(body))
        else:
            base.data[section] = copy.deepcopy(body)
    base.origins.update(origins)


def _load_raw(path: Path, kind: str, roots: list[Path], chain: tuple[Path, ...] = ()) -> _Raw:
    """Read one card file and everything it ``extends``, merged; no validation of sections yet."""
    if path.resolve() in chain:
        cycle = " -> ".join(p.stem for p in chain + (path,))
        raise CardError(f"{path}: extends: cycle {cycle}")
    data = _read_toml(path)
    for key, value in data.items():
        if key not in _TOP_LEVEL_KEYS + _SECTIONS[kind]:
            allowed = ", ".join(f"[{s}]" for s in ("meta",) + _SECTIONS[kind])
            raise CardError(f"{path}: unknown section or key '{key}'; a {kind[:-1]} card has {allowed} and extends")
        if key != "extends" and not isinstance(value, dict):
            raise CardError(f"{path}: '{key}' must be a [section], not a value")
    meta = data.get("meta")
    if not isinstance(meta, dict) or "name" not in meta:
        raise CardError(f"{path}: missing key 'meta.name'; every card starts with [meta] name = \"...\"")

    parent_name = data.pop("extends", None)
    if parent_name is None:
        raw = _Raw({}, {}, path)
    else:
        if not isinstance(parent_name, str):
            raise CardError(f"{path}: extends = {parent_name!r}: expected the name of a {kind[:-1]} card")
        try:
            parent_path = find_card(parent_name, kind, roots)
        except CardError as exc:
            raise CardError(f"{path}: extends: {exc}") from None
        raw = _load_raw(parent_path, kind, roots, chain + (path.resolve(),))
        raw.path = path
        raw.data.get("meta", {}).pop("notes", None)  # notes describe the parent's values
    _merge_into(raw, data, _layer(data, str(path)))
    return raw


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


def _build_meta(raw: _Raw, kind: str, expect_name: str | None) -> Meta:
    meta = raw.data.get("meta", {})
    for key in meta:
        if key not in _META_KEYS:
            raise CardError(f"{raw.origin('meta', key)}: unknown key 'meta.{key}'; allowed keys: {', '.join(_META_KEYS)}")
    for key in ("name", "description", "source"):
        value = meta.get(key)
        if not isinstance(value, str) or not value.strip():
            raise CardError(f"{raw.origin('meta', key)}: missing key 'meta.{key}' (a non-empty string)")
    if expect_name is not None and meta["name"] != expect_name:
        raise CardError(
            f"{raw.origin('meta', 'name')}: meta.name = {meta['name']!r} must match the file name {expect_name!r}"
        )
    notes = meta.get("notes", "")
    if not isinstance(notes, str):
        raise CardError(f"{raw.origin('meta', 'notes')}: meta.notes must be a string")
    return Meta(meta["name"], meta["description"], meta["source"], notes)


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
    if _is_path(name_or_path):
        path = Path(name_or_path)
        if not path.is_file():
            raise CardError(f"{path}: no such card file")
        expect_name = None
    else:
        path = find_card(str(name_or_path), kind, roots)
        expect_name = str(name_or_path)
    raw = _load_raw(path, kind, roots)
    overrides = list(overrides)
    if seed is not None:
        overrides.append(f"experiment.seed={int(seed)}")
    if kind == "experiments":
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
    return Card(kind, meta, sections, path, expected, smoke)


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


def list_cards(kind: str, catalog: str | os.PathLike | None = None) -> list[CardInfo]:
    """Every card of ``kind`` in the catalog (first root wins for a name), sorted by name."""
    _check_kind(kind)
    roots = catalog_roots(catalog)
    infos = []
    for name in _names(kind, roots):
        path = find_card(name, kind, roots)
        raw = _load_raw(path, kind, roots)
        meta = _build_meta(raw, kind, name)
        infos.append(CardInfo(kind, meta.name, meta.description, meta.source, path))
    return infos


def card_to_toml(card: Card) -> str:
    """The resolved card as TOML text, loadable again with :func:`load_card`."""
    header = f"# Fully resolved {card.kind[:-1]} card {card.meta.name!r}"
    if card.path is not None:
        header += f", from {card.path}"
    if card.smoke:
        header += " (with its [smoke] values)"
    return header + "\n" + tomli_w.dumps(card.to_mapping())
