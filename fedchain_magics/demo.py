"""``python -m fedchain_magics.demo``: three hospitals, five encrypted rounds, on a fresh ledger.

Prints, per round, the ledger's commitments, aggregate, votes and outcome, then the reward
balances and the federated accuracy next to a centralized model trained on the union.
"""

from __future__ import annotations

import argparse
import tempfile
import warnings

from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from .data import load_dataset, standardize, train_test_split_stratified
from .engine import TOKEN_UNIT, TaskConfig, simulate
from .engine.ledger_view import task_history
from .models import initialize


def _short(digest: bytes | None) -> str:
    return "-" if digest is None else "0x" + digest.hex()[:10]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--parties", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--scheme", default="bfv", choices=["bfv", "ckks"])
    parser.add_argument("--workspace", default=None, help="ledger directory (default: a new one)")
    arguments = parser.parse_args(argv)

    X, y = load_dataset("breast_cancer")
    X_train, X_test, y_train, y_test = train_test_split_stratified(X, y, 0.25, seed=0)
    X_train, X_test = standardize(X_train, X_test)

    centralized = LogisticRegression(max_iter=1000).fit(X_train, y_train)
    centralized_accuracy = centralized.score(X_test, y_test)

    model = initialize(LogisticRegression(max_iter=5), X_train[:20], y_train[:20], classes=[0, 1])
    workspace = arguments.workspace or tempfile.mkdtemp(prefix="fedchain-demo-")
    config = TaskConfig(
        rounds=arguments.rounds,
        min_participants=arguments.parties,
        scheme=arguments.scheme,
        name="breast-cancer-demo",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        result = simulate(
            model,
            X_train,
            y_train,
            X_test,
            y_test,
            parties=arguments.parties,
            rounds=arguments.rounds,
            config=config,
            workspace=workspace,
        )
    federation, task = result.federation, result.task
    print(
        f"\nledger: {federation.ledger.network_name}, chain id {federation.ledger.chain_id}, "
        f"block {federation.ledger.block_number()}, workspace {workspace}"
    )
    print(f"task {task.task_id}: {config.scheme} encryption, {arguments.parties} parties\n")
    for summary in task_history(task, verify=True):
        record = result.records[summary.round - 1]
        print(
            f"round {summary.round}: {summary.phase.label}, {summary.commit_count} updates, "
            f"aggregate {_short(summary.aggregate_digest)} "
            f"({'verified' if summary.aggregate_verified else 'NOT verified'}), "
            f"votes {summary.accept_votes} accept / {summary.reject_votes} reject, "
            f"accuracy {record.metric:.4f}"
        )
        for contribution in summary.contributions:
            reward = (contribution.reward or 0) / TOKEN_UNIT
            print(
                f"    {contribution.name or contribution.participant}: "
                f"{contribution.samples} samples, update {_short(contribution.update_digest)}, "
                f"block {contribution.block_number}, gas {contribution.gas_used:,}, "
                f"reward {reward:.4f} FCR"
            )
    print("\nreward balances:")
    total = 0
    for row in federation.balances():
        if row.balance == 0:
            continue
        total += row.balance
        print(f"    {row.name or row.address}: {row.balance / TOKEN_UNIT:.4f} FCR")
    print(f"    total paid: {total / TOKEN_UNIT:.4f} FCR")
    print(
        f"\nfederated accuracy {result.final_metric:.4f} vs centralized {centralized_accuracy:.4f}"
    )
    federation.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
