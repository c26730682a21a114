"""Shared fixtures: a fresh ledger per test, small real data sets (helpers: engine_helpers.py)."""

from __future__ import annotations

import os

import pytest
from engine_helpers import Split

from fedchain_magics import Federation
from fedchain_magics.data import load_dataset, standardize, train_test_split_stratified


@pytest.fixture(scope="session", autouse=True)
def _passphrases_outside_home(tmp_path_factory):
    """Generated keystore passphrases go to a folder of this test session, not the user's
    configuration (subprocesses inherit it)."""
    os.environ["FEDCHAIN_SECRETS_DIR"] = str(tmp_path_factory.mktemp("passphrases"))


@pytest.fixture
def federation(tmp_path):
    with Federation.open(tmp_path / "ledger") as opened:
        yield opened


@pytest.fixture(scope="session")
def breast_cancer() -> Split:
    X, y = load_dataset("breast_cancer")
    X_train, X_test, y_train, y_test = train_test_split_stratified(X, y, 0.25, seed=0)
    X_train, X_test = standardize(X_train, X_test)
    return Split(X_train, X_test, y_train, y_test)
