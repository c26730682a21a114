"""The storage bench (``make bench``: workspace_mb_after_50_rounds) runs, at a tiny size."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from storage_bench import measure


def test_the_storage_bench_runs_at_a_tiny_size():
    figures = measure(rounds=3, parties=2, features=20)
    assert 0 < figures["workspace_mb_after_3_rounds"] < 20
    assert figures["workspace_update_kb"] > 1
