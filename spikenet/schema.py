"""Typed, validated parameter dataclasses built from card sections.

A parameter set is a frozen dataclass whose fields are declared with the helpers below
(:func:`quantity`, :func:`number`, :func:`integer`, :func:`choice`, :func:`text`,
:func:`flag`). Each helper records the field's unit or type, its allowed range and a one-line
description in the field's metadata; :func:`build` reads a TOML mapping into the dataclass
and rejects unknown keys, missing keys, wrong units and out-of-range values with a message
that names the card, the key and what is allowed (in the manner of aihwkit's device configs
and Nengo's validated parameters).

A dataclass may also define ``check(self)`` for constraints between fields (``v_reset`` below
``v_th``); it raises :class:`CheckFailed` naming the key at fault.

This is written here rather than taken from pydantic or attrs because the values are Brian2
quantities whose dimension, not Python type, is what must be checked, and the messages must
name the card file each key came from.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from dataclasses import MISSING, dataclass, field, fields
from typing import Any, Callable, Mapping

from brian2.units.fundamentalunits import Quantity

from .errors import CardError, UnitError
from .units import format_quantity, parse_quantity

__all__ = [
    "Spec",
    "CheckFailed",
    "quantity",
    "number",
    "integer",
    "choice",
    "text",
    "flag",
    "quantities",
    "numbers",
    "texts",
    "build",
    "to_mapping",
    "describe",
    "time_step",
    "check_steps",
    "MAX_STEPS",
    "DT_MIN_MS",
]

DT_MIN_MS = 1e-3
"""The shortest time step a card may ask for (1 us): below it a run simulates nothing in any
useful time (and float64 time runs out of resolution over long runs)."""

MAX_STEPS = 10**9
"""The most time steps one simulated stretch may take (hours of computing for one neuron): a
longer one would, in practice, never end."""


class CheckFailed(Exception):
    """Raised by a parameter class's ``check`` method: ``CheckFailed(key, message, related=(...))``.

    ``related`` names the other keys the constraint involves, so that the error names every
    file (or ``--set``) that set one of them.
    """

    def __init__(self, key: str, message: str, related: tuple[str, ...] = ()):
        super().__init__(message)
        self.key = key
        self.message = message
        self.related = related


@dataclass(frozen=True)
class Spec:
    """What a field accepts. Stored in ``dataclasses.field(metadata={"spec": ...})``."""

    kind: str
    """One of ``quantity``, ``number``, ``integer``, ``choice``, ``text``, ``flag``, the lists
    ``quantities``, ``numbers`` and ``texts``, and ``curve`` (a measured table, :func:`curve`)."""
    doc: str
    """One line: what the value means."""
    unit: str | None = None
    """For quantities: the unit it is written in (also fixes its dimension)."""
    lower: float | None = None
    """Lower bound, in ``unit`` for quantities."""
    lower_inclusive: bool = True
    upper: float | None = None
    """Upper bound, in ``unit`` for quantities."""
    upper_inclusive: bool = True
    choices: tuple[str, ...] = ()
    """For ``choice`` fields: the allowed values."""
    refers_to: str | None = None
    """For ``text`` / ``texts`` fields that name other cards: their kind (``"devices"``,
    ``"experiments"``). Loading the card resolves them and embeds them in it
    (:attr:`spikenet.catalog.Card.uses`), so that its ``card.toml`` holds every value it used."""

    def allowed(self) -> str:
        """Describe the allowed values for an error message."""
        if self.kind == "choice":
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.kind == "text":
            return "a string"
        if self.kind == "flag":
            return "true or false"
        if self.kind == "curve":
            return (f"a CSV file beside the card (two columns: pulse number, value in {self.unit}; "
                    "at least two rows) or a list of [pulse, value] pairs")
        what = {
            "quantity": f"a value in {self.unit} (e.g. '1 {self.unit}')",
            "quantities": f"a list of values in {self.unit} (e.g. ['1 {self.unit}', '2 {self.unit}'])",
            "number": "a number",
            "numbers": "a list of numbers",
            "texts": "a list of strings",
            "integer": "an integer",
        }[self.kind]
        return f"{what}{self._range_text()}"

    def _range_text(self) -> str:
        unit = f" {self.unit}" if self.kind in ("quantity", "quantities") else ""
        parts = []
        if self.lower is not None:
            parts.append(f"{'>=' if self.lower_inclusive else '>'} {_num(self.lower)}{unit}")
        if self.upper is not None:
            parts.append(f"{'<=' if self.upper_inclusive else '<'} {_num(self.upper)}{unit}")
        return (" " + " and ".join(parts)) if parts else ""

    def in_range(self, value: float) -> bool:
        if math.isnan(value):
            return False
        if self.lower is not None:
            if value < self.lower or (not self.lower_inclusive and value == self.lower):
                return False
        if self.upper is not None:
            if value > self.upper or (not self.upper_inclusive and value == self.upper):
                return False
        return True


def _num(x: float) -> str:
    return f"{x:g}"


def _bounds(ge, gt, le, lt) -> dict[str, Any]:
    if ge is not None and gt is not None or le is not None and lt is not None:
        raise TypeError("give at most one lower bound (ge or gt) and one upper bound (le or lt)")
    return dict(
        lower=ge if ge is not None else gt,
        lower_inclusive=gt is None,
        upper=le if le is not None else lt,
        upper_inclusive=lt is None,
    )


def _field(spec: Spec, default: Any) -> Any:
    if default is MISSING:
        return field(metadata={"spec": spec})
    if isinstance(default, Quantity):
        # Quantities are NumPy arrays, which dataclasses refuse as shared defaults.
        return field(default_factory=lambda: default, metadata={"spec": spec})
    return field(default=default, metadata={"spec": spec})


def _has_default(f: dataclasses.Field) -> bool:
    return f.default is not MISSING or f.default_factory is not MISSING


def quantity(unit: str, doc: str, *, default: Any = MISSING, ge=None, gt=None, le=None, lt=None) -> Any:
    """A dimensional value written with a unit, e.g. ``quantity("ms", "membrane time constant", gt=0)``.

    Bounds are numbers in ``unit``. ``default`` is a string such as ``"2 ms"``.
    """
    spec = Spec("quantity", doc, unit=unit, **_bounds(ge, gt, le, lt))
    if default is not MISSING:
        default = parse_quantity(default, unit)
    return _field(spec, default)


def time_step(doc: str = "integration time step", *, le: float = 1.0, default: Any = MISSING) -> Any:
    """An integration time step in ms, from :data:`DT_MIN_MS` (1 us) to ``le`` ms (at most 10 ms)."""
    return quantity("ms", doc, ge=DT_MIN_MS, le=min(le, 10.0), default=default)


def check_steps(params: Any, duration: str, dt: str = "dt", *, limit: int = MAX_STEPS) -> None:
    """Raise :class:`CheckFailed` if ``params.<duration>`` takes more than ``limit`` steps of ``params.<dt>``."""
    steps = float(getattr(params, duration) / getattr(params, dt))
    if steps > limit:
        raise CheckFailed(duration, f"is {steps:.3g} time steps of dt = {getattr(params, dt)}: at most {limit:.0e} "
                          "(it would never end)", related=(dt,))


def quantities(unit: str, doc: str, *, ge=None, gt=None, le=None, lt=None) -> Any:
    """A non-empty list of dimensional values, e.g. ``["0.1 Hz", "10 Hz"]``; a tuple of quantities."""
    return _field(Spec("quantities", doc, unit=unit, **_bounds(ge, gt, le, lt)), MISSING)


def numbers(doc: str, *, ge=None, gt=None, le=None, lt=None) -> Any:
    """A non-empty list of dimensionless numbers; a tuple of floats."""
    return _field(Spec("numbers", doc, **_bounds(ge, gt, le, lt)), MISSING)


def texts(doc: str, *, default: tuple[str, ...] | Any = MISSING, refers_to: str | None = None) -> Any:
    """A non-empty list of strings (card names, for example); a tuple of str.

    ``refers_to``: the kind of card the strings name; ``"all"`` among them stands for every card
    of that kind in the catalog (the resolved card lists them).
    """
    return _field(Spec("texts", doc, refers_to=refers_to), default)


def number(doc: str, *, default: Any = MISSING, ge=None, gt=None, le=None, lt=None) -> Any:
    """A dimensionless real number."""
    return _field(Spec("number", doc, **_bounds(ge, gt, le, lt)), default)


def integer(doc: str, *, default: Any = MISSING, ge=None, gt=None, le=None, lt=None) -> Any:
    """An integer (a count, a number of levels, a seed)."""
    return _field(Spec("integer", doc, **_bounds(ge, gt, le, lt)), default)


def choice(doc: str, choices: tuple[str, ...] | list[str], *, default: Any = MISSING) -> Any:
    """One string out of a fixed set."""
    return _field(Spec("choice", doc, choices=tuple(choices)), default)


def text(doc: str, *, default: Any = MISSING, refers_to: str | None = None) -> Any:
    """Free text (a description, a citation), or with ``refers_to`` the name of a card of that kind."""
    return _field(Spec("text", doc, refers_to=refers_to), default)


def flag(doc: str, *, default: Any = MISSING) -> Any:
    """A boolean."""
    return _field(Spec("flag", doc), default)


def curve(unit: str, doc: str) -> Any:
    """A measured curve: the name of a CSV file (relative to the card file that names it) with two
    columns, pulse number and value in ``unit`` (a header row and ``#`` comments are skipped), or
    the same as a list of ``[pulse, value]`` pairs (how a resolved card writes it, so that the run
    folder's ``card.toml`` repeats the run without the file). A tuple of ``(pulse, value)`` float
    pairs, pulse numbers strictly increasing, values finite and not negative, strictly monotonic."""
    return _field(Spec("curve", doc, unit=unit), MISSING)


def _read_curve(path: Path) -> list[tuple[float, float]]:
    """The rows of a two-column CSV file; ValueError naming the file and line."""
    import csv

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ValueError(f"no such file: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    rows: list[tuple[float, float]] = []
    header = False
    for number, row in enumerate(csv.reader(text.splitlines()), start=1):
        if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
            continue
        try:
            values = [float(cell) for cell in row]
        except ValueError:
            if not rows and not header:
                header = True  # the first row that is not a comment may name the columns
                continue
            raise ValueError(f"{path}, line {number}: expected two numbers, got {','.join(row)!r}") from None
        if len(values) != 2:
            raise ValueError(f"{path}, line {number}: expected two columns (pulse, value), got {len(values)}")
        rows.append((values[0], values[1]))
    return rows


def _convert_curve(spec: Spec, value: Any, directory: Path | None) -> tuple[tuple[float, float], ...]:
    where = ""
    if isinstance(value, str):
        path = Path(value)
        if not path.is_absolute() and directory is not None:
            path = directory / path
        rows = _read_curve(path)
        where = f"{path}: "
    elif isinstance(value, (list, tuple)) and all(isinstance(r, (list, tuple)) and len(r) == 2 for r in value):
        try:
            rows = [(float(a), float(b)) for a, b in value]
        except (TypeError, ValueError):
            raise ValueError(f"expected {spec.allowed()}") from None
    else:
        raise ValueError(f"expected {spec.allowed()}")
    if len(rows) < 2:
        raise ValueError(f"{where}a curve needs at least two points, got {len(rows)}")
    pulses = [r[0] for r in rows]
    values = [r[1] for r in rows]
    if not all(math.isfinite(v) for v in pulses + values):
        raise ValueError(f"{where}every pulse number and value must be finite")
    if min(values) < 0:
        raise ValueError(f"{where}a value is negative ({min(values):g} {spec.unit}); conductances are >= 0")
    if any(b <= a for a, b in zip(pulses, pulses[1:])):
        raise ValueError(f"{where}pulse numbers must increase strictly from row to row")
    steps = [b - a for a, b in zip(values, values[1:])]
    if not (all(d > 0 for d in steps) or all(d < 0 for d in steps)):
        raise ValueError(f"{where}not monotonic: the values must rise (or fall) strictly from row to row")
    return tuple(rows)


def spec_of(f: dataclasses.Field) -> Spec:
    return f.metadata["spec"]


def _convert(spec: Spec, value: Any, directory: Path | None = None) -> Any:
    """Convert one TOML value according to its spec; raise ValueError with the problem.
    ``directory``: where the file that set the value lies (for ``curve`` files)."""
    if spec.kind == "curve":
        return _convert_curve(spec, value, directory)
    if spec.kind in ("quantities", "numbers", "texts"):
        if not isinstance(value, (list, tuple)) or not value:
            raise ValueError(f"expected {spec.allowed()}")
        item = dataclasses.replace(spec, kind={"quantities": "quantity", "numbers": "number", "texts": "text"}[spec.kind])
        converted = []
        for index, element in enumerate(value):
            try:
                converted.append(_convert(item, element))
            except ValueError as exc:
                raise ValueError(f"item {index}: {exc}") from None
        return tuple(converted)
    if spec.kind == "quantity":
        try:
            q = parse_quantity(value, spec.unit)
        except UnitError as exc:
            raise ValueError(str(exc)) from None
        if not math.isfinite(float(q / parse_quantity(f"1 {spec.unit}"))):
            raise ValueError(f"must be finite{' and' + spec._range_text() if spec._range_text() else ''}")
        if not spec.in_range(float(q / parse_quantity(f"1 {spec.unit}"))):
            raise ValueError(f"out of range: must be{spec._range_text()}")
        return q
    if spec.kind in ("number", "integer"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            if isinstance(value, str):
                raise ValueError(f"expected {spec.allowed()}, got the string {value!r}")
            raise ValueError(f"expected {spec.allowed()}, got {value!r}")
        if spec.kind == "integer":
            if isinstance(value, float):
                if not value.is_integer():
                    raise ValueError(f"expected an integer, got {value!r}")
                value = int(value)
        else:
            value = float(value)
        if not math.isfinite(value):
            raise ValueError(f"must be finite{' and' + spec._range_text() if spec._range_text() else ''}")
        if not spec.in_range(float(value)):
            raise ValueError(f"out of range: must be{spec._range_text()}")
        return value
    if spec.kind == "choice":
        if value not in spec.choices:
            raise ValueError(f"unknown value {value!r}; allowed: {', '.join(spec.choices)}")
        return value
    if spec.kind == "text":
        if not isinstance(value, str):
            raise ValueError(f"expected a string, got {value!r}")
        return value
    if spec.kind == "flag":
        if not isinstance(value, bool):
            raise ValueError(f"expected true or false, got {value!r}")
        return value
    raise AssertionError(f"unknown spec kind {spec.kind}")


def build(
    cls: type,
    mapping: Mapping[str, Any],
    *,
    section: str,
    origin: Callable[[str | None], str],
) -> Any:
    """Validate a card section and build the parameter dataclass ``cls`` from it.

    Parameters
    ----------
    cls
        A dataclass whose fields were declared with this module's helpers.
    mapping
        The section's keys and values as read from TOML (strings with units for quantities).
    section
        The section's name, used in messages as ``section.key``.
    origin
        Returns the file (or ``--set``) a key came from; called with ``None`` for the card.

    Raises
    ------
    CardError
        Naming the file, ``section.key`` and what is allowed.
    """
    known = {f.name: f for f in fields(cls) if "spec" in f.metadata}
    for key in mapping:
        if key not in known:
            raise CardError(
                f"{origin(key)}: unknown key '{section}.{key}'; allowed keys: {', '.join(known) or '(none)'}"
            )
    values: dict[str, Any] = {}
    for name, f in known.items():
        spec = spec_of(f)
        if name not in mapping:
            if not _has_default(f):
                raise CardError(
                    f"{origin(None)}: missing key '{section}.{name}' ({spec.doc}); expected {spec.allowed()}"
                )
            continue
        try:
            source = Path(origin(name))
            values[name] = _convert(spec, mapping[name], source.parent if source.suffix == ".toml" else None)
        except ValueError as exc:
            raise CardError(f"{origin(name)}: {section}.{name} = {mapping[name]!r}: {exc}") from None
    obj = cls(**values)
    check = getattr(obj, "check", None)
    if check is not None:
        try:
            check()
        except CheckFailed as exc:
            sources = list(dict.fromkeys(origin(k) for k in (exc.key, *exc.related)))
            raise CardError(f"{' and '.join(sources)}: {section}.{exc.key}: {exc.message}") from None
    return obj


def to_mapping(obj: Any) -> dict[str, Any]:
    """The inverse of :func:`build`: a TOML-ready mapping, quantities written with their unit."""
    out: dict[str, Any] = {}
    for f in fields(obj):
        if "spec" not in f.metadata:
            continue
        spec = spec_of(f)
        value = getattr(obj, f.name)
        if spec.kind == "quantity":
            out[f.name] = format_quantity(value, spec.unit)
        elif spec.kind == "quantities":
            out[f.name] = [format_quantity(v, spec.unit) for v in value]
        elif spec.kind in ("numbers", "texts"):
            out[f.name] = list(value)
        elif spec.kind == "curve":
            out[f.name] = [list(row) for row in value]
        else:
            out[f.name] = value
    return out


def describe(cls: type) -> list[tuple[str, str, str]]:
    """``(key, allowed, doc)`` for every field of a parameter class, for help texts."""
    rows = []
    for f in fields(cls):
        if "spec" in f.metadata:
            spec = spec_of(f)
            rows.append((f.name, spec.allowed(), spec.doc))
    return rows


def quantity_in(value: Quantity, unit: str) -> float:
    """The float value of ``value`` expressed in ``unit`` (``quantity_in(tau, "ms")``)."""
    return float(value / parse_quantity(f"1 {unit}", unit))
