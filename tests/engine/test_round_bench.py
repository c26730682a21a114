"""``make bench``'s encrypted-vs-plain round (bench/run.py ``rounds``) runs at a tiny size
(``make bench`` runs 10 parties, best of 2); nothing is timed here: only that all three rounds
complete and each figure is produced."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[2] / "bench"))

import run


def test_the_three_rounds_run_and_report(tmp_path):
    figures = run.rounds(2, tmp_path, repeats=1)
    assert figures["round_parties"] == 2
    assert figures["round_params"] == 100_100
    assert figures["round_ciphertext_bytes_per_party"] > figures["round_params"]  # encrypted
    for kind in ("round_s_he", "round_s_plain", "round_s_plain_with_ledger"):
        assert figures[kind] > 0
