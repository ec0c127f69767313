"""Exceptions that mean "the user's input is wrong", as opposed to a bug.

The command line turns every :class:`SpikenetError` into one line, ``error: ...``, and
exit code 2; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


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
