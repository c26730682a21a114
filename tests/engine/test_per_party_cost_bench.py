"""The issue #14 benchmark figures run at a tiny size (``make bench`` runs them at full size);
nothing here is timed: only that each figure is produced and the round it times completed."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[2] / "bench"))

from parallel_bench import parallel_speedups, round_per_party


def test_the_parallel_figures_are_produced():
    figures = parallel_speedups(updates=2, parameters=9_000, processes=2, repeats=1)
    assert set(figures) == {"encrypt_speedup_2proc", "sum_speedup_2proc", "encrypt_pool_start_s"}
    assert all(value > 0 for value in figures.values())


@pytest.mark.slow
def test_the_round_figure_is_produced():
    figures = round_per_party(parties=3, features=30, classes=5)
    for suffix in ("", "_one_tx_each"):  # batched commitments, then a transaction each
        assert figures[f"round_s_per_party_n3{suffix}"] > 0
        assert figures[f"round_accepted_n3{suffix}"] == 1
