"""Fixtures for the magics: IPython's real shell, the extension loaded, a notebook's variables."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell
from magics_helpers import extension_loaded, notebook_data
from traitlets.config import Config


@pytest.fixture(scope="session")
def shell() -> InteractiveShell:
    """IPython's shell (one per process; history kept in memory)."""
    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    config.InteractiveShell.colors = "nocolor"
    return InteractiveShell.instance(config=config)


@pytest.fixture(scope="session")
def data() -> dict[str, Any]:
    return notebook_data()


@pytest.fixture
def ipython(shell: InteractiveShell, data: dict[str, Any]) -> Iterator[InteractiveShell]:
    """The shell with ``%load_ext fedchain_magics`` done and the notebook's variables set."""
    with extension_loaded(shell, data) as loaded:
        yield loaded
