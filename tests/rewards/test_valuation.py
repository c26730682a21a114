"""Valuing groups of contributions: Monte Carlo Shapley against exact Shapley on a real 4-group
case, leave-one-out, group assignment from on-chain randomness, and the k-anonymity guard on
which sums may be decrypted."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from fedchain_magics.data import load_dataset, standardize, train_test_split_stratified
from fedchain_magics.rewards.valuation import (
    ValuationError,
    assign_groups,
    check_decryptable,
    exact_shapley,
    leave_one_out,
    monte_carlo_shapley,
    shares_by_score,
    surviving_groups,
)


@pytest.fixture(scope="module")
def four_groups():
    """Four groups' models on breast_cancer: three trained on clean shards, one on flipped
    labels; a coalition's utility is the validation accuracy of its averaged model."""
    X, y = load_dataset("breast_cancer")
    X_train, X_val, y_train, y_val = train_test_split_stratified(X, y, 0.3, seed=0)
    X_train, X_val = standardize(X_train, X_val)
    shards = np.array_split(np.random.default_rng(0).permutation(len(y_train)), 4)
    models = {}
    for index, shard in enumerate(shards):
        labels = y_train[shard] if index < 3 else 1 - y_train[shard]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            fitted = LogisticRegression(max_iter=20).fit(X_train[shard], labels)
        models[f"group-{index}"] = np.concatenate([fitted.coef_.ravel(), fitted.intercept_])

    def accuracy(coalition: frozenset[str]) -> float:
        if not coalition:
            return float(np.mean(y_val == 1))  # no model: the majority class
        weights = np.mean([models[name] for name in coalition], axis=0)
        scores = X_val @ weights[:-1] + weights[-1]
        return float(np.mean((scores > 0) == y_val))

    return sorted(models), accuracy


def test_monte_carlo_group_shapley_is_within_5_percent_of_exact(four_groups):
    groups, utility = four_groups

    exact = exact_shapley(groups, utility)
    estimate = monte_carlo_shapley(groups, utility, permutations=400, seed=1)

    for group in groups:
        assert abs(estimate[group] - exact[group]) <= 0.05 * abs(exact[group]), (group, exact)
    assert min(exact, key=exact.get) == "group-3"  # the label-flipping group is worth least
    assert sum(exact.values()) == pytest.approx(utility(frozenset(groups)) - utility(frozenset()))


def test_truncation_saves_evaluations_and_keeps_the_ranking(four_groups):
    groups, utility = four_groups
    calls = []

    def counted(coalition):
        calls.append(coalition)
        return utility(coalition)

    full = monte_carlo_shapley(groups, utility, permutations=50, seed=2)
    truncated = monte_carlo_shapley(groups, counted, permutations=50, seed=2, truncation=0.02)
    assert len(set(calls)) <= 16
    assert min(truncated, key=truncated.get) == min(full, key=full.get) == "group-3"


def test_leave_one_out_and_shares_by_score(four_groups):
    groups, utility = four_groups
    loo = leave_one_out(groups, utility)
    everyone = frozenset(groups)
    assert loo == {g: utility(everyone) - utility(everyone - {g}) for g in groups}
    shares = shares_by_score(exact_shapley(groups, utility))
    assert shares["group-3"] == 0 and sum(shares.values()) == pytest.approx(1)
    inside = shares_by_score({"a": 1.0, "b": 1.0}, weights={"a": 300, "b": 100})
    assert inside == {"a": 0.75, "b": 0.25}
    assert shares_by_score({"a": -1.0, "b": 0.0}) == {"a": 0.0, "b": 0.0}


def test_groups_hold_at_least_k_and_follow_the_seed():
    parties = [f"p{index}" for index in range(10)]
    groups = assign_groups(parties, 3, b"block hash")
    assert sorted(len(group) for group in groups) == [3, 3, 4]
    assert sorted(party for group in groups for party in group) == sorted(parties)
    assert groups == assign_groups(parties, 3, b"block hash")
    assert groups != assign_groups(parties, 3, b"another block")
    check_decryptable(groups, 3)
    with pytest.raises(ValuationError, match="below k=3"):
        check_decryptable([["p0", "p1"], ["p2", "p3", "p4"]], 3)
    with pytest.raises(ValuationError, match="sit in two groups"):
        check_decryptable([["p0", "p1", "p2"], ["p2", "p3", "p4"]], 3)
    with pytest.raises(ValuationError, match="cannot form a group"):
        assign_groups(parties[:2], 3, b"x")


def test_groups_drawn_before_dropouts_keep_k_by_merging():
    drawn = [["a", "b", "c"], ["d", "e", "f"], ["g", "h", "i", "j"]]
    assert surviving_groups(drawn, "abcdefghij", 3) == drawn  # no one dropped
    # f and e dropped: d alone joins the smallest other group; the others keep their members
    kept = surviving_groups(drawn, "abcdghij", 3)
    assert kept == [["a", "b", "c", "d"], ["g", "h", "i", "j"]]
    check_decryptable(kept, 3)
    # two groups fall below k: they merge with each other first (the smallest first)
    assert surviving_groups(drawn, "abdghij", 3) == [["a", "b", "d"], ["g", "h", "i", "j"]]
    with pytest.raises(ValuationError, match="2 parties cannot form a group of at least 3"):
        surviving_groups(drawn, "aj", 3)


def test_bad_valuation_requests_are_refused():
    with pytest.raises(ValuationError, match="exact Shapley over 13"):
        exact_shapley(list(range(13)), lambda coalition: 0.0)
    with pytest.raises(ValuationError, match="each player must appear once"):
        leave_one_out(["a", "a"], lambda coalition: 0.0)
    with pytest.raises(ValuationError, match="at least 1"):
        monte_carlo_shapley(["a"], lambda coalition: 0.0, permutations=0)
