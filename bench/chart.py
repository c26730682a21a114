"""The README's chart: one ``simulate`` round's time and bytes against the number of parties and
against the model's size, measured here and drawn to ``docs/bench-chart.png`` (issue #14).

- parties: 10, 30 and 100 parties of the 100,100-parameter model of ``round_s_per_party_n100``;
- model size: 10 parties of torch linear models of 1,010 / 10,010 / 100,100 / 1,001,000
  parameters.
Each point is one round in a fresh workspace, after a discarded warm-up round, with batched
commitments (the option a large federation runs): wall seconds of the round, and the ciphertext
bytes its parties committed.

Usage: ``python bench/chart.py [--out docs/bench-chart.png] [--quick]``; the last line is JSON
with every point.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from parallel_bench import simulated_round

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "docs" / "bench-chart.png"
PARTIES = (10, 30, 100)
MODEL_SHAPES = ((100, 10), (1000, 10), (1000, 100), (1000, 1000))  # features x classes


def measure(parties: tuple[int, ...], shapes: tuple[tuple[int, int], ...]) -> dict[str, list]:
    simulated_round(2, 10, 2, batched=True)  # first-use costs (torch, TenSEAL, EVM): not a point
    by_parties = []
    for count in parties:
        record = simulated_round(count, 1000, 100, batched=True)
        by_parties.append(
            {"parties": count, "seconds": record.seconds, "bytes": record.ciphertext_bytes}
        )
    by_size = []
    for features, classes in shapes:
        record = simulated_round(10, features, classes, batched=True)
        by_size.append(
            {
                "parameters": features * classes + classes,
                "seconds": record.seconds,
                "bytes": record.ciphertext_bytes,
            }
        )
    return {"by_parties": by_parties, "by_model_size": by_size}


def draw(points: dict[str, list], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FormatStrFormatter, NullFormatter

    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    for axes, key, x_key, x_label, title in (
        (left, "by_parties", "parties", "parties", "one round, 100,100 parameters"),
        (right, "by_model_size", "parameters", "model parameters", "one round, 10 parties"),
    ):
        x = [point[x_key] for point in points[key]]
        axes.plot(x, [point["seconds"] for point in points[key]], "o-", color="tab:blue")
        axes.set_xscale("log")
        axes.set_xlabel(x_label)
        axes.set_ylabel("round time (s)", color="tab:blue")
        axes.set_title(title)
        axes.grid(True, which="both", alpha=0.3)
        megabytes = axes.twinx()
        megabytes.plot(
            x, [point["bytes"] / 1e6 for point in points[key]], "s--", color="tab:orange"
        )
        megabytes.set_ylabel("ciphertext committed (MB)", color="tab:orange")
        if key == "by_model_size":
            for scaled in (axes, megabytes):
                scaled.set_yscale("log")
                scaled.yaxis.set_major_formatter(FormatStrFormatter("%g"))
                scaled.yaxis.set_minor_formatter(NullFormatter())
            axes.yaxis.set_minor_formatter(FormatStrFormatter("%g"))  # seconds span < 1 decade
    figure.suptitle("fedchain: simulate, BFV, batched commitments, in-process chain (2 cores)")
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, dpi=100)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--quick", action="store_true", help="tiny sizes: proves it runs")
    arguments = parser.parse_args()
    if arguments.quick:
        points = measure((2, 3), ((10, 2), (20, 2)))
    else:
        points = measure(PARTIES, MODEL_SHAPES)
    draw(points, arguments.out)
    print(json.dumps(points))


if __name__ == "__main__":
    sys.exit(main())
