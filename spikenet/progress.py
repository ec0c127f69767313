"""Progress bars that suit where the output goes.

A terminal or a notebook gets tqdm's live bar (a widget in Jupyter when ipywidgets is installed, as
``tqdm.auto`` would choose, else tqdm's text bar, without tqdm.auto's warning). Output that is
not a terminal (a log file, CI, a SLURM job's output) gets plain lines instead of carriage-return
frames, one every ``LINE_INTERVAL_S`` seconds and one at the end, so the file reads like a log.
tqdm has no line mode of its own; this subclass only changes how a frame is written.
"""

from __future__ import annotations

import importlib.util
import sys
from typing import Any

from tqdm import tqdm as _plain_tqdm

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


def _in_notebook() -> bool:
    """Whether this process is a Jupyter kernel (the test tqdm.autonotebook makes): merely having
    imported ipykernel, as some libraries do, is not enough."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


def _interactive(stream) -> bool:
    if _in_notebook():
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _live_tqdm() -> type:
    """tqdm's widget in a notebook that has ipywidgets, its text bar everywhere else."""
    if _in_notebook() and importlib.util.find_spec("ipywidgets") is not None:
        from tqdm.notebook import tqdm as notebook_tqdm

        return notebook_tqdm
    return _plain_tqdm


def progress_bar(iterable=None, *, disable: bool = False, file=None, **kwargs: Any):
    """A tqdm progress bar (same arguments) that is a live bar in a terminal or notebook and plain
    lines elsewhere."""
    stream = file if file is not None else sys.stderr
    if disable or _interactive(stream):
        return _live_tqdm()(iterable, disable=disable, file=file, **kwargs)
    kwargs.setdefault("mininterval", LINE_INTERVAL_S)
    kwargs.pop("dynamic_ncols", None)
    kwargs.setdefault("bar_format", LINE_FORMAT)
    return _LineTqdm(iterable, file=stream, **kwargs)


LINE_FORMAT = "{desc}: {percentage:3.0f}% {n_fmt}/{total_fmt} [{elapsed}<{remaining}, {rate_fmt}{postfix}]"
"""A progress line: no bar graphic, which only clutters a log."""
