"""Helpers shared by the engine tests (imported by name: pytest puts this folder on sys.path)."""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from fedchain_magics import Federation, TaskConfig
from fedchain_magics.data import load_dataset, standardize
from fedchain_magics.engine.session import DataRef, Session
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


def wine() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's wine rows, standardized, and their three classes."""
    X, y = load_dataset("wine")
    X, _ = standardize(X, X)
    return X, y


def wine_model(X: np.ndarray, y: np.ndarray) -> LogisticRegression:
    """A freshly initialized three-class model of the wine rows."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return initialize(LogisticRegression(max_iter=5), X[:30], y[:30], classes=[0, 1, 2])


def head(federation: Federation) -> tuple[int, str]:
    return federation.ledger.block_number(), federation.ledger.head_hash()


def session_over(path: Path, split: Split, shares: Mapping[str, float]) -> Session:
    """A Session with a ledger at ``path`` whose namespace holds ``model``, ``X_test`` and
    ``y_test``, and for each party ``X_<name>`` and ``y_<name>``: consecutive slices of the
    training rows, each the party's share of them."""
    namespace: dict[str, object] = {
        "model": logistic_regression(split),
        "X_test": split.X_test,
        "y_test": split.y_test,
    }
    start = 0
    for name, share in shares.items():
        end = start + int(share * len(split.y_train))
        namespace[f"X_{name}"] = split.X_train[start:end]
        namespace[f"y_{name}"] = split.y_train[start:end]
        start = end
    session = Session(namespace)
    session.open(path)
    return session


def join_session_task(
    session: Session, config: TaskConfig, parties: Iterable[str], validator: str = "validator-1"
) -> int:
    """Create a task of the namespace's ``model``; each party joins with its data, the
    validator with the test rows. Returns the task id."""
    task = session.create_task(session.model("model"), config)
    for name in parties:
        session.join(task.task_id, name, DataRef(f"X_{name}", f"y_{name}"))
    session.join(task.task_id, validator, DataRef("X_test", "y_test"), validator=True)
    return task.task_id


def fit_and_capture(session: Session, task_id: int, name: str) -> None:
    """The party trains the round's model on its data; the session captures the update."""
    model = session.start_training(task_id, name)
    X, y = session.data(session.parties[(task_id, name)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    session.capture_update(task_id, name, model)


def run_session_round(
    session: Session, task_id: int, parties: Iterable[str], validator: str = "validator-1"
) -> None:
    """One round through the session: each party trains on its data and submits, then the
    round is aggregated and the validator votes."""
    for name in parties:
        fit_and_capture(session, task_id, name)
        session.submit(task_id, name)
    session.aggregate(task_id)
    session.validate(task_id, validator)
