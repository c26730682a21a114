"""Small, standardized scikit-learn datasets shared by the adapter tests."""

from __future__ import annotations

import numpy as np
import pytest

from fedchain_magics.data import load_dataset, standardize, train_test_split_stratified

Split = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def _standardized(name: str) -> Split:
    X, y = load_dataset(name)
    X_train, X_test, y_train, y_test = train_test_split_stratified(X, y, 0.25, seed=0)
    X_train, X_test = standardize(X_train, X_test)
    return X_train, X_test, y_train, y_test


@pytest.fixture(scope="session")
def breast_cancer() -> Split:
    return _standardized("breast_cancer")


@pytest.fixture(scope="session")
def iris() -> Split:
    return _standardized("iris")


@pytest.fixture(scope="session")
def digits() -> Split:
    return _standardized("digits")
