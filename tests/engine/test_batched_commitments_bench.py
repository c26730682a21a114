"""The batched-commitments gas benchmark runs at a tiny size (``make bench`` runs it with 100
parties); nothing is timed here: only that the rounds ran and each figure is produced."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[2] / "bench"))

from batched_commitments_bench import measure


def test_the_round_gas_figures_are_produced():
    figures = measure(3)
    assert set(figures) == {
        f"{name}{label}_n3"
        for label in ("", "_later")
        for name in (
            "round_gas",
            "naive_round_gas",
            "round_gas_ratio",
            "unbatched_round_gas",
            "unbatched_round_gas_ratio",
            "round_transactions",
            "naive_round_transactions",
            "unbatched_round_transactions",
        )
    }
    # One batch, aggregate, model, vote, payment; the naive contract's 3 submits and finalize.
    assert figures["round_transactions_n3"] == 5
    assert figures["naive_round_transactions_n3"] == 4
    assert figures["unbatched_round_transactions_n3"] == 3 + 3 + 3
    assert figures["round_transactions_later_n3"] == 5
    assert all(value > 0 for value in figures.values())
