"""Valuing contributions: Shapley values (exact, or Monte Carlo with truncation), leave-one-out,
and groups of at least k parties drawn from on-chain randomness.

Under encryption no one may see one party's update, and any two decrypted sums that differ by
one party reveal it: so contributions are valued by **group** (each a sum of at least ``k``
updates), never by party. ``assign_groups`` draws the round's groups; a utility function maps a
coalition of groups to a score (a validator's metric of the model built from those groups'
sums); these functions turn it into one value per group. With encryption off (plaintext research
mode) the players may be single parties.

A leaf: it knows nothing of the chain, the crypto or the engine, only players and a utility.
"""

from __future__ import annotations

import hashlib
import itertools
import math
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Generic, TypeVar

import numpy as np

Player = TypeVar("Player", bound=Hashable)
Utility = Callable[[frozenset[Player]], float]

MAX_EXACT_PLAYERS = 12
"""Exact Shapley evaluates all 2^n coalitions: 4,096 at 12 players."""


class ValuationError(ValueError):
    """A valuation that cannot be computed as asked."""


class CachedUtility(Generic[Player]):
    """A utility that evaluates each coalition once (utilities are models to build and score)."""

    def __init__(self, utility: Utility[Player]) -> None:
        self._utility = utility
        self._cache: dict[frozenset[Player], float] = {}

    def __call__(self, coalition: frozenset[Player]) -> float:
        if coalition not in self._cache:
            self._cache[coalition] = float(self._utility(coalition))
        return self._cache[coalition]

    @property
    def evaluations(self) -> int:
        return len(self._cache)


def exact_shapley(players: Sequence[Player], utility: Utility[Player]) -> dict[Player, float]:
    """Each player's Shapley value: its marginal contribution averaged over every order,
    computed from all 2^n coalitions (at most ``MAX_EXACT_PLAYERS`` players)."""
    members = _distinct(players)
    n = len(members)
    if n > MAX_EXACT_PLAYERS:
        raise ValuationError(
            f"exact Shapley over {n} players evaluates 2^{n} coalitions; use "
            f"monte_carlo_shapley beyond {MAX_EXACT_PLAYERS}"
        )
    value = CachedUtility(utility)
    weights = [
        math.factorial(size) * math.factorial(n - size - 1) / math.factorial(n) for size in range(n)
    ]
    result = dict.fromkeys(members, 0.0)
    for player in members:
        others = [other for other in members if other != player]
        for size in range(n):
            for coalition in itertools.combinations(others, size):
                without = frozenset(coalition)
                result[player] += weights[size] * (value(without | {player}) - value(without))
    return result


def monte_carlo_shapley(
    players: Sequence[Player],
    utility: Utility[Player],
    *,
    permutations: int = 200,
    seed: int = 0,
    truncation: float = 0.0,
) -> dict[Player, float]:
    """Shapley values estimated from ``permutations`` random orders (each coalition evaluated
    once). With ``truncation`` > 0 an order stops being walked once the coalition so far is
    within ``truncation`` of the grand coalition's utility (the rest get 0 there): GTG-Shapley's
    within-round truncation, which saves most evaluations when a few players carry the value.
    Orders come in antithetic pairs (an order, then its reverse), which lowers the variance."""
    members = _distinct(players)
    if permutations < 1:
        raise ValuationError(f"permutations must be at least 1, not {permutations}")
    value = CachedUtility(utility)
    rng = np.random.default_rng(seed)
    grand = value(frozenset(members))
    totals = dict.fromkeys(members, 0.0)
    orders: list[list[Player]] = []
    while len(orders) < permutations:  # antithetic pairs: an order, then its reverse
        order = [members[int(index)] for index in rng.permutation(len(members))]
        orders += [order, order[::-1]]
    for order in orders[:permutations]:
        coalition: frozenset[Player] = frozenset()
        before = value(coalition)
        for player in order:
            if truncation > 0 and abs(grand - before) <= truncation:
                break  # the rest of this order adds (almost) nothing
            coalition = coalition | {player}
            after = value(coalition)
            totals[player] += after - before
            before = after
    return {player: total / permutations for player, total in totals.items()}


