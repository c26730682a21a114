"""Anyone with the public context can check the aggregator; a cheat is caught before decryption."""

from __future__ import annotations

import pytest
from engine_helpers import logistic_regression

from fedchain_magics import TaskConfig
from fedchain_magics.aggregation import sum_encrypted
from fedchain_magics.chain import RoundPhase
from fedchain_magics.data import split_iid
from fedchain_magics.engine import AggregateMismatchError


def _round_with_three_updates(federation, split):
    task = federation.create_task(logistic_regression(split), TaskConfig(min_participants=3))
    shards = split_iid(split.X_train, split.y_train, 3, seed=0)
    participants = [task.participant(f"hospital-{index}") for index in range(len(shards))]
    for participant in participants:
        participant.join()
    task.coordinator().open_round()
    blobs = []
    for participant, shard in zip(participants, shards, strict=True):
        submission = participant.submit(participant.train(shard.X, shard.y))
        blobs.append(federation.store.get(submission.update_digest))
    return task, blobs


def test_an_honest_aggregate_verifies(federation, breast_cancer):
    task, _ = _round_with_three_updates(federation, breast_cancer)
    task.aggregator().aggregate()
    verification = task.verify_round(1)
    assert verification.matches and verification.update_count == 3


@pytest.mark.parametrize("cheat", ["drops an update", "counts an update twice"])
def test_a_cheating_aggregator_is_caught(federation, breast_cancer, cheat):
    task, blobs = _round_with_three_updates(federation, breast_cancer)
    forged_inputs = blobs[:2] if cheat == "drops an update" else [*blobs, blobs[0]]
    forged = sum_encrypted(task.public_scheme, forged_inputs)
    task.aggregator().commit_aggregate_blob(1, forged, task.commitments(1))

    verification = task.verify_round(1)
    assert not verification.matches
    with pytest.raises(AggregateMismatchError, match="is not the sum of its 3 committed updates"):
        task.key_holder().decrypt_and_commit(1)
    # The key holder refused before decrypting and rejected the aggregate on-chain with
    # evidence; the round waits for a fresh aggregate instead of being lost.
    assert task.round_state(1).phase == RoundPhase.COLLECTING
    assert task.round_state(1).model_digest is None
    (log,) = federation.registry.contract.events.AggregateRejected().get_logs(from_block=0)
    assert log["args"]["recomputedDigest"] == verification.recomputed_digest
    assert task.state().current_model_digest == task.state().params.initial_model_digest
    task.aggregator().aggregate()  # an honest aggregate this time
    task.key_holder().decrypt_and_commit(1)
    assert task.round_state(1).phase == RoundPhase.VALIDATING
