"""``fedsim_over_flower_n30``: the same federated task through fedchain's ``simulate`` and through
Flower's simulation engine, whole processes timed in turn (issue #14).

The task: logistic regression (scikit-learn, warm-started, 5 lbfgs iterations a round) on 3,000 x
20 synthetic rows split evenly among N parties, 3 rounds, updates encrypted on both sides.
- fedchain: ``simulate(..., batched=True)`` with the default scheme (BFV fixed point) and the
  in-process ledger: accounts, joins, signed commitments, one batch transaction a round, the
  aggregate, the model, a validator's vote and the round's payment;
- Flower (1.41, ``flwr.simulation.run_simulation`` on ray): each ClientApp trains the same way,
  encrypts its weighted update with TenSEAL CKKS (NVFlare's setting: N=8192, [60,40,40], 2^40)
  and sends the ciphertext's bytes in its ArrayRecord; the ServerApp sums the ciphertexts,
  decrypts the sum and averages (no ledger, no accounts, no signatures).

Each side runs in a fresh Python process (``--side fedchain|flower``) timed from outside, so
imports and start-up (ray's, the chain's) count on both; the sides alternate, ``--repeats``
times, and the figure is the ratio of medians. Flower is an optional benchmark dependency
(``pip install -r bench/requirements-flower.txt``; it pins packaging and rich below the lock);
without it the figure is absent and the bench says so.

Usage: ``python bench/flower_bench.py [--parties 30] [--repeats 3]``; the last line is JSON.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROWS, FEATURES, ROUNDS, LOCAL_ITERATIONS = 3_000, 20, 3, 5


def flower_installed() -> bool:
    return importlib.util.find_spec("flwr") is not None and (
        importlib.util.find_spec("ray") is not None
    )


def task_data() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """3,000 training rows and 500 test rows of a linearly separable-ish binary task."""
    rng = np.random.default_rng(0)
    weights = rng.normal(size=FEATURES)
    X = rng.normal(size=(ROWS + 500, FEATURES))
    y = (X @ weights + rng.normal(scale=0.5, size=len(X)) > 0).astype(int)
    return X[:ROWS], y[:ROWS], X[ROWS:], y[ROWS:]


def _model() -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(warm_start=True, max_iter=LOCAL_ITERATIONS)


# -- fedchain ---------------------------------------------------------------------------------


def run_fedchain(parties: int) -> dict[str, float]:
    """One whole fedchain simulation: the global model's test accuracy, and the seconds of its
    rounds after the first."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    from fedchain_magics import TaskConfig, simulate
    from fedchain_magics.models import initialize

    warnings.simplefilter("ignore", ConvergenceWarning)
    X, y, X_test, y_test = task_data()
    model = initialize(_model(), X[:20], y[:20], classes=[0, 1])
    with tempfile.TemporaryDirectory(prefix="fedchain-bench-flower-") as directory:
        result = simulate(
            model,
            X,
            y,
            X_test,
            y_test,
            parties=parties,
            rounds=ROUNDS,
            config=TaskConfig(max_parties=max(100, parties)),
            workspace=Path(directory),
            progress=False,
            batched=True,
        )
        if not all(record.accepted for record in result.records):
            raise RuntimeError("a fedchain round was not accepted: its time would mean nothing")
        figures = {
            "accuracy": float(result.records[-1].metric),
            "later_rounds_s": sum(record.seconds for record in result.records[1:]),
        }
        result.federation.close()
    return figures


# -- Flower -----------------------------------------------------------------------------------


