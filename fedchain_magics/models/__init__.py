"""Model adapters: every model's parameters as ONE flat float64 vector.

>>> from fedchain_magics.models import adapter_for, initialize
>>> initialize(model, X_sample, y_sample, classes=[0, 1])   # scikit-learn only
>>> initialize_shape(model, n_features=13, classes=[0, 1, 2])  # the same from the shape alone
>>> adapter = adapter_for(model)
>>> vector = adapter.get_parameters(model)                  # 1-D float64
>>> adapter.set_parameters(model, vector)                   # in place
>>> adapter.spec(model)                                     # JSON-able, value-free

Importing this package imports neither torch nor scikit-learn; they are used only
when a model of theirs is handed in.
"""

from .base import ModelAdapter, ParameterSlot
from .dispatch import adapter_for, initialize, initialize_shape
from .errors import (
    ModelError,
    ModelNotInitializedError,
    ParameterShapeError,
    ParameterValueError,
    UnsupportedModelError,
)

__all__ = [
    "ModelAdapter",
    "ModelError",
    "ModelNotInitializedError",
    "ParameterShapeError",
    "ParameterSlot",
    "ParameterValueError",
    "UnsupportedModelError",
    "adapter_for",
    "initialize",
    "initialize_shape",
]
