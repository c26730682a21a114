"""Fixtures for the Solidity ledger tests (helpers live in ``ledger_harness``)."""

from __future__ import annotations

import pytest

pytest.register_assert_rewrite("ledger_harness")

from ledger_harness import Ledger, build_ledger  # noqa: E402


@pytest.fixture
def ledger() -> Ledger:
    """A fresh chain per test, with the committed artifacts deployed."""
    return build_ledger()
