"""A notebook that uses only magics runs top to bottom in a real kernel, and its saved outputs
hold the final ledger table and the balances as static HTML (what nbconvert exports)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).parent / "notebooks" / "magics_round.ipynb"
PARTIES = ("alice", "bob", "carol")


@pytest.fixture
def python3_kernel(tmp_path, monkeypatch):
    """A ``python3`` kernelspec that starts this interpreter (the venv's ipykernel)."""
    spec_dir = tmp_path / "jupyter" / "kernels" / "python3"
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))  # searched first
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    return "python3"


def html_outputs(cell) -> list[str]:
    return [
        output["data"]["text/html"]
        for output in cell.get("outputs", [])
        if "text/html" in output.get("data", {})
    ]


def test_the_magics_notebook_runs_and_keeps_its_final_state(python3_kernel, tmp_path):
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(
        notebook,
        kernel_name=python3_kernel,
        timeout=240,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()
    nbformat.write(notebook, tmp_path / "executed.ipynb")
    cells = {cell.source.splitlines()[0]: cell for cell in notebook.cells if cell.source}

    assert (tmp_path / ".fedchain" / "chain").is_dir()  # the ledger directory is the kernel's

    # %fedledger ran before the round; its static twin was updated to the final state.
    (live_ledger,) = html_outputs(cells["%fedledger 1"])
    assert "accepted" in live_ledger
    assert all(name in live_ledger for name in PARTIES)

    (balances,) = html_outputs(cells["%fedrewards 1 --claim-all"])
    assert all(name in balances for name in PARTIES)
    assert "33.3333" in balances

    (ledger,) = html_outputs(cells["%fedtask show 1"])
    assert "accepted" in ledger and all(name in ledger for name in PARTIES)

    submit_text = "".join(
        output.get("text", "") for output in cells["%fedsubmit 1 --as bob"].outputs
    )
    assert "ciphertext" in submit_text and "gas" in submit_text and "block" in submit_text
