"""Pick the adapter for a model; allocate a scikit-learn model's parameters."""

from __future__ import annotations

import sys
from typing import Any

from .base import ModelAdapter
from .errors import UnsupportedModelError
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
