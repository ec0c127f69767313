"""Input encodings: images to Poisson firing rates (Diehl & Cook 2015)."""

from __future__ import annotations

import numpy as np
from brian2 import Hz, Quantity

__all__ = ["N_PIXELS", "pixel_rates"]

N_PIXELS = 28 * 28
"""Inputs of an MNIST network: one per pixel."""


def pixel_rates(images: np.ndarray, intensity: float = 2.0, max_pixel: float = 255.0) -> Quantity:
    """Poisson rates proportional to pixel values: ``pixel / 8 * intensity`` Hz for 8-bit images.

    With the authors' intensity 2 a white pixel (255) fires at 63.75 Hz; their code raises the
    intensity by 1 each time an example is repeated because the layer fired fewer than 5 spikes.

    Parameters
    ----------
    images
        Pixel values, any shape, ``0 .. max_pixel``.
    intensity
        Multiplier of the rates.
    max_pixel
        The largest pixel value (255 for MNIST).
    """
    images = np.asarray(images, dtype=float)
    if images.size and (images.min() < 0 or images.max() > max_pixel):
        raise ValueError(f"pixel values must lie in [0, {max_pixel:g}]")
    return images * (255.0 / max_pixel) / 8.0 * intensity * Hz
