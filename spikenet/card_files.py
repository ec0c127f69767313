"""Card files: where they are, how they are read and merged, and their ``[meta]`` section.

This is the part of the catalog that needs no simulator: finding a card, reading its TOML and
everything it ``extends``, and listing the catalog. :mod:`spikenet.catalog` builds the typed
sections on top of it; ``spikenet list`` and ``spikenet --help`` import only this module, so they
start without importing Brian2.
"""

from __future__ import annotations

import copy
import os
import site
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

from .errors import CardError

# The sections each kind of card has (the catalog checks these names against its registries).
MODEL_SECTIONS = ("network", "neuron", "inhibitory", "plasticity")
DEVICE_SECTIONS = ("device",)
EXPERIMENT_OWN = ("experiment", "protocol", "expected", "smoke")
SECTIONS: dict[str, tuple[str, ...]] = {
    "models": MODEL_SECTIONS,
    "devices": DEVICE_SECTIONS,
    "experiments": EXPERIMENT_OWN + MODEL_SECTIONS + DEVICE_SECTIONS,
}
_SECTIONS = SECTIONS

KINDS = ("models", "devices", "experiments")
"""The three kinds of card, which are also the names of their folders."""


CATALOG_ENV = "SPIKENET_CATALOG"


_META_KEYS = ("name", "description", "source", "notes")


_TOP_LEVEL_KEYS = ("meta", "extends")


_RESOLVED_MARKS = ("resolved", "smoke", "uses")
"""Top-level keys of a resolved experiment card (:func:`card_to_toml`): ``resolved = true``,
``smoke = true`` for a smoke card, and ``[uses.<kind>.<name>]``, the cards it names."""


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
class CardInfo:
    """One line of ``spikenet list``."""

    kind: str
    """``models``, ``devices`` or ``experiments``."""
    name: str
    description: str
    source: str
    path: Path
    what: str = ""
    """What the card is within its kind: an experiment's ``experiment.kind``, a device's
    ``device.model``, a model's network kind, rule or neuron template (as its file says)."""


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


_PARSED: dict[tuple[str, int, int], dict[str, Any]] = {}
"""Parsed card files by (path, size, modification time): a parent card that many cards extend is
parsed once per process (parsing was most of ``spikenet list``'s time)."""


def _read_toml(path: Path) -> dict[str, Any]:
    import tomllib  # here, not above: a `spikenet list` that finds every card in its cache parses none

    try:
        stat = path.stat()
        key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
        if key not in _PARSED:
            with path.open("rb") as fh:
                _PARSED[key] = tomllib.load(fh)
        return copy.deepcopy(_PARSED[key])  # callers merge into what they get
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
    """Lay ``data`` over ``base`` key by key: a child's key replaces the parent's key. Sections are
    merged one key deep, ``[smoke]`` two (its ``[smoke.<section>]`` tables key by key, so that a
    child that changes one smoke value keeps its parent's other smoke values)."""
    for section, body in data.items():
        _lay_over(base.data, section, body, depth=2 if section == "smoke" else 1)
    base.origins.update(origins)


def _lay_over(target: dict[str, Any], key: str, value: Any, depth: int) -> None:
    if depth > 0 and isinstance(value, dict) and isinstance(target.get(key), dict):
        for sub, sub_value in value.items():
            _lay_over(target[key], sub, sub_value, depth - 1)
    else:
        target[key] = copy.deepcopy(value)


def _load_raw(path: Path, kind: str, roots: list[Path], chain: tuple[Path, ...] = (),
              read: list[Path] | None = None) -> _Raw:
    """Read one card file and everything it ``extends``, merged; no validation of sections yet.
    ``read``, if given, gets every file read, the card's own first."""
    if path.resolve() in chain:
        cycle = " -> ".join(p.stem for p in chain + (path,))
        raise CardError(f"{path}: extends: cycle {cycle}")
    data = _read_toml(path)
    if read is not None:
        read.append(path)
    _check_top_level(data, str(path), kind)

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
        raw = _load_raw(parent_path, kind, roots, chain + (path.resolve(),), read)
        raw.path = path
        raw.data.get("meta", {}).pop("notes", None)  # notes describe the parent's values
    _merge_into(raw, data, _layer(data, str(path)))
    return raw


def _check_top_level(data: Mapping[str, Any], where: str, kind: str) -> None:
    """Refuse unknown top-level keys and values where sections belong; require ``meta.name``."""
    resolved = data.get("resolved") is True
    marks = _RESOLVED_MARKS if kind == "experiments" else ("resolved",)
    for key, value in data.items():
        if key not in _TOP_LEVEL_KEYS + _SECTIONS[kind] + marks:
            allowed = ", ".join(f"[{s}]" for s in ("meta",) + _SECTIONS[kind])
            raise CardError(f"{where}: unknown section or key '{key}'; a {kind[:-1]} card has {allowed} and extends")
        if key in ("resolved", "smoke") and isinstance(value, bool):
            if key == "resolved" and not value:
                raise CardError(f"{where}: resolved = false: leave the key out (only a card written by spikenet "
                                "says resolved = true)")
            if key == "smoke" and not resolved:
                raise CardError(f"{where}: smoke = {str(value).lower()}: only a resolved card (resolved = true) "
                                "marks itself as a smoke card; a catalog card gives [smoke.<section>] values")
            continue
        if key == "resolved":
            raise CardError(f"{where}: resolved = {value!r}: expected true (a card written by spikenet)")
        if key == "uses" and not resolved:
            raise CardError(f"{where}: [uses] is written by spikenet into a resolved card (resolved = true); "
                            "name the cards with the protocol's keys instead")
        if key == "extends" and resolved:
            raise CardError(f"{where}: a resolved card (resolved = true) extends nothing")
        if key != "extends" and not isinstance(value, dict):
            raise CardError(f"{where}: '{key}' must be a [section], not a value")
    meta = data.get("meta")
    if not isinstance(meta, dict) or "name" not in meta:
        raise CardError(f"{where}: missing key 'meta.name'; every card starts with [meta] name = \"...\"")


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


