"""Where a run's output goes: plain progress lines when not on a terminal, Brian2's warnings in log.txt."""

import io
import logging

import brian2  # noqa: F401 (its logger)
from brian2.utils.logger import BrianLogger

from spikenet.progress import progress_bar
from spikenet.running import _simulator_warnings_into
from spikenet.runs import RunDir


def test_progress_is_plain_lines_when_the_output_is_not_a_terminal():
    out = io.StringIO()  # not a terminal
    bar = progress_bar(total=5, unit="img", desc="training", file=out, mininterval=0)
    for _ in range(5):
        bar.update(1)
    bar.close()
    text = out.getvalue()
    assert "\r" not in text and "\x1b" not in text
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) >= 2 and lines[-1].startswith("training: 100% 5/5")


def test_a_disabled_bar_writes_nothing():
    out = io.StringIO()
    bar = progress_bar(total=3, file=out, disable=True)
    bar.update(3)
    bar.close()
    assert out.getvalue() == ""


def test_brian2_warnings_of_a_run_go_to_its_log_not_the_console(tmp_path):
    run = RunDir(tmp_path)
    log = run.logger()
    console = BrianLogger.console_handler
    before = console.level
    try:
        with _simulator_warnings_into(log):
            assert console.level == logging.ERROR
            logging.getLogger("brian2.codegen.test").warning("an order-dependent abstract code block")
            logging.getLogger("brian2.codegen.test").debug("debug noise")
        assert console.level == before
        logging.getLogger("brian2.codegen.test").warning("after the run")  # not in this run's log
    finally:
        run.close_logger()
    text = run.log.read_text()
    assert "brian2: an order-dependent abstract code block" in text
    assert "debug noise" not in text and "after the run" not in text
