"""Named moments of a run where the fault tests send real signals (``tests/test_faults.py``).

A run passes :func:`moment` at the places where an interruption is hardest to get right: while
the compiled program is generated and compiled, while a chunk of images is simulated, at the
start of each phase, inside a checkpoint write, during a training epoch, while a trained network
is programmed onto devices, before a sweep point.
Normally this does nothing but count. With ``SPIKENET_FAULTS`` set, the process sends a real
signal to itself (or to its process group, as a terminal's Ctrl-C or a scheduler does) at the
chosen passage, at once or after a delay (so that it lands inside what follows)::

    SPIKENET_FAULTS="at=chunk,hit=3,signal=SIGINT,delay=0.4,to=group"

Several faults are separated by ``;``. Keys: ``at`` (the moment's name), ``hit`` (which passage,
from 1), ``signal`` (``SIGINT``, ``SIGTERM``, ``SIGKILL``), ``delay`` (seconds, default 0) and
``to`` (``self`` or ``group``, default ``self``).

A test facility, written here because the signal has to come from inside the process at a
moment only the process knows; no fault library does that for a Python program and its
compiled children.
"""

from __future__ import annotations

import os
import signal
import threading
from collections import Counter

__all__ = ["moment", "FAULTS_ENV", "MOMENTS"]

FAULTS_ENV = "SPIKENET_FAULTS"

MOMENTS = ("compile", "chunk", "phase_train", "phase_assign", "phase_test", "checkpoint_write", "epoch",
           "evaluate", "sweep_point", "finish")
"""Every moment a run passes (the names ``at=`` accepts)."""

_passages: Counter[str] = Counter()


def _plan() -> list[dict[str, str]]:
    text = os.environ.get(FAULTS_ENV, "")
    faults = []
    for entry in filter(None, (e.strip() for e in text.split(";"))):
        fault = dict(item.split("=", 1) for item in entry.split(","))
        if fault.get("at") not in MOMENTS:
            raise ValueError(f"{FAULTS_ENV}: unknown moment {fault.get('at')!r}; known: {', '.join(MOMENTS)}")
        faults.append(fault)
    return faults


def _send(signum: int, to: str) -> None:
    if to == "group":
        os.killpg(os.getpgid(0), signum)
    else:
        os.kill(os.getpid(), signum)


def moment(name: str) -> None:
    """Pass the moment ``name``; sends the signal ``SPIKENET_FAULTS`` asks for at this passage."""
    if FAULTS_ENV not in os.environ:
        return
    _passages[name] += 1
    for fault in _plan():
        if fault["at"] == name and int(fault.get("hit", 1)) == _passages[name]:
            signum = signal.Signals[fault.get("signal", "SIGINT")]
            to = fault.get("to", "self")
            delay = float(fault.get("delay", 0))
            if delay > 0:
                timer = threading.Timer(delay, _send, (signum, to))
                timer.daemon = True
                timer.start()
            else:
                _send(signum, to)
