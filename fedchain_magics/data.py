"""Datasets and how to share them out among simulated parties.

* :func:`split_iid` deals the samples out at random, in near-equal shares.
* :func:`split_dirichlet` gives each party a label-skewed share: for every class, the
  fractions going to each party are drawn from ``Dirichlet(alpha, ..., alpha)``. Small
  ``alpha`` (0.1) gives parties only a few classes each; large ``alpha`` (100) is close
  to IID.

Both return one :class:`Shard` per party; together the shards hold every sample exactly
once, and the same ``seed`` gives the same shards. scikit-learn is imported only by the
functions that need it.
"""

from __future__ import annotations

import difflib
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

DATASET_NAMES = ("breast_cancer", "digits", "iris", "wine")

# split_dirichlet redraws this many times before repairing undersized parties.
_DIRICHLET_REDRAWS = 10


class DataError(ValueError):
    """Data or split options that cannot be used (a ``ValueError``, one line, what to fix)."""


@dataclass(frozen=True, eq=False)
class Shard:
    """One party's share of the data.

    ``indices`` are the rows of the original ``X``/``y`` this shard holds, in shard
    order (``X == X_all[indices]``).
    """

    X: np.ndarray
    y: np.ndarray
    party_index: int
    indices: np.ndarray

    @property
    def n_samples(self) -> int:
        return len(self.y)

    def __repr__(self) -> str:
        return f"Shard(party_index={self.party_index}, n_samples={self.n_samples})"


def split_iid(X: Any, y: Any, n_parties: int, *, seed: int) -> list[Shard]:
    """Shuffle the samples and deal them out; share sizes differ by at most one."""
    X_array, y_array = _checked_data(X, y, n_parties)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(y_array))
    return _shards(X_array, y_array, np.array_split(order, n_parties))


def split_dirichlet(
    X: Any,
    y: Any,
    n_parties: int,
    *,
    alpha: float,
    seed: int,
    min_samples_per_party: int = 1,
) -> list[Shard]:
    """Label-skewed split: each class is shared out in ``Dirichlet(alpha)`` proportions.

    A draw that leaves some party with fewer than ``min_samples_per_party`` samples is
    redrawn (up to 10 times); if that still fails, the smallest parties are topped up
    with random samples taken from the largest ones.
    """
    X_array, y_array = _checked_data(X, y, n_parties)
    real = isinstance(alpha, numbers.Real) and not isinstance(alpha, bool)
    if not real or not np.isfinite(alpha) or alpha <= 0:
        raise DataError(f"alpha must be a positive finite number, got {alpha!r}")
    if not _is_int(min_samples_per_party) or min_samples_per_party < 1:
        raise DataError(
            f"min_samples_per_party must be a positive integer, got {min_samples_per_party!r}"
        )
    if n_parties * min_samples_per_party > len(y_array):
        raise DataError(
            f"cannot give each of {n_parties} parties {min_samples_per_party} samples: "
            f"there are only {len(y_array)} samples"
        )
    rng = np.random.default_rng(seed)
    for _ in range(_DIRICHLET_REDRAWS):
        parts = _dirichlet_draw(y_array, n_parties, float(alpha), rng)
        if min(len(part) for part in parts) >= min_samples_per_party:
            break
    else:
        parts = _top_up(parts, min_samples_per_party, rng)
    return _shards(X_array, y_array, [rng.permutation(part) for part in parts])


def class_counts(shards: Sequence[Shard], classes: Any = None) -> np.ndarray:
    """Samples of each class held by each party: shape ``(n_parties, n_classes)``.

    ``classes`` fixes the column order (default: every label seen in the shards, sorted).
    """
    if classes is None:
        classes = np.unique(np.concatenate([shard.y for shard in shards]))
    labels = np.asarray(classes)
    return np.array([[np.sum(shard.y == label) for label in labels] for shard in shards])


def load_dataset(name: str) -> tuple[np.ndarray, np.ndarray]:
    """One of the datasets scikit-learn ships (no download): features and labels.

    Returns ``X`` as float64 of shape ``(n_samples, n_features)`` and ``y`` as int64,
    both unscaled; see :func:`train_test_split_stratified` and :func:`standardize`.
    """
    from sklearn import datasets

    loaders = {
        "breast_cancer": datasets.load_breast_cancer,
        "digits": datasets.load_digits,
        "iris": datasets.load_iris,
        "wine": datasets.load_wine,
    }
    if name not in loaders:
        close = difflib.get_close_matches(str(name), DATASET_NAMES, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise DataError(f"unknown dataset {name!r}{hint}; choose one of {', '.join(DATASET_NAMES)}")
    X, y = loaders[name](return_X_y=True)
    return np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.int64)