def run_flower(parties: int) -> dict[str, float]:
    """One whole Flower simulation of the same task: the global model's accuracy, and the
    seconds of its rounds after the first (the first includes ray's start)."""
    import logging
    import warnings

    import tenseal as ts
    from flwr.app import Array as FlowerArray
    from flwr.app import ArrayRecord, Context, Message, MetricRecord, RecordDict
    from flwr.clientapp import ClientApp
    from flwr.serverapp import Grid, ServerApp
    from flwr.serverapp.strategy import FedAvg
    from flwr.simulation import run_simulation
    from sklearn.exceptions import ConvergenceWarning

    warnings.simplefilter("ignore", ConvergenceWarning)
    logging.getLogger("flwr").setLevel(
        logging.WARNING if not os.environ.get("FLOWER_BENCH_VERBOSE") else logging.INFO
    )
    X, y, X_test, y_test = task_data()
    shards = np.array_split(np.random.default_rng(0).permutation(ROWS), parties)
    secret = ts.context(ts.SCHEME_TYPE.CKKS, 8192, coeff_mod_bit_sizes=[60, 40, 40])
    secret.global_scale = 2**40  # sums need no Galois or relinearization keys
    public_bytes = secret.serialize(save_secret_key=False)

    def flat(model: Any) -> np.ndarray:
        return np.concatenate([model.coef_.ravel(), model.intercept_.ravel()])

    def model_from(vector: np.ndarray) -> Any:
        model = _model()
        model.classes_ = np.array([0, 1])
        model.coef_ = vector[:FEATURES].reshape(1, FEATURES).copy()
        model.intercept_ = vector[FEATURES:].copy()
        return model

    contexts: dict[str, Any] = {}
    client = ClientApp()

    @client.train()
    def train(message: Message, context: Context) -> Message:
        warnings.simplefilter("ignore", ConvergenceWarning)  # in the ray worker too
        shard = shards[int(context.node_config["partition-id"])]
        base = message.content["arrays"]["w"].numpy()
        model = model_from(base)
        model.fit(X[shard], y[shard])
        if "public" not in contexts:  # once per ray worker, as a real client keeps its context
            contexts["public"] = ts.context_from(public_bytes)
        update = ts.ckks_vector(contexts["public"], ((flat(model) - base) * len(shard)).tolist())
        blob = update.serialize()
        record = RecordDict(
            {
                "arrays": ArrayRecord(
                    {
                        "update": FlowerArray(
                            dtype="bytes", shape=(len(blob),), stype="ckks", data=blob
                        )
                    }
                ),
                "metrics": MetricRecord({"num-examples": len(shard)}),
            }
        )
        return Message(content=record, reply_to=message)

    class EncryptedFedAvg(FedAvg):
        """Sums the replies' CKKS ciphertexts, decrypts the sum, averages by samples."""

        current = np.zeros(FEATURES + 1)
        round_started: dict[int, float] = {}

        def configure_train(self, server_round: int, *args: Any) -> Any:
            self.round_started[server_round] = time.perf_counter()
            return super().configure_train(server_round, *args)

        def aggregate_train(self, server_round: int, replies: Any) -> tuple[Any, Any]:
            valid, _ = self._check_and_log_replies(replies, is_train=True)
            total, samples = None, 0
            for reply in valid:
                vector = ts.ckks_vector_from(secret, reply.content["arrays"]["update"].data)
                total = vector if total is None else total + vector
                samples += int(reply.content["metrics"]["num-examples"])
            assert total is not None
            self.current = self.current + np.array(total.decrypt()) / samples
            if server_round == ROUNDS:
                outcome["later_rounds_s"] = time.perf_counter() - self.round_started[2]
            return ArrayRecord({"w": FlowerArray(self.current)}), None

    outcome: dict[str, float] = {}
    strategy = EncryptedFedAvg(
        fraction_evaluate=0.0, min_train_nodes=parties, min_available_nodes=parties
    )
    server = ServerApp()

    @server.main()
    def main(grid: Grid, context: Context) -> None:
        initial = ArrayRecord({"w": FlowerArray(np.zeros(FEATURES + 1))})
        result = strategy.start(grid=grid, initial_arrays=initial, num_rounds=ROUNDS)
        weights = result.arrays["w"].numpy()
        outcome["accuracy"] = float(model_from(weights).score(X_test, y_test))

    run_simulation(
        server_app=server,
        client_app=client,
        num_supernodes=parties,
        backend_config={"client_resources": {"num_cpus": 1, "num_gpus": 0.0}},
    )
    if "accuracy" not in outcome:
        raise RuntimeError("the Flower simulation ended without a model")
    return outcome


# -- side by side -----------------------------------------------------------------------------


def timed_process(side: str, parties: int) -> dict[str, float]:
    """Wall seconds of a fresh process running ``side``, and the figures it reports."""
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, __file__, "--side", side, "--parties", str(parties)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "RAY_DEDUP_LOGS": "0", "PYTHONWARNINGS": "ignore"},
    )
    seconds = time.perf_counter() - started
    if completed.returncode != 0:
        raise RuntimeError(f"the {side} run failed:\n{completed.stderr[-3000:]}")
    figures = dict(json.loads(completed.stdout.strip().splitlines()[-1]))
    return {**figures, "process_s": seconds}


def measure(parties: int = 30, repeats: int = 3) -> dict[str, float]:
    """Both sides, alternating, ``repeats`` times each; empty without Flower."""
    if not flower_installed():
        return {}
    runs: dict[str, list[dict[str, float]]] = {"fedchain": [], "flower": []}
    for _ in range(repeats):
        for side, side_runs in runs.items():
            side_runs.append(timed_process(side, parties))

    def median(side: str, key: str) -> float:
        return statistics.median(run[key] for run in runs[side])

    suffix = f"_n{parties}"
    return {
        f"fedsim_over_flower{suffix}": median("fedchain", "process_s")
        / median("flower", "process_s"),
        f"fedsim_s{suffix}": median("fedchain", "process_s"),
        f"flower_sim_s{suffix}": median("flower", "process_s"),
        f"fedsim_over_flower_later_rounds{suffix}": median("fedchain", "later_rounds_s")
        / median("flower", "later_rounds_s"),
        f"fedsim_accuracy{suffix}": median("fedchain", "accuracy"),
        f"flower_sim_accuracy{suffix}": median("flower", "accuracy"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--parties", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--side", choices=("fedchain", "flower"), help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.side == "fedchain":
        print(json.dumps(run_fedchain(arguments.parties)))
        return
    if arguments.side == "flower":
        print(json.dumps(run_flower(arguments.parties)))
        return
    if not flower_installed():
        print(
            "Flower is not installed: pip install -r bench/requirements-flower.txt", file=sys.stderr
        )
    figures = measure(arguments.parties, arguments.repeats)
    print(json.dumps({key: round(value, 4) for key, value in figures.items()}))


if __name__ == "__main__":
    sys.exit(main())
