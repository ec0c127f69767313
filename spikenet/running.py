"""The run machinery: run one resolved experiment card into a run folder, resume it, redraw it.

Experiment runners (:mod:`spikenet.experiments`) are modules found by name; each declares its
contract in one :class:`Contract` named ``CONTRACT`` and defines

* ``simulate(card, run, log, progress) -> dict``: runs the experiment, writes the CSV files
  behind its figures into ``run.figures`` and returns its metrics (every name in
  ``CONTRACT.metrics``);
* ``draw(run) -> list[Path]``: draws its figures from those CSV files (and ``metrics.json``),
  so ``spikenet figures RUN_DIR`` redraws them without simulating;
* optionally ``check(card)``: checks that need more than the card's own schema (other cards it
  names), run before the run folder is created;
* optionally (resumable runners) ``check_checkpoint(card, arrays, meta)``, which reads a
  checkpoint as a resume would and raises :class:`~spikenet.errors.RunDirError` if it cannot be used.

The registry of runners (:func:`runners`) is derived from those contracts: a runner's kind is its
protocol's ``KIND``, and a protocol without a runner (or two runners of one protocol) is an
error when the registry is first built.

A run is never silently wrong: every check (the card, the cards it names, data files, extras,
the output folder, on resume the checkpoint and that ``card.toml`` is the one the run started
with) happens before the first file is written, so a refused command leaves the folder as it
was; the folder is locked while a process works in it; SIGINT and SIGTERM end a run as
"interrupted" with exit code 130 or 143, its last checkpoint the last complete chunk
(:mod:`spikenet.signals`).
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import json
import logging
import pkgutil
import platform
import sys
import time
import traceback
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any, Iterator

from . import __version__, faults
from .catalog import Card, card_to_toml, load_card
from .engine import seed_everything
from .errors import CardError, Interrupted, RunDirError, install_hint
from .params import PROTOCOLS
from .report import write_report
from .memristive.models import model_of
from .runs import (RunDir, atomic_write_json, atomic_write_text, create_run_dir, file_sha256, load_checkpoint,
                   open_run_dir)
from .signals import deferred, owned_signals, raise_if_received

__all__ = ["Contract", "runners", "run_experiment", "resume_experiment", "redraw", "check_card"]

NEEDS = ("mnist", "torch", "dask")
"""What a runner may need besides its card: the MNIST files, or an optional extra."""


@dataclass(frozen=True)
class Contract:
    """What an experiment runner promises: the one place its kind, metrics and needs are stated.

    Parameters
    ----------
    protocol
        The ``[protocol]`` section class it takes (:data:`spikenet.params.PROTOCOLS`); its
        ``KIND`` is the runner's registry name, the ``experiment.kind`` of its cards.
    metrics
        The names of the numbers it writes to ``metrics.json`` (a card may expect only these).
    uses_device
        Whether ``experiment.device`` stores its plastic weights; if not, naming a device is an
        error rather than silently ignored.
    resumable
        It keeps checkpoints, and ``spikenet run --resume`` continues it.
    needs
        What it needs besides the card (of :data:`NEEDS`), checked before anything is written.
    """

    protocol: type
    metrics: tuple[str, ...]
    uses_device: bool
    resumable: bool = False
    needs: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        unknown = set(self.needs) - set(NEEDS)
        if unknown:
            raise ValueError(f"unknown need {sorted(unknown)[0]!r}; allowed: {', '.join(NEEDS)}")

    @property
    def kind(self) -> str:
        return self.protocol.KIND


@cache
def runners() -> dict[str, ModuleType]:
    """Every experiment runner, by the registry name an experiment card gives in ``experiment.kind``.

    Found among the modules of :mod:`spikenet.experiments` by their ``CONTRACT`` (imported on first
    use: the runners import :mod:`spikenet.sweep`, which imports this module).
    """
    package = importlib.import_module("spikenet.experiments")
    found: dict[str, ModuleType] = {}
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        contract = getattr(module, "CONTRACT", None)
        if not isinstance(contract, Contract):
            continue
        if contract.kind in found:
            raise RuntimeError(f"two runners of {contract.kind!r}: {found[contract.kind].__name__}, {module.__name__}")
        missing = [name for name in ("simulate", "draw") if not callable(getattr(module, name, None))]
        if missing:
            raise RuntimeError(f"runner {module.__name__} defines no {missing[0]}()")
        found[contract.kind] = module
    lacking = sorted(set(PROTOCOLS) - set(found))
    if lacking:
        raise RuntimeError(f"no runner for the protocol of kind {lacking[0]!r}")
    return found


def runner_of(card: Card) -> ModuleType:
    """The runner module of an experiment card."""
    return runners()[card["experiment"].kind]


def _versions() -> dict[str, str]:
    import brian2
    import matplotlib
    import numpy
    import scipy

    return {
        "spikenet": __version__,
        "python": platform.python_version(),
        "brian2": brian2.__version__,
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "matplotlib": matplotlib.__version__,
        **{name: _installed(name) for name in ("torch", "dask") if _installed(name)},
        **({"source": source} if (source := source_commit()) else {}),
        "machine": f"{platform.system()} {platform.machine()}",
    }


@cache
def source_commit() -> str:
    """The git commit of the checkout spikenet is imported from, ``-dirty`` when its package files
    differ from that commit; ``''`` for an installed wheel or when git is not at hand.

    A run records it in ``run.json`` so that a number taken from a run folder names the code that
    made it (a version number alone does not change between commits).
    """
    import subprocess

    package = Path(__file__).resolve().parent
    try:
        def git(*args: str) -> str:
            return subprocess.run(["git", "-C", str(package), *args], capture_output=True, text=True,
                                  timeout=10, check=True).stdout.strip()

        if Path(git("rev-parse", "--show-toplevel")) != package.parent:
            return ""  # spikenet lies inside some other repository (e.g. a site-packages under one)
        commit = git("rev-parse", "--short=7", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no", "--", str(package))
    except (OSError, subprocess.SubprocessError):
        return ""
    return commit + ("-dirty" if dirty else "")


def _installed(distribution: str) -> str:
    """The installed version of an optional dependency ('' if absent), without importing it."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return ""


