"""A finished (or interrupted) run folder as Python objects: :func:`open_run`.

A run folder is plain files (``card.toml``, ``run.json``, ``metrics.json``, ``figures/*.csv`` and
``*.png``, ``final_state.npz`` where the experiment writes one); this module reads them into one
object for notebooks and scripts, so nobody has to remember the folder's layout::

    import spikenet as sn

    run = sn.open_run("runs/mnist_dc_n100-20261207-101500")
    run.status, run.metrics["test_accuracy"]
    run.csv["training_accuracy"]["running_accuracy"]  # a figure's data, as NumPy arrays
    run.card["network"].n_exc                         # the resolved card, typed
    run.final_state["receptive_fields"]               # what the experiment kept at the end
    run.figures["receptive_fields"]                   # the PNG's path (IPython.display.Image(...))
    run.draw()["receptive_fields"]                    # the figure itself, redrawn: a matplotlib Figure
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from .errors import RunDirError
from .runs import RunDir, open_run_dir, read_csv

__all__ = ["RunResults", "open_run"]


@dataclass(frozen=True)
class RunResults:
    """What a run folder holds, read on first use (a large CSV or state is loaded only when asked for)."""

    path: Path
    """The run folder."""

    @cached_property
    def info(self) -> dict[str, Any]:
        """``run.json``: command, versions (with the source commit), start, wall time, status."""
        return RunDir(self.path).read_info()

    @property
    def status(self) -> str:
        """``"complete"``, ``"interrupted"``, ``"failed"`` or ``"running"`` (as ``run.json`` says)."""
        return str(self.info.get("status", "unknown"))

    @property
    def smoke(self) -> bool:
        """Whether this was a smoke run (sizes shrunk to seconds: its numbers mean nothing)."""
        return bool(self.info.get("smoke", False))

    @cached_property
    def card(self):
        """The run's resolved card (:class:`spikenet.catalog.Card`), loaded as ``spikenet run --resume``
        would; ``card.toml`` repeats the run exactly."""
        from .catalog import load_card

        return load_card(self.path / "card.toml")

    @cached_property
    def metrics(self) -> dict[str, Any]:
        """``metrics.json`` (every metric of the experiment's contract); a run that did not finish
        has none, which is a :class:`~spikenet.errors.RunDirError` naming the folder."""
        run = RunDir(self.path)
        if not run.metrics.is_file():
            raise RunDirError(f"{self.path}: no metrics.json (the run is {self.status}); "
                              f"resume it with: spikenet run --resume {self.path}")
        return run.read_metrics()

    @cached_property
    def csv(self) -> dict[str, dict[str, np.ndarray]]:
        """Each figure's data, ``figures/NAME.csv``, as columns of NumPy arrays, by ``NAME``."""
        return _LazyFiles(self.path / "figures", "*.csv", read_csv)

    @property
    def figures(self) -> dict[str, Path]:
        """The PNG of each figure by name (SVG/PDF beside them where drawn)."""
        return {p.stem: p for p in sorted((self.path / "figures").glob("*.png"))}

    def draw(self) -> dict[str, Any]:
        """Every figure of the run, redrawn from its files as :class:`matplotlib.figure.Figure`
        objects by name (the names of :attr:`figures`), to change and show in a notebook or save
        elsewhere; nothing in the folder is written. The figures are not held by pyplot (a
        notebook shows one when it is the value of a cell; ``fig.savefig(...)`` saves it)."""
        from .figures import captured_figures
        from .running import runner_of

        with captured_figures() as figures:
            runner_of(self.card).draw(RunDir(self.path))
        return dict(figures)

    @cached_property
    def final_state(self) -> dict[str, np.ndarray]:
        """``final_state.npz`` (e.g. the MNIST networks' receptive fields, thresholds and weights);
        empty for an experiment that keeps no state."""
        path = self.path / "final_state.npz"
        if not path.is_file():
            return {}
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}

    def __repr__(self) -> str:
        return f"<spikenet run {self.info.get('experiment', '?')} ({self.status}) at {self.path}>"


class _LazyFiles(dict):
    """A mapping of file stems to parsed files, each parsed on first access."""

    def __init__(self, folder: Path, pattern: str, parse):
        super().__init__()
        self._paths = {p.stem: p for p in sorted(folder.glob(pattern))} if folder.is_dir() else {}
        self._parse = parse

    def __missing__(self, key: str):
        if key not in self._paths:
            raise KeyError(f"{key!r}: no such figure data; there are {', '.join(self._paths) or '(none)'}")
        value = self[key] = self._parse(self._paths[key])
        return value

    def keys(self):  # every file, parsed or not
        return self._paths.keys()

    def __iter__(self):
        return iter(self._paths)

    def __len__(self) -> int:
        return len(self._paths)

    def __contains__(self, key: object) -> bool:
        return key in self._paths

    def items(self):
        return ((k, self[k]) for k in self._paths)

    def values(self):
        return (self[k] for k in self._paths)


def open_run(path: str | Path) -> RunResults:
    """The run folder at ``path`` (one ``spikenet run`` made) as a :class:`RunResults`.

    Raises :class:`~spikenet.errors.RunDirError` if ``path`` is not a run folder.
    """
    return RunResults(open_run_dir(path).path)
