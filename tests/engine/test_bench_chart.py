"""The README's benchmark chart (bench/chart.py) is drawn from measured points; here it is
drawn from a tiny measured run (``python bench/chart.py`` measures the full sizes)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[2] / "bench"))

import chart


def test_the_chart_is_a_png_of_measured_rounds(tmp_path):
    points = chart.measure((2,), ((10, 2),))
    assert points["by_parties"][0]["parties"] == 2
    assert points["by_model_size"][0]["parameters"] == 22
    assert all(
        point["seconds"] > 0 and point["bytes"] > 0
        for series in points.values()
        for point in series
    )
    out = tmp_path / "chart.png"
    chart.draw(points, out)
    assert out.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
