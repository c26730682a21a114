"""From group values to each party's standing and reward share.

Under encryption only group sums are decrypted (each of at least ``k`` parties; see
``valuation.assign_groups``), so a round values groups, never parties. A party's quality is
recovered over rounds: groups are redrawn each round, so a persistently bad party drags down
every group it sits in while the honest parties it shared a group with recover in their other
groups. ``standings`` estimates each party's contribution from every round's group scores by
ridge-regularized weighted least squares (a group's score is the mean of its members'; a round
weighs by how coherently its groups moved the model, ``coherence_weight``), and
``round_shares`` pays a round's reward by group value, within a group by capped samples, to the
parties whose standing is not far below the median.

What this reveals: one relative score per group per round, and per party an estimate of its
standing (a number, never an update).

A leaf: plain numbers in, plain numbers out; no chain, crypto or engine.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

MIN_RELATIVE_SCORE = -1.0
MAX_RELATIVE_SCORE = 2.0
"""A group's score relative to the round's mean group value is clipped to this range, so one
wildly harmful group (a 100x-scaled update) cannot dominate every standing it touches."""

FULL_WEIGHT_COHERENCE = 1 / 3
"""A round counts fully toward the standings when the net value of the groups that entered the
model is at least this part of their summed magnitudes (|sum of values| / sum of |values|);
below it, proportionally less. One harmful group among two helpful ones ({1, 1, -1}: 1/3)
counts fully; groups that cancel out ({+x, -x}) count nothing."""

ESTABLISHED_AFTER_ROUNDS = 3
"""A party's standing is established once it was valued in this many informative rounds (each
round counts by its weight, see :func:`relative_scores`: one whose groups cancelled out counts
nothing). In its first rounds a party shares the blame of its group mates (the groups are
redrawn each round and its own standing separates from theirs), so until then its score table
rows carry the typical standing (1.0): it is paid by its group's value and cannot be slashed
(``slashLowStanding`` takes any posted row, from anyone) for a group mate's harm."""

RIDGE = 0.1
"""How strongly a party's standing is pulled toward 1 (the typical party) before enough
rounds separate it from its group mates."""
SPARSE_ITERATIONS = 12
SPARSE_SMOOTHING = 0.05
"""The pull toward 1 is an L1 penalty (solved by reweighted least squares): most parties are
typical, so when groups leave the estimate ambiguous (every round's groups partition the
parties, so some blame pattern always fits as well) the fewest parties take it."""


@dataclass(frozen=True)
class GroupObservation:
    """One group's score in one round: what ``standings`` learns from."""

    members: tuple[str, ...]
    relative_score: float
    """The group's value over the round's :func:`reference_value` (the median value of the
    groups that helped), clipped (1 = a typical helpful group)."""
    weight: float
    """How much the round says, from 0 to 1: 0 when no group helped or when the groups that
    entered the model cancelled each other out, 1 when they moved it together (see
    :func:`relative_scores`)."""
    shares: tuple[float, ...] = ()
    """Each member's part of the group, as a fraction of the round's typical group: its
    capped samples over the median group's (empty: 1 / the group's size each). A party that
    claims more weight answers for more of its group's score."""


def reference_value(values: Mapping[str, float]) -> float:
    """The value a typical helpful group reaches in a round: the median of the group values
    that are positive (0 when none is). The scores' denominator. The median of the helpful
    groups, not of all: when bad parties sit in half the groups the median of all is near 0 or
    below, and the round would teach nothing while the bad parties are most visible."""
    helpful = [value for value in values.values() if np.isfinite(value) and value > 0]
    return float(np.median(helpful)) if helpful else 0.0


def relative_scores(
    values: Mapping[str, float], kept: Collection[str] | None = None
) -> tuple[dict[str, float], float]:
    """Each group's value over the round's :func:`reference_value`, clipped to
    [``MIN_RELATIVE_SCORE``, ``MAX_RELATIVE_SCORE``], and the round's weight in the standings.
    A median, not a mean: one very harmful or very lucky group does not turn every other
    group's score.

    The weight is 0 when no group helped (nobody is paid and the round teaches the standings
    nothing), else the round's coherence: how much the groups that entered the model (``kept``,
    all of them when None) moved it together, |sum of their values| / sum of |their values|,
    counted in full from ``FULL_WEIGHT_COHERENCE``. Once local training reaches a fixed point
    (every party sends the same local fit each round) the updates cancel around the global
    model, the round's step is nothing and its groups' values are noise that sums to zero: with
    two groups, one is worth exactly minus the other. Scored against their own median such
    values read as +1 and -1, as if half the honest parties had poisoned the round, and at full
    weight they would decide standings, and slash honest parties, by chance. Every coherent round
    weighs the same, however small its values: a converging model's values shrink together
    (weighing rounds by how far the model moved would let the first rounds decide every
    standing, and an honest party that shared its first groups with a bad one would never
    recover)."""
    if not values:
        raise ValueError("a round needs at least one group value")
    reference = reference_value(values)
    if reference <= 0:
        return dict.fromkeys(values, 0.0), 0.0
    scores = {
        group: float(
            np.clip(
                np.nan_to_num(value / reference, nan=MIN_RELATIVE_SCORE),
                MIN_RELATIVE_SCORE,
                MAX_RELATIVE_SCORE,
            )
        )
        for group, value in values.items()
    }
    return scores, coherence_weight(values, kept)


