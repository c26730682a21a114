"""Helpers shared by the engine tests (imported by name: pytest puts this folder on sys.path)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from fedchain_magics import Federation
from fedchain_magics.models import initialize


@dataclass(frozen=True)
class Split:
    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray


def logistic_regression(split: Split) -> LogisticRegression:
    """A freshly initialized model every party can rebuild identically."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return initialize(
            LogisticRegression(max_iter=5), split.X_train[:20], split.y_train[:20], classes=[0, 1]
        )


def head(federation: Federation) -> tuple[int, str]:
    return federation.ledger.block_number(), federation.ledger.head_hash()
