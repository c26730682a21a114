"""Pick the adapter for a model; allocate a scikit-learn model's parameters."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

from .base import ModelAdapter
from .errors import ModelError, UnsupportedModelError
from .torch_module import TorchModuleAdapter, is_torch_module


def adapter_for(model: Any) -> ModelAdapter:
    """The adapter that flattens ``model``'s parameters.

    Works on unfitted scikit-learn estimators too (see :func:`initialize`). Raises
    :class:`UnsupportedModelError` for any other kind of model.
    """
    if is_torch_module(model):
        return TorchModuleAdapter()
    # A scikit-learn estimator can only exist once sklearn is imported; checking first
    # keeps `import fedchain_magics.models` light for torch-only users.
    if "sklearn" in sys.modules:
        from .sklearn_linear import SklearnLinearAdapter, is_sklearn_linear_model
        from .sklearn_mlp import SklearnMLPAdapter, is_sklearn_mlp

        if is_sklearn_mlp(model):
            return SklearnMLPAdapter()
        if is_sklearn_linear_model(model):
            return SklearnLinearAdapter()
    raise UnsupportedModelError(model)


def initialize(model: Any, X: Any, y: Any, *, classes: Any = None) -> Any:
    """Make sure ``model`` has parameters, so it can be flattened; returns the model.

    An unfitted scikit-learn estimator gets one short first fit on ``(X, y)`` (one
    ``partial_fit`` pass where the estimator has it). ``classes`` lists every label the
    federation uses (default: the labels in ``y``); each is made known to the model even
    when ``y`` lacks some, so every party's model has the same shape. An estimator that
    is already fitted is left alone (a :class:`ModelError` if its classes differ from
    ``classes``). torch modules need nothing, except that lazy modules are materialized
    with one forward pass.
    """
    return adapter_for(model).initialize(model, X, y, classes=classes)


def initialize_shape(model: Any, *, n_features: int, classes: Sequence[Any] | None = None) -> Any:
    """Give an unfitted model its parameters from its shape alone: ``n_features`` inputs and,
    for a classifier, every label the federation uses. No data is needed: the model is
    initialized on all-zero rows, one per class, so its weights start at zero (biases may
    not). A model that already has parameters is checked against that shape and left alone.
    """
    if isinstance(n_features, bool) or not isinstance(n_features, int) or n_features < 1:
        raise ModelError(f"n_features must be a whole number of at least 1, not {n_features!r}")
    fitted_features = getattr(model, "n_features_in_", None)
    if fitted_features is not None and int(fitted_features) != n_features:
        raise ModelError(
            f"{type(model).__name__} is already fitted on {fitted_features} features, not "
            f"{n_features}; start from a fresh (unfitted) model to change its shape"
        )
    labels = None if classes is None else list(classes)
    if labels is not None and len(set(labels)) < 2:
        raise ModelError(f"a classifier needs at least two classes, not {labels}")
    rows = max(len(labels), 2) if labels is not None else 2
    X = np.zeros((rows, n_features))
    y = np.resize(np.asarray(labels), rows) if labels is not None else np.zeros(rows)
    fresh = fitted_features is None
    initialize(model, X, y, classes=labels)
    if fresh and isinstance(getattr(model, "intercept_", None), np.ndarray):
        # A linear model's zero rows moved only its intercepts (SGD's by up to ~10): start
        # the federation from the all-zero model instead, the usual start of linear FL.
        model.intercept_ = np.zeros_like(model.intercept_)
    return model
