"""Spread over seeds: mean, standard deviation and a confidence interval of a metric.

An effect is claimed only with its spread: every number a sweep or a comparison reports over
seeds comes with the interval computed here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable

import numpy as np

__all__ = ["Spread", "spread", "difference_spread", "spread_record"]

CONFIDENCE = 0.95
"""The confidence level of every interval spikenet reports."""


@dataclass(frozen=True)
class Spread:
    """A metric over ``n`` seeds: its mean, sample standard deviation (ddof = 1) and the
    two-sided :data:`CONFIDENCE` interval of the mean from Student's t distribution,
    ``mean +- t(n - 1) * std / sqrt(n)``.

    NaN values (a run that could not measure the metric, or failed) are left out of ``n``. With
    ``n = 1`` the standard deviation and the interval are NaN: one seed has no spread.
    """

    n: int
    mean: float
    std: float
    ci_low: float
    ci_high: float

    @property
    def half_width(self) -> float:
        """Half the interval's width (the error bar)."""
        return (self.ci_high - self.ci_low) / 2

    def excludes(self, value: float = 0.0) -> bool:
        """Whether the interval lies wholly on one side of ``value`` (False when it is NaN)."""
        return bool(self.ci_low > value or self.ci_high < value)

    def text(self, scale: float = 1.0, digits: int = 1) -> str:
        """``"mean +- half-width (n = N)"``, each scaled (``scale=100`` for percent)."""
        if self.n == 0:
            return "n/a"
        if self.n == 1:
            return f"{self.mean * scale:.{digits}f} (n = 1)"
        return f"{self.mean * scale:.{digits}f} +- {self.half_width * scale:.{digits}f} (n = {self.n})"


def spread(values: Iterable[float], confidence: float = CONFIDENCE) -> Spread:
    """The :class:`Spread` of ``values`` (one per seed)."""
    from scipy import stats

    x = np.asarray([float("nan") if v is None else float(v) for v in values], dtype=float)
    x = x[np.isfinite(x)]
    n = int(x.size)
    if n == 0:
        return Spread(0, math.nan, math.nan, math.nan, math.nan)
    mean = float(x.mean())
    if n == 1:
        return Spread(1, mean, math.nan, math.nan, math.nan)
    std = float(x.std(ddof=1))
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1)) * std / math.sqrt(n)
    return Spread(n, mean, std, mean - half, mean + half)


def difference_spread(a: Iterable[float], b: Iterable[float], confidence: float = CONFIDENCE) -> Spread:
    """The spread of ``a - b`` seed by seed (a paired comparison: both measured with the same seeds).

    Pairs where either value is NaN are left out.
    """
    a, b = np.asarray(list(a), dtype=float), np.asarray(list(b), dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"paired values need equal lengths, not {a.size} and {b.size}")
    return spread(a - b, confidence)


def spread_record(values: Iterable[float], seeds: Iterable[int]) -> dict:
    """A metric's spread as ``metrics.json`` stores it: n, mean, std, the 95 % interval and the
    value at every seed (by seed)."""
    values = [float(v) for v in values]
    s = spread(values)
    return {"n": s.n, "mean": s.mean, "std": s.std, "ci95_low": s.ci_low, "ci95_high": s.ci_high,
            "per_seed": dict(zip(map(str, seeds), values))}
