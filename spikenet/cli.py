"""The ``spikenet`` command line: argument parsing and messages only.

Bad input (a card, an override, a data file, a run folder) ends with one line
``error: ...`` on stderr and exit code 2, without a traceback; Ctrl-C (SIGINT) ends with exit
code 130 and SIGTERM with 143. Anything else is a bug in spikenet: one line that says so and
where its traceback was written, exit code 1.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from . import __version__
from .errors import SpikenetError

EXIT_BUG = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


def _card_names(kinds: tuple[str, ...]):
    """Shell completion of a card argument: the names of the cards of ``kinds`` (in ``--catalog``
    first, as the command would search), or file paths once the word looks like one."""

    def complete(ctx: click.Context, param: click.Parameter, incomplete: str) -> list:
        from click.shell_completion import CompletionItem

        if "/" in incomplete or incomplete.endswith(".toml") or incomplete.startswith("."):
            return [CompletionItem(incomplete, type="file")]
        from .card_files import list_cards

        catalog = ctx.find_root().params.get("catalog")
        names: set[str] = set()
        for kind in kinds:
            try:
                names.update(info.name for info in list_cards(kind, catalog))
            except SpikenetError:  # a wrong --catalog: nothing to offer, the command will say why
                pass
        return [CompletionItem(name) for name in sorted(names) if name.startswith(incomplete)]

    return complete


class _Group(click.Group):
    """A click group that turns spikenet's input errors into one line and exit code 2."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except SpikenetError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(EXIT_BAD_INPUT)
        except KeyboardInterrupt as exc:
            return ctx.exit(_interrupted(exc))


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="spikenet")
@click.option(
    "--catalog",
    type=click.Path(file_okay=False, path_type=Path),
    help="A folder with models/, devices/, experiments/ searched first (then $SPIKENET_CATALOG, then the built-in cards).",
)
@click.pass_context
def cli(ctx: click.Context, catalog: Path | None) -> None:
    """Neuromorphic learning experiments: LIF neurons, STDP and noisy memristive synapses.

    \b
    spikenet list experiments        what can be run
    spikenet show lif_fi_curve       the resolved card, every value with its unit
    spikenet run quickstart          run it; prints the run folder
    spikenet sweep CARD --grid K=V1,V2 --seeds 3 --out DIR   a grid of runs, mean and 95 % CI
    spikenet figures RUN_DIR         redraw a run's figures from its files
    spikenet report RUN_DIR          rebuild its report.html (figures inline, metrics, card)
    spikenet data check              verify the MNIST files
    """
    ctx.obj = {"catalog": catalog}
    if catalog is not None:
        # Runners look cards up by name too (device_curves lists every device card): searching
        # the folder first for the whole process makes them see it.
        from .catalog import CATALOG_ENV, catalog_roots

        catalog_roots(catalog)  # a missing folder is reported here, as a card error
        previous = os.environ.get(CATALOG_ENV)
        os.environ[CATALOG_ENV] = os.pathsep.join(filter(None, [str(catalog), previous]))


@cli.command("list")
@click.argument("kind", required=False, type=click.Choice(["models", "devices", "experiments"]))
@click.option("--long", "long_", is_flag=True, help="Each card's whole description and its source.")
@click.pass_context
def list_command(ctx: click.Context, kind: str | None, long_: bool) -> None:
    """List cards: a table of name, what each is and its description (all kinds if KIND is left out).

    Descriptions are cut to the terminal's width; --long prints them whole, with each card's source
    (`spikenet show NAME` prints the whole card)."""
    # card_files, not catalog: listing reads the cards' files and imports no simulator
    from .card_files import KINDS, list_cards

    import shutil

    width = shutil.get_terminal_size((100, 24)).columns
    for k in [kind] if kind else KINDS:
        infos = list_cards(k, ctx.obj["catalog"])
        click.echo(f"{k}:")
        if not infos:
            click.echo("  (none)")
            continue
        name_w = max(len(i.name) for i in infos)
        what_w = max(len(i.what) for i in infos)
        room = max(20, width - name_w - what_w - 6)
        for info in infos:
            text = info.description if long_ or len(info.description) <= room else info.description[:room - 1] + "…"
            click.echo(f"  {info.name:<{name_w}}  {info.what:<{what_w}}  {text}")
            if long_:
                click.echo(f"  {'':<{name_w}}  {'':<{what_w}}  source: {info.source}")