def train_test_split_stratified(
    X: Any, y: Any, test_fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(X_train, X_test, y_train, y_test)`` with class proportions kept in both parts."""
    from sklearn.model_selection import train_test_split

    X_array, y_array = _checked_pair(X, y)
    if not 0.0 < test_fraction < 1.0:
        raise DataError(f"test_fraction must be between 0 and 1 (exclusive), got {test_fraction}")
    X_train, X_test, y_train, y_test = train_test_split(
        X_array, y_array, test_size=test_fraction, random_state=seed, stratify=y_array
    )
    return X_train, X_test, y_train, y_test


def standardize(X_train: Any, X_test: Any) -> tuple[np.ndarray, np.ndarray]:
    """Scale both sets by the training set's per-feature mean and standard deviation.

    Constant features are centred but not scaled. Returns float64 copies.
    """
    train = np.asarray(X_train, dtype=np.float64)
    test = np.asarray(X_test, dtype=np.float64)
    if train.ndim != 2 or test.ndim != 2 or train.shape[1] != test.shape[1]:
        raise DataError(
            f"X_train {train.shape} and X_test {test.shape} must be 2-D with the same "
            "number of features"
        )
    if len(train) == 0:
        raise DataError("X_train is empty; there is nothing to take a mean from")
    mean = train.mean(axis=0)
    scale = train.std(axis=0)
    scale[scale == 0.0] = 1.0
    return (train - mean) / scale, (test - mean) / scale


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _checked_pair(X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    X_array = np.asarray(X)
    y_array = np.asarray(y)
    if X_array.ndim == 0:
        raise DataError("X must have one row per sample, got a scalar")
    if y_array.ndim != 1:
        raise DataError(f"y must be 1-D (one label per sample), got shape {y_array.shape}")
    if len(X_array) != len(y_array):
        raise DataError(
            f"X has {len(X_array)} rows but y has {len(y_array)} labels; they must match"
        )
    return X_array, y_array


def _checked_data(X: Any, y: Any, n_parties: int) -> tuple[np.ndarray, np.ndarray]:
    X_array, y_array = _checked_pair(X, y)
    if not _is_int(n_parties) or n_parties < 1:
        raise DataError(f"n_parties must be a positive integer, got {n_parties!r}")
    if n_parties > len(y_array):
        raise DataError(
            f"cannot split {len(y_array)} samples among {n_parties} parties: "
            "every party needs at least one sample"
        )
    return X_array, y_array


def _dirichlet_draw(
    y: np.ndarray, n_parties: int, alpha: float, rng: np.random.Generator
) -> list[np.ndarray]:
    """Share each class's (shuffled) samples out by one Dirichlet draw."""
    parts: list[list[np.ndarray]] = [[] for _ in range(n_parties)]
    for label in np.unique(y):
        members = rng.permutation(np.flatnonzero(y == label))
        proportions = rng.dirichlet(np.full(n_parties, alpha))
        cuts = np.floor(np.cumsum(proportions)[:-1] * len(members)).astype(np.int64)
        for party, piece in enumerate(np.split(members, cuts)):
            parts[party].append(piece)
    return [np.concatenate(pieces) for pieces in parts]


def _top_up(parts: list[np.ndarray], minimum: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Move random samples from the largest parties to those below ``minimum``."""
    parts = [part.copy() for part in parts]
    for party in range(len(parts)):
        while len(parts[party]) < minimum:
            donor = int(np.argmax([len(part) for part in parts]))
            pick = int(rng.integers(len(parts[donor])))
            parts[party] = np.append(parts[party], parts[donor][pick])
            parts[donor] = np.delete(parts[donor], pick)
    return parts


def _shards(X: np.ndarray, y: np.ndarray, parts: Sequence[np.ndarray]) -> list[Shard]:
    return [
        Shard(X=X[indices], y=y[indices], party_index=party, indices=np.asarray(indices))
        for party, indices in enumerate(parts)
    ]
