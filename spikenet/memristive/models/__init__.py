"""Device model kinds, one module each (see :mod:`.base`): every module of this package that
defines a :class:`DeviceModel` subclass registers it by its parameter class on import."""

from __future__ import annotations

import importlib
import pkgutil

from .base import MODELS, NUMPY, DeviceModel, Ops, Variable, drift_factor, drifted, model_of

__all__ = ["DeviceModel", "Ops", "NUMPY", "Variable", "MODELS", "model_of", "drift_factor", "drifted"]

_loaded = False


def _load_all() -> None:
    """Import every model module of this package once (a new kind needs no list to be edited)."""
    global _loaded
    if not _loaded:
        _loaded = True
        for info in pkgutil.iter_modules(__path__):
            if info.name != "base":
                importlib.import_module(f"{__name__}.{info.name}")
