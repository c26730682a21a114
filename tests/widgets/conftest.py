"""Fixtures for the notebook views: a real in-process ledger, real TenSEAL, real rounds."""

from __future__ import annotations

import pytest
from engine_helpers import Split


@pytest.fixture(scope="session")
def split(breast_cancer: Split) -> Split:
    return breast_cancer
