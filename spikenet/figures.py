"""The shared look of spikenet's figures, and saving them next to their data.

Figures are drawn from the CSV files in a run folder, never from live simulator objects, so
that ``spikenet figures RUN_DIR`` can redraw them without simulating.

Drawing touches no global matplotlib state: figures are :class:`matplotlib.figure.Figure` objects
that pyplot does not know (:func:`subplots`), saved without a backend being chosen, so running an
experiment in a notebook leaves the user's backend and their ``plt.show()`` as they were.
"""

from __future__ import annotations

import contextlib
import contextvars
import io
from pathlib import Path
from typing import Iterator

from typing import Any

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from .runs import RunDir, atomic_write_bytes, read_csv

__all__ = ["STYLE", "style", "subplots", "save_figure", "vector_formats", "captured_figures", "panel_grid",
           "confusion_columns", "draw_confusion", "run_dataset"]

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
    "svg.fonttype": "none",  # text stays text in SVG (editable, searchable)
    "pdf.fonttype": 42,  # TrueType fonts embedded in PDF (editable in vector editors)
}


@contextlib.contextmanager
def style() -> Iterator[None]:
    """Draw inside this context to get spikenet's style without touching global rcParams."""
    with matplotlib.rc_context(STYLE):
        yield


def subplots(*args, figsize: tuple[float, float] | None = None, **kwargs) -> tuple[Figure, Any]:
    """As :func:`matplotlib.pyplot.subplots` (same arguments), on a figure pyplot does not hold:
    no backend is chosen, no window can open, and nothing is left to close."""
    fig = Figure(figsize=figsize)  # None: rcParams["figure.figsize"], i.e. the style's when inside style()
    return fig, fig.subplots(*args, **kwargs)


def _smoke_run(path: Path) -> bool:
    """Whether the figure at ``path`` (``RUN_DIR/figures/NAME.png``) belongs to a smoke run."""
    import json

    info = path.parent.parent / "run.json"
    try:
        return bool(json.loads(info.read_text()).get("smoke", False))
    except (OSError, ValueError):
        return False


VECTOR_FORMATS = ("svg", "pdf")
"""Formats that :func:`vector_formats` can add beside every PNG."""

_EXTRA_FORMATS: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar("spikenet_extra_formats", default=())


@contextlib.contextmanager
def vector_formats(*formats: str) -> Iterator[None]:
    """Inside this context every figure is also saved as each of ``formats`` (``"svg"``, ``"pdf"``)
    beside its PNG, with the same name (``spikenet figures RUN_DIR --format svg``)."""
    unknown = [f for f in formats if f not in VECTOR_FORMATS]
    if unknown:
        raise ValueError(f"figure formats {unknown}: allowed are png (always) and {', '.join(VECTOR_FORMATS)}")
    token = _EXTRA_FORMATS.set(tuple(formats))
    try:
        yield
    finally:
        _EXTRA_FORMATS.reset(token)


_CAPTURED: contextvars.ContextVar[dict[str, Figure] | None] = contextvars.ContextVar("spikenet_captured_figures",
                                                                                     default=None)


@contextlib.contextmanager
def captured_figures() -> Iterator[dict[str, Figure]]:
    """Inside this context :func:`save_figure` writes nothing: it keeps each figure, by name, in the
    mapping this yields (how :meth:`spikenet.results.RunResults.draw` hands a run's figures to a
    notebook as :class:`~matplotlib.figure.Figure` objects to change and show)."""
    figures: dict[str, Figure] = {}
    token = _CAPTURED.set(figures)
    try:
        yield figures
    finally:
        _CAPTURED.reset(token)


def save_figure(fig: Figure, path: str | Path) -> Path:
    """Save ``fig`` as PNG at ``path`` atomically (and as the :func:`vector_formats` asked for beside
    it); a smoke run's figure says so across its top. Returns the PNG's path.

    Inside :func:`captured_figures` nothing is written: the figure is kept instead."""
    path = Path(path)
    if _smoke_run(path):
        fig.text(0.5, 1.03, "SMOKE RUN: sizes shrunk to seconds; not a result", ha="center", va="bottom",
                 color="tab:red", fontsize=11, fontweight="bold")
    captured = _CAPTURED.get()
    if captured is not None:
        captured[path.stem] = fig
        return path
    for extra in _EXTRA_FORMATS.get():
        buffer = io.BytesIO()
        fig.savefig(buffer, format=extra, bbox_inches="tight")
        atomic_write_bytes(path.with_suffix(f".{extra}"), buffer.getvalue())
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    return atomic_write_bytes(path, buffer.getvalue())


def panel_grid(n: int, cols: int, panel_size: tuple[float, float] = (3.3, 3.1), **kwargs) -> tuple:
    """A figure with ``n`` panels in rows of ``cols`` (unused places blank): ``(fig, [axes])``."""
    rows = -(-n // cols)
    fig, axes = subplots(rows, cols, figsize=(panel_size[0] * cols, panel_size[1] * rows), squeeze=False,
                             **kwargs)
    flat = list(axes.flat)
    for ax in flat[n:]:
        ax.axis("off")
    return fig, flat[:n]


def confusion_columns(matrix) -> dict[str, np.ndarray]:
    """A ``[true, predicted (+ no answer)]`` count matrix as the CSV columns :func:`draw_confusion` reads."""
    matrix = np.asarray(matrix)
    return {"true_class": np.arange(10), **{f"pred_{c}": matrix[:, c] for c in range(10)}, "no_answer": matrix[:, 10]}


def run_dataset(run: RunDir) -> str:
    """The image set a run used (``protocol.dataset`` of its resolved card; ``"mnist"`` for cards
    without the key)."""
    import tomllib

    return tomllib.loads(run.card.read_text()).get("protocol", {}).get("dataset", "mnist")


def draw_confusion(run: RunDir, name: str = "confusion", title: str = "Confusion matrix (fraction of each true class)") -> Path:
    """Draw ``figures/<name>.csv`` (columns ``true_class``, ``pred_0`` .. ``pred_9``, ``no_answer``)
    as a row-normalised confusion matrix, the true classes named as the run's dataset names them;
    returns the PNG's path."""
    from .datasets import DATASETS

    conf = read_csv(run.figures / f"{name}.csv")
    matrix = np.stack([conf[f"pred_{c}"] for c in range(10)] + [conf["no_answer"]], axis=1).astype(float)
    matrix /= np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    classes = DATASETS[run_dataset(run)].classes
    named = classes != tuple(str(c) for c in range(10))
    with style():
        figure, ax = subplots(figsize=(7.0 if named else 5.5, 4.5))
        image = ax.imshow(matrix, cmap="Blues", vmin=0, vmax=1)
        ax.grid(False)
        ax.set_xticks(range(11), [str(c) for c in range(10)] + ["none"])
        ax.set_yticks(range(10), [f"{name} ({c})" for c, name in enumerate(classes)] if named else range(10))
        ax.set_xlabel("predicted class")
        ax.set_ylabel("true class")
        ax.set_title(title)
        figure.colorbar(image, ax=ax)
        return save_figure(figure, run.figure(name))
