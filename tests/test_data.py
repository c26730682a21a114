"""Partitioning data among parties: exact partitions, skew on demand, determinism."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fedchain_magics.data import (
    DATASET_NAMES,
    Shard,
    class_counts,
    load_dataset,
    split_dirichlet,
    split_iid,
    standardize,
    train_test_split_stratified,
)


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, np.ndarray]:
    return load_dataset("digits")


def _assert_exact_partition(shards: list[Shard], X: np.ndarray, y: np.ndarray) -> None:
    indices = np.concatenate([shard.indices for shard in shards])
    np.testing.assert_array_equal(np.sort(indices), np.arange(len(y)))  # no loss, no duplicates
    for party, shard in enumerate(shards):
        assert shard.party_index == party
        assert shard.n_samples == len(shard.indices) == len(shard.X)
        np.testing.assert_array_equal(shard.X, X[shard.indices])
        np.testing.assert_array_equal(shard.y, y[shard.indices])


def _mean_label_skew(shards: list[Shard], y: np.ndarray) -> float:
    """Mean total-variation distance between each party's label mix and the global one."""
    counts = class_counts(shards, np.unique(y)).astype(float)
    party_mix = counts / counts.sum(axis=1, keepdims=True)
    global_mix = np.bincount(y) / len(y)
    return float(np.mean(0.5 * np.abs(party_mix - global_mix).sum(axis=1)))


@pytest.mark.parametrize(
    ("name", "shape", "n_classes"),
    [
        ("breast_cancer", (569, 30), 2),
        ("digits", (1797, 64), 10),
        ("iris", (150, 4), 3),
        ("wine", (178, 13), 3),
    ],
)
def test_load_dataset(name: str, shape: tuple[int, int], n_classes: int) -> None:
    X, y = load_dataset(name)
    assert X.shape == shape
    assert X.dtype == np.float64
    assert y.dtype == np.int64
    np.testing.assert_array_equal(np.unique(y), np.arange(n_classes))
    assert name in DATASET_NAMES


def test_unknown_dataset_suggests_the_closest_name() -> None:
    with pytest.raises(ValueError, match=r"unknown dataset 'digit' \(did you mean 'digits'\?\)"):
        load_dataset("digit")


