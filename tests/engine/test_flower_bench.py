"""The Flower side-by-side benchmark: its fedchain side runs at a tiny size (``make bench`` runs
30 parties beside Flower); nothing is timed here. Flower itself is an optional benchmark
dependency (bench/requirements-flower.txt): its side runs only where Flower is installed."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[2] / "bench"))

import flower_bench


def test_the_fedchain_side_trains_the_task_through_every_round():
    figures = flower_bench.run_fedchain(parties=3)
    assert set(figures) == {"accuracy", "later_rounds_s"}
    assert figures["accuracy"] > 0.8  # the task is nearly separable: a trained model, not a guess
    assert figures["later_rounds_s"] > 0


def test_without_flower_the_figure_is_absent_not_invented(monkeypatch):
    monkeypatch.setattr(flower_bench, "flower_installed", lambda: False)
    assert flower_bench.measure(parties=3, repeats=1) == {}


@pytest.mark.skipif(not flower_bench.flower_installed(), reason="Flower is not installed")
def test_the_flower_side_trains_the_same_task():
    figures = flower_bench.timed_process("flower", parties=2)  # its own process, as in the bench
    assert figures["accuracy"] > 0.8
    assert figures["later_rounds_s"] > 0