def coherence_weight(values: Mapping[str, float], kept: Collection[str] | None = None) -> float:
    """How much a round teaches the standings, from 0 to 1: the net value of the groups that
    entered the model over their summed magnitudes, over ``FULL_WEIGHT_COHERENCE``, at most 1."""
    model = [
        value
        for group, value in values.items()
        if (kept is None or group in kept) and np.isfinite(value)
    ]
    magnitude = float(sum(abs(value) for value in model))
    if magnitude <= 0:
        return 0.0
    return float(min(1.0, abs(sum(model)) / magnitude / FULL_WEIGHT_COHERENCE))


def standings(observations: Sequence[GroupObservation], parties: Sequence[str]) -> dict[str, float]:
    """Each party's estimated contribution relative to the median party (1.0), from every
    group observation so far: weighted least squares where a group's relative score is the
    weighted sum of its members' contributions (each by its part of the group), with an L1
    pull of each party toward 1 (few parties are atypical)."""
    index = {party: position for position, party in enumerate(parties)}
    if not index:
        return {}
    count = len(index)
    heaviest = max((o.weight for o in observations), default=0.0)
    rows = [o for o in observations if o.weight > 0 and all(m in index for m in o.members)]
    design = np.zeros((len(rows), count))
    targets = np.zeros(len(rows))
    weights = np.zeros(len(rows))
    for row, observation in enumerate(rows):
        parts = observation.shares or (1.0 / len(observation.members),) * len(observation.members)
        for member, part in zip(observation.members, parts, strict=True):
            design[row, index[member]] = part
        targets[row] = observation.relative_score
        weights[row] = observation.weight / heaviest
    gram = design.T @ (weights[:, None] * design)
    moment = design.T @ (weights * targets)
    penalty = np.full(count, RIDGE)
    for _ in range(SPARSE_ITERATIONS):  # an L1 pull toward 1 by reweighted least squares
        estimate = np.linalg.solve(gram + np.diag(penalty), moment + penalty)
        penalty = RIDGE / (np.abs(estimate - 1.0) + SPARSE_SMOOTHING)
    median = float(np.median(estimate))
    scale = median if median > 1e-9 else 1.0
    return {party: float(estimate[position] / scale) for party, position in index.items()}


def capped_weights(declared: Mapping[str, int], max_over_median: float) -> dict[str, float]:
    """Declared sample counts, each capped at ``max_over_median`` times the round's median:
    a party declaring 10x (or 1,000,000) samples weighs at most that much in the average and
    in its group's reward."""
    if not declared:
        return {}
    cap = max_over_median * float(np.median(list(declared.values())))
    return {party: float(min(samples, cap)) for party, samples in declared.items()}


def round_shares(
    groups: Mapping[str, Sequence[str]],
    group_scores: Mapping[str, float],
    weights: Mapping[str, float],
    party_standings: Mapping[str, float],
    min_standing: float,
) -> dict[str, float]:
    """Each party's share of a round's reward (summing to 1, or all 0 when no group helped):
    by its group's relative score (a group that did not help gets nothing), within the group by
    capped samples, to each member whose standing is at least ``min_standing``. What a member
    below it would have had goes to no one: it stays in the task's escrow."""
    shares: dict[str, float] = {}
    total = 0.0
    for group, members in groups.items():
        score = max(group_scores.get(group, 0.0), 0.0)
        for member in members:
            eligible = party_standings.get(member, 1.0) >= min_standing
            shares[member] = score * weights.get(member, 0.0) if eligible else 0.0
            total += shares[member]
    if total <= 0:
        return dict.fromkeys(shares, 0.0)
    return {member: value / total for member, value in shares.items()}