def _checks(card: Card, metrics: dict[str, Any]) -> dict[str, Any]:
    checks = {}
    for metric, expectation in card.expected.items():
        measured = float(metrics[metric])
        entry = {"measured": measured, "passed": expectation.passed(measured)}
        for key in ("value", "le", "ge", "tolerance", "rel_tolerance"):
            bound = getattr(expectation, key)
            if bound == bound:  # not NaN
                entry[key] = bound
        if expectation.value == expectation.value:
            entry["difference"] = measured - expectation.value
        entry["why"] = expectation.source or expectation.derivation
        checks[metric] = entry
    return checks


def run_experiment(card: Card, out: str | Path | None = None, *, progress: bool = True) -> RunDir:
    """Run an experiment card into a new run folder and return the folder.

    Parameters
    ----------
    card
        A validated experiment card (:func:`spikenet.catalog.load_card`).
    out
        The run folder; by default ``runs/<name>-<timestamp>``. It must be new or empty.
    progress
        Show progress bars.

    Raises
    ------
    SpikenetError
        Bad input (card, data, extras, folder), before anything was written.
    Interrupted
        SIGINT or SIGTERM: the folder says "interrupted"; resumable runs continue with
        :func:`resume_experiment`.
    """
    runner = check_card(card)
    with owned_signals():
        run = create_run_dir(card.meta.name, out)
        with run.lock():
            others = sorted(p.name for p in run.path.iterdir() if p != run.lock_file)
            if others:  # another process claimed the same empty --out and finished first
                raise RunDirError(f"--out {run.path}: another run's folder now (it holds {others[0]}); "
                                  "choose a new folder")
            return _run(card, runner, run, progress=progress, resumed=False)


