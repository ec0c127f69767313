"""How a Brian2 network is run: seeding, progress, and the two engines for long MNIST runs.

* :func:`run_network`: Brian2's runtime mode with an explicit namespace and a progress bar.
* :class:`RuntimeEngine` and :class:`CompiledEngine` run a network that shows a table of images
  by itself (:mod:`spikenet.networks`), one *run* (a chunk of images) at a time, and hand back
  the state the next run starts from. The runtime engine builds the network anew for each run
  in Brian2's runtime mode (tiny runs, tests). The compiled engine builds one Brian2
  ``cpp_standalone`` program once and feeds each run its images, weights, thresholds,
  switches and seed through ``run_args``: no code generation or compilation per run.

Both engines run the same network code; a test holds them against each other. A run counts only
when the simulator reports that it simulated all the time it was asked to (Brian2 ends a run
early, without an error, on Ctrl-C or ``stop()``): otherwise the engines raise
:class:`~spikenet.errors.Interrupted` (a signal stopped it) or
:class:`~spikenet.errors.IncompleteSimulation`, and nothing of that run is used.
"""

from __future__ import annotations

import os
import random
import shutil
from pathlib import Path
from typing import Any, Callable, Protocol

import numpy as np
from brian2 import Network, Quantity, check_units, second
from brian2 import seed as brian2_seed
from spikenet.progress import progress_bar

from . import faults
from .errors import IncompleteSimulation, Interrupted

__all__ = ["seed_everything", "run_network", "run_seed", "Engine", "RuntimeEngine", "CompiledEngine"]


def seed_everything(seed: int) -> np.random.Generator:
    """Seed Brian2's generator (used by generated code), NumPy's global one and Python's.

    Returns a fresh :class:`numpy.random.Generator` from the same seed, for code of our own.
    """
    brian2_seed(seed)
    np.random.seed(seed)
    random.seed(seed)
    return np.random.default_rng(seed)


def run_seed(seed: int, *keys: int) -> int:
    """A seed for one run, derived from the experiment's seed and the run's position (phase, index):
    the same run gets the same seed after an interruption and resume."""
    return int(np.random.SeedSequence([seed, *keys]).generate_state(1)[0] % (2**31 - 1))


@check_units(duration=second)
def run_network(network: Network, duration: Quantity, *, progress: bool = True, description: str = "simulating") -> None:
    """Run ``network`` for ``duration`` with an explicit (empty) namespace and a progress bar.

    Every group must carry its own namespace (the builders in :mod:`spikenet.neurons` do), so
    nothing is picked up from the caller's variables.
    """
    total = float(duration / second)
    bar = progress_bar(total=total, unit="s sim", desc=description, disable=not progress, leave=False)

    def report(elapsed, completed, start, period):  # Brian2's report callback signature
        bar.n = round(float(completed) * total, 6)
        bar.refresh()

    start = float(network.t / second)
    try:
        network.run(duration, namespace={}, report=report, report_period=1 * second)
    finally:
        bar.close()
    check_simulated(float(network.t / second) - start, total, "the network")


def check_simulated(simulated: float, asked: float, what: str, *, signalled: bool = False) -> None:
    """Raise unless ``simulated`` (s) is all of ``asked`` (s): Brian2 stops a run early without an
    error when it is sent SIGINT (its own handler) or ``stop()`` is called. ``signalled``: only a
    signal can have stopped it (a compiled program stops early only on SIGINT)."""
    if simulated < asked * (1 - 1e-9) - 1e-12:
        from brian2.core.network import Network

        message = (f"{what} simulated {simulated:g} s of the {asked:g} s it was asked for; "
                   "that run is discarded")
        if signalled or Network._globally_stopped:
            import signal

            raise Interrupted(signal.SIGINT, message + " (Brian2 was sent SIGINT)")
        raise IncompleteSimulation(message)


class Engine(Protocol):
    """Runs one chunk of images from a state and returns the next state and what was shown."""

    def run(self, rows: np.ndarray, state: Any, *, plastic: bool, seed: int) -> tuple[Any, Any]: ...

    def close(self) -> None: ...


Builder = Callable[..., Any]
"""``build(state, images=None)`` -> a network object with ``network``, ``duration``,
``assignments(rows, state, plastic=, seed=)``, ``read_state()``, ``read_presentations(n_rows)``."""


class RuntimeEngine:
    """Brian2 runtime mode: the network is built anew for every run (code generation each time)."""

    def __init__(self, build: Builder):
        self._build = build

    def run(self, rows: np.ndarray, state: Any, *, plastic: bool, seed: int) -> tuple[Any, Any]:
        net = self._build(state, images=rows)
        for view, value in net.assignments(rows, state, plastic=plastic, seed=seed).items():
            _assign(view, value)
        brian2_seed(seed)
        faults.moment("chunk")
        start = float(net.network.t / second)
        net.network.run(net.duration, namespace={})
        check_simulated(float(net.network.t / second) - start, float(net.duration / second), "the runtime network")
        return net.read_state(), net.read_presentations(len(rows))

    def close(self) -> None:
        pass


