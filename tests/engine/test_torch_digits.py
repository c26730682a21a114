"""Five parties with label skew (Dirichlet alpha=0.5) train a small PyTorch MLP on digits."""

from __future__ import annotations

import numpy as np
import pytest

from fedchain_magics import TaskConfig, simulate
from fedchain_magics.chain import RoundPhase
from fedchain_magics.data import load_dataset, standardize, train_test_split_stratified
from fedchain_magics.engine.ledger_view import task_history
from fedchain_magics.models import adapter_for

torch = pytest.importorskip("torch")

ROUNDS, LOCAL_EPOCHS, LEARNING_RATE = 10, 5, 0.1


@pytest.fixture
def one_torch_thread():
    # Two cores shared with the rest of the suite: torch's own thread pool only adds contention.
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def small_mlp():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10))


@pytest.mark.slow
@pytest.mark.torch
def test_non_iid_digits_reach_a_centralized_mlp(federation, one_torch_thread):
    X, y = load_dataset("digits")
    X_train, X_test, y_train, y_test = train_test_split_stratified(X, y, 0.25, seed=0)
    X_train, X_test = (part.astype(np.float32) for part in standardize(X_train, X_test))
    options = {"learning_rate": LEARNING_RATE}

    centralized = small_mlp()
    adapter = adapter_for(centralized)
    adapter.train_local(centralized, X_train, y_train, epochs=ROUNDS * LOCAL_EPOCHS, **options)
    centralized_accuracy = adapter.evaluate(centralized, X_test, y_test)

    result = simulate(
        small_mlp(),
        X_train,
        y_train,
        X_test,
        y_test,
        parties=5,
        rounds=ROUNDS,
        split="dirichlet",
        alpha=0.5,
        config=TaskConfig(min_participants=5, local_epochs=LOCAL_EPOCHS),
        federation=federation,
        progress=False,
        train_options=options,
    )
    label_counts = [np.bincount(shard.y, minlength=10) for shard in result.shards]
    assert max(counts.max() / counts.sum() for counts in label_counts) > 0.2, "skewed labels"
    assert abs(result.final_metric - centralized_accuracy) <= 0.02

    history = task_history(result.task, verify=True)
    assert all(summary.phase == RoundPhase.ACCEPTED for summary in history)
    assert all(summary.aggregate_verified for summary in history)
    assert all(len(summary.contributions) == 5 for summary in history)
    paid = sum(c.reward or 0 for summary in history for c in summary.contributions)
    assert sum(row.balance for row in federation.balances()) == paid