def test_iid_split_is_an_exact_near_equal_partition(digits: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = digits
    shards = split_iid(X, y, 7, seed=0)
    _assert_exact_partition(shards, X, y)
    sizes = [shard.n_samples for shard in shards]
    assert max(sizes) - min(sizes) <= 1
    assert _mean_label_skew(shards, y) < 0.1


def test_splits_are_deterministic_for_a_seed(digits: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = digits
    for split in (
        lambda seed: split_iid(X, y, 5, seed=seed),
        lambda seed: split_dirichlet(X, y, 5, alpha=0.5, seed=seed),
    ):
        first, again, other = split(1), split(1), split(2)
        for a, b in zip(first, again, strict=True):
            np.testing.assert_array_equal(a.indices, b.indices)
        assert any(
            not np.array_equal(a.indices, b.indices) for a, b in zip(first, other, strict=True)
        )


def test_dirichlet_alpha_controls_label_skew(digits: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = digits
    skewed = split_dirichlet(X, y, 10, alpha=0.1, seed=0)
    near_uniform = split_dirichlet(X, y, 10, alpha=100.0, seed=0)
    _assert_exact_partition(skewed, X, y)
    _assert_exact_partition(near_uniform, X, y)
    assert _mean_label_skew(skewed, y) > 0.5
    assert _mean_label_skew(near_uniform, y) < 0.1
    # With alpha=0.1 most parties hold few classes in any quantity.
    counts = class_counts(skewed)
    assert np.median((counts >= 0.1 * counts.sum(axis=1, keepdims=True)).sum(axis=1)) <= 4


def test_dirichlet_tops_up_parties_below_the_minimum(digits: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = digits
    shards = split_dirichlet(X, y, 40, alpha=0.01, seed=3, min_samples_per_party=20)
    _assert_exact_partition(shards, X, y)
    assert min(shard.n_samples for shard in shards) >= 20


def test_class_counts_rows_are_parties() -> None:
    y = np.array([0, 0, 1, 2, 2, 2])
    shards = split_iid(np.zeros((6, 1)), y, 2, seed=0)
    counts = class_counts(shards, [0, 1, 2])
    assert counts.shape == (2, 3)
    np.testing.assert_array_equal(counts.sum(axis=0), [2, 1, 3])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda X, y: split_iid(X, y, 0, seed=0), "n_parties must be a positive integer, got 0"),
        (lambda X, y: split_iid(X, y, 2.5, seed=0), "n_parties must be a positive integer"),  # type: ignore[arg-type]
        (lambda X, y: split_iid(X, y, 11, seed=0), "cannot split 10 samples among 11 parties"),
        (lambda X, y: split_iid(X, y[:9], 2, seed=0), "X has 10 rows but y has 9 labels"),
        (lambda X, y: split_iid(X, y[:, None], 2, seed=0), "y must be 1-D"),
        (lambda X, y: split_dirichlet(X, y, 2, alpha=0, seed=0), "alpha must be a positive"),
        (lambda X, y: split_dirichlet(X, y, 2, alpha=-1.0, seed=0), "alpha must be a positive"),
        (
            lambda X, y: split_dirichlet(X, y, 2, alpha=float("nan"), seed=0),
            "alpha must be a positive",
        ),
        (
            lambda X, y: split_dirichlet(X, y, 3, alpha=1.0, seed=0, min_samples_per_party=4),
            "cannot give each of 3 parties 4 samples",
        ),
        (
            lambda X, y: split_dirichlet(X, y, 3, alpha=1.0, seed=0, min_samples_per_party=0),
            "min_samples_per_party must be a positive integer",
        ),
        (
            lambda X, y: train_test_split_stratified(X, y, 1.5, seed=0),
            "test_fraction must be between 0 and 1",
        ),
    ],
)
def test_bad_input_gets_a_one_line_value_error(call: object, message: str) -> None:
    X = np.arange(20.0).reshape(10, 2)
    y = np.array([0, 1] * 5)
    with pytest.raises(ValueError, match=message) as caught:
        call(X, y)  # type: ignore[operator]
    assert "\n" not in str(caught.value)


def test_stratified_split_keeps_class_proportions() -> None:
    X, y = load_dataset("breast_cancer")
    X_train, X_test, y_train, y_test = train_test_split_stratified(X, y, 0.25, seed=0)
    assert len(y_test) == 143
    assert len(y_train) + len(y_test) == len(y)
    assert abs(y_test.mean() - y.mean()) < 0.01
    assert abs(y_train.mean() - y.mean()) < 0.01
    assert X_train.shape[1] == X_test.shape[1] == 30


def test_standardize_uses_training_statistics() -> None:
    X_train = np.array([[1.0, 5.0], [3.0, 5.0]])
    X_test = np.array([[2.0, 6.0]])
    train, test = standardize(X_train, X_test)
    np.testing.assert_allclose(train, [[-1.0, 0.0], [1.0, 0.0]])
    np.testing.assert_allclose(test, [[0.0, 1.0]])  # a constant feature is only centred
    np.testing.assert_array_equal(X_train, [[1.0, 5.0], [3.0, 5.0]])  # inputs untouched


@settings(max_examples=60, deadline=None)
@given(
    labels=st.lists(st.integers(0, 4), min_size=1, max_size=80),
    parties_fraction=st.floats(0.0, 1.0),
    alpha=st.floats(0.01, 50.0),
    seed=st.integers(0, 2**32 - 1),
)
def test_every_split_is_an_exact_partition(
    labels: list[int], parties_fraction: float, alpha: float, seed: int
) -> None:
    y = np.array(labels)
    X = np.arange(len(y) * 2, dtype=float).reshape(-1, 2)
    n_parties = 1 + int(parties_fraction * (len(y) - 1))
    iid = split_iid(X, y, n_parties, seed=seed)
    _assert_exact_partition(iid, X, y)
    minimum = max(1, len(y) // (2 * n_parties))
    skewed = split_dirichlet(X, y, n_parties, alpha=alpha, seed=seed, min_samples_per_party=minimum)
    _assert_exact_partition(skewed, X, y)
    assert len(skewed) == n_parties
    assert min(shard.n_samples for shard in skewed) >= minimum