def list_cards(kind: str, catalog: str | os.PathLike | None = None) -> list[CardInfo]:
    """Every card of ``kind`` in the catalog (first root wins for a name), sorted by name.

    What a card's files say is kept in the user cache (:func:`listing_cache_file`) with the size and
    modification time of each file it was read from (the card and every card it ``extends``), and
    re-read when any of them changed or a parent name now finds another file: parsing the cards was
    most of ``spikenet list``'s start-up, and the cache takes it out.
    """
    _check_kind(kind)
    roots = catalog_roots(catalog)
    cache = _ListingCache.load()
    infos = []
    for name in _names(kind, roots):
        path = find_card(name, kind, roots)
        info = cache.get(kind, path, roots)
        if info is None:
            read: list[Path] = []
            raw = _load_raw(path, kind, roots, read=read)
            meta = _build_meta(raw, kind, name)
            info = CardInfo(kind, meta.name, meta.description, meta.source, path, _what(raw.data))
            cache.put(info, read)
        infos.append(info)
    cache.save()
    return infos


LISTING_CACHE_NAME = "card_listing.json"


def listing_cache_file() -> Path:
    """Where :func:`list_cards` keeps what it read: ``$SPIKENET_CACHE/card_listing.json``, else the
    user cache folder of spikenet (as for the MNIST files)."""
    base = os.environ.get("SPIKENET_CACHE")
    if base:
        return Path(base).expanduser() / LISTING_CACHE_NAME
    if sys.platform.startswith("linux"):  # platformdirs' rule for Linux, without its 13 ms import
        return Path(os.environ.get("XDG_CACHE_HOME") or "~/.cache").expanduser() / "spikenet" / LISTING_CACHE_NAME
    import platformdirs

    return Path(platformdirs.user_cache_dir("spikenet")) / LISTING_CACHE_NAME


class _ListingCache:
    """The cards' listing lines by card file, each with the (size, mtime) stamps of the files it
    was read from. A best effort: an unreadable or unwritable cache only means parsing again."""

    VERSION = 1

    def __init__(self, path: Path, entries: dict[str, Any]):
        self.path, self.entries, self.changed = path, entries, False

    _loaded: "_ListingCache | None" = None
    """This process's cache (``spikenet list`` lists three kinds: the file is read once)."""

    @classmethod
    def load(cls) -> "_ListingCache":
        path = listing_cache_file()
        if cls._loaded is None or cls._loaded.path != path:
            cls._loaded = cls._read(path)
        return cls._loaded

    @classmethod
    def _read(cls, path: Path) -> "_ListingCache":
        import json

        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            entries = data["cards"] if data.get("version") == cls.VERSION else {}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            entries = {}
        return cls(path, entries if isinstance(entries, dict) else {})

    def get(self, kind: str, path: Path, roots: list[Path]) -> CardInfo | None:
        entry = self.entries.get(f"{kind}:{path}")
        try:
            files = entry["files"]
            for i, (name, size, mtime) in enumerate(files):
                stat = Path(name).stat()
                if (stat.st_size, stat.st_mtime_ns) != (size, mtime):
                    return None
                if i and find_card(Path(name).stem, kind, roots) != Path(name):  # a parent now found elsewhere
                    return None
            return CardInfo(kind, entry["name"], entry["description"], entry["source"], path, entry["what"])
        except (OSError, KeyError, TypeError, ValueError, CardError):
            return None

    def put(self, info: CardInfo, read: list[Path]) -> None:
        try:
            files = [[str(p), stat.st_size, stat.st_mtime_ns] for p, stat in ((p, p.stat()) for p in read)]
        except OSError:
            return
        self.entries[f"{info.kind}:{info.path}"] = {"files": files, "name": info.name, "description": info.description,
                                                    "source": info.source, "what": info.what}
        self.changed = True

    def save(self) -> None:
        if not self.changed:
            return
        import json
        import tempfile

        try:  # atomically: a concurrent `spikenet list` reads the old file or the new one, never half
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".card_listing-", suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump({"version": self.VERSION, "cards": self.entries}, fh)
            os.replace(tmp, self.path)
        except OSError:
            pass
        self.changed = False


_WHAT = (("experiment", "kind"), ("device", "model"), ("network", "kind"), ("plasticity", "rule"), ("neuron", "template"))
"""Where a card says what it is, first match wins (the keys that select a section's schema)."""


def _what(data: Mapping[str, Any]) -> str:
    for section, key in _WHAT:
        value = data.get(section, {}).get(key) if isinstance(data.get(section), dict) else None
        if isinstance(value, str):
            return value
    return ""