def resume_experiment(run_dir: str | Path, *, progress: bool = True) -> RunDir:
    """Continue an interrupted run from its last checkpoint, with the card stored in its folder.

    Refused (:class:`~spikenet.errors.RunDirError`, nothing written) when the run is complete, in
    use by another process, its ``card.toml`` is not the one it started with, or its checkpoint
    is missing, corrupt or unusable.
    """
    run = open_run_dir(run_dir)
    with owned_signals(), run.lock():
        info = run.read_info()
        if info.get("status") == "complete":
            raise RunDirError(f"{run.path}: this run is complete; nothing to resume")
        recorded = info.get("card_sha256")
        if recorded is None:
            raise RunDirError(f"{run.info}: records no SHA-256 of its card (made by an older spikenet), so an edited "
                              "card.toml cannot be told from the original; start a new run")
        if file_sha256(run.card) != recorded:
            raise RunDirError(f"{run.card}: changed since the run started (its SHA-256 differs from the one in "
                              f"{run.info.name}); a run resumes only with the card it started with: start a new run")
        # The stored card is resolved (its [smoke] values applied); a sweep still needs to know it
        # was a smoke run, to resume its points as the smoke points they are.
        card = load_card(run.card, "experiments", smoke=bool(info.get("smoke", False)))
        runner = check_card(card)
        if not runner.CONTRACT.resumable:
            raise RunDirError(f"{run.path}: {card['experiment'].kind} runs are short and keep no checkpoints; "
                              "start a new run")
        saved = load_checkpoint(run)  # verified now, before anything is written
        if saved is not None and hasattr(runner, "check_checkpoint"):
            try:
                runner.check_checkpoint(card, *saved)
            except (KeyError, TypeError, ValueError, IndexError) as exc:  # a hand-edited checkpoint.json
                raise RunDirError(f"{run.path / 'checkpoint.json'}: corrupt checkpoint ({type(exc).__name__}: {exc}); "
                                  "start a new run") from None
        return _run(card, runner, run, progress=progress, resumed=True, previous=info)


def check_card(card: Card, *, runner_checks: bool = True) -> ModuleType:
    """The card's runner, after checking that the card asks only for what the runner does and that
    what it needs is there (data files, extras; with ``runner_checks``, the runner's own
    ``check``, which may look at other cards and runs). Writes nothing."""
    if card.kind != "experiments":
        raise CardError(f"{card.path}: {card.meta.name!r} is a {card.kind[:-1]} card, not an experiment")
    kind = card["experiment"].kind
    runner = runner_of(card)
    contract: Contract = runner.CONTRACT
    unknown = sorted(set(card.expected) - set(contract.metrics))
    if unknown:
        raise CardError(
            f"{card.path}: expected.{unknown[0]}: the {kind} experiment does not measure it; "
            f"it measures {', '.join(contract.metrics)}"
        )
    device = card.sections.get("device")
    if device is not None and not model_of(device).exact and not contract.uses_device:
        raise CardError(
            f"{card.path}: experiment.device = {card['experiment'].device!r}: the {kind} "
            "experiment does not store weights in a device card; leave experiment.device empty"
        )
    for need in contract.needs:
        _check_need(need, card, kind)
    if runner_checks and hasattr(runner, "check"):
        runner.check(card)
    return runner


EXTRAS = {"torch": "torch", "dask": "dask"}
"""Optional extras a runner may need: the extra's name and the module that shows it is installed."""


_VERIFIED_DATA: set[tuple[str | None, ...]] = set()
"""Which dataset was found where and verified in this process (a sweep checks many cards; loading the
data verifies the checksums again)."""


def _check_need(need: str, card: Card, kind: str) -> None:
    if need == "mnist":  # MNIST or the set of its format that the card names (protocol.dataset)
        import os

        from .datasets import CACHE_ENV, dataset, locate_dataset

        data = dataset(getattr(card["protocol"], "dataset", "mnist"))
        where = (data.name, os.environ.get(data.env), os.environ.get(CACHE_ENV))
        if where not in _VERIFIED_DATA:
            locate_dataset(data.name)  # every file present and its checksum right, or a DataError saying what to do
            _VERIFIED_DATA.add(where)
    elif need in EXTRAS:
        if importlib.util.find_spec(EXTRAS[need]) is None:
            raise CardError(f"{card.path}: the {kind} experiment needs {need}: {install_hint(need)}")
    else:
        raise AssertionError(f"unknown need {need!r} of the {kind} runner")


