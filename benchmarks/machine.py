"""What the benchmark scripts record about the machine they ran on."""

from __future__ import annotations

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


def timestamp() -> str:
    """When a record was written, local time with its offset (ISO 8601)."""
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")
