"""Plain weighted FedAvg: the reference the encrypted path is compared against."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def weighted_average(vectors: Sequence[np.ndarray], weights: Sequence[float]) -> np.ndarray:
    """sum_i w_i x_i / sum_i w_i over equally long float vectors."""
    if not vectors:
        raise ValueError("weighted_average needs at least one vector")
    if len(vectors) != len(weights):
        raise ValueError(f"{len(vectors)} vectors but {len(weights)} weights")
    total = float(sum(weights))
    if total <= 0:
        raise ValueError("weights must add up to a positive number")
    result = np.zeros_like(np.asarray(vectors[0], dtype=np.float64))
    for vector, weight in zip(vectors, weights, strict=True):
        result += float(weight) * np.asarray(vector, dtype=np.float64)
    return result / total
