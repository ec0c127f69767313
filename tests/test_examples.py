"""The notebooks in examples/ run from top to bottom (at their seconds-long sizes)."""

from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SMOKE_PARAMETERS = "SMOKE = True\nWORKERS = 1\nSEEDS = 2\nSEED = 1"
"""What the tests put in each notebook's ``parameters`` cell (papermill's convention): every
experiment in its smoke size, sweeps without Dask and with two seeds (the least a spread needs)."""


def notebooks() -> list[Path]:
    return sorted(EXAMPLES.glob("*.ipynb"))


def test_there_are_the_three_notebooks_the_readme_names():
    assert [p.stem for p in notebooks()] == ["01_quickstart", "02_your_own_device", "03_sweep"]


@pytest.mark.parametrize("path", notebooks(), ids=lambda p: p.stem)
def test_a_notebook_runs_from_top_to_bottom(path, tmp_path):
    book = nbformat.read(path, as_version=4)
    assert all(not cell.get("outputs") for cell in book.cells if cell.cell_type == "code"), \
        f"{path.name}: commit notebooks without outputs (they are generated)"
    (parameters,) = [c for c in book.cells if "parameters" in c.metadata.get("tags", [])]
    parameters.source = SMOKE_PARAMETERS
    client = nbclient.NotebookClient(book, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # a cell that raises (the notebooks assert what they show) fails the test here
    outputs = [o for cell in book.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "Traceback" not in text and "TqdmWarning" not in text  # progress in a kernel without ipywidgets: text
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert images, f"{path.name} shows no figure"
    assert (tmp_path / "runs").is_dir() and not (EXAMPLES / "runs").exists()  # ran where it was told to
