"""The scikit-learn MLP adapter: layer-by-layer layout, round trips and local training."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.neural_network import MLPClassifier, MLPRegressor

from fedchain_magics.models import ParameterShapeError, ParameterSlot, adapter_for, initialize

Split = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def _classifier(iris: Split, **options: object) -> MLPClassifier:
    X_train, _, y_train, _ = iris
    settings: dict[str, object] = {"hidden_layer_sizes": (5,), "random_state": 0, **options}
    return initialize(MLPClassifier(**settings), X_train, y_train)


def test_layout_interleaves_weights_and_biases_layer_by_layer(iris: Split) -> None:
    model = _classifier(iris)
    assert adapter_for(model).layout(model) == [
        ParameterSlot("coefs_[0]", (4, 5), 0),
        ParameterSlot("intercepts_[0]", (5,), 20),
        ParameterSlot("coefs_[1]", (5, 3), 25),
        ParameterSlot("intercepts_[1]", (3,), 40),
    ]


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_round_trip_restores_exactly_the_vector_that_was_set(iris: Split, solver: str) -> None:
    model = _classifier(iris, solver=solver, max_iter=5)
    adapter = adapter_for(model)
    original = adapter.get_parameters(model)
    assert original.dtype == np.float64
    assert original.shape == (43,)
    replacement = np.random.default_rng(0).normal(size=43)
    adapter.set_parameters(model, replacement)
    np.testing.assert_array_equal(adapter.get_parameters(model), replacement)
    np.testing.assert_array_equal(model.coefs_[1], replacement[25:40].reshape(5, 3))


def test_regressor_round_trip() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 3))
    y = X.sum(axis=1)
    model = initialize(MLPRegressor(hidden_layer_sizes=(4, 2), random_state=0), X, y)
    adapter = adapter_for(model)
    assert [slot.shape for slot in adapter.layout(model)] == [
        (3, 4),
        (4,),
        (4, 2),
        (2,),
        (2, 1),
        (1,),
    ]
    replacement = rng.normal(size=adapter.parameter_count(model))
    adapter.set_parameters(model, replacement)
    np.testing.assert_array_equal(adapter.get_parameters(model), replacement)
    assert adapter.spec(model)["task"] == "regression"
    assert "classes" not in adapter.spec(model)


def test_layout_and_spec_are_stable_across_fresh_models(iris: Split) -> None:
    first = _classifier(iris, random_state=1)
    second = _classifier(iris, random_state=2)
    adapter = adapter_for(first)
    assert adapter.layout(first) == adapter.layout(second)
    assert json.dumps(adapter.spec(first), sort_keys=True) == json.dumps(
        adapter.spec(second), sort_keys=True
    )
    assert not np.array_equal(adapter.get_parameters(first), adapter.get_parameters(second))
    spec = adapter.spec(first)
    assert spec["class"] == "sklearn.neural_network.MLPClassifier"
    assert spec["hidden_layer_sizes"] == [5]
    assert spec["activation"] == "relu"
    assert spec["out_activation"] == "softmax"
    assert spec["classes"] == [0, 1, 2]


def test_wrong_length_is_refused(iris: Split) -> None:
    model = _classifier(iris)
    with pytest.raises(ParameterShapeError, match="length 43, got length 44"):
        adapter_for(model).set_parameters(model, np.zeros(44))


def test_local_training_improves_accuracy(iris: Split) -> None:
    X_train, X_test, y_train, y_test = iris
    model = _classifier(iris, hidden_layer_sizes=(16,))
    adapter = adapter_for(model)
    poor_start = np.random.default_rng(0).normal(scale=0.1, size=adapter.parameter_count(model))
    adapter.set_parameters(model, poor_start)
    before = adapter.evaluate(model, X_test, y_test)
    adapter.train_local(model, X_train, y_train, epochs=20, batch_size=16, learning_rate=0.01)
    after = adapter.evaluate(model, X_test, y_test)
    assert after > 0.85
    assert after > before + 0.2
    assert model.learning_rate_init == 0.001  # the override did not stick


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_a_shard_missing_classes_keeps_the_model_shape(iris: Split, solver: str) -> None:
    X_train, _, y_train, _ = iris
    model = _classifier(iris, solver=solver, warm_start=True, max_iter=20)
    adapter = adapter_for(model)
    layout = adapter.layout(model)
    shard = y_train != 1
    adapter.train_local(model, X_train[shard], y_train[shard], epochs=3)
    assert adapter.layout(model) == layout
    assert list(model.classes_) == [0, 1, 2]


def test_seeded_training_is_repeatable(iris: Split) -> None:
    X_train, _, y_train, _ = iris
    model = _classifier(iris)
    adapter = adapter_for(model)
    first, second = adapter.clone(model), adapter.clone(model)
    adapter.train_local(first, X_train, y_train, epochs=3, batch_size=16, seed=3)
    adapter.train_local(second, X_train, y_train, epochs=3, batch_size=16, seed=3)
    np.testing.assert_array_equal(adapter.get_parameters(first), adapter.get_parameters(second))
    assert model.batch_size == "auto"
