"""Progress bars that suit where the output goes.

A terminal or a notebook gets tqdm's live bar (``tqdm.auto``: a widget in Jupyter). Output that is
not a terminal (a log file, CI, a SLURM job's output) gets plain lines instead of carriage-return
frames, one every ``LINE_INTERVAL_S`` seconds and one at the end, so the file reads like a log.
tqdm has no line mode of its own; this subclass only changes how a frame is written.
"""

from __future__ import annotations

import sys
from typing import Any

from tqdm import tqdm as _plain_tqdm
from tqdm.auto import tqdm as _auto_tqdm

LINE_INTERVAL_S = 30.0
"""Seconds between two progress lines when the output is not a terminal."""


class _LineTqdm(_plain_tqdm):
    """tqdm writing each update as its own line (no ``\\r``), for output that is not a terminal."""

    def display(self, msg: str | None = None, pos: int | None = None) -> bool:
        text = self.__str__() if msg is None else msg
        if text.strip():
            self.fp.write(text.strip() + "\n")
            self.fp.flush()
        return True

    def clear(self, *args: Any, **kwargs: Any) -> None:  # nothing to erase in a line log
        pass


def _interactive(stream) -> bool:
    if "ipykernel" in sys.modules:  # a notebook: tqdm.auto draws a widget
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def progress_bar(iterable=None, *, disable: bool = False, file=None, **kwargs: Any):
    """A tqdm progress bar (same arguments) that is a live bar in a terminal or notebook and plain
    lines elsewhere."""
    stream = file if file is not None else sys.stderr
    if disable or _interactive(stream):
        return _auto_tqdm(iterable, disable=disable, file=file, **kwargs)
    kwargs.setdefault("mininterval", LINE_INTERVAL_S)
    kwargs.pop("dynamic_ncols", None)
    kwargs.setdefault("bar_format", LINE_FORMAT)
    return _LineTqdm(iterable, file=stream, **kwargs)


LINE_FORMAT = "{desc}: {percentage:3.0f}% {n_fmt}/{total_fmt} [{elapsed}<{remaining}, {rate_fmt}{postfix}]"
"""A progress line: no bar graphic, which only clutters a log."""
