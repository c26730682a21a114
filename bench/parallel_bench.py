"""Issue #14 figures: encryption and sums across processes, and a large simulated round's cost
per party. Each ratio is measured side by side in one run (best of a few alternating repeats:
the machines are shared and noisy)."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from fedchain_magics import TaskConfig, simulate
from fedchain_magics.crypto import BfvFixedPointScheme, load_scheme
from fedchain_magics.crypto.parallel import EncryptionPool
from fedchain_magics.engine.simulation import RoundRecord


def best_of(repeats: int, *runs: Callable[[], object]) -> list[float]:
    """Each run's best time over ``repeats`` rounds, the runs alternating within a round."""
    best = [float("inf")] * len(runs)
    for _ in range(repeats):
        for index, run in enumerate(runs):
            started = time.perf_counter()
            run()
            best[index] = min(best[index], time.perf_counter() - started)
    return best


def parallel_speedups(
    updates: int = 8, parameters: int = 100_000, processes: int = 2, repeats: int = 3
) -> dict[str, float]:
    """``updates`` updates of ``parameters`` values encrypted by one process vs a warm pool of
    ``processes``; their sum (4x as many blobs) likewise. The pool's start is reported apart."""
    key_holder = BfvFixedPointScheme.generate(max_parties=100)
    scheme = load_scheme(key_holder.public_context_bytes())
    rng = np.random.default_rng(0)
    values = [rng.normal(0, 0.01, parameters) for _ in range(updates)]
    started = time.perf_counter()
    with EncryptionPool(scheme.public_context_bytes(), processes) as pool:
        pool.warm_up()
        start_s = time.perf_counter() - started
        serial_s, pooled_s = best_of(
            repeats,
            lambda: [scheme.encrypt(update) for update in values],
            lambda: pool.encrypt_many(values),
        )
        blobs = pool.encrypt_many(values) * 4

        def serial_sum() -> bytes:
            running = scheme.start_sum()
            for blob in blobs:
                running.add(blob)
            return running.result()

        assert serial_sum() == pool.sum(blobs)  # byte-identical, or the figure means nothing
        serial_sum_s, pooled_sum_s = best_of(repeats, serial_sum, lambda: pool.sum(blobs))
    return {
        f"encrypt_speedup_{processes}proc": serial_s / pooled_s,
        f"sum_speedup_{processes}proc": serial_sum_s / pooled_sum_s,
        "encrypt_pool_start_s": start_s,
    }


def round_per_party(parties: int, features: int = 1000, classes: int = 100) -> dict[str, float]:
    """One ``simulate`` round with ``parties`` parties (20 samples each) of a torch model of
    ``features x classes + classes`` parameters (100,100 by default): seconds per party, with
    batched commitments (``round_s_per_party_n{N}``: each party signs its commitment, one
    transaction commits the round's and one pays it, the option a large federation runs) and,
    right after, with one commitment and one claim transaction per party
    (``..._one_tx_each``)."""
    figures: dict[str, float] = {}
    for batched, suffix in ((True, ""), (False, "_one_tx_each")):
        record = simulated_round(parties, features, classes, batched)
        figures[f"round_s_per_party_n{parties}{suffix}"] = record.seconds / parties
        figures[f"round_accepted_n{parties}{suffix}"] = int(
            record.accepted and record.aggregate_verified
        )
    return figures


def simulated_round(parties: int, features: int, classes: int, batched: bool) -> RoundRecord:
    """One ``simulate`` round of ``parties`` parties (20 samples each, labels from a linear
    map) of a ``features x classes + classes``-parameter torch model, in a fresh workspace."""
    import torch

    torch.set_num_threads(1)
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    weights = rng.normal(size=(features, classes))  # a learnable task: labels from a linear map
    X = rng.normal(size=(parties * 20 + 200, features)).astype(np.float32)
    y = np.argmax(X @ weights, axis=1)
    X, X_test, y, y_test = X[200:], X[:200], y[200:], y[:200]
    model = torch.nn.Linear(features, classes)
    with tempfile.TemporaryDirectory(prefix="fedchain-bench-round-") as directory:
        result = simulate(
            model,
            X,
            y,
            X_test,
            y_test,
            parties=parties,
            rounds=1,
            config=TaskConfig(max_parties=max(100, parties)),
            workspace=Path(directory),
            progress=False,
            train_options={"learning_rate": 0.01},
            batched=batched,
        )
        (record,) = result.records
        result.federation.close()
    return record
