"""report.html: every run and sweep folder gets one self-contained page; `spikenet report` rebuilds it."""

from __future__ import annotations

import base64
import json
import re
from html.parser import HTMLParser
from pathlib import Path

from spikenet.experiments import lif_fi_curve

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class StrictHTML(HTMLParser):
    """Parses a page and fails on what a validator would flag here: an end tag that closes no open
    element, an element left open, no doctype, or anything fetched from outside the page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.errors: list[str] = []
        self.doctype = False
        self.images: list[str] = []
        self.links: list[str] = []
        self.text: list[str] = []

    def handle_decl(self, decl: str) -> None:
        self.doctype |= decl.lower() == "doctype html"

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attrs = dict(attrs)
        if tag == "img":
            self.images.append(attrs.get("src") or "")
        if tag == "a":
            self.links.append(attrs.get("href") or "")
        if tag in ("script", "link", "iframe") or (tag == "style" and "src" in attrs):
            self.errors.append(f"<{tag}> in a page that must be self-contained")
        if tag not in VOID:
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        if tag not in VOID:
            self.errors.append(f"<{tag}/> is not a void element")
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.open.pop()

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.open[-1] if self.open else 'nothing'}")
        else:
            self.open.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parsed(path: Path) -> StrictHTML:
    page = StrictHTML()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    assert page.doctype, "no <!DOCTYPE html>"
    assert not page.errors, page.errors[:5]
    assert not page.open, f"left open: {page.open}"
    return page


def embedded_pngs(page: StrictHTML) -> list[bytes]:
    prefix = "data:image/png;base64,"
    assert all(src.startswith(prefix) for src in page.images), "an image that is not embedded"
    return [base64.b64decode(src[len(prefix):]) for src in page.images]


def words(page: StrictHTML) -> str:
    return re.sub(r"\s+", " ", " ".join(page.text))


def test_a_run_gets_a_valid_self_contained_report_that_spikenet_report_rebuilds(cli, tmp_path):
    out = tmp_path / "run"
    assert cli("run", "stdp_window", "--set", "protocol.n_pairings=1", "--out", out, "--no-progress")[0] == 0
    page = parsed(out / "report.html")
    figures = sorted((out / "figures").glob("*.png"))
    assert figures and embedded_pngs(page) == [p.read_bytes() for p in figures]  # every figure, as drawn
    text = words(page)
    metrics = json.loads((out / "metrics.json").read_text())
    assert all(name in text for name in metrics if name not in ("checks", "smoke"))
    for name, check in metrics["checks"].items():  # each expectation, its verdict and its source
        assert re.search(rf"{name} \S+ .*?{'meets' if check['passed'] else 'MISSES'}", text), name
        assert check["why"] in text
    assert "SMOKE RUN" not in text and "not complete" not in text
    assert 'n_pairings = 1' in text  # the resolved card
    assert json.loads((out / "run.json").read_text())["versions"]["brian2"] in text
    assert all((out / link).is_file() for link in page.links)  # the figures' data files, relative

    (out / "report.html").unlink()
    code, stdout, err = cli("report", out)
    assert code == 0 and stdout.strip() == str((out / "report.html").resolve()), err
    assert embedded_pngs(parsed(out / "report.html")) == [p.read_bytes() for p in figures]


def test_a_smoke_run_and_an_interrupted_run_say_so_on_their_page(cli, tmp_path, monkeypatch):
    smoke = tmp_path / "smoke"
    assert cli("run", "lif_fi_curve", "--smoke", "--out", smoke, "--no-progress")[0] == 0
    text = words(parsed(smoke / "report.html"))
    assert "SMOKE RUN" in text and "not checked (smoke size)" in text
    raw = (smoke / "report.html").read_text()
    assert 'class="meets"' not in raw and 'class="MISSES"' not in raw  # no verdict on a smoke size

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(lif_fi_curve, "simulate", interrupted)
    stopped = tmp_path / "stopped"
    assert cli("run", "lif_fi_curve", "--smoke", "--out", stopped, "--no-progress")[0] == 130
    text = words(parsed(stopped / "report.html"))
    assert "This run is interrupted, not complete" in text and "the run did not finish" in text
    assert f"spikenet run --resume {stopped.resolve()}" in text or f"spikenet run --resume {stopped}" in text


def test_a_sweep_report_shows_the_aggregate_and_links_every_point(cli, tmp_path):
    out = tmp_path / "sweep"
    code, _, err = cli("sweep", "lif_fi_curve", "--grid", "neuron.tau_m=10 ms,20 ms", "--seeds", "2", "--smoke",
                       "--workers", "1", "--out", out, "--no-progress")
    assert code == 0, err
    page = parsed(out / "report.html")
    assert embedded_pngs(page) == [p.read_bytes() for p in sorted((out / "figures").glob("*.png"))]
    points = sorted(p.name for p in (out / "runs").iterdir())
    reports = [link for link in page.links if link.endswith("report.html")]
    assert sorted(reports) == sorted(f"runs/{name}/report.html" for name in points)
    for link in reports:  # each point's own page, valid too
        parsed(out / link)
    text = words(page)
    assert "SMOKE RUN" in text and "neuron.tau_m" in text and "ci95" in text.lower()
    assert text.count("max_rel_error") >= 4  # the drawn metric's rows of sweep.csv: one per point

    code, stdout, _ = cli("report", out)
    assert code == 0 and stdout.strip().endswith("report.html")


def test_report_of_what_is_not_a_run_is_one_line_and_exit_2(cli, tmp_path):
    for folder, message in ((tmp_path / "missing", "no such run folder"),
                            (tmp_path, "not a run folder or sweep folder")):
        code, stdout, err = cli("report", folder)
        assert code == 2 and stdout == "" and len(err.strip().splitlines()) == 1 and err.startswith(f"error: {folder.resolve()}: {message}")
    (tmp_path / "run.json").write_text("{not json")
    code, _, err = cli("report", tmp_path)
    assert code == 2 and "run.json: not valid JSON" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "report.html").exists()
