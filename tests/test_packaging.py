"""The cards ship with the package: a wheel installed in a fresh environment finds them."""

import os
import shutil
import site
import subprocess
import sys
from pathlib import Path

from conftest import REPO

SOURCES = ("setup.cfg", "pyproject.toml", "MANIFEST.in", "README.md", "constraints.txt", "LICENSE",
           "CITATION.cff", "CHANGELOG.md", "spikenet", "models", "devices", "experiments")


def run(*args, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, f"{' '.join(map(str, args))}\n{result.stdout}\n{result.stderr}"
    return result


def test_wheel_install_finds_the_cards(tmp_path):
    # Build from a copy, so the checkout gets no build/ or egg-info folders.
    source = tmp_path / "source"
    source.mkdir()
    for name in SOURCES:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(src, source / name)
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", tmp_path / "dist", source)
    # "spikenet" on the package index is another project: the distribution has its own name
    (wheel,) = (tmp_path / "dist").glob("spikenet_memristive-*.whl")

    # A fresh environment that gets spikenet only from the wheel, and borrows the dependencies
    # already installed here (no downloads) through a .pth file. A path listed in a .pth file
    # is searched after the venv's own site-packages, and the .pth files inside it (such as
    # this checkout's editable install) are not run.
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv)
    python = venv / "bin" / "python"
    venv_site = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))").stdout.strip())
    (venv_site / "borrowed_dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    run(python, "-m", "pip", "install", "--no-deps", "--no-index", "-q", wheel)

    env = {k: v for k, v in os.environ.items() if k != "SPIKENET_CATALOG"}
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = run(python, "-c", "import spikenet, spikenet.catalog as c; print(spikenet.__file__); "
                "print(c.find_card('ideal', 'devices'))", cwd=elsewhere, env=env).stdout.split()
    assert Path(where[0]).is_relative_to(venv), "the wheel's spikenet, not the checkout's"
    assert Path(where[1]) == venv / "share" / "spikenet" / "devices" / "ideal.toml"
    assert (Path(where[0]).parent / "py.typed").is_file(), "the package says it is typed"
    assert (Path(where[0]).parent / "templates" / "report.html.j2").is_file(), "run reports need their template"
    assert (Path(where[0]).parent / "memristive" / "include" / "spikenet_simd_math.h").is_file(), "device code needs its header"
    meta = run(python, "-c", "from importlib.metadata import metadata, files; m = metadata('spikenet-memristive'); "
               "print(m['Name'], m['License']); print(*[f.name for f in files('spikenet-memristive')])",
               cwd=elsewhere, env=env).stdout.split("\n")
    assert meta[0] == "spikenet-memristive MIT"
    assert "LICENSE" in meta[1].split()

    listing = run(venv / "bin" / "spikenet", "list", "devices", "--long", cwd=elsewhere, env=env).stdout
    assert "ideal" in listing and "source:" in listing
    experiments = run(venv / "bin" / "spikenet", "list", "experiments", cwd=elsewhere, env=env).stdout
    for card in (REPO / "experiments").glob("*.toml"):
        assert card.stem in experiments


def test_the_citation_file_is_valid_and_names_this_version():
    import yaml

    import spikenet

    cff = yaml.safe_load((REPO / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0" and cff["version"] == spikenet.__version__
    assert cff["license"] == "MIT" and (REPO / "LICENSE").read_text().startswith("MIT License")
    for reference in cff["references"]:
        assert reference["title"] and reference["authors"] and reference["year"] and reference["doi"].startswith("10.")
