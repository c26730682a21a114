"""The torch.nn.Module adapter: state_dict order, dtype round trips, local training."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from fedchain_magics.models import (  # noqa: E402
    ModelNotInitializedError,
    ParameterShapeError,
    ParameterSlot,
    adapter_for,
    initialize,
)

pytestmark = pytest.mark.torch

Split = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread() -> Iterator[None]:
    """These models are tiny; on a busy 2-core runner extra intra-op threads only spin."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _mlp(seed: int, *, batch_norm: bool = False) -> Any:
    torch.manual_seed(seed)
    layers: list[Any] = [torch.nn.Linear(64, 32)]
    if batch_norm:
        layers.append(torch.nn.BatchNorm1d(32))
    layers += [torch.nn.ReLU(), torch.nn.Linear(32, 10)]
    return torch.nn.Sequential(*layers)


def test_layout_follows_state_dict_order_and_skips_integer_buffers() -> None:
    model = _mlp(0, batch_norm=True)
    assert adapter_for(model).kind == "torch.module"
    assert adapter_for(model).layout(model) == [
        ParameterSlot("0.weight", (32, 64), 0),
        ParameterSlot("0.bias", (32,), 2048),
        ParameterSlot("1.weight", (32,), 2080),
        ParameterSlot("1.bias", (32,), 2112),
        ParameterSlot("1.running_mean", (32,), 2144),
        ParameterSlot("1.running_var", (32,), 2176),
        ParameterSlot("3.weight", (10, 32), 2208),
        ParameterSlot("3.bias", (10,), 2528),
    ]
    assert "1.num_batches_tracked" in model.state_dict()


def test_round_trip_restores_the_vector_at_tensor_precision() -> None:
    model = _mlp(0, batch_norm=True)
    adapter = adapter_for(model)
    original = adapter.get_parameters(model)
    assert original.dtype == np.float64
    assert original.shape == (2538,)
    np.testing.assert_array_equal(
        original[:2048], model[0].weight.detach().numpy().astype(np.float64).ravel()
    )

    replacement = np.random.default_rng(0).normal(size=original.shape)
    adapter.set_parameters(model, replacement)
    assert model[0].weight.dtype == torch.float32
    np.testing.assert_array_equal(
        adapter.get_parameters(model), replacement.astype(np.float32).astype(np.float64)
    )
    np.testing.assert_array_equal(
        model[1].running_var.numpy(), replacement[2176:2208].astype(np.float32)
    )


def test_float64_modules_round_trip_exactly() -> None:
    model = _mlp(0).double()
    adapter = adapter_for(model)
    replacement = np.random.default_rng(1).normal(size=adapter.parameter_count(model))
    adapter.set_parameters(model, replacement)
    np.testing.assert_array_equal(adapter.get_parameters(model), replacement)
    assert model[0].weight.dtype == torch.float64


def test_set_parameters_keeps_the_same_tensors() -> None:
    model = _mlp(0)
    weight = model[0].weight
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    adapter = adapter_for(model)
    adapter.set_parameters(model, np.zeros(adapter.parameter_count(model)))
    assert model[0].weight is weight
    assert optimizer.param_groups[0]["params"][0] is weight
    assert not torch.any(weight)


def test_layout_and_spec_are_stable_across_fresh_models() -> None:
    first, second = _mlp(0, batch_norm=True), _mlp(1, batch_norm=True)
    adapter = adapter_for(first)
    assert adapter.layout(first) == adapter.layout(second)
    assert json.dumps(adapter.spec(first), sort_keys=True) == json.dumps(
        adapter.spec(second), sort_keys=True
    )
    assert not np.array_equal(adapter.get_parameters(first), adapter.get_parameters(second))