@cli.command()
@click.argument("name", shell_complete=_card_names(("models", "devices", "experiments")))
@click.option("--set", "overrides", multiple=True, metavar="SECTION.KEY=VALUE", help="Override a value (repeatable).")
@click.option("--smoke", is_flag=True, help="Show the seconds-long version of an experiment.")
@click.pass_context
def show(ctx: click.Context, name: str, overrides: tuple[str, ...], smoke: bool) -> None:
    """Print the fully resolved card NAME (or KIND/NAME, or a path to a .toml file)."""
    from .catalog import KINDS, card_to_toml, catalog_roots, find_card, guess_kind, load_card
    from .errors import CardError

    catalog = ctx.obj["catalog"]
    if name.endswith(".toml"):
        card = load_card(Path(name), guess_kind(name), overrides=overrides, smoke=smoke, catalog=catalog)
    else:
        kind, _, bare = name.rpartition("/")
        kinds = [kind] if kind else list(KINDS)
        roots = catalog_roots(catalog)
        found = []
        for k in kinds:
            try:
                find_card(bare, k, roots)
                found.append(k)
            except CardError:
                pass
        if not found:
            raise CardError(f"no card named {name!r}; see `spikenet list`")
        if len(found) > 1:
            raise CardError(f"{name!r} is a card of several kinds; say which: " + ", ".join(f"{k}/{bare}" for k in found))
        card = load_card(bare, found[0], overrides=overrides, smoke=smoke, catalog=catalog)
    click.echo(card_to_toml(card), nl=False)


@cli.command()
@click.argument("experiment", required=False, shell_complete=_card_names(("experiments",)))
@click.option("--resume", "resume_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Continue the interrupted run in this folder from its last checkpoint.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Run folder (default runs/NAME-TIMESTAMP).")
@click.option("--set", "overrides", multiple=True, metavar="SECTION.KEY=VALUE", help="Override a value (repeatable).")
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), help="Seed of every random generator.")
@click.option("--smoke", is_flag=True, help="Shrink the experiment to seconds (for tests).")
@click.option("--progress/--no-progress", default=True, help="Show progress bars.")
@click.pass_context
def run(ctx, experiment: str | None, resume_dir: Path | None, out: Path | None, overrides: tuple[str, ...],
        seed: int | None, smoke: bool, progress: bool) -> None:
    """Run EXPERIMENT (a card name or a path to a card file) and print where the results are.

    With --resume RUN_DIR, continue an interrupted run instead (its card is in RUN_DIR).
    """
    from .catalog import load_card
    from .errors import CardError
    from .running import resume_experiment, run_experiment

    if resume_dir is not None:
        if experiment or out or overrides or seed is not None or smoke:
            raise CardError("--resume RUN_DIR continues a run with the card in RUN_DIR; "
                            "give no EXPERIMENT, --out, --set, --seed or --smoke with it")
        run_dir = resume_experiment(resume_dir, progress=progress)
        smoke = bool(run_dir.read_info().get("smoke"))
    else:
        if not experiment:
            raise CardError("spikenet run: give an EXPERIMENT (see `spikenet list experiments`) or --resume RUN_DIR")
        card = load_card(experiment, "experiments", overrides=overrides, smoke=smoke, seed=seed,
                         catalog=ctx.obj["catalog"])
        run_dir = run_experiment(card, out, progress=progress)
        smoke = card.smoke
    metrics = run_dir.read_metrics()
    if smoke:
        click.echo("smoke run: a seconds-long check that everything runs, not a result")
    for metric, check in metrics.get("checks", {}).items():
        bounds = ", ".join(f"{k} {check[k]:g}" for k in ("value", "le", "ge") if k in check)
        measured = "nan" if check["measured"] is None else f"{check['measured']:.4g}"  # JSON writes NaN as null
        if smoke:  # the card's expectations are for its full size
            click.echo(f"{metric} = {measured} (smoke size: not checked against the card's expectation, {bounds})")
        else:
            verdict = "meets" if check["passed"] else "MISSES"
            click.echo(f"{metric} = {measured} ({verdict} the card's expectation: {bounds})")
    click.echo(f"results in {run_dir.path}")


