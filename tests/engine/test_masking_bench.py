"""The masking benchmark runs at a tiny size (``make bench`` runs it at full size); nothing is
timed here: only that both rounds completed and each figure is produced."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[2] / "bench"))

from masking_bench import measure


def test_the_masking_figures_are_produced():
    figures = measure(3, quick=True)
    assert set(figures) == {
        "masking_round_s_off_n3",
        "masking_round_s_masked_n3",
        "masking_overhead_ratio_n3",
    }
    assert all(value > 0 for value in figures.values())
