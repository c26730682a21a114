"""Adapter for ``torch.nn.Module``; torch is imported only when a module is touched.

Layout: every floating-point entry of ``model.state_dict()``, in ``state_dict`` order,
under its ``state_dict`` key and shape. That includes buffers such as BatchNorm's
``running_mean``/``running_var``; integer entries (``num_batches_tracked``) are left
out. Values travel as float64 and are cast back to each tensor's own dtype and device.

Local training is a plain mini-batch loop (``optimizer="sgd"``, default learning rate
0.05, or ``"adam"``, default 0.001; batch size 32 unless given). The task is read from
``y``: integer (or bool) labels mean classification (cross-entropy on logits of shape
``(n, n_classes)``, scored by accuracy), floating ``y`` means regression (mean squared
error, scored by R^2). With a ``seed`` the run is repeatable and leaves torch's global
random state untouched.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np

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
from .errors import ModelError, ModelNotInitializedError, TrainingInputError

if TYPE_CHECKING:
    import torch

DEFAULT_BATCH_SIZE = 32
DEFAULT_LEARNING_RATES = {"sgd": 0.05, "adam": 0.001}
_EVALUATION_CHUNK_ROWS = 4096


def is_torch_module(model: Any) -> bool:
    """True for ``torch.nn.Module`` instances, without importing torch.

    A Module instance can only exist once torch has been imported, so looking in
    ``sys.modules`` is enough.
    """
    torch_module = sys.modules.get("torch")
    return torch_module is not None and isinstance(model, torch_module.nn.Module)


def _is_classification(y: np.ndarray) -> bool:
    return y.dtype.kind in "iub"


def _floating_entries(model: Any) -> list[tuple[str, torch.Tensor]]:
    from torch.nn.parameter import is_lazy

    entries = []
    for name, tensor in model.state_dict().items():
        if is_lazy(tensor):
            raise ModelNotInitializedError(
                f"{type(model).__name__} has lazy parameters that are not materialized "
                f"yet ({name}): call fedchain_magics.models.initialize(model, X_sample, "
                "y_sample) or run one forward pass first"
            )
        if tensor.is_floating_point():
            entries.append((name, tensor))
    return entries


def _device_and_dtype(model: Any) -> tuple[torch.device, torch.dtype]:
    import torch

    for tensor in [*model.parameters(), *model.buffers()]:
        if tensor.is_floating_point():
            return tensor.device, tensor.dtype
    return torch.device("cpu"), torch.get_default_dtype()


def _as_tensor(array: np.ndarray, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    import torch

    # np.array copies, so torch never sees a read-only buffer (which it warns about).
    numpy_dtype = np.int64 if dtype == torch.long else np.float64
    return torch.from_numpy(np.array(array, dtype=numpy_dtype)).to(device=device, dtype=dtype)


class TorchModuleAdapter(ModelAdapter):
    """Flattens the floating-point ``state_dict`` entries in order."""

    kind: ClassVar[str] = "torch.module"

    def layout(self, model: Any) -> list[ParameterSlot]:
        return build_layout(
            (name, tuple(tensor.shape)) for name, tensor in _floating_entries(model)
        )

    def get_parameters(self, model: Any) -> np.ndarray:
        import torch

        return flatten(
            tensor.detach().to(device="cpu", dtype=torch.float64).numpy()
            for _, tensor in _floating_entries(model)
        )

    def set_parameters(self, model: Any, vector: Any) -> None:
        import torch

        entries = _floating_entries(model)
        layout = build_layout((name, tuple(tensor.shape)) for name, tensor in entries)
        values = checked_vector(vector, layout, type(model).__name__)
        state = model.state_dict()
        for (name, tensor), array in zip(entries, unflatten(values, layout), strict=True):
            state[name] = torch.from_numpy(array).to(device=tensor.device, dtype=tensor.dtype)
        model.load_state_dict(state)

    def spec(self, model: Any) -> dict[str, Any]:
        entries = _floating_entries(model)
        layout = build_layout((name, tuple(tensor.shape)) for name, tensor in entries)
        return {
            "kind": self.kind,
            "class": public_class_name(model),
            "modules": [
                {"name": name, "class": public_class_name(module)}
                for name, module in model.named_modules()
            ],
            "parameter_count": layout_length(layout),
            "vector_dtype": VECTOR_DTYPE,
            "layout": [
                {**slot.to_dict(), "dtype": str(tensor.dtype).removeprefix("torch.")}
                for slot, (_, tensor) in zip(layout, entries, strict=True)
            ],
        }

    def initialize(self, model: Any, X: Any, y: Any, *, classes: Any = None) -> Any:
        """Nothing to do, except materializing lazy modules with one forward pass."""
        import torch
        from torch.nn.parameter import is_lazy

        if any(is_lazy(tensor) for tensor in [*model.parameters(), *model.buffers()]):
            X_array, _ = as_arrays(X, y)
            was_training = model.training
            model.eval()
            try:
                with torch.no_grad():
                    model(_as_tensor(X_array[:1], torch.device("cpu"), torch.get_default_dtype()))
            finally:
                model.train(was_training)
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
        optimizer: Literal["sgd", "adam"] = "sgd",
        **options: Any,
    ) -> Any:
        import torch
        import torch.nn.functional as functional

        reject_options(self.kind, options)
        check_epochs(epochs)
        if optimizer not in DEFAULT_LEARNING_RATES:
            raise TrainingInputError(f"optimizer must be 'sgd' or 'adam', got {optimizer!r}")
        batch = DEFAULT_BATCH_SIZE if batch_size is None else int(batch_size)
        if batch < 1:
            raise TrainingInputError(f"batch_size must be at least 1, got {batch_size!r}")
        X_array, y_array = as_arrays(X, y)
        classification = _is_classification(y_array)
        device, dtype = _device_and_dtype(model)
        inputs = _as_tensor(X_array, device, dtype)
        targets = _as_tensor(y_array, device, torch.long if classification else dtype)
        trainable = [parameter for parameter in model.parameters() if parameter.requires_grad]
        if not trainable:
            raise ModelError(f"{type(model).__name__} has no trainable parameters")
        rate = DEFAULT_LEARNING_RATES[optimizer] if learning_rate is None else learning_rate
        step: torch.optim.Optimizer = (
            torch.optim.SGD(trainable, lr=rate)
            if optimizer == "sgd"
            else torch.optim.Adam(trainable, lr=rate)
        )
        was_training = model.training
        with torch.random.fork_rng(devices=[], enabled=seed is not None):
            if seed is not None:
                torch.manual_seed(seed)
            model.train()
            try:
                for _ in range(epochs):
                    order = torch.randperm(len(targets)).to(device)
                    for start in range(0, len(targets), batch):
                        rows = order[start : start + batch]
                        outputs = model(inputs[rows])
                        if classification:
                            loss = functional.cross_entropy(outputs, targets[rows])
                        else:
                            loss = functional.mse_loss(
                                outputs.reshape(targets[rows].shape), targets[rows]
                            )
                        step.zero_grad()
                        loss.backward()
                        step.step()
            finally:
                model.train(was_training)
        return model

    def evaluate(self, model: Any, X: Any, y: Any) -> float:
        """Accuracy (argmax of the logits) for integer ``y``, R^2 for floating ``y``."""
        import torch

        X_array, y_array = as_arrays(X, y)
        if len(y_array) == 0:
            raise TrainingInputError("cannot evaluate on zero samples")
        device, dtype = _device_and_dtype(model)
        was_training = model.training
        model.eval()
        chunks = []
        try:
            with torch.no_grad():
                for start in range(0, len(X_array), _EVALUATION_CHUNK_ROWS):
                    rows = _as_tensor(
                        X_array[start : start + _EVALUATION_CHUNK_ROWS], device, dtype
                    )
                    chunks.append(model(rows).to(device="cpu", dtype=torch.float64).numpy())
        finally:
            model.train(was_training)
        outputs = np.concatenate(chunks)
        if _is_classification(y_array):
            return float(np.mean(outputs.argmax(axis=1) == y_array))
        predictions = outputs.reshape(y_array.shape)
        residual = float(np.sum((y_array - predictions) ** 2))
        total = float(np.sum((y_array - np.mean(y_array)) ** 2))
        if total == 0.0:
            return 1.0 if residual == 0.0 else 0.0
        return 1.0 - residual / total
