"""The adapter interface and the flat-vector layout every adapter shares.

A model's parameters cross every boundary (encryption, the chain, aggregation) as ONE
flat, C-ordered ``float64`` numpy vector. The adapter's :meth:`ModelAdapter.layout`
says which slice of that vector is which array: slot ``i`` occupies
``vector[slot.offset : slot.offset + slot.size]`` and is reshaped (C order) to
``slot.shape``. Slots are contiguous, in layout order, starting at offset 0.
"""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from .errors import (
    ParameterShapeError,
    ParameterValueError,
    TrainingInputError,
    TrainingOptionError,
)

VECTOR_DTYPE = "float64"


@dataclass(frozen=True)
class ParameterSlot:
    """One named array inside the flat parameter vector."""

    name: str
    shape: tuple[int, ...]
    offset: int

    @property
    def size(self) -> int:
        """Number of vector entries the slot occupies."""
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def end(self) -> int:
        """One past the slot's last vector index."""
        return self.offset + self.size

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able description (used inside :meth:`ModelAdapter.spec`)."""
        return {"name": self.name, "shape": list(self.shape), "offset": self.offset}


def build_layout(named_shapes: Iterable[tuple[str, Sequence[int]]]) -> list[ParameterSlot]:
    """Lay the named arrays out one after another, starting at offset 0."""
    layout = []
    offset = 0
    for name, shape in named_shapes:
        slot = ParameterSlot(name=name, shape=tuple(int(n) for n in shape), offset=offset)
        layout.append(slot)
        offset = slot.end
    return layout


def layout_length(layout: Sequence[ParameterSlot]) -> int:
    """Length of the flat vector a layout describes."""
    return layout[-1].end if layout else 0


def flatten(arrays: Iterable[Any]) -> np.ndarray:
    """Concatenate arrays (in order, each C-raveled) into one float64 vector."""
    parts = [np.asarray(array, dtype=np.float64).ravel() for array in arrays]
    if not parts:
        return np.zeros(0, dtype=np.float64)
    return np.concatenate(parts)


def unflatten(vector: np.ndarray, layout: Sequence[ParameterSlot]) -> list[np.ndarray]:
    """Split a checked vector back into float64 arrays, one per slot (copies)."""
    return [vector[slot.offset : slot.end].reshape(slot.shape).copy() for slot in layout]


def checked_vector(vector: Any, layout: Sequence[ParameterSlot], model_name: str) -> np.ndarray:
    """Return ``vector`` as a finite 1-D float64 array of the layout's length, or raise."""
    array = np.asarray(vector, dtype=np.float64)
    expected = layout_length(layout)
    if array.ndim != 1:
        raise ParameterShapeError(
            f"{model_name} expects a flat 1-D parameter vector of length {expected}, "
            f"got an array of shape {array.shape}"
        )
    if array.shape[0] != expected:
        raise ParameterShapeError(
            f"{model_name} expects a parameter vector of length {expected}, "
            f"got length {array.shape[0]}"
        )
    if not np.all(np.isfinite(array)):
        bad = int(np.count_nonzero(~np.isfinite(array)))
        raise ParameterValueError(
            f"{model_name} parameter vector has {bad} NaN or infinite entries; "
            "check the aggregation or decryption that produced it"
        )
    return array


def public_class_name(model: Any) -> str:
    """``sklearn.linear_model.LogisticRegression``, not ``sklearn.linear_model._logistic...``.

    Private submodules (a leading underscore) are dropped so the name, and with it the
    model-spec digest, survives a library reorganising its internals.
    """
    model_type = type(model)
    parts = model_type.__module__.split(".")
    public = [parts[0]] + [part for part in parts[1:] if not part.startswith("_")]
    return ".".join([*public, model_type.__qualname__])


def as_arrays(X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    """``X`` and ``y`` as numpy arrays describing the same number of samples."""
    X_array = np.asarray(X)
    y_array = np.asarray(y)
    if X_array.ndim == 0 or y_array.ndim == 0 or X_array.shape[0] != y_array.shape[0]:
        raise TrainingInputError(
            f"X has shape {X_array.shape} and y has shape {y_array.shape}; "
            "they must have one row per sample and the same number of rows"
        )
    return X_array, y_array


def check_epochs(epochs: int) -> None:
    """Reject a non-positive or non-integer epoch count."""
    if isinstance(epochs, bool) or not isinstance(epochs, int | np.integer) or epochs < 1:
        raise TrainingInputError(f"epochs must be a positive integer, got {epochs!r}")


def reject_options(adapter_kind: str, options: dict[str, Any]) -> None:
    """Refuse training options an adapter does not understand."""
    if options:
        names = ", ".join(sorted(options))
        raise TrainingOptionError(f"{adapter_kind} models take no training option(s) {names}")


class ModelAdapter(ABC):
    """Moves one kind of model's parameters in and out of a flat float64 vector.

    Adapters hold no state: every method takes the model it works on. Get one with
    :func:`fedchain_magics.models.adapter_for`.
    """

    kind: ClassVar[str]

    @abstractmethod
    def layout(self, model: Any) -> list[ParameterSlot]:
        """The named arrays of the flat vector, in vector order."""

    @abstractmethod
    def get_parameters(self, model: Any) -> np.ndarray:
        """A fresh flat float64 copy of the model's parameters."""

    @abstractmethod
    def set_parameters(self, model: Any, vector: Any) -> None:
        """Overwrite the model's parameters in place from a flat vector.

        Raises :class:`ParameterShapeError` when the length does not match the layout.
        """

    @abstractmethod
    def spec(self, model: Any) -> dict[str, Any]:
        """A deterministic, JSON-able description of the architecture, without values."""

    @abstractmethod
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
        """Train in place for a few epochs, starting from the current parameters.

        ``batch_size`` and ``learning_rate`` override the model's own settings where
        the model has such a setting; ``seed`` makes the run repeatable (``None`` uses
        the model's or the library's own randomness). ``options`` are adapter-specific
        (torch: ``optimizer="sgd" | "adam"``); an adapter refuses options it does not
        know with a ``TypeError``. Returns the model.
        """

    @abstractmethod
    def evaluate(self, model: Any, X: Any, y: Any) -> float:
        """Accuracy for classifiers, coefficient of determination (R^2) for regressors."""

    def initialize(self, model: Any, X: Any, y: Any, *, classes: Any = None) -> Any:
        """Give the model its parameters if it has none yet; returns the model."""
        return model

    def parameter_count(self, model: Any) -> int:
        """Length of the flat parameter vector."""
        return layout_length(self.layout(model))

    def clone(self, model: Any) -> Any:
        """A deep copy that keeps the parameters (and every other setting)."""
        return copy.deepcopy(model)
