"""A new user's notebook, written from docs/magics.md alone, on data and a model no other
notebook uses: scikit-learn's wine data and an unfitted SGDClassifier. Magics only (no Python API
call): the model is initialized by ``%fedtask create --features --classes``, the global model is
fetched by ``%fedmodel``, and federated accuracy comes within 2 points of centralized."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from test_notebook import python3_kernel  # noqa: F401  (the fixture)

NOTEBOOK = Path(__file__).parent / "notebooks" / "magics_wine.ipynb"
WINERIES = ("winery-a", "winery-b", "winery-c")


def _text(cell) -> str:
    parts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            parts.append(output["text"])
        elif "text/plain" in output.get("data", {}):
            parts.append(output["data"]["text/plain"])
        elif "text/html" in output.get("data", {}):
            parts.append(output["data"]["text/html"])
    return "".join(parts)


def test_the_notebook_uses_magics_only():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    sources = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    assert "fedchain_magics." not in sources and "import fedchain" not in sources
    assert not re.search(r"\b(Session|Federation|initialize)\b", sources)


def test_wine_with_an_unfitted_model_comes_within_two_points_of_centralized(
    python3_kernel,  # noqa: F811
    tmp_path,
):
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(
        notebook,
        kernel_name=python3_kernel,
        timeout=240,
        resources={"metadata": {"path": str(tmp_path)}},
    ).execute()
    outputs = [_text(cell) for cell in notebook.cells if cell.cell_type == "code"]
    everything = "\n".join(outputs)

    accuracy = re.search(r"federated accuracy ([\d.]+) \(centralized ([\d.]+)\)", everything)
    assert accuracy, everything[-2000:]
    federated, centralized = float(accuracy.group(1)), float(accuracy.group(2))
    assert federated >= centralized - 0.02, (federated, centralized)
    assert "wine_model = task 1's global model after round 3 (3 of 3 rounds accepted)" in (
        everything
    )
    # %fedvalidate returns the vote; the ledger's rounds carry the validator's metric
    assert everything.count("VoteResult(task=1, round=") == 3
    metrics = re.findall(r"accepted\s+([\d.]+)", everything)
    assert len(metrics) >= 3 and all(0.5 < float(m) <= 1.0 for m in metrics[:3]), everything
    # %fedrewards 1: the task's three wineries, not every account of the workspace
    rewards = next(text for text in outputs if "Reward balances" in text and "task 1" in text)
    assert all(name in rewards for name in WINERIES)
    assert "validator-1" not in rewards and "coordinator" not in rewards
