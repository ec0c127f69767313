"""The shared look of spikenet's figures, and saving them next to their data.

Figures are drawn from the CSV files in a run folder, never from live simulator objects, so
that ``spikenet figures RUN_DIR`` can redraw them without simulating.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from typing import Iterator

import matplotlib

matplotlib.use("Agg")  # files only; never opens a window
import matplotlib.pyplot as plt  # noqa: E402

from .runs import atomic_write_bytes  # noqa: E402

__all__ = ["STYLE", "style", "save_figure", "panel_grid"]

STYLE = {
    "figure.figsize": (6.4, 4.8),
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "font.size": 10,
    "axes.titlesize": 10,
    "axes.labelsize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "legend.frameon": False,
    "lines.linewidth": 1.5,
    "lines.markersize": 4,
}


@contextlib.contextmanager
def style() -> Iterator[None]:
    """Draw inside this context to get spikenet's style without touching global rcParams."""
    with plt.rc_context(STYLE):
        yield


def save_figure(fig: "plt.Figure", path: str | Path) -> Path:
    """Save ``fig`` as PNG at ``path`` atomically and close it."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    plt.close(fig)
    return atomic_write_bytes(path, buffer.getvalue())


def panel_grid(n: int, cols: int, panel_size: tuple[float, float] = (3.3, 3.1), **kwargs) -> tuple:
    """A figure with ``n`` panels in rows of ``cols`` (unused places blank): ``(fig, [axes])``."""
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(panel_size[0] * cols, panel_size[1] * rows), squeeze=False,
                             **kwargs)
    flat = list(axes.flat)
    for ax in flat[n:]:
        ax.axis("off")
    return fig, flat[:n]
