"""Combining a round's group sums robustly: a group whose mean update lies far from the others'
is left out of the model, so one noisy or 100x-scaled party cannot get every round rejected.

Pure arithmetic over the decrypted group sums (each a sum of at least k weighted updates); the
key holder calls it through ``RoundStrategy.combine_groups``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

DEFAULT_DISTANCE_FACTOR = 3.0
RELATIVE_SPREAD = 0.75
"""A group mean within this fraction of the median mean's norm from it is never an outlier."""


@dataclass(frozen=True)
class GroupCombination:
    """The new parameters and which groups went into them."""

    parameters: np.ndarray
    kept: tuple[str, ...]
    left_out: tuple[str, ...]


def combine_groups(
    global_parameters: np.ndarray,
    group_sums: Mapping[str, np.ndarray],
    group_weights: Mapping[str, float],
    *,
    distance_factor: float = DEFAULT_DISTANCE_FACTOR,
) -> GroupCombination:
    """FedAvg over the groups whose mean update (sum / weight) lies within ``distance_factor``
    times the median distance (or ``RELATIVE_SPREAD`` of its norm, whichever is larger) of the
    coordinate-wise median of all group means; with fewer than three groups there is no
    majority to compare with and every group is kept."""
    names = sorted(group_sums)
    if not names:
        raise ValueError("there is no group to combine")
    size = global_parameters.size
    sums = {name: np.asarray(group_sums[name][:size], np.float64) for name in names}
    weights = {name: float(group_weights[name]) for name in names}
    if any(weight <= 0 for weight in weights.values()):
        raise ValueError("every group's weight must be positive")
    kept = names
    if len(names) >= 3:
        means = np.stack([sums[name] / weights[name] for name in names])
        centre = np.median(means, axis=0)
        distances = np.linalg.norm(means - centre, axis=1)
        # a spread floor: among near-identical groups a small honest difference is no outlier
        limit = max(
            distance_factor * float(np.median(distances)),
            RELATIVE_SPREAD * float(np.linalg.norm(centre)),
        )
        finite = np.all(np.isfinite(means), axis=1)
        kept = [n for n, d, ok in zip(names, distances, finite, strict=True) if ok and d <= limit]
        if not kept:  # every group is as far as the others: no majority to trust more
            kept = names
    total = sum(weights[name] for name in kept)
    parameters = global_parameters + sum(sums[name] for name in kept) / total
    left_out = tuple(name for name in names if name not in kept)
    return GroupCombination(np.asarray(parameters, np.float64), tuple(kept), left_out)
