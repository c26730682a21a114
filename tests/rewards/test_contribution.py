"""Standing and reward shares from group scores: regrouping separates a persistently bad party
from the honest parties it shared groups with; shares never exceed the round."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from fedchain_magics.rewards import (
    GroupObservation,
    assign_groups,
    capped_weights,
    coherence_weight,
    reference_value,
    relative_scores,
    round_shares,
    standings,
)

PARTIES = [f"p{index}" for index in range(9)]


def test_relative_scores_clip_a_wildly_harmful_group_and_count_only_informative_rounds():
    scores, weight = relative_scores({"a": 1.0, "b": 1.0, "c": -50.0})
    assert weight == 1.0 and scores == {"a": 1.0, "b": 1.0, "c": -1.0}
    scores, weight = relative_scores({"a": 3.0, "b": 3.0, "c": 0.0, "d": 100.0})
    assert weight == 1.0
    assert scores["d"] == 2.0 and scores["c"] == 0.0
    # Bad parties in most groups: the median of all groups is below 0, yet the round is scored
    # against the groups that helped, so it still teaches who hurt.
    scores, weight = relative_scores({"a": -1.0, "b": -2.0, "c": 5.0, "d": 3.0})
    assert weight == 1.0 and reference_value({"a": -1.0, "b": -2.0, "c": 5.0, "d": 3.0}) == 4.0
    assert scores == {"a": -0.25, "b": -0.5, "c": 1.25, "d": 0.75}
    scores, weight = relative_scores({"honest": 0.4, "poisoned": -9.0})  # two groups
    assert weight == 1.0 and scores == {"honest": 1.0, "poisoned": -1.0}
    scores, weight = relative_scores({"a": -1.0, "b": 0.0, "c": float("nan")})
    assert weight == 0.0 and set(scores.values()) == {0.0}  # no group helped: nothing to learn


def test_a_round_whose_groups_cancel_out_weighs_nothing():
    assert coherence_weight({"a": 1.0, "b": 1.0, "c": -1.0}) == 1.0  # one harmful group of 3
    assert coherence_weight({"a": 0.02, "b": -0.02}) == 0.0  # a fixed point: +x and -x
    assert coherence_weight({"a": 0.3, "b": 0.1, "c": -0.4}) == 0.0
    assert abs(coherence_weight({"a": 1.0, "b": -0.8}) - (0.2 / 1.8) * 3) < 1e-12
    # a group the robust rule left out of the model (worth minus its size) does not count
    assert coherence_weight({"a": 0.02, "b": -0.02, "out": -5.0}, kept={"a", "b"}) == 0.0
    assert coherence_weight({"a": 1.0, "b": 1.0, "out": -50.0}, kept={"a", "b"}) == 1.0
    assert coherence_weight({"a": 1.0}, kept=()) == 0.0
    scores, weight = relative_scores({"a": 0.02, "b": -0.02})
    assert scores == {"a": 1.0, "b": -1.0} and weight == 0.0


def test_rounds_that_cancel_out_do_not_decide_the_standings():
    """One informative round, then nine at a fixed point: the two groups' values are +x and -x
    (noise). Weighed by coherence, every honest party stays near the median; weighed in full,
    the noise sinks some honest party below half of it."""
    parties = PARTIES[:6]
    for all_or_nothing in (False, True):
        lowest = []
        for seed in range(20):
            rng = np.random.default_rng(seed)
            observations = []
            for round_number in range(10):
                groups = assign_groups(parties, 3, bytes([seed, round_number]))
                noise = 0.1 * rng.normal()
                values = {"0": 1.0, "1": 1.0} if round_number == 0 else {"0": noise, "1": -noise}
                scores, weight = relative_scores(values)
                if all_or_nothing:  # every round with a helpful group counted in full
                    weight = 1.0
                observations += [
                    GroupObservation(tuple(members), scores[str(index)], weight)
                    for index, members in enumerate(groups)
                ]
            lowest.append(min(standings(observations, parties).values()))
        if all_or_nothing:
            assert min(lowest) < 0.5
        else:
            assert min(lowest) >= 0.9, lowest


def test_regrouping_makes_the_bad_party_the_lowest_and_its_group_mates_recover():
    """Every round the bad party's group scores as 2 honest and 1 harmful member would; over ten
    rounds of fresh groups it ends far below the median and every honest party near it."""
    observations = []
    for round_number in range(10):
        groups = assign_groups(PARTIES, 3, bytes([round_number]))
        values = {
            str(index): (-1.0 if "p0" in members else 1.0) for index, members in enumerate(groups)
        }
        scores, weight = relative_scores(values)
        observations += [
            GroupObservation(tuple(members), scores[str(index)], weight)
            for index, members in enumerate(groups)
        ]
    standing = standings(observations, PARTIES)
    assert min(standing, key=standing.get) == "p0"
    assert standing["p0"] < 0.5
    assert all(standing[party] >= 0.9 for party in PARTIES[1:])


def test_capped_weights_stop_a_party_inflating_its_samples():
    capped = capped_weights({"honest": 100, "other": 120, "greedy": 1_000_000}, 2.0)
    assert capped == {"honest": 100.0, "other": 120.0, "greedy": 240.0}


def test_round_shares_pay_by_group_score_then_samples_and_skip_a_low_standing():
    groups = {"g1": ["a", "b"], "g2": ["c", "d"]}
    shares = round_shares(
        groups,
        {"g1": 2.0, "g2": 1.0},
        {"a": 1.0, "b": 3.0, "c": 1.0, "d": 1.0},
        {"a": 1.0, "b": 1.0, "c": 1.0, "d": 0.1},
        0.8,
    )
    assert shares["d"] == 0.0
    assert np.isclose(shares["b"], 3 * shares["a"])
    assert np.isclose(shares["a"], 2 * shares["c"])
    assert np.isclose(sum(shares.values()), 1.0)
    nobody = round_shares(groups, {"g1": -1.0, "g2": 0.0}, dict.fromkeys("abcd", 1.0), {}, 0.8)
    assert set(nobody.values()) == {0.0}


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(-5, 5), min_size=3, max_size=3),
    st.lists(st.integers(1, 10**6), min_size=9, max_size=9),
    st.lists(st.floats(0, 3), min_size=9, max_size=9),
)
def test_shares_in_ppm_never_exceed_the_round(scores, samples, party_standings):
    groups = {f"g{i}": PARTIES[3 * i : 3 * i + 3] for i in range(3)}
    weights = capped_weights(dict(zip(PARTIES, samples, strict=True)), 2.0)
    shares = round_shares(
        groups,
        {f"g{i}": score for i, score in enumerate(scores)},
        weights,
        dict(zip(PARTIES, party_standings, strict=True)),
        0.8,
    )
    assert all(share >= 0 for share in shares.values())
    assert sum(int(share * 1_000_000) for share in shares.values()) <= 1_000_000