def _assign(key: Any, value: Any) -> None:
    from brian2 import TimedArray

    if isinstance(key, TimedArray):
        return  # a runtime network is built with its images (build(state, images=rows))
    key[:] = value


class CompiledEngine:
    """One Brian2 ``cpp_standalone`` program, compiled once and run once per chunk of images.

    Brian2's standalone device is global to the Python process: while a compiled engine is open,
    other Brian2 code in the same process would be added to its program. Use it as a context
    manager (or call :meth:`close`), which gives the runtime device back.

    Parameters
    ----------
    build
        Builds the network (called once, with the initial state).
    state
        The initial state (its array sizes fix the program's).
    directory
        Where the C++ project is written and compiled (deleted by :meth:`close` unless ``keep``).
    profile
        Let Brian2 time every code object (``brian2.profiling_summary(engine.net.network)``).
    """

    def __init__(self, build: Builder, state: Any, directory: str | os.PathLike, *, keep: bool = False,
                 profile: bool = False):
        from brian2 import device, prefs, set_device

        self.directory = Path(directory)
        self.keep = keep
        faults.moment("compile")
        set_device("cpp_standalone", directory=str(self.directory), build_on_run=False)
        self._device = device
        try:
            # One simulation per core: OpenMP with 2 threads ran 2x slower than 1 on this machine.
            prefs.devices.cpp_standalone.openmp_threads = 0
            self.net = build(state)
            device.apply_run_args()
            # Each run gets its own seed: reseed the generator after the run arguments are set
            # (Brian2's seed() would bake one fixed seed into the program).
            seed_array = device.get_array_name(self.net.ctrl.variables["rng_seed"])
            device.insert_code("main", f"brian::_random_generators[0].seed((unsigned long) brian::{seed_array}[0]);")
            self.net.network.run(self.net.duration, namespace={}, profile=profile)
            device.build(directory=str(self.directory), run=False, compile=True, with_output=False)
        except BaseException:
            self.close()
            raise

    def run(self, rows: np.ndarray, state: Any, *, plastic: bool, seed: int) -> tuple[Any, Any]:
        run_args = self.net.assignments(rows, state, plastic=plastic, seed=seed)
        results = Path(self._device.results_dir)
        info = (results if results.is_absolute() else self.directory / results) / "last_run_info.txt"
        info.unlink(missing_ok=True)  # else a program that died early would leave the last run's report
        faults.moment("chunk")
        try:
            self._device.run(run_args=run_args, with_output=False)
            if not info.is_file():
                raise IncompleteSimulation(f"the compiled program in {self.directory} wrote no report of its run; "
                                           "that run is discarded")
            # The program's own report, read from the file rather than from Brian2's device object,
            # which is shared by every compiled network of the process and may hold another run's value.
            fraction = float(info.read_text().split()[1])
            duration = float(self.net.duration / second)
            check_simulated(fraction * duration, duration, "the compiled program", signalled=True)
        finally:
            for name in list(self._device.run_args_arrays):  # per-run input files: remove them
                for path in (self.directory / "static_arrays" / name, self.directory / "static_arrays" / f"{name}.lock"):
                    path.unlink(missing_ok=True)
        return self.net.read_state(), self.net.read_presentations(len(rows))

    def close(self) -> None:
        from brian2 import set_device

        self._device.reinit()
        set_device("runtime")
        if not self.keep:
            shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> "CompiledEngine":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def present(
    engine: Engine,
    images: np.ndarray,
    state: Any,
    *,
    plastic: bool,
    chunk: int,
    seed: int,
    phase: int,
    start: int = 0,
    run_index: int = 0,
    fresh: Callable[[Any], Any] | None = None,
):
    """Show ``images[start:]`` in runs of at most ``chunk``; yield after each run.

    Each run starts at the first image the previous one did not finish (an image still being
    repeated carries its raised intensity over). Yields ``(position, presentations, state,
    run_index)``: ``position`` is the index of the run's first image, ``presentations`` what it
    finished (:class:`spikenet.networks.Presentations`), ``state`` what the next run starts from,
    and ``run_index`` the index of the next run. Each run's seed is :func:`run_seed` of
    ``(seed, phase, run_index)``, so a resumed phase repeats exactly what an uninterrupted one does.

    Parameters
    ----------
    fresh
        Called with the state after a run that finished all its images, to reset the intensity
        of the next image (the rest of that run showed silent rows).
    """
    position = start
    while position < len(images):
        rows = images[position: position + chunk]
        state, shown = engine.run(rows, state, plastic=plastic, seed=run_seed(seed, phase, run_index))
        if len(shown.rows) and not np.array_equal(shown.rows, np.arange(len(shown.rows))):
            raise RuntimeError(f"images finished out of order: {shown.rows[:10]}")
        if len(shown.rows) == len(rows) and fresh is not None:
            state = fresh(state)
        run_index += 1
        yield position, shown, state, run_index
        position += len(shown.rows)
