import math

import pytest
from brian2 import Hz, Mohm, mV, ms, nA, nS, second, uS

from spikenet.errors import UnitError
from spikenet.units import format_quantity, parse_quantity


@pytest.mark.parametrize(
    "text, expected",
    [
        ("20 ms", 20 * ms),
        ("1.5 uS", 1.5 * uS),
        ("63.75 Hz", 63.75 * Hz),
        ("-65 mV", -65 * mV),
        ("10 Mohm", 10 * Mohm),
        ("10 MOhm", 10 * Mohm),
        ("1e-3 ms", 1e-3 * ms),
        (".5 nA", 0.5 * nA),
        ("2 s", 2 * second),
        ("0.1 mV/ms", 0.1 * mV / ms),
        ("5 s^-1", 5 * Hz),
        ("5 second**-1", 5 * Hz),
        ("3 nA*Mohm", 3 * mV),
        ("20ms", 20 * ms),
    ],
)
def test_parse_values_with_units(text, expected):
    value = parse_quantity(text)
    assert float(value / expected) == pytest.approx(1.0, rel=1e-12)


def test_expected_dimension_is_checked():
    assert parse_quantity("20 ms", "ms") == 20 * ms
    assert parse_quantity("1.5 uS", "nS") == 1500 * nS
    with pytest.raises(UnitError, match="is a voltage: expected a time"):
        parse_quantity("20 mV", "ms")
    with pytest.raises(UnitError, match="has no unit: expected a time"):
        parse_quantity("20", "ms")
    with pytest.raises(UnitError, match="has no unit"):
        parse_quantity(20, "ms")


def test_dimensionless_numbers():
    assert float(parse_quantity(0.5)) == 0.5
    assert float(parse_quantity("0.5", "1")) == 0.5
    assert math.isinf(float(parse_quantity("inf")))


@pytest.mark.parametrize("text", ["ms", "20 parsec", "20 ms ms", "abc", "20 __import__('os')", "5 ms^0.5", True, None])
def test_bad_values_are_rejected(text):
    with pytest.raises(UnitError):
        parse_quantity(text)


@pytest.mark.parametrize("text, unit", [("20 ms", "ms"), ("-65 mV", "mV"), ("1.5 uS", "nS"), ("0.1 mV/ms", "mV/ms")])
def test_format_round_trips(text, unit):
    value = parse_quantity(text)
    assert parse_quantity(format_quantity(value, unit)) == value
    assert parse_quantity(format_quantity(value)) == value


def test_format_refuses_wrong_unit():
    with pytest.raises(UnitError):
        format_quantity(20 * ms, "mV")
