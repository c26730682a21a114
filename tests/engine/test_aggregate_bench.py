"""The aggregation benchmark runs at a tiny size (``make bench`` runs it at 1M parameters);
nothing is timed here: only that each figure is produced, from real sums in fresh processes."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[2] / "bench"))

from aggregate_bench import measure


def test_the_aggregation_figures_are_produced():
    figures = measure(20_000, (2, 4))
    assert set(figures) == {
        "aggregate_over_numpy_add",
        "peak_rss_mb_aggregate_n2",
        "peak_rss_mb_aggregate_n4",
    }
    assert all(value > 0 for value in figures.values())