@cli.command()
@click.argument("experiment", shell_complete=_card_names(("experiments",)))
@click.option("--grid", "grid", multiple=True, metavar="SECTION.KEY=V1,V2,...",
              help="Values of one key to sweep (repeatable: the sweep runs the cross product).")
@click.option("--seeds", type=click.IntRange(1, 1000), default=1, show_default=True,
              help="Runs per grid point, with seeds SEED, SEED+1, ...")
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), help="The first seed (default: the card's).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="The sweep's folder; run the command again with it to resume.")
@click.option("--metric", help="The metric drawn against the grid (default: the card's first expected one).")
@click.option("--workers", type=click.IntRange(0, 1024), default=0, show_default=True,
              help="Local Dask workers (0: one per core; 1: one run after the other, without Dask).")
@click.option("--scheduler", metavar="ADDRESS", help="A running Dask scheduler, e.g. tcp://host:8786 "
              "(default: $SPIKENET_DASK_SCHEDULER, else a local cluster).")
@click.option("--set", "overrides", multiple=True, metavar="SECTION.KEY=VALUE", help="Override a value of every point.")
@click.option("--smoke", is_flag=True, help="Every point in its seconds-long size (for tests).")
@click.option("--progress/--no-progress", default=True, help="Show a progress bar over the runs.")
@click.pass_context
def sweep(ctx, experiment: str, grid: tuple[str, ...], seeds: int, seed: int | None, out: Path, metric: str | None,
          workers: int, scheduler: str | None, overrides: tuple[str, ...], smoke: bool, progress: bool) -> None:
    """Run EXPERIMENT at every combination of the --grid values, --seeds times each, and aggregate.

    \b
    spikenet sweep mnist_querlioz_pcm_2pcm --grid device.c2c_std=0,0.05,0.1 --seeds 3 --out c2c
    Writes OUT/sweep.csv (every scalar metric per point: each seed's value, mean, standard
    deviation, 95 % confidence interval), OUT/runs.csv, OUT/figures/sweep_METRIC.png and one run
    folder per point and seed in OUT/runs/. A run that fails is recorded and the rest go on.
    """
    from .grid import plan_sweep, run_sweep

    planned = plan_sweep(experiment, grid, seeds=seeds, seed=seed, overrides=overrides, smoke=smoke,
                         catalog=ctx.obj["catalog"])
    outcome = run_sweep(planned, out, metric=metric, workers=workers, scheduler=scheduler, progress=progress,
                        announce=lambda line: click.echo(line, err=True))
    if smoke:
        click.echo("smoke run: a seconds-long check that everything runs, not a result")
    for name, error in outcome.failures.items():
        click.echo(f"run {name} FAILED: {error} (see {outcome.folder / 'runs' / name / 'log.txt'})")
    done = len(planned.points) - len(outcome.failures)
    click.echo(f"{done} of {len(planned.points)} runs complete; {outcome.metric} per point in "
               f"{outcome.folder / 'sweep.csv'}" + (f", drawn in {outcome.figure}" if outcome.figure else ""))
    click.echo(f"results in {outcome.folder}")
    if outcome.failures:
        ctx.exit(EXIT_BUG)


