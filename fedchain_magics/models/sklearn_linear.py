"""Adapter for scikit-learn linear models (anything with ``coef_`` and ``intercept_``).

Layout: ``coef_`` (its fitted shape, e.g. ``(n_classes or 1, n_features)`` for
classifiers, ``(n_features,)`` for single-target regressors) followed by
``intercept_`` (``(n_classes or 1,)``, or ``()`` when the estimator stores a plain
float such as ``LinearRegression(fit_intercept=False)``).

Local training starts from the current parameters:

* estimators with ``partial_fit`` (``SGDClassifier``, ``SGDRegressor``, ``Perceptron``,
  ``PassiveAggressive*``) run one ``partial_fit`` pass per epoch; ``learning_rate``
  overrides ``eta0`` (ignored by the ``"optimal"`` schedule);
* estimators with ``warm_start`` (``LogisticRegression``, ``Lasso``, ``ElasticNet``, GLMs)
  refit with ``warm_start=True`` and ``max_iter=epochs`` (solver iterations);
* closed-form estimators (``LinearRegression``, ``Ridge``, ``RidgeClassifier``) have no
  starting point to honour: they refit on the local data and ``epochs`` is ignored.

``batch_size`` is ignored. Classes absent from a party's data stay known to the model,
so its shape never changes.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import scipy.sparse
from sklearn.base import BaseEstimator, is_classifier

from . import _sklearn
from .base import (
    VECTOR_DTYPE,
    ModelAdapter,
    ParameterSlot,
    as_arrays,
    build_layout,
    check_epochs,
    checked_vector,
    flatten,
    layout_length,
    public_class_name,
    reject_options,
    unflatten,
)
from .errors import ModelError

_NOT_LINEAR = frozenset({"RANSACRegressor", "SGDOneClassSVM"})


def is_sklearn_linear_model(model: Any) -> bool:
    """True for estimators built on scikit-learn's linear-model classes.

    That covers everything in ``sklearn.linear_model`` with ``coef_``/``intercept_``
    and the linear SVMs (``LinearSVC``, ``LinearSVR``) that reuse its mixins.
    """
    if not isinstance(model, BaseEstimator) or type(model).__name__ in _NOT_LINEAR:
        return False
    return any(cls.__module__.startswith("sklearn.linear_model") for cls in type(model).__mro__)


def _dense(array: Any) -> np.ndarray:
    """``coef_`` after ``sparsify()`` is a scipy sparse matrix; work on a dense copy."""
    if scipy.sparse.issparse(array):
        return np.asarray(array.toarray())
    return np.asarray(array)


class SklearnLinearAdapter(ModelAdapter):
    """Flattens ``coef_`` then ``intercept_``."""

    kind: ClassVar[str] = "sklearn.linear"

    def layout(self, model: Any) -> list[ParameterSlot]:
        _sklearn.require_fitted(model, "coef_")
        if not hasattr(model, "intercept_"):
            raise ModelError(
                f"{_sklearn.short_name(model)} has coef_ but no intercept_, so it cannot "
                "be used as a federated linear model"
            )
        return build_layout(
            [
                ("coef_", _dense(model.coef_).shape),
                ("intercept_", np.shape(model.intercept_)),
            ]
        )

    def get_parameters(self, model: Any) -> np.ndarray:
        self.layout(model)
        return flatten([_dense(model.coef_), model.intercept_])

    def set_parameters(self, model: Any, vector: Any) -> None:
        layout = self.layout(model)
        values = checked_vector(vector, layout, _sklearn.short_name(model))
        coef, intercept = unflatten(values, layout)
        coef_dtype = _dense(model.coef_).dtype
        model.coef_ = np.ascontiguousarray(coef, dtype=coef_dtype)
        if np.ndim(model.intercept_) == 0:
            model.intercept_ = float(intercept)
        else:
            model.intercept_ = np.ascontiguousarray(
                intercept, dtype=np.asarray(model.intercept_).dtype
            )
        if getattr(model, "_standard_coef", None) is not None:
            # Averaged SGD keeps the raw iterate and the running average apart from
            # coef_; restart both from the new global point.
            model._standard_coef = model.coef_.copy()
            model._standard_intercept = np.atleast_1d(model.intercept_).copy()
            if getattr(model, "_average_coef", None) is not None:
                model._average_coef = model.coef_.copy()
                model._average_intercept = np.atleast_1d(model.intercept_).copy()

    def spec(self, model: Any) -> dict[str, Any]:
        layout = self.layout(model)
        spec: dict[str, Any] = {
            "kind": self.kind,
            "class": public_class_name(model),
            "task": "classification" if is_classifier(model) else "regression",
            "n_features": int(_dense(model.coef_).shape[-1]),
        }
        if is_classifier(model):
            spec["classes"] = _sklearn.classes_to_json(model.classes_)
        spec["parameter_count"] = layout_length(layout)
        spec["vector_dtype"] = VECTOR_DTYPE
        spec["layout"] = [slot.to_dict() for slot in layout]
        return spec

    def initialize(self, model: Any, X: Any, y: Any, *, classes: Any = None) -> Any:
        if getattr(model, "coef_", None) is not None:
            _sklearn.check_already_initialized(model, classes)
            return model
        X_array, y_array = as_arrays(X, y)
        if is_classifier(model):
            known = _sklearn.classifier_classes(model, y_array, classes)
            if hasattr(model, "partial_fit"):
                with _sklearn.quiet_convergence():
                    model.partial_fit(X_array, y_array, classes=known)
            else:
                _sklearn.fit_all_classes(model, X_array, y_array, known)
        elif hasattr(model, "partial_fit"):
            with _sklearn.quiet_convergence():
                model.partial_fit(X_array, y_array)
        else:
            _sklearn.fit_all_classes(model, X_array, y_array, None)
        return model

    def train_local(
        self,
        model: Any,
        X: Any,
        y: Any,
        *,
        epochs: int,
        batch_size: int | None = None,
        learning_rate: float | None = None,
        seed: int | None = 0,
        **options: Any,
    ) -> Any:
        reject_options(self.kind, options)
        check_epochs(epochs)
        layout_before = self.layout(model)
        X_array, y_array, classifier = _sklearn.training_data(model, X, y)
        overrides = _sklearn.seeded_random_state(seed)
        if hasattr(model, "partial_fit"):
            if learning_rate is not None:
                overrides["eta0"] = learning_rate
            with _sklearn.temporary_params(model, **overrides), _sklearn.quiet_convergence():
                for _ in range(epochs):
                    model.partial_fit(X_array, y_array)
        else:
            params = model.get_params(deep=False)
            if params.get("solver") == "liblinear":
                raise ModelError(
                    f"{_sklearn.short_name(model)}(solver='liblinear') cannot start from "
                    "the global parameters (no warm start); use solver='lbfgs'"
                )
            if "warm_start" in params:
                overrides["warm_start"] = True
                overrides["max_iter"] = epochs
            classes = model.classes_ if classifier else None
            with _sklearn.temporary_params(model, **overrides):
                _sklearn.fit_all_classes(model, X_array, y_array, classes)
        _sklearn.check_layout_unchanged(model, layout_before, self.layout(model))
        return model

    def evaluate(self, model: Any, X: Any, y: Any) -> float:
        """Accuracy for classifiers, R^2 for regressors (scikit-learn's ``score``)."""
        _sklearn.require_fitted(model, "coef_")
        return _sklearn.evaluate(model, X, y)
