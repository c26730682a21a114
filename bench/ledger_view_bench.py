"""How the ledger view's read cost grows with history: a fresh process reads the ledger view
(every round's contributions, votes, rewards, gas) of a 10-party task after 5 and after 50
rounds; the figure is the ratio of the two read times (target <= 2). The kernel that ran the
rounds kept the task's settled logs in the workspace's cache; ``ledger_view_cold_s_*`` is the
same read with that cache deleted (a workspace reading the task for the first time).

Usage: ``python bench/ledger_view_bench.py [--rounds 50] [--early 5] [--parties 10]``;
the last line printed is JSON (``bench/run.py`` includes it).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

READ = """
import sys, time
from fedchain_magics import Federation
from fedchain_magics.widgets import ledger_table
started = time.perf_counter()
with Federation.open(sys.argv[1]) as federation:
    table = ledger_table(federation, 1)
print(time.perf_counter() - started, len(table.rows))
"""


def read_time_s(workspace: Path) -> tuple[float, int]:
    """Seconds a fresh process takes to open ``workspace`` and read task 1's ledger view."""
    done = subprocess.run(
        [sys.executable, "-c", READ, str(workspace)],
        capture_output=True,
        text=True,
        check=True,
        timeout=3600,
    )
    seconds, rows = done.stdout.split()
    return float(seconds), int(rows)


def measure(rounds: int, early: int, parties: int) -> dict[str, float]:
    from sklearn.linear_model import SGDClassifier

    from fedchain_magics import Federation, TaskConfig, simulate
    from fedchain_magics.models import initialize

    rng = np.random.default_rng(0)
    X = rng.normal(size=(parties * 40, 8))
    y = (X[:, 0] + 0.1 * rng.normal(size=len(X)) > 0).astype(int)
    model = initialize(
        SGDClassifier(loss="log_loss", random_state=0), X[:10], y[:10], classes=[0, 1]
    )
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="fedchain-ledger-view-") as directory:
        for done in (early, rounds):
            workspace = Path(directory) / f"after-{done}"
            started = time.perf_counter()
            with Federation.open(workspace) as federation:
                simulate(
                    model, X, y, X, y, parties=parties, rounds=done, federation=federation,
                    config=TaskConfig(rounds=done, min_participants=parties), progress=False,
                )  # fmt: skip
            figures[f"ledger_view_build_s_round{done}"] = time.perf_counter() - started
            seconds, rows = min(read_time_s(workspace) for _ in range(3))
            figures[f"ledger_view_s_round{done}"] = seconds
            figures[f"ledger_view_rows_round{done}"] = rows
            for cached in (workspace / "cache").glob("*"):
                cached.unlink()  # a workspace that never read this task (another kernel's)
            figures[f"ledger_view_cold_s_round{done}"] = read_time_s(workspace)[0]
    figures[f"ledger_view_s_round{rounds}_over_round{early}"] = (
        figures[f"ledger_view_s_round{rounds}"] / figures[f"ledger_view_s_round{early}"]
    )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--early", type=int, default=5)
    parser.add_argument("--parties", type=int, default=10)
    arguments = parser.parse_args()
    print(json.dumps(measure(arguments.rounds, arguments.early, arguments.parties)))


if __name__ == "__main__":
    main()
