"""Adapter for scikit-learn's ``MLPClassifier`` and ``MLPRegressor``.

Layout, layer by layer (input to output): ``coefs_[i]`` with shape
``(units_in, units_out)`` then ``intercepts_[i]`` with shape ``(units_out,)``, for
``i = 0 .. n_layers - 2``. (This interleaves weights and biases like a torch
``state_dict``; it is not the coefs-then-intercepts order of scikit-learn's private
``_pack``.)

Local training starts from the current weights: the stochastic solvers (``"adam"``,
``"sgd"``) run one ``partial_fit`` pass per epoch, with a fresh optimizer on each call
(no Adam moments carried over from an earlier starting point); ``"lbfgs"`` refits with
``warm_start=True`` and ``max_iter=epochs``. ``batch_size`` and ``learning_rate``
override ``batch_size`` and ``learning_rate_init``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from sklearn.base import is_classifier
from sklearn.neural_network import MLPClassifier, MLPRegressor

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

_STOCHASTIC_SOLVERS = ("adam", "sgd")


def is_sklearn_mlp(model: Any) -> bool:
    return isinstance(model, MLPClassifier | MLPRegressor)


def _layer_arrays(model: Any) -> list[np.ndarray]:
    arrays = []
    for coef, intercept in zip(model.coefs_, model.intercepts_, strict=True):
        arrays.extend([coef, intercept])
    return arrays


class SklearnMLPAdapter(ModelAdapter):
    """Flattens ``coefs_[0], intercepts_[0], coefs_[1], intercepts_[1], ...``."""

    kind: ClassVar[str] = "sklearn.mlp"

    def layout(self, model: Any) -> list[ParameterSlot]:
        _sklearn.require_fitted(model, "coefs_")
        named_shapes = []
        for index, (coef, intercept) in enumerate(
            zip(model.coefs_, model.intercepts_, strict=True)
        ):
            named_shapes.append((f"coefs_[{index}]", coef.shape))
            named_shapes.append((f"intercepts_[{index}]", intercept.shape))
        return build_layout(named_shapes)

    def get_parameters(self, model: Any) -> np.ndarray:
        self.layout(model)
        return flatten(_layer_arrays(model))

    def set_parameters(self, model: Any, vector: Any) -> None:
        layout = self.layout(model)
        values = checked_vector(vector, layout, _sklearn.short_name(model))
        for target, source in zip(_layer_arrays(model), unflatten(values, layout), strict=True):
            np.copyto(target, source, casting="same_kind")

    def spec(self, model: Any) -> dict[str, Any]:
        layout = self.layout(model)
        spec: dict[str, Any] = {
            "kind": self.kind,
            "class": public_class_name(model),
            "task": "classification" if is_classifier(model) else "regression",
            "n_features": int(model.coefs_[0].shape[0]),
            "hidden_layer_sizes": [int(coef.shape[1]) for coef in model.coefs_[:-1]],
            "activation": str(model.activation),
            "out_activation": str(model.out_activation_),
        }
        if is_classifier(model):
            spec["classes"] = _sklearn.classes_to_json(model.classes_)
        spec["parameter_count"] = layout_length(layout)
        spec["vector_dtype"] = VECTOR_DTYPE
        spec["layout"] = [slot.to_dict() for slot in layout]
        return spec

    def initialize(self, model: Any, X: Any, y: Any, *, classes: Any = None) -> Any:
        if getattr(model, "coefs_", None) is not None:
            _sklearn.check_already_initialized(model, classes)
            return model
        X_array, y_array = as_arrays(X, y)
        classifier = is_classifier(model)
        known = _sklearn.classifier_classes(model, y_array, classes) if classifier else None
        if model.solver in _STOCHASTIC_SOLVERS:
            with (
                _sklearn.temporary_params(model, warm_start=False),
                _sklearn.quiet_convergence(),
            ):
                if classifier:
                    model.partial_fit(X_array, y_array, classes=known)
                else:
                    model.partial_fit(X_array, y_array)
        else:
            _sklearn.fit_all_classes(model, X_array, y_array, known)
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
        if batch_size is not None:
            # scikit-learn warns (and clips) when a batch exceeds the data.
            overrides["batch_size"] = max(1, min(batch_size, len(y_array)))
        if learning_rate is not None:
            overrides["learning_rate_init"] = learning_rate
        if model.solver in _STOCHASTIC_SOLVERS:
            # warm_start=True would make partial_fit insist on every class being present.
            overrides["warm_start"] = False
            # A fresh optimizer per call: Adam moments from another starting point are
            # stale, and partial_fit would otherwise ignore a new learning_rate_init.
            if hasattr(model, "_optimizer"):
                del model._optimizer
            with _sklearn.temporary_params(model, **overrides), _sklearn.quiet_convergence():
                for _ in range(epochs):
                    model.partial_fit(X_array, y_array)
        else:
            overrides.update(warm_start=True, max_iter=epochs)
            classes = model.classes_ if classifier else None
            with _sklearn.temporary_params(model, **overrides):
                _sklearn.fit_all_classes(model, X_array, y_array, classes)
        _sklearn.check_layout_unchanged(model, layout_before, self.layout(model))
        return model

    def evaluate(self, model: Any, X: Any, y: Any) -> float:
        """Accuracy for ``MLPClassifier``, R^2 for ``MLPRegressor``."""
        _sklearn.require_fitted(model, "coefs_")
        return _sklearn.evaluate(model, X, y)
