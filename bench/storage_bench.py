"""Bounded storage: the workspace's size on disk after 50 rounds of a 10-party task whose
updates are the size issue #14 measured (~131-145 KB each: a ~4,200-parameter model takes one
N=8192 BFV ciphertext, so ~1.45 MB of blobs a round), with the default retention policy
(old rounds' updates pruned after each round, keep_rounds=1). Target <= 20 MB; without
pruning the same run leaves ~86 MB.

Usage: ``python bench/storage_bench.py [--rounds 50] [--parties 10] [--features 4200]``; the
last line printed is JSON (``bench/run.py`` includes it).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np


def disk_bytes(root: Path) -> int:
    """What ``du`` counts: the blocks every file under ``root`` occupies."""
    return sum(path.stat().st_blocks * 512 for path in root.rglob("*") if path.is_file())


def measure(rounds: int = 50, parties: int = 10, features: int = 4200) -> dict[str, float]:
    from sklearn.linear_model import SGDClassifier

    from fedchain_magics import Federation, TaskConfig, simulate
    from fedchain_magics.models import initialize

    rng = np.random.default_rng(0)
    X = rng.normal(size=(parties * 40, features))
    y = (X[:, 0] + 0.1 * rng.normal(size=len(X)) > 0).astype(int)
    model = initialize(
        SGDClassifier(loss="log_loss", random_state=0), X[:10], y[:10], classes=[0, 1]
    )
    with tempfile.TemporaryDirectory(prefix="fedchain-storage-") as directory:
        workspace = Path(directory) / "ledger"
        started = time.perf_counter()
        with Federation.open(workspace) as federation:
            result = simulate(
                model, X, y, X, y, parties=parties, rounds=rounds, federation=federation,
                config=TaskConfig(rounds=rounds, min_participants=parties), progress=False,
            )  # fmt: skip
            last = result.task.commitments(rounds)
            update_bytes = np.mean([federation.store.size(c.update_digest) for c in last])
        seconds = time.perf_counter() - started
        size = disk_bytes(workspace)
    return {
        f"workspace_mb_after_{rounds}_rounds": size / 1e6,
        "workspace_update_kb": float(update_bytes) / 1e3,
        "storage_bench_s": seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--parties", type=int, default=10)
    parser.add_argument("--features", type=int, default=4200)
    arguments = parser.parse_args()
    print(json.dumps(measure(arguments.rounds, arguments.parties, arguments.features)))


if __name__ == "__main__":
    main()
