"""Every tutorial notebook runs top to bottom on the demo atlas."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def test_notebooks_are_found_and_stored_without_outputs():
    assert {p.name for p in NOTEBOOKS} >= {
        "01_quickstart.ipynb", "02_conditions_on_pc_axes.ipynb", "03_gene_pair.ipynb", "06_networks.ipynb",
        "explorer.ipynb",
    }
    for path in NOTEBOOKS:
        cells = nbformat.read(path, as_version=4).cells
        code = [c for c in cells if c.cell_type == "code"]
        assert all(not c.get("outputs") and c.get("execution_count") is None for c in code), path


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_top_to_bottom(path, tmp_path, monkeypatch):
    monkeypatch.setenv("ATTED_EXPLORE_DATA", str(tmp_path))  # explorer.ipynb caches its demo atlas there
    monkeypatch.delenv("ATTED_EXPLORE_ATLAS", raising=False)
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    client.execute()
    errors = [o for c in notebook.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors == []
