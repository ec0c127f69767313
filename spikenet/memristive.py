"""Device models that store synaptic weights: how a requested weight change is applied.

A learning rule computes the change it wants (``dw``); the device decides what the stored
weight becomes. Each model exists as a Brian2 code string (for simulation) and as NumPy (for
figures and references); tests hold the two against each other.

So far only the ``ideal`` reference model: the weight takes the change exactly and is clipped to
the rule's ``[w_min, w_max]``. ("Device" alone means Brian2's code-generation target, hence
the module's name.)
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from .params.devices import IdealDeviceParams

__all__ = ["brian2_update", "numpy_update"]


def _ideal_brian2(device: IdealDeviceParams, dw: str) -> str:
    return f"w = clip(w + ({dw}), w_min, w_max)"


def _ideal_numpy(device: IdealDeviceParams, w: np.ndarray, dw: np.ndarray, w_min: float, w_max: float) -> np.ndarray:
    return np.clip(w + dw, w_min, w_max)


_BRIAN2: dict[type, Callable[..., str]] = {IdealDeviceParams: _ideal_brian2}
_NUMPY: dict[type, Callable[..., np.ndarray]] = {IdealDeviceParams: _ideal_numpy}


def brian2_update(device, dw: str) -> str:
    """The Brian2 statement that applies the requested change ``dw`` (a code expression) to ``w``.

    The statement may use ``w_min`` and ``w_max`` (the rule's range) and the device's parameters,
    which :func:`spikenet.plasticity.synapses` puts into the namespace.
    """
    return _BRIAN2[type(device)](device, dw)


def numpy_update(device, w: np.ndarray, dw: np.ndarray, w_min: float, w_max: float) -> np.ndarray:
    """NumPy twin of :func:`brian2_update`: the stored weights after requesting ``dw``."""
    return _NUMPY[type(device)](device, np.asarray(w, float), np.asarray(dw, float), w_min, w_max)
