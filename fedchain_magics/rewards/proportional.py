"""Shares proportional to committed sample counts, floored, as the contract computes them."""

from __future__ import annotations

from collections.abc import Mapping


def proportional_shares(reward_per_round: int, samples: Mapping[str, int]) -> dict[str, int]:
    """Each contributor's reward in token base units: reward * samples / total, floored.

    The shares never add up to more than ``reward_per_round``; the rounding dust is not minted.
    """
    if reward_per_round < 0:
        raise ValueError("reward_per_round must not be negative")
    if any(count <= 0 for count in samples.values()):
        raise ValueError("every contributor must have committed at least one sample")
    total = sum(samples.values())
    if total == 0:
        return {}
    return {who: reward_per_round * count // total for who, count in samples.items()}