@cli.command()
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option("--format", "formats", multiple=True, type=click.Choice(["svg", "pdf"]),
              help="Also save each figure in this vector format beside its PNG (repeatable).")
def figures(run_dir: Path, formats: tuple[str, ...]) -> None:
    """Redraw the figures of RUN_DIR from its files, without simulating."""
    from .figures import vector_formats
    from .running import redraw

    with vector_formats(*formats):
        for path in redraw(run_dir):
            click.echo(str(path))
            for extra in formats:
                click.echo(str(path.with_suffix(f".{extra}")))


@cli.command()
@click.argument("run_dir", type=click.Path(path_type=Path))
def report(run_dir: Path) -> None:
    """Rebuild RUN_DIR/report.html (a run or a sweep folder): one self-contained page with its
    metrics beside the card's expectations, every figure, the resolved card and the versions."""
    from .report import write_report

    click.echo(str(write_report(run_dir)))


@cli.group()
def data() -> None:
    """Datasets: find and verify MNIST and Fashion-MNIST."""


@data.command("check")
@click.option("--dataset", "name", type=click.Choice(["mnist", "fashion_mnist"]), default="mnist", show_default=True,
              help="Which image set.")
@click.option("--path", type=click.Path(path_type=Path), help="Folder with the dataset's four .gz files.")
@click.option("--download", is_flag=True, help="Download into the user cache if the files are not found.")
def data_check(name: str, path: Path | None, download: bool) -> None:
    """Verify a dataset's files against their published checksums and print where they are."""
    from .datasets import check_dataset

    for line in check_dataset(name, path, download=download):
        click.echo(line)


def _interrupted(exc: BaseException) -> int:
    """Say how the run was stopped; the exit code is the shell's 128 + signal number."""
    from .errors import Interrupted

    _quiet_abandoned_networks()
    if isinstance(exc, Interrupted):
        click.echo(f"interrupted ({exc.name})" if exc.name != "SIGINT" else "interrupted", err=True)
        return exc.exit_code
    click.echo("interrupted", err=True)
    return EXIT_INTERRUPTED


def _quiet_abandoned_networks() -> None:
    """A run stopped while it built a network leaves Brian2 objects that were never run; Brian2
    warns about each when it is collected at exit, which would bury the one line that matters."""
    if "brian2" in sys.modules:
        from brian2.utils.logger import BrianLogger

        BrianLogger.suppress_name("unused_brian_object")


def _bug(exc: BaseException) -> int:
    """An error that is not bad input: spikenet's own one line (not Brian2's "report this to the
    Brian team" banner), with the traceback written to a file for the bug report."""
    import tempfile  # here: the commands that work import none of this
    import time
    import traceback

    text = "".join(traceback.format_exception(exc))
    name = f"spikenet-error-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.txt"
    where = Path(tempfile.gettempdir()) / name
    try:
        where.write_text(f"spikenet {__version__}, argv {sys.argv}\n{text}", encoding="utf-8")
        told = f"the traceback is in {where}"
    except OSError:
        told = "the traceback could not be written to a file:\n" + text
    message = str(exc).splitlines()[0] if str(exc) else ""
    _quiet_abandoned_networks()
    click.echo(f"error: unexpected {type(exc).__name__}{': ' + message if message else ''} "
               f"(a bug in spikenet, not in your input; {told}; a run folder's log.txt has it too)", err=True)
    return EXIT_BUG


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``spikenet`` console script; returns the exit code."""
    try:
        # Without standalone mode click returns ctx.exit()'s code instead of calling sys.exit.
        result = cli.main(args=argv, prog_name="spikenet", standalone_mode=False)
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("interrupted", err=True)
        return EXIT_INTERRUPTED
    except KeyboardInterrupt as exc:  # outside a command's own handling (while importing, say)
        return _interrupted(exc)
    except Exception as exc:
        return _bug(exc)
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())
