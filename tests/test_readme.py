"""The README's Quick start is what users and CI run."""

import re

from conftest import REPO


def quick_start_commands() -> list[str]:
    text = (REPO / "README.md").read_text()
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.+?)\n```", section)


def test_quick_start_has_exactly_two_one_line_commands():
    commands = quick_start_commands()
    assert len(commands) == 2 and all("\n" not in c for c in commands)
    install_and_run, install_and_test = commands
    assert install_and_run.endswith("spikenet run quickstart") and "-c constraints.txt" in install_and_run
    assert install_and_test.endswith("pytest") and "-c constraints.txt" in install_and_test


def test_ci_runs_the_readme_test_command_verbatim():
    ci = (REPO / ".ci" / "run").read_text().splitlines()
    assert quick_start_commands()[1] in ci


def test_constraints_pin_torch_and_numpy():
    pins = dict(
        line.split("==") for line in (REPO / "constraints.txt").read_text().splitlines() if "==" in line
    )
    assert pins["torch"] == "2.13.0"
    major, minor = map(int, pins["numpy"].split(".")[:2])
    assert (major, minor) < (2, 4)  # Brian2 2.9.0 does not import with numpy 2.4
    assert pins["Brian2"] == "2.9.0"
