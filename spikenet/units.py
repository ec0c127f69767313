"""Parse and format physical quantities written as text: ``"20 ms"``, ``"1.5 uS"``, ``"-65 mV"``.

Cards store every dimensional value as a string with its unit. This module turns such a
string into a Brian2 :class:`~brian2.units.fundamentalunits.Quantity` and checks its
dimension, and turns a quantity back into the same kind of string.

The unit part may be a product of Brian2 unit names with ``*``, ``/`` and integer powers
(``**`` or ``^``): ``"0.1 mV/ms"``, ``"2 nA*Mohm"``, ``"5 s^-1"``. It is parsed with Python's
``ast`` and only unit names and integer powers are accepted (never ``eval``).
"""

from __future__ import annotations

import ast
import math
import re
from functools import lru_cache

import brian2.units.allunits as _allunits
import brian2.units.stdunits as _stdunits
from brian2.units.fundamentalunits import (
    DIMENSIONLESS,
    Dimension,
    Quantity,
    Unit,
    get_dimensions,
    get_unit,
)

from .errors import UnitError

__all__ = ["parse_quantity", "format_quantity", "unit_named", "dimension_name"]

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_VALUE_RE = re.compile(rf"^\s*(?P<number>{_NUMBER}|[-+]?inf)\s*(?P<unit>.*?)\s*$")

# Names people use for a dimension in messages ("expected a time"), by Brian2's SI unit name.
_DIMENSION_NAMES = {
    "s": "time",
    "V": "voltage",
    "A": "current",
    "S": "conductance",
    "ohm": "resistance",
    "Hz": "rate",
    "F": "capacitance",
    "C": "charge",
    "m": "length",
}


@lru_cache(maxsize=1)
def _unit_table() -> dict[str, Unit]:
    """All Brian2 unit names (``ms``, ``msecond``, ``uS``, ``Mohm``, ...) mapped to units."""
    table: dict[str, Unit] = {}
    for module in (_allunits, _stdunits):
        for name in dir(module):
            value = getattr(module, name)
            if isinstance(value, Unit):
                table[name] = value
    # Spellings people write that Brian2 does not define as names.
    table.setdefault("s", _allunits.second)
    for prefix in ("", "k", "M", "G"):
        table.setdefault(f"{prefix}Ohm", table[f"{prefix}ohm"])
    for prefix in ("", "m", "u", "n", "p", "f"):
        table.setdefault(f"{prefix}J", table[f"{prefix}joule"])
    return table


def unit_named(name: str) -> Unit:
    """Return the Brian2 unit called ``name`` (``"ms"``, ``"nS"``, ``"Mohm"``).

    Raises
    ------
    UnitError
        If Brian2 has no unit of that name.
    """
    try:
        return _unit_table()[name]
    except KeyError:
        raise UnitError(f"unknown unit {name!r} (Brian2 unit names such as ms, mV, nS, uS, nA, Mohm, Hz)") from None


def _evaluate_unit(text: str) -> Quantity:
    """Evaluate a unit expression such as ``"mV/ms"`` or ``"s^-1"`` to a quantity of value 1."""
    try:
        tree = ast.parse(text.replace("^", "**"), mode="eval")
    except SyntaxError:
        raise UnitError(f"cannot read the unit {text!r}") from None

    def visit(node: ast.AST):
        if isinstance(node, ast.Expression):
            return visit(node.body)
        if isinstance(node, ast.Name):
            return unit_named(node.id)
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mult, ast.Div)):
            left, right = visit(node.left), visit(node.right)
            return left * right if isinstance(node.op, ast.Mult) else left / right
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
            exponent = node.right
            sign = 1
            if isinstance(exponent, ast.UnaryOp) and isinstance(exponent.op, (ast.USub, ast.UAdd)):
                sign = -1 if isinstance(exponent.op, ast.USub) else 1
                exponent = exponent.operand
            if isinstance(exponent, ast.Constant) and isinstance(exponent.value, int):
                return visit(node.left) ** (sign * exponent.value)
        raise UnitError(f"cannot read the unit {text!r} (use unit names joined by *, / and integer powers)")

    return visit(tree)


