"""The round's rules as one small interface: how updates combine, and when a model is accepted.

In the spirit of Flower's ``Strategy``: pure functions over plain arrays and numbers, no I/O.
The roles call it (the key holder to combine the decrypted sum, each validator to decide its
vote); valuation, robust aggregation or a Flower bridge plug in here without touching them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .robust import GroupCombination, combine_groups


class RoundStrategy(ABC):
    """How a round turns the sum of weighted updates into a model, and how it is judged."""

    @abstractmethod
    def combine(
        self, global_parameters: np.ndarray, summed_updates: np.ndarray, total_weight: float
    ) -> np.ndarray:
        """The new global parameters from the current ones and the decrypted sum of the
        updates (each already multiplied by its weight); ``total_weight`` is the sum of the
        weights."""

    @abstractmethod
    def accept(self, metric: float, previous_metric: float) -> bool:
        """Whether a validator accepts a model scoring ``metric`` on its data, where the
        current model scores ``previous_metric``."""

    def combine_groups(
        self,
        global_parameters: np.ndarray,
        group_sums: Mapping[str, np.ndarray],
        group_weights: Mapping[str, float],
    ) -> GroupCombination:
        """The new global parameters from a valued round's decrypted group sums (each the sum
        of at least k weighted updates) and their capped weights: by default the groups whose
        mean update is not an outlier among them (``robust.combine_groups``)."""
        return combine_groups(global_parameters, group_sums, group_weights)


@dataclass(frozen=True)
class FedAvg(RoundStrategy):
    """Weighted federated averaging; a model is accepted when it is good enough and not much
    worse than the current one."""

    min_metric: float = 0.0
    """Reject a model whose metric is below this."""
    max_metric_drop: float = 0.05
    """Reject a model more than this much worse than the current one."""

    def combine(
        self, global_parameters: np.ndarray, summed_updates: np.ndarray, total_weight: float
    ) -> np.ndarray:
        if total_weight <= 0:
            raise ValueError("the updates' weights must add up to a positive number")
        size = global_parameters.size
        return global_parameters + np.asarray(summed_updates[:size], np.float64) / total_weight

    def accept(self, metric: float, previous_metric: float) -> bool:
        return metric >= self.min_metric and metric >= previous_metric - self.max_metric_drop
