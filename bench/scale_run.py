"""Issue #14 part 7: one round of many simulated parties on this machine, time and peak memory.

``python bench/scale_run.py [--parties 1000] [--features 1000] [--classes 100]`` runs one
``simulate`` round (batched commitments: each party signs its commitment, one transaction
commits the round's, one pays it) of a ``features x classes + classes``-parameter torch model
(100,100 by default), 20 samples a party, and prints one JSON line: the whole run's seconds
(accounts, joins and the round), the round's seconds, the ciphertext bytes, and this process's
peak resident memory (workers included). The README's scale row comes from it.
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path

import numpy as np

from fedchain_magics import TaskConfig, simulate


def scale_run(parties: int, features: int, classes: int) -> dict[str, float]:
    import torch

    torch.set_num_threads(1)
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    weights = rng.normal(size=(features, classes))
    X = rng.normal(size=(parties * 20 + 200, features)).astype(np.float32)
    y = np.argmax(X @ weights, axis=1)
    X, X_test, y, y_test = X[200:], X[:200], y[200:], y[:200]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="fedchain-scale-") as directory:
        result = simulate(
            torch.nn.Linear(features, classes),
            X,
            y,
            X_test,
            y_test,
            parties=parties,
            rounds=1,
            config=TaskConfig(max_parties=parties),
            workspace=Path(directory),
            progress=False,
            train_options={"learning_rate": 0.01},
            batched=True,
        )
        (record,) = result.records
        result.federation.close()
    total_s = time.perf_counter() - started
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {
        "parties": parties,
        "parameters": features * classes + classes,
        "total_s": round(total_s, 1),
        "round_s": round(record.seconds, 1),
        "round_s_per_party": round(record.seconds / parties, 3),
        "accepted": int(record.accepted and record.aggregate_verified),
        "ciphertext_mb": round(record.ciphertext_bytes / 1e6, 1),
        "peak_rss_mb": round(own, 0),
        "peak_rss_mb_largest_worker": round(children, 0),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parties", type=int, default=1000)
    parser.add_argument("--features", type=int, default=1000)
    parser.add_argument("--classes", type=int, default=100)
    arguments = parser.parse_args()
    print(json.dumps(scale_run(arguments.parties, arguments.features, arguments.classes)))
