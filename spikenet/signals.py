"""spikenet owns the signals of a run: SIGINT (Ctrl-C) and SIGTERM (what a cluster scheduler sends).

Brian2 installs a SIGINT handler when it is imported that turns Ctrl-C into "stop the simulation
after this time step", and its compiled programs do the same: a simulation that was asked for a
chunk of images then ends early, *without an error*, and whatever called it takes the truncated
chunk for a finished one. During a run, :func:`owned_signals` replaces that handler (and SIGTERM's)
with one that raises :class:`~spikenet.errors.Interrupted` at once: the chunk in progress is
discarded (a compiled program still running is killed by :mod:`subprocess`), the run is marked
"interrupted", and it resumes from its last complete checkpoint.

Writing a checkpoint is a short critical section: inside :func:`deferred` a signal is remembered
and raised when the section ends, so a checkpoint is never half committed.

A SIGINT that the process was started with set to "ignore" (background jobs of a
non-interactive shell) stays ignored, as for any Python program. Handlers can only be installed
in the main thread; elsewhere (a Dask worker's task thread) :func:`owned_signals` does nothing and
the process's own handling applies.

Written by hand: the standard library's :mod:`signal` is the whole of what is needed, and no
library offers "raise now, except inside these sections".
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

from .errors import Interrupted

__all__ = ["owned_signals", "deferred", "raise_if_received", "OWNED"]

OWNED = (signal.SIGINT, signal.SIGTERM)
"""The signals a run handles: both end it as interrupted (exit codes 130 and 143)."""

_depth = 0  # nesting of owned_signals() (a sweep's points may run inside the sweep's run)
_deferring = 0  # nesting of deferred()
_pending: list[int] = []  # signals that arrived while deferring
_previous: dict[int, object] = {}
_received: list[int] = []  # every signal taken since the outermost owned_signals() began


def _handler(signum: int, frame) -> None:
    _received.append(signum)
    if _deferring:
        _pending.append(signum)
        return
    raise Interrupted(signum)


def raise_if_received() -> None:
    """Raise :class:`~spikenet.errors.Interrupted` if a signal was taken during this run.

    Python runs a signal handler between any two bytecodes, also inside a finaliser (``__del__``,
    a garbage-collection callback), where the exception it raises is printed and dropped; the run
    would then go on as if no signal had come. Called before a chunk is counted (a checkpoint),
    this stops such a run there, without counting the chunk.
    """
    if _received:
        raise Interrupted(_received[0])


@contextlib.contextmanager
def owned_signals() -> Iterator[None]:
    """Within this block SIGINT and SIGTERM raise :class:`~spikenet.errors.Interrupted`.

    Re-entrant; the handlers in place before the outermost block (Brian2's, a notebook's) are
    put back when it ends.
    """
    global _depth
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    if _depth == 0:
        _received.clear()
        _pending.clear()
        for signum in OWNED:
            previous = signal.getsignal(signum)
            _previous[signum] = previous
            if signum == signal.SIGINT and previous == signal.SIG_IGN:
                continue
            signal.signal(signum, _handler)
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        if _depth == 0:
            for signum, previous in _previous.items():
                signal.signal(signum, previous if previous is not None else signal.SIG_DFL)
            _previous.clear()
            _reset_brian2_flags()


def _reset_brian2_flags() -> None:
    """Brian2 marks a network as running around a compiled program and does not unmark it when the
    program is interrupted; left set, its own SIGINT handler would swallow the next Ctrl-C."""
    import sys

    network = sys.modules.get("brian2.core.network")
    if network is not None:
        network.Network._globally_running = False
        network.Network._globally_stopped = False


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """A critical section: a signal that arrives inside it is raised when it ends, not before."""
    global _deferring
    _deferring += 1
    try:
        yield
    finally:
        _deferring -= 1
        if _deferring == 0 and _pending:
            signum = _pending[0]
            _pending.clear()
            raise Interrupted(signum)
