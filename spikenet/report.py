"""``report.html``: one self-contained page per run folder (and per sweep folder).

A run's report shows, from the files in its folder only (no simulator is imported): a visible
mark when the run was a smoke run or did not finish; its metrics beside the card's expectations
and the published values or derivations behind them; every figure, embedded as a PNG data URI
(the page can be mailed or attached without its folder); the resolved card; the versions, the
command and how long it took. A sweep's report adds its aggregated figure and table, and links
the report of every point.

Every run writes its report when it ends, however it ends (:mod:`spikenet.running`, :mod:`spikenet.grid`);
``spikenet report RUN_DIR`` rebuilds it, e.g. after ``spikenet figures RUN_DIR``.

The page is a Jinja2 template (``templates/report.html.j2``, autoescaped), so nothing a card or a
log says can break the HTML.
"""

from __future__ import annotations

import base64
import math
import os
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import RunDirError
from .runs import _read_json, atomic_write_text, read_csv  # run.json is read as the run folders read it

__all__ = ["REPORT_NAME", "write_report", "render_report"]

REPORT_NAME = "report.html"
"""The report's file name inside a run or sweep folder."""

ARRAY_SHOWN = 12
"""A metric that is a list longer than this is summarised (its length), not printed whole."""


@dataclass(frozen=True)
class MetricRow:
    """One line of the metrics table."""

    name: str
    measured: str
    expectation: str = ""
    verdict: str = ""
    """``meets``, ``MISSES``, ``not checked (smoke)``, or empty when the card expects nothing."""
    why: str = ""
    """The published source of the expected value, or how a bound was derived."""


@dataclass(frozen=True)
class FigureItem:
    """One embedded figure, with the files it is drawn from."""

    name: str
    data_uri: str
    data_files: tuple[str, ...]
    """Folder-relative paths of the CSV (and NPZ) files behind the figure."""


def _shown(value: Any) -> str:
    """A metric value as text: 4 significant digits; NaN (``null`` in JSON) as ``nan``."""
    if value is None:
        return "nan"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return "nan" if isinstance(value, float) and math.isnan(value) else f"{value:.4g}"
    if isinstance(value, list):
        if len(value) > ARRAY_SHOWN or any(isinstance(v, (list, dict)) for v in value):
            return f"(a list of {len(value)}; see metrics.json)"
        return "[" + ", ".join(_shown(v) for v in value) + "]"
    return str(value)


def _expectation(check: dict[str, Any]) -> str:
    parts = []
    if "value" in check:
        tolerance = (f" ± {check['tolerance']:g}" if "tolerance" in check
                     else f" ± {100 * check['rel_tolerance']:g} %" if "rel_tolerance" in check else "")
        parts.append(f"= {check['value']:g}{tolerance}")
    if "ge" in check:
        parts.append(f"≥ {check['ge']:g}")
    if "le" in check:
        parts.append(f"≤ {check['le']:g}")
    return ", ".join(parts)


def metric_rows(metrics: dict[str, Any], smoke: bool) -> list[MetricRow]:
    """The metrics table: expected metrics first (with their check), then the others in the
    runner's order; a nested mapping (e.g. ``phase_seconds``) gives one row per entry."""
    checks: dict[str, dict] = metrics.get("checks", {})
    rows = []
    for name, check in checks.items():
        verdict = "not checked (smoke size)" if smoke else ("meets" if check.get("passed") else "MISSES")
        rows.append(MetricRow(name, _shown(check.get("measured")), _expectation(check), verdict,
                              str(check.get("why", ""))))
    for name, value in metrics.items():
        if name in checks or name in ("checks", "smoke"):
            continue
        if isinstance(value, dict):
            rows.extend(MetricRow(f"{name}.{key}", _shown(inner)) for key, inner in value.items())
        else:
            rows.append(MetricRow(name, _shown(value)))
    return rows


def _figures(folder: Path) -> list[FigureItem]:
    figures = folder / "figures"
    items = []
    for png in sorted(figures.glob("*.png")) if figures.is_dir() else []:
        data = sorted(str(p.relative_to(folder)) for p in figures.glob(f"{png.stem}*")
                      if p.suffix in (".csv", ".npz") and (p.stem == png.stem or p.stem.startswith(png.stem + "_")))
        uri = "data:image/png;base64," + base64.b64encode(png.read_bytes()).decode("ascii")
        items.append(FigureItem(png.stem, uri, tuple(data)))
    return items


