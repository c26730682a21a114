"""Helpers shared by the magics tests (imported by name: pytest puts this folder on sys.path)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from IPython.core.error import UsageError
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from fedchain_magics.data import load_dataset, split_iid, standardize, train_test_split_stratified
from fedchain_magics.magics import loaded_state
from fedchain_magics.models import initialize


def notebook_data() -> dict[str, Any]:
    """What a notebook's first cell would define: breast_cancer, three IID shares, a model."""
    X, y = load_dataset("breast_cancer")
    X_train, X_test, y_train, y_test = train_test_split_stratified(X, y, 0.25, seed=0)
    X_train, X_test = standardize(X_train, X_test)
    shards = split_iid(X_train, y_train, 3, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = initialize(
            LogisticRegression(max_iter=5), X_train[:20], y_train[:20], classes=[0, 1]
        )
    data: dict[str, Any] = {
        "X_train": X_train,
        "y_train": y_train,
        "X_test": X_test,
        "y_test": y_test,
        "model": model,
        "unfitted": LogisticRegression(),
        "np": np,
    }
    for name, shard in zip(("alice", "bob", "carol"), shards, strict=True):
        data[f"X_{name}"], data[f"y_{name}"] = shard.X, shard.y
    return data


@contextmanager
def extension_loaded(shell: Any, data: dict[str, Any]) -> Iterator[Any]:
    """``%load_ext fedchain_magics`` with the notebook's variables set; undone afterwards."""
    shell.user_ns.update(data)
    shell.run_line_magic("load_ext", "fedchain_magics")
    try:
        yield shell
    finally:
        shell.run_line_magic("unload_ext", "fedchain_magics")
        for name in [*data, "global_model"]:
            shell.user_ns.pop(name, None)


# The body of a %%fedtrain cell: a few epochs of local training on the party's share.
TRAIN_CELL = """
import warnings
from sklearn.exceptions import ConvergenceWarning
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    {variable}.fit(X_{name}, y_{name})
"""


def magic(shell: Any, line: str) -> Any:
    """Run ``%line`` (raises what the magic raises, as a test wants)."""
    name, _, rest = line.partition(" ")
    return shell.run_line_magic(name, rest)


def train(
    shell: Any, task: int, name: str, body: str | None = None, variable: str = "global_model"
) -> Any:
    """Run ``%%fedtrain task --as name`` (``--model variable``) on ``body`` (default: fit)."""
    body = TRAIN_CELL.format(name=name, variable=variable) if body is None else body
    option = "" if variable == "global_model" else f" --model {variable}"
    return shell.run_cell_magic("fedtrain", f"{task} --as {name}{option}", body)


def federation(shell: Any) -> Any:
    state = loaded_state(shell)
    assert state is not None and state.session.federation is not None
    return state.session.federation


def snapshot(shell: Any) -> tuple[int, str, dict[str, tuple[int, int]]]:
    """The chain's head and every file of the ledger directory (size, modification time)."""
    fed = federation(shell)
    files = {
        str(path.relative_to(fed.workspace)): (path.stat().st_size, path.stat().st_mtime_ns)
        for path in sorted(Path(fed.workspace).rglob("*"))
        if path.is_file()
    }
    return fed.ledger.block_number(), fed.ledger.head_hash(), files


def refused(shell: Any, message: str, line: str, cell: str | None = None) -> None:
    """The magic fails with exactly ``message`` (one line) and moves neither chain nor files."""
    before = snapshot(shell)
    with pytest.raises(UsageError) as caught:
        if cell is None:
            magic(shell, line)
        else:
            name, _, rest = line.partition(" ")
            shell.run_cell_magic(name, rest, cell)
    assert str(caught.value) == message
    assert "\n" not in message
    assert snapshot(shell) == before, "a refused magic must leave the ledger and its files"
