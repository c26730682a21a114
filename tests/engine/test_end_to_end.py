"""Whole federated rounds on real TenSEAL ciphertexts and a real EVM."""

from __future__ import annotations

import numpy as np
import pytest
from engine_helpers import logistic_regression
from sklearn.linear_model import LogisticRegression

from fedchain_magics import TOKEN_UNIT, TaskConfig, simulate
from fedchain_magics.aggregation import weighted_average
from fedchain_magics.chain import RoundPhase
from fedchain_magics.data import split_iid
from fedchain_magics.engine.ledger_view import task_history


@pytest.mark.slow
def test_three_hospitals_match_a_centralized_model_and_the_ledger_adds_up(
    federation, breast_cancer
):
    split = breast_cancer
    config = TaskConfig(rounds=5, min_participants=3, reward_per_round=90 * TOKEN_UNIT)
    result = simulate(
        logistic_regression(split),
        split.X_train,
        split.y_train,
        split.X_test,
        split.y_test,
        parties=3,
        rounds=5,
        config=config,
        federation=federation,
        progress=False,
    )
    centralized = LogisticRegression(max_iter=1000).fit(split.X_train, split.y_train)
    centralized_accuracy = centralized.score(split.X_test, split.y_test)
    assert abs(result.final_metric - centralized_accuracy) <= 0.02

    history = task_history(result.task, verify=True)
    assert [summary.round for summary in history] == [1, 2, 3, 4, 5]
    paid = 0
    for summary in history:
        assert summary.phase == RoundPhase.ACCEPTED
        assert summary.aggregate_verified is True
        assert summary.aggregate_digest is not None and summary.model_digest is not None
        assert summary.accept_votes == 1 and len(summary.votes) == 1
        assert sorted(c.name for c in summary.contributions) == ["party-1", "party-2", "party-3"]
        assert sum(c.samples for c in summary.contributions) == summary.total_samples
        assert all(c.claimed and c.reward for c in summary.contributions)
        round_paid = sum(c.reward or 0 for c in summary.contributions)
        assert 90 * TOKEN_UNIT - 3 <= round_paid <= 90 * TOKEN_UNIT
        paid += round_paid
    balances = {row.name: row.balance for row in federation.balances()}
    assert sum(balances.values()) == paid
    assert balances["party-1"] > 0 and balances["validator-1"] == 0

    # Rewards were funded, not printed: the supply is still exactly the capped amount minted to
    # the treasury at deployment, shared between the treasury, the escrow and the parties.
    registry = federation.registry
    token = registry.token.functions
    supply = federation.ledger.call(token.totalSupply())
    assert supply == federation.ledger.call(token.cap())
    treasury = registry.token_balance(federation.keystore.address_of("deployer"))
    escrow = registry.token_balance(registry.contract.address)
    assert treasury + escrow + sum(balances.values()) == supply
    assert escrow == 5 * 90 * TOKEN_UNIT - paid  # what the rounds did not pay out (dust)


@pytest.mark.parametrize("scheme", ["bfv", "ckks"])
def test_the_decrypted_aggregate_equals_plain_fedavg_of_the_same_updates(
    federation, breast_cancer, scheme
):
    split = breast_cancer
    task = federation.create_task(
        logistic_regression(split), TaskConfig(min_participants=3, scheme=scheme)
    )
    shards = split_iid(split.X_train, split.y_train, 3, seed=1)
    # Unequal shard sizes make the weighting matter.
    shards = [shards[0], shards[1], shards[2]]
    participants = [task.participant(f"hospital-{index}") for index in range(len(shards))]
    for participant in participants:
        participant.join()
    task.coordinator().open_round()
    updates = []
    for index, (participant, shard) in enumerate(zip(participants, shards, strict=True)):
        size = len(shard.y) - 40 * index
        update = participant.train(shard.X[:size], shard.y[:size])
        participant.submit(update)
        updates.append(update)
    task.aggregator().aggregate()
    model = task.key_holder().decrypt_and_commit()

    base = task.global_parameters()
    plain = base + weighted_average([u.delta for u in updates], [u.samples for u in updates])
    assert np.max(np.abs(model.parameters - plain)) <= 1e-6


def test_a_rejected_round_keeps_the_previous_model(federation, breast_cancer):
    split = breast_cancer
    task = federation.create_task(
        logistic_regression(split), TaskConfig(min_participants=1, min_metric=0.999)
    )
    before = task.state().current_model_digest
    participant = task.participant("alice")
    participant.join()
    task.coordinator().open_round()
    participant.submit(participant.train(split.X_train, split.y_train))
    task.aggregator().aggregate()
    task.key_holder().decrypt_and_commit()
    vote = task.validator("validator-1").vote(split.X_test, split.y_test)
    assert vote.aggregate_verified and not vote.accept
    assert task.round_state(1).phase == RoundPhase.REJECTED
    assert task.state().current_model_digest == before
    assert federation.registry.pending_reward(task.task_id, 1, participant.address) == 0
    task.coordinator().open_round()  # the task goes on from the previous model
    assert task.current_round() == 2
