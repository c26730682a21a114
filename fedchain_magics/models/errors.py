"""Errors raised by the model adapters.

Every error carries a one-line message that says what failed and what to do next.
They also subclass the matching built-in (``TypeError`` or ``ValueError``) so callers
that do not know about fedchain can still catch them.
"""

from __future__ import annotations

SUPPORTED_MODELS = (
    "scikit-learn LogisticRegression, SGDClassifier, SGDRegressor, "
    "LinearRegression-like linear models with coef_/intercept_, "
    "MLPClassifier, MLPRegressor, and torch.nn.Module"
)


class ModelError(Exception):
    """Base class for every model-adapter error."""


class UnsupportedModelError(ModelError, TypeError):
    """The model is of a kind no adapter knows how to flatten."""

    def __init__(self, model: object) -> None:
        model_type = type(model)
        super().__init__(
            f"unsupported model type {model_type.__module__}.{model_type.__qualname__}; "
            f"supported: {SUPPORTED_MODELS}"
        )


class ModelNotInitializedError(ModelError, ValueError):
    """The model has no parameters yet (an unfitted scikit-learn estimator, say)."""


class ParameterShapeError(ModelError, ValueError):
    """A parameter vector does not match the model's layout."""


class ParameterValueError(ModelError, ValueError):
    """A parameter vector contains values a model cannot hold (NaN or infinity)."""


class TrainingInputError(ModelError, ValueError):
    """Training data or options a model adapter cannot use (shapes, epochs, optimizer)."""


class TrainingOptionError(ModelError, TypeError):
    """A training option the model's adapter does not understand."""