def leave_one_out(players: Sequence[Player], utility: Utility[Player]) -> dict[Player, float]:
    """Each player's value as what the grand coalition loses without it."""
    members = _distinct(players)
    value = CachedUtility(utility)
    grand = value(frozenset(members))
    return {player: grand - value(frozenset(members) - {player}) for player in members}


def assign_groups(parties: Sequence[str], k: int, seed: bytes) -> list[list[str]]:
    """The round's groups: the parties shuffled by ``seed`` (on-chain randomness, the same for
    everyone) and cut into ``len(parties) // k`` groups of at least ``k`` (the remainder spread
    one each over the first groups). Every group sum then holds at least ``k`` updates, and no
    difference of two decrypted group sums isolates fewer than ``k`` parties."""
    members = _distinct(parties)
    if k < 1:
        raise ValuationError(f"k must be at least 1, not {k}")
    if len(members) < k:
        raise ValuationError(f"{len(members)} parties cannot form a group of at least {k}")
    digest = hashlib.sha256(b"fedchain groups|" + seed).digest()
    rng = np.random.default_rng(int.from_bytes(digest, "big"))
    shuffled = [members[int(index)] for index in rng.permutation(len(members))]
    count = len(shuffled) // k
    groups = [shuffled[index * k : (index + 1) * k] for index in range(count)]
    for index, party in enumerate(shuffled[count * k :]):
        groups[index % count].append(party)
    return groups


def surviving_groups(
    drawn: Sequence[Sequence[str]], present: Iterable[str], k: int
) -> list[list[str]]:
    """The groups a round can decrypt when some of the parties ``drawn`` into groups before it
    (a masked round draws them over the parties that advertised a masking key, so that each
    masks only with its group mates) are not ``present`` in its sum: each group keeps its
    present members, and a group left below ``k`` is merged into the smallest other group
    (masks cancel within each drawn group, so they cancel within a union of them too). Refuses
    when fewer than ``k`` parties are present at all."""
    kept = set(present)
    groups = [[party for party in group if party in kept] for group in drawn]
    groups = [group for group in groups if group]
    if sum(len(group) for group in groups) < k:
        raise ValuationError(
            f"{sum(len(group) for group in groups)} parties cannot form a group of at least {k}"
        )
    while True:
        small = [index for index, group in enumerate(groups) if len(group) < k]
        if not small:
            return groups
        index = min(small, key=lambda i: (len(groups[i]), i))
        merged = groups.pop(index)
        into = min(range(len(groups)), key=lambda i: (len(groups[i]), i))
        groups[into] = groups[into] + merged


def check_decryptable(groups: Iterable[Iterable[str]], k: int) -> None:
    """Refuse a set of sums from which fewer than ``k`` parties could be isolated: every group
    must hold at least ``k`` parties, and no party may sit in two groups (two overlapping sums
    differ by their difference)."""
    seen: set[str] = set()
    for group in groups:
        members = list(group)
        if len(members) < k:
            raise ValuationError(
                f"a group of {len(members)} parties is below k={k}: its sum would reveal them"
            )
        overlap = seen.intersection(members)
        if overlap:
            raise ValuationError(
                f"{sorted(overlap)} sit in two groups: the difference of the two sums reveals them"
            )
        seen.update(members)


def shares_by_score(
    scores: dict[Player, float], weights: dict[Player, float] | None = None
) -> dict[Player, float]:
    """Reward shares (summing to 1) proportional to each player's positive score, times its
    weight if given (for example its capped samples inside a group); a player that hurt the
    model (score <= 0) gets nothing. All zero when no one helped."""
    raw = {
        player: max(score, 0.0) * (1.0 if weights is None else max(weights.get(player, 0.0), 0.0))
        for player, score in scores.items()
    }
    total = sum(raw.values())
    if total <= 0:
        return dict.fromkeys(scores, 0.0)
    return {player: value / total for player, value in raw.items()}


def _distinct(players: Iterable[Player]) -> list[Player]:
    members = list(players)
    if len(set(members)) != len(members):
        raise ValuationError("each player must appear once")
    if not members:
        raise ValuationError("there is no player to value")
    return members
