"""The notebooks as committed: no outputs, the python3 kernel, an opening that says what and
why, a summary cell the tests and `make demo` read, and the public API only."""

from __future__ import annotations

import ast
import itertools

import nbformat
import pytest
from IPython.core.inputtransformer2 import TransformerManager
from notebook_helpers import NOTEBOOKS, NOTEBOOKS_DIR

from fedchain_magics.demo import SUMMARY_TAG


def imports(source: str) -> list[tuple[str, str]]:
    """(module, name) of every import in a notebook cell, magics translated to Python first."""
    tree = ast.parse(TransformerManager().transform_cell(source))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            found.extend((node.module or "", alias.name) for alias in node.names)
        elif isinstance(node, ast.Import):
            found.extend((alias.name, "") for alias in node.names)
    return found


def test_the_first_three_notebooks_are_there():
    names = [path.name for path in NOTEBOOKS]
    assert names[:3] == [
        "01-quickstart.ipynb",
        "02-pytorch-non-iid.ipynb",
        "03-simulation.ipynb",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_committed_without_outputs_on_the_python3_kernel(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    assert notebook.metadata["kernelspec"]["name"] == "python3"
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name}: strip the outputs of {cell.source[:40]!r}"
            assert cell.execution_count is None
        assert "execution" not in cell.metadata


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_opens_with_what_it_shows_and_why(path):
    first = nbformat.read(path, as_version=4).cells[0]
    assert first.cell_type == "markdown"
    assert first.source.startswith("# ")
    assert "What this shows" in first.source and "Why" in first.source


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_every_code_cell_is_explained(path):
    cells = nbformat.read(path, as_version=4).cells
    for previous, cell in itertools.pairwise(cells):
        if cell.cell_type == "code" and previous.cell_type == "code":
            # Consecutive code cells are allowed only for the repeated training cells.
            assert cell.source.startswith("%%fedtrain") or previous.source.startswith(
                "%%fedtrain"
            ), f"{path.name}: explain {cell.source[:40]!r} in a markdown cell"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_one_summary_cell_prints_json(path):
    cells = nbformat.read(path, as_version=4).cells
    tagged = [cell for cell in cells if SUMMARY_TAG in cell.metadata.get("tags", [])]
    assert len(tagged) == 1
    assert "print(json.dumps(summary))" in tagged[0].source


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_uses_the_public_api_only(path):
    cells = nbformat.read(path, as_version=4).cells
    for cell in cells:
        if cell.cell_type != "code":
            continue
        for module, name in imports(cell.source):
            if module.split(".")[0] != "fedchain_magics":
                continue
            assert not any(part.startswith("_") for part in module.split(".")), module
            assert not name.startswith("_"), f"{module}.{name}"


def test_the_readme_lists_every_notebook():
    readme = (NOTEBOOKS_DIR / "README.md").read_text()
    for path in NOTEBOOKS:
        assert path.name in readme


def test_the_quickstart_uses_the_magics_alone_after_its_setup():
    cells = [cell for cell in nbformat.read(NOTEBOOKS[0], as_version=4).cells]
    code = [cell.source for cell in cells if cell.cell_type == "code"]
    setup, federation = code[0], code[1:]
    assert "%" not in setup
    first_python = next(i for i, source in enumerate(federation) if not source.startswith("%"))
    # Everything up to reading the ledger back is a magic.
    assert federation[first_python - 1] == "%fedchain stop"
    magics = "\n".join(federation[:first_python])
    for expected, count in [
        ("%load_ext fedchain_magics", 1),
        ("%fedchain start", 1),
        ("%fedtask create", 1),
        ("%fedjoin", 4),
        ("%%fedtrain", 15),
        ("%fedsubmit", 15),
        ("%fedaggregate", 5),
        ("%fedvalidate", 5),
        ("%fedrewards 1 --claim-all", 5),
        ("%fedtask next", 4),
        ("%fedledger", 1),
    ]:
        assert magics.count(expected) == count, expected
