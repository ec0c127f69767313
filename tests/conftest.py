"""Shared fixtures: the MNIST folder, a scratch catalog, and running the CLI in-process."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

if os.environ.get("PYTEST_XDIST_WORKER"):
    # One thread per test process: two pytest-xdist workers each running torch (or OpenBLAS) with a
    # thread per core made the torch smoke runs 20x slower (mnist_cnn: 6.8 s alone, 129 s side by side).
    for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_var, "1")

from spikenet.cli import main  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


def _data_folder(env: str, title: str) -> Path:
    """The verified files of a dataset (the folder ``$env`` names). CI sets SPIKENET_REQUIRE_DATA=1
    so a missing folder fails the tests that need it instead of skipping them."""
    folder = os.environ.get(env)
    if folder and Path(folder, "train-images-idx3-ubyte.gz").is_file():
        return Path(folder)
    message = f"{title} files not found ({env}={folder!r})"
    if os.environ.get("SPIKENET_REQUIRE_DATA"):
        pytest.fail(message + " but SPIKENET_REQUIRE_DATA is set")
    pytest.skip(message + f"; set {env} to run this test")


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The verified MNIST files ($SPIKENET_DATA)."""
    return _data_folder("SPIKENET_DATA", "MNIST")


@pytest.fixture(scope="session")
def fashion_dir() -> Path:
    """The verified Fashion-MNIST files ($SPIKENET_FASHION_DATA)."""
    return _data_folder("SPIKENET_FASHION_DATA", "Fashion-MNIST")


@pytest.fixture
def no_mnist_env(monkeypatch, tmp_path):
    """No SPIKENET_DATA, and a user cache of our own in tmp_path."""
    monkeypatch.delenv("SPIKENET_DATA", raising=False)
    monkeypatch.setenv("SPIKENET_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache" / "mnist"


@pytest.fixture
def catalog(tmp_path, monkeypatch) -> Path:
    """An empty scratch catalog searched before the built-in cards."""
    root = tmp_path / "catalog"
    for kind in ("models", "devices", "experiments"):
        (root / kind).mkdir(parents=True)
    monkeypatch.setenv("SPIKENET_CATALOG", str(root))
    return root


@pytest.fixture
def write_card(catalog):
    """write_card("models", "name", text) writes a card into the scratch catalog."""

    def write(kind: str, name: str, text: str) -> Path:
        path = catalog / kind / f"{name}.toml"
        path.write_text(text)
        return path

    return write


@pytest.fixture
def cli(capsys):
    """cli("run", "x", ...) -> (exit code, stdout, stderr), running spikenet in-process."""

    def run(*args: str) -> tuple[int, str, str]:
        code = main([str(a) for a in args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def copy_of(tmp_path):
    def copy(src: Path, name: str | None = None) -> Path:
        dst = tmp_path / (name or src.name)
        shutil.copy(src, dst)
        return dst

    return copy


def pytest_configure(config):
    """Brian2's code-generation target for the tests: $SPIKENET_TEST_TARGET, by default ``numpy``.

    On a fresh machine, compiling every test's code with Cython takes most of ten minutes; the
    numpy target compiles nothing and gives the same numbers. One test
    (test_cli.py::test_compiled_target_gives_the_same_result) runs the default compiled target
    in a subprocess and compares.
    """
    from brian2 import prefs

    prefs.codegen.target = os.environ.get("SPIKENET_TEST_TARGET", "numpy")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """A spikenet ``Interrupted`` (a KeyboardInterrupt) escaping a test fails that test with its
    message, instead of stopping the whole session (under xdist: "node down: keyboard-interrupt")."""
    from spikenet.errors import Interrupted

    try:
        return (yield)
    except Interrupted as exc:
        raise AssertionError(f"{type(exc).__name__} escaped the test: {exc}") from exc
