"""Helpers shared by the scikit-learn adapters (private)."""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
from sklearn.base import is_classifier
from sklearn.exceptions import ConvergenceWarning

from .base import as_arrays
from .errors import ModelError, ModelNotInitializedError


def short_name(model: Any) -> str:
    return type(model).__name__


def require_fitted(model: Any, attribute: str) -> None:
    """Raise a hint to :func:`initialize` when the estimator has no parameters yet."""
    if getattr(model, attribute, None) is None:
        name = short_name(model)
        raise ModelNotInitializedError(
            f"{name} has no parameters yet (it has not been fitted): call "
            f"fedchain_magics.models.initialize(model, X_sample, y_sample, classes=...) "
            f"or fit it once before using it as a federated model"
        )


def classes_to_json(classes: Any) -> list[Any]:
    """Class labels as plain JSON values (numpy scalars unwrapped), in model order."""
    return [label.item() if isinstance(label, np.generic) else label for label in classes]


def check_labels_known(model: Any, y: np.ndarray) -> None:
    """Refuse labels the model was not initialized with (they would change its shape)."""
    unknown = np.setdiff1d(np.unique(y), model.classes_)
    if unknown.size:
        raise ModelError(
            f"{short_name(model)} was initialized with classes "
            f"{classes_to_json(model.classes_)} but the data has labels "
            f"{classes_to_json(unknown)}; initialize it with classes= listing every label"
        )


def with_missing_classes(
    model: Any, X: np.ndarray, y: np.ndarray, classes: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Append one zero-weight anchor row per class absent from ``y``.

    A full ``fit`` derives ``classes_`` (and so the parameter shapes) from ``y``; a zero
    sample weight makes the anchors invisible to the loss while keeping every class
    known. Returns ``(X, y, sample_weight)``, where ``sample_weight`` is ``None`` when
    nothing was missing.
    """
    missing = np.setdiff1d(classes, np.unique(y))
    if missing.size == 0:
        return X, y, None
    if "sample_weight" not in inspect.signature(model.fit).parameters:
        raise ModelError(
            f"{short_name(model)} cannot train on data missing classes "
            f"{classes_to_json(missing)} because its fit() takes no sample_weight; "
            "give every party samples of every class or use SGDClassifier"
        )
    anchors = np.zeros((missing.size, *X.shape[1:]))
    X_all = np.concatenate([X, anchors])
    y_all = np.concatenate([y, missing.astype(y.dtype, copy=False)])
    weights = np.concatenate([np.ones(len(y)), np.zeros(missing.size)])
    return X_all, y_all, weights


def fit_all_classes(model: Any, X: np.ndarray, y: np.ndarray, classes: Any) -> None:
    """``model.fit`` that keeps every class in ``classes`` known to a classifier."""
    if is_classifier(model):
        X, y, weights = with_missing_classes(model, X, y, np.asarray(classes))
        if weights is not None:
            with quiet_convergence():
                model.fit(X, y, sample_weight=weights)
            return
    with quiet_convergence():
        model.fit(X, y)


@contextmanager
def quiet_convergence() -> Iterator[None]:
    """A few local epochs rarely converge; that is expected, not worth a warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


@contextmanager
def temporary_params(model: Any, **overrides: Any) -> Iterator[None]:
    """Set hyperparameters for the duration of a block, then restore the user's values."""
    known = model.get_params(deep=False)
    applied = {name: value for name, value in overrides.items() if name in known}
    saved = {name: known[name] for name in applied}
    model.set_params(**applied)
    try:
        yield
    finally:
        model.set_params(**saved)


def seeded_random_state(seed: int | None) -> dict[str, Any]:
    """Hyperparameter override that makes shuffling repeatable for ``seed``."""
    if seed is None:
        return {}
    return {"random_state": np.random.RandomState(seed)}


def evaluate(model: Any, X: Any, y: Any) -> float:
    """scikit-learn's own ``score``: accuracy for classifiers, R^2 for regressors."""
    X_array, y_array = as_arrays(X, y)
    return float(model.score(X_array, y_array))


def classifier_classes(model: Any, y: np.ndarray, classes: Any) -> np.ndarray:
    """The sorted class list for :func:`initialize`, checking ``y`` fits inside it."""
    known = np.unique(np.asarray(classes)) if classes is not None else np.unique(y)
    unknown = np.setdiff1d(np.unique(y), known)
    if unknown.size:
        raise ModelError(
            f"labels {classes_to_json(unknown)} in y are not in classes="
            f"{classes_to_json(known)}; list every label the federation uses"
        )
    if known.size < 2:
        raise ModelError(
            f"{short_name(model)} needs at least two classes, got "
            f"{classes_to_json(known)}; pass classes= listing every label"
        )
    return known


def check_already_initialized(model: Any, classes: Any) -> None:
    """An already-fitted classifier must know exactly the requested classes."""
    if classes is None or not is_classifier(model):
        return
    requested = np.unique(np.asarray(classes))
    if not np.array_equal(requested, np.asarray(model.classes_)):
        raise ModelError(
            f"{short_name(model)} is already fitted with classes "
            f"{classes_to_json(model.classes_)}, not {classes_to_json(requested)}; "
            "start from a fresh (unfitted) model to change its classes"
        )


def training_data(model: Any, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray, bool]:
    """(X, y) as arrays and whether ``model`` is a classifier, refusing labels it cannot know."""
    X_array, y_array = as_arrays(X, y)
    classifier = bool(is_classifier(model))
    if classifier:
        check_labels_known(model, y_array)
    return X_array, y_array, classifier


def check_layout_unchanged(model: Any, before: Any, after: Any) -> None:
    """Local training must not change the parameter layout every party shares."""
    if after != before:
        raise ModelError(
            f"local training changed {short_name(model)}'s parameter layout; "
            "check that X has the same features the model was initialized with"
        )
