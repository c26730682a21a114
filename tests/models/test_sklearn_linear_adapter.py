"""The scikit-learn linear-model adapter: flat vectors in and out, and local training."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from sklearn.linear_model import (
    LinearRegression,
    LogisticRegression,
    Ridge,
    RidgeClassifier,
    SGDClassifier,
    SGDRegressor,
)

from fedchain_magics.models import (
    ModelError,
    ParameterShapeError,
    ParameterSlot,
    ParameterValueError,
    adapter_for,
    initialize,
)

Split = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def _regression_data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 5))
    y = X @ np.array([1.0, -2.0, 0.5, 0.0, 3.0]) + 0.7 + rng.normal(scale=0.1, size=120)
    return X, y


def _iris_model(model: Any, iris: Split) -> Any:
    X_train, _, y_train, _ = iris
    return initialize(model, X_train, y_train)


CASES = {
    "logistic-binary": lambda data: initialize(
        LogisticRegression(), data["breast_cancer"][0], data["breast_cancer"][2]
    ),
    "logistic-multiclass": lambda data: initialize(
        LogisticRegression(), data["iris"][0], data["iris"][2]
    ),
    "sgd-classifier": lambda data: initialize(
        SGDClassifier(random_state=0), data["iris"][0], data["iris"][2]
    ),
    "sgd-classifier-averaged": lambda data: initialize(
        SGDClassifier(average=True, random_state=0), data["iris"][0], data["iris"][2]
    ),
    "ridge-classifier": lambda data: initialize(
        RidgeClassifier(), data["iris"][0], data["iris"][2]
    ),
    "sgd-regressor": lambda data: initialize(SGDRegressor(random_state=0), *_regression_data()),
    "linear-regression": lambda data: initialize(LinearRegression(), *_regression_data()),
    "no-intercept": lambda data: initialize(
        LinearRegression(fit_intercept=False), *_regression_data()
    ),
}


@pytest.fixture(params=sorted(CASES))
def fitted(request: pytest.FixtureRequest, breast_cancer: Split, iris: Split) -> Any:
    return CASES[request.param]({"breast_cancer": breast_cancer, "iris": iris})


def test_round_trip_restores_exactly_the_vector_that_was_set(fitted: Any) -> None:
    adapter = adapter_for(fitted)
    original = adapter.get_parameters(fitted)
    assert original.dtype == np.float64
    assert original.ndim == 1
    assert original.shape == (adapter.parameter_count(fitted),)

    replacement = np.random.default_rng(1).normal(size=original.shape)
    adapter.set_parameters(fitted, replacement)
    np.testing.assert_array_equal(adapter.get_parameters(fitted), replacement)

    adapter.set_parameters(fitted, original)
    np.testing.assert_array_equal(adapter.get_parameters(fitted), original)


def test_get_parameters_returns_a_copy(fitted: Any) -> None:
    adapter = adapter_for(fitted)
    vector = adapter.get_parameters(fitted)
    vector[:] = 123.0
    assert not np.any(adapter.get_parameters(fitted) == 123.0)


def test_set_parameters_drives_predictions(breast_cancer: Split) -> None:
    X_train, X_test, y_train, _ = breast_cancer
    model = initialize(LogisticRegression(), X_train, y_train)
    adapter = adapter_for(model)
    vector = adapter.get_parameters(model)
    flipped = -vector
    adapter.set_parameters(model, flipped)
    expected = X_test @ flipped[:-1] + flipped[-1]
    np.testing.assert_allclose(model.decision_function(X_test), expected)


def test_layout_is_coef_then_intercept(iris: Split, breast_cancer: Split) -> None:
    multiclass = _iris_model(LogisticRegression(), iris)
    assert adapter_for(multiclass).layout(multiclass) == [
        ParameterSlot("coef_", (3, 4), 0),
        ParameterSlot("intercept_", (3,), 12),
    ]
    binary = initialize(LogisticRegression(), breast_cancer[0], breast_cancer[2])
    assert adapter_for(binary).layout(binary) == [
        ParameterSlot("coef_", (1, 30), 0),
        ParameterSlot("intercept_", (1,), 30),
    ]
    no_intercept = initialize(LinearRegression(fit_intercept=False), *_regression_data())
    assert adapter_for(no_intercept).layout(no_intercept)[1] == ParameterSlot("intercept_", (), 5)


def test_layout_and_spec_are_the_same_for_two_fresh_models(iris: Split) -> None:
    X_train, _, y_train, _ = iris
    first = initialize(LogisticRegression(), X_train[:60], y_train[:60], classes=[0, 1, 2])
    second = initialize(LogisticRegression(C=0.1), X_train[60:], y_train[60:], classes=[0, 1, 2])
    adapter = adapter_for(first)
    assert adapter.layout(first) == adapter.layout(second)
    assert adapter.spec(first) == adapter.spec(second)
    assert not np.allclose(adapter.get_parameters(first), adapter.get_parameters(second))


def test_spec_is_json_deterministic_and_value_free(fitted: Any) -> None:
    adapter = adapter_for(fitted)
    spec = adapter.spec(fitted)
    encoded = json.dumps(spec, sort_keys=True)
    adapter.set_parameters(fitted, np.zeros(adapter.parameter_count(fitted)))
    assert json.dumps(adapter.spec(fitted), sort_keys=True) == encoded
    assert spec["kind"] == "sklearn.linear"
    assert spec["class"].startswith("sklearn.linear_model.")
    assert "._" not in spec["class"]
    assert spec["vector_dtype"] == "float64"
    assert spec["parameter_count"] == adapter.parameter_count(fitted)


def test_classifier_spec_lists_classes(iris: Split) -> None:
    model = _iris_model(LogisticRegression(), iris)
    spec = adapter_for(model).spec(model)
    assert spec == {
        "kind": "sklearn.linear",
        "class": "sklearn.linear_model.LogisticRegression",
        "task": "classification",
        "n_features": 4,
        "classes": [0, 1, 2],
        "parameter_count": 15,
        "vector_dtype": "float64",
        "layout": [
            {"name": "coef_", "shape": [3, 4], "offset": 0},
            {"name": "intercept_", "shape": [3], "offset": 12},
        ],
    }


def test_wrong_length_names_expected_and_actual(iris: Split) -> None:
    model = _iris_model(LogisticRegression(), iris)
    adapter = adapter_for(model)
    with pytest.raises(ParameterShapeError, match="length 15, got length 14"):
        adapter.set_parameters(model, np.zeros(14))
    with pytest.raises(ParameterShapeError, match="1-D"):
        adapter.set_parameters(model, np.zeros((3, 5)))
    with pytest.raises(ParameterValueError, match="NaN"):
        adapter.set_parameters(model, np.full(15, np.nan))


def _accuracy_after(model: Any, split: Split, epochs: int) -> tuple[float, float]:
    X_train, X_test, y_train, y_test = split
    adapter = adapter_for(model)
    adapter.set_parameters(model, np.zeros(adapter.parameter_count(model)))
    before = adapter.evaluate(model, X_test, y_test)
    adapter.train_local(model, X_train, y_train, epochs=epochs)
    return before, adapter.evaluate(model, X_test, y_test)


def test_logistic_regression_local_training_improves_breast_cancer(breast_cancer: Split) -> None:
    model = initialize(LogisticRegression(), breast_cancer[0][:20], breast_cancer[2][:20])
    before, after = _accuracy_after(model, breast_cancer, epochs=5)
    assert before < 0.7  # all-zero weights predict one class
    assert after > 0.93
    assert model.warm_start is False
    assert model.max_iter == 100


def test_sgd_classifier_local_training_improves_breast_cancer(breast_cancer: Split) -> None:
    model = initialize(SGDClassifier(random_state=0), breast_cancer[0][:20], breast_cancer[2][:20])
    before, after = _accuracy_after(model, breast_cancer, epochs=3)
    assert after > max(before, 0.9)


def test_training_starts_from_the_current_parameters(breast_cancer: Split) -> None:
    X_train, _, y_train, _ = breast_cancer
    model = initialize(LogisticRegression(), X_train, y_train)
    adapter = adapter_for(model)
    start = np.random.default_rng(0).normal(size=adapter.parameter_count(model))
    adapter.set_parameters(model, start)
    adapter.train_local(model, X_train, y_train, epochs=1)
    after_one_step = adapter.get_parameters(model)
    assert not np.allclose(after_one_step, start)
    # One lbfgs iteration stays near the start; a cold fit would land far away.
    cold = LogisticRegression().fit(X_train, y_train)
    cold_vector = np.append(cold.coef_.ravel(), cold.intercept_)
    assert np.linalg.norm(after_one_step - start) < np.linalg.norm(cold_vector - start)


@pytest.mark.parametrize(
    "model",
    [LogisticRegression(), SGDClassifier(random_state=0), RidgeClassifier()],
    ids=lambda model: type(model).__name__,
)
def test_a_shard_missing_classes_keeps_the_model_shape(model: Any, iris: Split) -> None:
    X_train, X_test, y_train, y_test = iris
    initialize(model, X_train, y_train)
    adapter = adapter_for(model)
    layout = adapter.layout(model)
    for labels in ([0, 1], [2]):
        shard = np.isin(y_train, labels)
        adapter.train_local(model, X_train[shard], y_train[shard], epochs=2)
        assert adapter.layout(model) == layout
        assert list(model.classes_) == [0, 1, 2]
    assert 0.0 <= adapter.evaluate(model, X_test, y_test) <= 1.0


def test_initialize_makes_every_listed_class_known(iris: Split) -> None:
    X_train, _, y_train, _ = iris
    only_zeros = y_train == 0
    for model in (LogisticRegression(), SGDClassifier(random_state=0)):
        initialize(model, X_train[only_zeros], y_train[only_zeros], classes=[0, 1, 2])
        assert list(model.classes_) == [0, 1, 2]
        assert adapter_for(model).layout(model)[0].shape == (3, 4)


def test_initialize_leaves_a_fitted_model_alone(iris: Split) -> None:
    X_train, _, y_train, _ = iris
    model = _iris_model(LogisticRegression(), iris)
    vector = adapter_for(model).get_parameters(model)
    initialize(model, X_train[:5], y_train[:5], classes=[0, 1, 2])
    np.testing.assert_array_equal(adapter_for(model).get_parameters(model), vector)
    with pytest.raises(ModelError, match="already fitted with classes"):
        initialize(model, X_train, y_train, classes=[0, 1, 2, 3])


def test_labels_outside_the_model_classes_are_refused(iris: Split) -> None:
    X_train, _, y_train, _ = iris
    only_two = y_train < 2
    model = initialize(LogisticRegression(), X_train[only_two], y_train[only_two])
    with pytest.raises(ModelError, match=r"labels \[2\]"):
        adapter_for(model).train_local(model, X_train, y_train, epochs=1)
    with pytest.raises(ModelError, match="not in classes"):
        initialize(LogisticRegression(), X_train, y_train, classes=[0, 1])


def test_liblinear_cannot_warm_start(breast_cancer: Split) -> None:
    X_train, _, y_train, _ = breast_cancer
    model = initialize(LogisticRegression(solver="liblinear"), X_train, y_train)
    with pytest.raises(ModelError, match="solver='lbfgs'"):
        adapter_for(model).train_local(model, X_train, y_train, epochs=1)


def test_seeded_training_is_repeatable(iris: Split) -> None:
    X_train, _, y_train, _ = iris
    model = _iris_model(SGDClassifier(), iris)
    adapter = adapter_for(model)
    first, second = adapter.clone(model), adapter.clone(model)
    adapter.train_local(first, X_train, y_train, epochs=2, seed=7)
    adapter.train_local(second, X_train, y_train, epochs=2, seed=7)
    np.testing.assert_array_equal(adapter.get_parameters(first), adapter.get_parameters(second))


def test_clone_keeps_parameters_and_is_independent(iris: Split) -> None:
    model = _iris_model(LogisticRegression(), iris)
    adapter = adapter_for(model)
    copy = adapter.clone(model)
    np.testing.assert_array_equal(adapter.get_parameters(copy), adapter.get_parameters(model))
    adapter.set_parameters(copy, np.zeros(adapter.parameter_count(copy)))
    assert np.any(adapter.get_parameters(model) != 0.0)


def test_regressors_are_scored_by_r_squared() -> None:
    X, y = _regression_data()
    model = initialize(Ridge(), X, y)
    adapter = adapter_for(model)
    assert adapter.evaluate(model, X, y) > 0.99
    adapter.set_parameters(model, np.zeros(adapter.parameter_count(model)))
    assert adapter.evaluate(model, X, y) < 0.0


def test_epochs_must_be_positive(iris: Split) -> None:
    X_train, _, y_train, _ = iris
    model = _iris_model(LogisticRegression(), iris)
    with pytest.raises(ValueError, match="epochs must be a positive integer"):
        adapter_for(model).train_local(model, X_train, y_train, epochs=0)


def test_unknown_training_options_are_refused(iris: Split) -> None:
    X_train, _, y_train, _ = iris
    model = _iris_model(LogisticRegression(), iris)
    with pytest.raises(TypeError, match="take no training option"):
        adapter_for(model).train_local(model, X_train, y_train, epochs=1, optimizer="adam")
