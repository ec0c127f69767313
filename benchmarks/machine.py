"""What the benchmark scripts record about the machine they ran on."""

from __future__ import annotations

import csv
import os
import platform
import time
from pathlib import Path


def cpu_model() -> str:
    """The processor's model name (Linux), for the machine column."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown cpu"


def machine() -> str:
    """The machine column: processor and core count."""
    return f"{cpu_model()}, {os.cpu_count()} cores"


def versions() -> str:
    """The versions column of the speed benchmarks: Python, Brian2, NumPy."""
    import brian2
    import numpy

    return f"python {platform.python_version()} brian2 {brian2.__version__} numpy {numpy.__version__}"


def commit(*paths: str) -> str:
    """The checkout's commit for a record's commit column, ``-dirty`` when tracked files (under
    ``paths``, or anywhere) differ from it; ``unknown`` outside a git checkout."""
    found = os.popen("git rev-parse --short HEAD 2>/dev/null").read().strip() or "unknown"
    where = " -- " + " ".join(paths) if paths else ""
    if os.popen(f"git status --porcelain --untracked-files=no{where} 2>/dev/null").read().strip():
        found += "-dirty"  # measured with uncommitted changes
    return found


def timestamp() -> str:
    """When a record was written, local time with its offset (ISO 8601)."""
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def append_rows(path: Path, rows: list[dict]) -> None:
    """Append ``rows`` to the CSV record at ``path`` (created with a header if absent).

    A record written before a column existed is rewritten once with that column added (empty in
    its old rows, i.e. "not recorded"), so its rows stay aligned with the header; the rewrite goes
    through a temporary file, so an interrupted one leaves the old record whole.
    """
    columns = list(rows[0])
    if path.exists():
        with path.open(newline="") as fh:
            old = list(csv.DictReader(fh))
            fh.seek(0)
            header = next(csv.reader(fh), [])
        if header != columns:
            added = [c for c in columns if c not in header]
            if not added and set(header) >= set(columns):
                columns = header
            else:
                # the new row's order, with any old column the new rows lack kept at the end
                columns = columns + [c for c in header if c not in columns]
                tmp = path.with_suffix(".csv.tmp")
                with tmp.open("w", newline="") as fh:
                    writer = csv.DictWriter(fh, fieldnames=columns, restval="")
                    writer.writeheader()
                    writer.writerows(old)
                os.replace(tmp, path)
    path.parent.mkdir(parents=True, exist_ok=True)
    new = not path.exists()
    with path.open("a", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, restval="")
        if new:
            writer.writeheader()
        writer.writerows(rows)
