"""Exceptions that mean "the user's input is wrong", as opposed to a bug.

The command line turns every :class:`SpikenetError` into one line, ``error: ...``, and
exit code 2; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

#: The distribution's name on the package index ("spikenet" there is an unrelated project).
DISTRIBUTION = "spikenet-memristive"


def install_hint(extra: str) -> str:
    """How to install an optional extra, from the index and from a checkout (for error messages)."""
    return (f"pip install '{DISTRIBUTION}[{extra}]' (from a checkout: "
            f"pip install -c constraints.txt -e '.[{extra}]')")


class SpikenetError(Exception):
    """Bad input: a card, an override, a data file, a run folder. The message is for users."""


class UnitError(SpikenetError, ValueError):
    """A value has no unit, an unknown unit, or a unit of the wrong dimension."""


class CardError(SpikenetError, ValueError):
    """A card (TOML file or ``--set`` override) is invalid. The message names file and key."""


class DataError(SpikenetError, OSError):
    """A data file is missing, truncated or corrupt. The message says what to do."""


class RunDirError(SpikenetError, OSError):
    """A run folder cannot be created, would overwrite another run, or cannot be read."""


class Interrupted(KeyboardInterrupt):
    """A run was stopped by a signal: SIGINT (Ctrl-C) or SIGTERM (a cluster scheduler's stop).

    A :class:`KeyboardInterrupt`, so that code which cleans up after Ctrl-C cleans up after
    SIGTERM too. ``exit_code`` is the shell's convention, 128 + the signal number (130, 143).
    """

    def __init__(self, signum: int, what: str = ""):
        import signal

        self.signum = int(signum)
        self.name = signal.Signals(self.signum).name
        super().__init__(what or f"stopped by {self.name}")

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


class IncompleteSimulation(RuntimeError):
    """A simulation ended before the end of the time it was asked to simulate (a program that was
    sent a signal of its own, a Brian2 ``stop()``): what it computed must not be counted."""
