"""What two runs of the same card must agree on: their metrics, less what depends on the clock."""

from __future__ import annotations

import re
from typing import Any

TIMING_KEY = re.compile(r"seconds|wall_time|_s$|memory|started|resumed|command|versions")
"""Keys of metrics.json / run.json that hold clock times, memory use or the command line, not results."""


def without_timings(value: Any) -> Any:
    """``value`` (a metrics or run mapping, nested) without the keys :data:`TIMING_KEY` matches."""
    if isinstance(value, dict):
        return {k: without_timings(v) for k, v in value.items() if not TIMING_KEY.search(k)}
    if isinstance(value, list):
        return [without_timings(v) for v in value]
    return value
