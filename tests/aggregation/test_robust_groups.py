"""Robust combination of group sums: an outlying group is left out; with fewer than three groups
there is no majority and every group is kept."""

from __future__ import annotations

import numpy as np
import pytest

from fedchain_magics.aggregation import FedAvg, combine_groups


def _sums(rng: np.random.Generator, scale_last: float) -> dict[str, np.ndarray]:
    honest = np.ones(20)
    sums = {f"g{i}": 3 * (honest + rng.normal(0, 0.05, 20)) for i in range(4)}
    sums["g3"] = sums["g3"] * scale_last
    return sums


def test_a_100x_group_is_left_out_and_the_rest_averaged():
    rng = np.random.default_rng(0)
    sums = _sums(rng, 100.0)
    weights = dict.fromkeys(sums, 3.0)
    combined = combine_groups(np.zeros(20), sums, weights)
    assert combined.left_out == ("g3",)
    expected = (sums["g0"] + sums["g1"] + sums["g2"]) / 9.0
    np.testing.assert_array_equal(combined.parameters, expected)


def test_similar_groups_are_all_kept_and_equal_plain_fedavg():
    rng = np.random.default_rng(1)
    sums = _sums(rng, 1.0)
    weights = {"g0": 3.0, "g1": 2.0, "g2": 4.0, "g3": 3.0}
    combined = FedAvg().combine_groups(np.full(20, 0.5), sums, weights)
    assert combined.left_out == ()
    np.testing.assert_allclose(combined.parameters, 0.5 + sum(sums.values()) / 12.0)


def test_two_groups_have_no_majority_and_both_count():
    sums = {"a": np.ones(4), "b": 100 * np.ones(4)}
    combined = combine_groups(np.zeros(4), sums, {"a": 1.0, "b": 1.0})
    assert combined.kept == ("a", "b")


def test_a_group_without_weight_is_refused():
    with pytest.raises(ValueError, match="positive"):
        combine_groups(np.zeros(2), {"a": np.ones(2)}, {"a": 0.0})
