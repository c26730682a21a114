"""Fixtures for the notebook tests: kernels never read the developer's IPython profile."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def clean_ipython_dir(tmp_path, monkeypatch):
    # A profile that loads extensions (as Binder's does) would change what the notebooks print.
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
