"""Each measured number the README quotes matches its committed record in ``benchmarks/results/``.

``benchmarks/results/readme_quotes.toml`` lists quotes: a piece of README text, the record (a CSV
of ``benchmarks/results``), which rows of it (column = value pairs; the *last* matching row, the
newest record, is the one quoted) and which column; the quoted number is the ``nth`` number in
the text (default the first), and it must be the record's value times ``scale`` rounded to the
decimals it is written with. So a re-recorded run whose number changed fails here until the README says the new
number. Tables that name the commit of each row (the device table of the Diehl & Cook section)
are checked row by row without a quote.
"""

from __future__ import annotations

import csv
import re
import tomllib
from functools import cache
from pathlib import Path

import pytest

from conftest import REPO

RESULTS = REPO / "benchmarks" / "results"
README = (REPO / "README.md").read_text()
QUOTES = tomllib.loads((RESULTS / "readme_quotes.toml").read_text())["quote"]
# a number stands alone: not part of a name (pcm_2pcm, MLP-100, hfo2); a minus sign only before a digit
# (a hyphen between two numbers is a range: 8.2-11.5 is two numbers)
NUMBER = re.compile(r"(?:(?<![\w.\-−])|(?<=\d-))(?:[-−](?=\d))?\d[\d,]*(?:\.\d+)?(?!\w)")


@cache
def record(name: str) -> tuple[dict, ...]:
    with (RESULTS / name).open(newline="") as fh:
        return tuple(csv.DictReader(fh))


def quoted_number(text: str, nth: int) -> tuple[float, int]:
    """The ``nth`` number written in ``text`` (1-based) and its number of decimals."""
    found = NUMBER.findall(text)
    assert len(found) >= nth, f"{text!r} has no number {nth}"
    written = found[nth - 1].replace(",", "").replace("−", "-")
    decimals = len(written.split(".")[1]) if "." in written else 0
    return float(written), decimals


def recorded_value(quote: dict) -> float:
    rows = [r for r in record(quote["record"]) if all(r.get(k) == str(v) for k, v in quote["select"].items())]
    assert rows, f"no row of {quote['record']} has {quote['select']}"
    return float(rows[-1][quote.get("column", "value")]) * quote.get("scale", 1.0)


def problem_with(quote: dict, readme: str) -> str | None:
    """What is wrong with ``quote`` against ``readme`` and its record, or None."""
    if quote["text"] not in readme:
        return f"the README no longer says {quote['text']!r}: update readme_quotes.toml"
    written, decimals = quoted_number(quote["text"], quote.get("nth", 1))
    value = recorded_value(quote)
    if abs(value - written) > 0.5 * 10**-decimals * (1 + 1e-9):  # written is not a rounding of value
        return f"README says {written} in {quote['text']!r}; the record says {value:.{decimals + 2}f}"
    return None


@pytest.mark.parametrize("quote", QUOTES, ids=[q["text"][:60] for q in QUOTES])
def test_the_readme_quotes_its_record(quote):
    assert problem_with(quote, README) is None, problem_with(quote, README)


def test_a_quote_off_by_one_in_its_last_digit_or_gone_from_the_readme_fails():
    quote = QUOTES[0]
    written, decimals = quoted_number(quote["text"], quote.get("nth", 1))
    first = NUMBER.search(quote["text"])
    shifted = f"{written + 10**-decimals:.{decimals}f}"
    wrong = {**quote, "text": quote["text"][:first.start()] + shifted + quote["text"][first.end():], "nth": 1}
    assert "the record says" in problem_with(wrong, README + wrong["text"])
    assert "no longer says" in problem_with(quote, README.replace(quote["text"], ""))


def commit_table_rows() -> list[tuple[str, str, str]]:
    """(card, quoted accuracy, commit) of the README's one-epoch device table of mnist_dc_n100."""
    return re.findall(r"^\| `(\w+)`[^|]*\| \*\*([\d.]+) %\*\* \|[^\n]*\| ([0-9a-f]{7})\b[^|\n]*\|$", README, flags=re.M)


def test_the_device_table_rows_are_records_of_their_commit():
    rows = commit_table_rows()
    assert len(rows) >= 8, rows  # every device card of the table is read (a format change would drop rows)
    runs = record("mnist_runs.csv")
    for card, accuracy, commit in rows:
        matching = [float(r["test_accuracy"]) * 100 for r in runs
                    if r["commit"] == commit and r["device"] == card and r["experiment"] == "mnist_dc_n100"]
        assert matching, f"no record of mnist_dc_n100 on {card} at {commit}"
        assert any(round(m, 1) == float(accuracy) for m in matching), (card, accuracy, matching)