def _run(card: Card, runner: ModuleType, run: RunDir, *, progress: bool, resumed: bool,
         previous: dict | None = None) -> RunDir:
    info = {
        "experiment": card.meta.name,
        "kind": card["experiment"].kind,
        "seed": card["experiment"].seed,
        "smoke": card.smoke,
        "command": sys.argv,
        "versions": _versions(),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "status": "running",
    }
    if resumed and previous is not None:
        info.update(smoke=previous.get("smoke", False), started=previous.get("started"),
                    resumed=[*previous.get("resumed", []), time.strftime("%Y-%m-%dT%H:%M:%S%z")])
    log = run.logger()
    start = time.perf_counter()
    try:
        with deferred():  # the card and run.json are written together, before any signal is taken
            if not resumed:
                atomic_write_text(run.card, card_to_toml(card))
            info["card_sha256"] = file_sha256(run.card)
            atomic_write_json(run.info, info)
        log.info("%s %s (%s) seed %d%s", "resume" if resumed else "run", card.meta.name, card["experiment"].kind,
                 card["experiment"].seed, " [smoke]" if card.smoke else "")
        seed_everything(card["experiment"].seed)
        with _simulator_warnings_into(log):
            metrics = runner.simulate(card, run, log, progress)
        raise_if_received()  # a signal lost on the way (in a finaliser) still stops the run
        metrics["checks"] = _checks(card, metrics)
        metrics["smoke"] = bool(card.smoke)  # a smoke run's numbers check that it runs, nothing more
        atomic_write_json(run.metrics, metrics)
        for path in runner.draw(run):
            log.info("figure %s", path.relative_to(run.path))
        faults.moment("finish")
        info.update(status="complete", wall_time_s=round(time.perf_counter() - start, 3))
        log.info("done in %.1f s: %s", info["wall_time_s"], json.dumps({k: v for k, v in metrics.items() if k != "checks"}))
    except KeyboardInterrupt as exc:
        signal_name = exc.name if isinstance(exc, Interrupted) else "SIGINT"
        info.update(status="interrupted", signal=signal_name, wall_time_s=round(time.perf_counter() - start, 3))
        with deferred():
            log.warning("interrupted by %s%s", signal_name, f": {exc}" if str(exc) else "")
        raise
    except BaseException as exc:
        info.update(status="failed", error=f"{type(exc).__name__}: {exc}")
        with deferred():
            log.error("failed:\n%s", traceback.format_exc())
        raise
    finally:
        with deferred():  # a second Ctrl-C must not leave run.json saying "running"
            atomic_write_json(run.info, info)
            _write_report(run, log)
            run.close_logger()
    return run


def _write_report(run: RunDir, log: logging.Logger) -> None:
    """The run's ``report.html``, however the run ended; a report that cannot be written is said
    in the log and does not change how the run ended (its files are all there)."""
    try:
        write_report(run.path)
    except Exception as exc:  # noqa: BLE001 - the run's own outcome matters more than its page
        log.warning("report.html not written: %s: %s", type(exc).__name__, exc)


@contextlib.contextmanager
def _simulator_warnings_into(log: logging.Logger) -> Iterator[None]:
    """Brian2's warnings of a run go to the run's ``log.txt``, not the console (a sweep of many
    runs would otherwise print dozens of lines per run); its errors still reach the console."""
    if "brian2" not in sys.modules:  # a runner that does not simulate with Brian2
        yield
        return
    from brian2.utils.logger import BrianLogger

    brian = logging.getLogger("brian2")
    handlers = []
    for own in (h for h in log.handlers if isinstance(h, logging.FileHandler)):
        handler = logging.FileHandler(own.baseFilename, encoding="utf-8")  # warnings only, not Brian2's debug log
        handler.setLevel(logging.WARNING)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s brian2: %(message)s"))
        handlers.append(handler)
    console = BrianLogger.console_handler
    level = console.level if console is not None else None
    for handler in handlers:
        brian.addHandler(handler)
    if console is not None:
        console.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for handler in handlers:
            brian.removeHandler(handler)
            handler.close()
        if console is not None:
            console.setLevel(level)


def redraw(run_dir: str | Path) -> list[Path]:
    """Redraw a run folder's figures from its files, without simulating, and its ``report.html``
    with them."""
    run = open_run_dir(run_dir)
    card = load_card(run.card, "experiments")
    paths = runner_of(card).draw(run)
    write_report(run.path)
    return paths