def test_spec_describes_architecture_without_values() -> None:
    model = _mlp(0)
    spec = adapter_for(model).spec(model)
    assert spec["kind"] == "torch.module"
    assert spec["class"] == "torch.nn.modules.container.Sequential"
    assert spec["parameter_count"] == 64 * 32 + 32 + 32 * 10 + 10
    assert spec["layout"][0] == {
        "name": "0.weight",
        "shape": [32, 64],
        "offset": 0,
        "dtype": "float32",
    }
    assert [module["class"].rsplit(".", 1)[-1] for module in spec["modules"]] == [
        "Sequential",
        "Linear",
        "ReLU",
        "Linear",
    ]
    encoded = json.dumps(spec, sort_keys=True)
    adapter_for(model).set_parameters(model, np.zeros(spec["parameter_count"]))
    assert json.dumps(adapter_for(model).spec(model), sort_keys=True) == encoded


def test_wrong_length_is_refused() -> None:
    model = _mlp(0)
    with pytest.raises(ParameterShapeError, match="length 2410, got length 2409"):
        adapter_for(model).set_parameters(model, np.zeros(2409))


def test_local_training_improves_digits_accuracy(digits: Split) -> None:
    X_train, X_test, y_train, y_test = digits
    model = _mlp(0)
    adapter = adapter_for(model)
    before = adapter.evaluate(model, X_test, y_test)
    adapter.train_local(model, X_train, y_train, epochs=5, batch_size=32, seed=0)
    after = adapter.evaluate(model, X_test, y_test)
    assert before < 0.3
    assert after > 0.9
    assert model.training  # the mode it had before


def test_adam_also_trains(digits: Split) -> None:
    X_train, X_test, y_train, y_test = digits
    model = _mlp(0)
    adapter = adapter_for(model)
    adapter.train_local(model, X_train, y_train, epochs=3, optimizer="adam", learning_rate=0.01)
    assert adapter.evaluate(model, X_test, y_test) > 0.9


def test_seeded_training_is_repeatable_and_leaves_global_rng_alone(digits: Split) -> None:
    X_train, _, y_train, _ = digits
    model = torch.nn.Sequential(_mlp(0), torch.nn.Dropout(0.2))
    adapter = adapter_for(model)
    first, second = adapter.clone(model), adapter.clone(model)
    state = torch.random.get_rng_state()
    adapter.train_local(first, X_train[:300], y_train[:300], epochs=2, seed=5)
    adapter.train_local(second, X_train[:300], y_train[:300], epochs=2, seed=5)
    assert torch.equal(torch.random.get_rng_state(), state)
    np.testing.assert_array_equal(adapter.get_parameters(first), adapter.get_parameters(second))
    third = adapter.clone(model)
    adapter.train_local(third, X_train[:300], y_train[:300], epochs=2, seed=6)
    assert not np.array_equal(adapter.get_parameters(first), adapter.get_parameters(third))


def test_float_targets_mean_regression_scored_by_r_squared() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = X @ np.array([1.0, -1.0, 0.5]) + 0.2
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    adapter = adapter_for(model)
    before = adapter.evaluate(model, X, y)
    adapter.train_local(model, X, y, epochs=20, learning_rate=0.05)
    after = adapter.evaluate(model, X, y)
    assert after > 0.99 > before


def test_clone_keeps_parameters_and_is_independent() -> None:
    model = _mlp(0)
    adapter = adapter_for(model)
    copy = adapter.clone(model)
    np.testing.assert_array_equal(adapter.get_parameters(copy), adapter.get_parameters(model))
    adapter.set_parameters(copy, np.zeros(adapter.parameter_count(copy)))
    assert np.any(adapter.get_parameters(model) != 0.0)


def test_lazy_modules_need_initialize() -> None:
    model = torch.nn.Sequential(torch.nn.LazyLinear(4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    adapter = adapter_for(model)
    with pytest.raises(ModelNotInitializedError, match="initialize"):
        adapter.get_parameters(model)
    initialize(model, np.zeros((3, 6)), np.zeros(3, dtype=int))
    assert adapter.layout(model)[0] == ParameterSlot("0.weight", (4, 6), 0)


def test_initialize_is_a_no_op_for_ordinary_modules() -> None:
    model = _mlp(0)
    vector = adapter_for(model).get_parameters(model)
    assert initialize(model, np.zeros((2, 64)), np.zeros(2, dtype=int)) is model
    np.testing.assert_array_equal(adapter_for(model).get_parameters(model), vector)