def _card_meta(card_text: str) -> dict[str, Any]:
    try:
        return dict(tomllib.loads(card_text).get("meta", {}))
    except tomllib.TOMLDecodeError:
        return {}


def _duration(seconds: Any) -> str:
    if not isinstance(seconds, (int, float)):
        return ""
    seconds = float(seconds)
    if seconds < 120:
        return f"{seconds:.1f} s"
    hours, rest = divmod(seconds, 3600)
    return (f"{int(hours)} h " if hours else "") + f"{rest / 60:.0f} min"


def _context(folder: Path) -> dict[str, Any]:
    """What the template needs, read from a run or sweep folder."""
    sweep = (folder / "sweep.json").is_file()
    info = _read_json(folder / ("sweep.json" if sweep else "run.json"))
    card_path = folder / "card.toml"
    card_text = card_path.read_text(encoding="utf-8") if card_path.is_file() else ""
    status = str(info.get("status", "unknown"))
    smoke = bool(info.get("smoke", False))
    context: dict[str, Any] = {
        "sweep": sweep,
        "folder": str(folder),
        "experiment": info.get("experiment", folder.name),
        "kind": info.get("kind", ""),
        "meta": _card_meta(card_text),
        "status": status,
        "smoke": smoke,
        "info": info,
        "duration": _duration(info.get("wall_time_s")),
        "command": " ".join(map(str, info.get("command", []))),
        "card_text": card_text,
        "figures": _figures(folder),
        "written": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "metrics": [],
        "sweep_rows": [],
        "points": [],
    }
    metrics_path = folder / "metrics.json"
    if not sweep and metrics_path.is_file():
        context["metrics"] = metric_rows(_read_json(metrics_path), smoke)
    if sweep:
        context["points"] = [_point(folder, entry) for entry in info.get("points", [])]
        table = folder / "sweep.csv"
        if table.is_file():
            context["sweep_columns"], context["sweep_rows"] = _table(read_csv(table), info.get("metric"))
    return context


def _point(folder: Path, entry: dict[str, Any]) -> dict[str, Any]:
    run = folder / entry["run"]
    status = entry.get("status")
    if status is None and (run / "run.json").is_file():  # a sweep still running or interrupted
        status = _read_json(run / "run.json").get("status")
    report = run / REPORT_NAME
    return {"name": Path(entry["run"]).name, "values": entry.get("values", {}), "seed": entry.get("seed"),
            "status": status or "not started", "error": entry.get("error", ""),
            "link": os.path.relpath(report, folder) if report.is_file() else ""}


def _table(columns: dict[str, Any], metric: str | None) -> tuple[list[str], list[list[str]]]:
    """``sweep.csv`` as rows of text, the drawn metric's rows first."""
    names = list(columns)
    count = len(next(iter(columns.values()))) if columns else 0
    rows = [[_shown(_plain(columns[n][i])) for n in names] for i in range(count)]
    if "metric" in columns and metric:
        order = [i for i in range(count) if str(columns["metric"][i]) == metric]
        order += [i for i in range(count) if i not in set(order)]
        rows = [rows[i] for i in order]
    return names, rows


def _plain(value: Any) -> Any:
    """A NumPy scalar as the Python value it holds."""
    return value.item() if hasattr(value, "item") else value


def render_report(folder: str | os.PathLike) -> str:
    """The HTML of the report of the run or sweep folder ``folder`` (see the module's notes)."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    folder = Path(folder)
    environment = Environment(loader=PackageLoader("spikenet", "templates"),
                              autoescape=select_autoescape(default=True, default_for_string=True),
                              trim_blocks=True, lstrip_blocks=True)
    return environment.get_template("report.html.j2").render(**_context(folder))


def write_report(folder: str | os.PathLike) -> Path:
    """Write ``report.html`` into a run or sweep folder (atomically) and return its path.

    Raises :class:`~spikenet.errors.RunDirError` when ``folder`` is neither.
    """
    folder = Path(folder).resolve()
    if not folder.is_dir():
        raise RunDirError(f"{folder}: no such run folder")
    if not ((folder / "run.json").is_file() or (folder / "sweep.json").is_file()):
        raise RunDirError(f"{folder}: not a run folder or sweep folder (it has no run.json or sweep.json)")
    return atomic_write_text(folder / REPORT_NAME, render_report(folder))