def dimension_name(dimension: Dimension) -> str:
    """A readable name for a dimension: ``"time"``, ``"voltage"``, or the SI unit it is measured in."""
    if dimension is DIMENSIONLESS:
        return "dimensionless number"
    unit = str(get_unit(dimension))
    return _DIMENSION_NAMES.get(unit, f"quantity in {unit}")


def parse_quantity(text: str | int | float, expected: str | Unit | Dimension | None = None) -> Quantity:
    """Parse ``"<number> <unit>"`` into a Brian2 quantity and check its dimension.

    Parameters
    ----------
    text
        The value as written in a card, e.g. ``"20 ms"``, ``"-65 mV"``, ``"1.5 uS"``,
        ``"63.75 Hz"``. A bare number (``0.5`` or ``"0.5"``) is dimensionless. A Brian2
        quantity (``15 * ms``) is checked and returned as it is.
    expected
        The dimension the value must have, given as a unit name (``"ms"``), a unit, or a
        Brian2 dimension. ``None`` accepts any dimension.

    Returns
    -------
    Quantity
        The value in SI base units, with its dimension.

    Raises
    ------
    UnitError
        If the text is not a number followed by a unit, the unit is unknown, or the
        dimension differs from ``expected``. The message says what was expected.
    """
    if isinstance(text, bool):
        raise UnitError(f"expected a number with a unit, got {text!r}")
    if isinstance(text, Quantity):  # a value given in Python, e.g. tau_m=15 * ms
        if text.shape != ():
            raise UnitError(f"expected a single value, got an array of shape {text.shape}")
        value = text
    elif isinstance(text, (int, float)):
        value = Quantity(float(text))
    elif isinstance(text, str):
        match = _VALUE_RE.match(text)
        if match is None:
            raise UnitError(f"cannot read {text!r}: expected a number followed by a unit, e.g. '20 ms'")
        number = float(match["number"])
        unit_text = match["unit"]
        value = number * _evaluate_unit(unit_text) if unit_text else Quantity(number)
        if not isinstance(value, Quantity):
            value = Quantity(value)
    else:
        raise UnitError(f"expected a number with a unit such as '20 ms', got {type(text).__name__} {text!r}")

    if expected is not None:
        want = _expected_dimension(expected)
        have = get_dimensions(value)
        if have is not want:
            example = _example(expected)
            if have is DIMENSIONLESS:
                raise UnitError(f"{text!r} has no unit: expected a {dimension_name(want)}, e.g. {example!r}")
            raise UnitError(
                f"{text!r} is a {dimension_name(have)}: expected a {dimension_name(want)}, e.g. {example!r}"
            )
    return value


def _expected_dimension(expected: str | Unit | Dimension) -> Dimension:
    if isinstance(expected, Dimension):
        return expected
    if isinstance(expected, str):
        return get_dimensions(_evaluate_unit(expected)) if expected not in ("", "1") else DIMENSIONLESS
    return get_dimensions(expected)


def _example(expected: str | Unit | Dimension) -> str:
    if isinstance(expected, str) and expected not in ("", "1"):
        return f"1 {expected}"
    if isinstance(expected, Unit):
        return f"1 {expected}"
    return "1"


def format_quantity(value: Quantity | float, unit: str | None = None, digits: int = 12) -> str:
    """Write a quantity as text that :func:`parse_quantity` reads back to the same value.

    Parameters
    ----------
    value
        The quantity (or a dimensionless float).
    unit
        The unit name to write it in (``"ms"``); by default Brian2's best unit.
    digits
        Significant digits kept; 12 round-trips every value a card can hold.
    """
    if unit is None:
        if get_dimensions(value) is DIMENSIONLESS:
            return _format_number(float(value), digits)
        best = Quantity(value).get_best_unit()
        unit_text = str(best)
        number = float(value / best)
    else:
        unit_value = _evaluate_unit(unit)
        if get_dimensions(unit_value) is not get_dimensions(value):
            raise UnitError(f"cannot write {value!r} in {unit!r}: dimensions differ")
        unit_text = unit
        number = float(value / unit_value)
    return f"{_format_number(number, digits)} {unit_text}"


def _format_number(number: float, digits: int) -> str:
    if math.isinf(number):
        return "inf" if number > 0 else "-inf"
    return f"{number:.{digits}g}"


def base_unit(dimension: Dimension) -> Unit:
    """Brian2's SI unit for a dimension (``second`` for time)."""
    return get_unit(dimension)
