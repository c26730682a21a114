"""Fixtures for the notebook views: a real in-process ledger, real TenSEAL, real rounds."""

from __future__ import annotations

import pytest
from widget_helpers import Split, breast_cancer


@pytest.fixture(scope="session")
def split() -> Split:
    return breast_cancer()
