"""Batched commitments through the engine: parties sign, the aggregator commits each round's
signed updates in one transaction and pays the round in one; aggregation, exclusion and rewards
work as on a round of individual commits, and the model is the one individual commits give."""

from __future__ import annotations

import numpy as np
import pytest
from engine_helpers import logistic_regression

from fedchain_magics import TaskConfig, simulate
from fedchain_magics.chain import ExclusionReason, RoundPhase
from fedchain_magics.engine import batched

PARTIES = 4


def _simulate(tmp_path, name, split, *, batched_commitments: bool, rounds: int = 2):
    return simulate(
        logistic_regression(split),
        split.X_train,
        split.y_train,
        split.X_test,
        split.y_test,
        parties=PARTIES,
        rounds=rounds,
        config=TaskConfig(min_participants=PARTIES - 1),
        workspace=tmp_path / name,
        progress=False,
        processes=1,
        batched=batched_commitments,
    )


def test_a_batched_run_pays_everyone_and_matches_individual_commits(tmp_path, breast_cancer):
    plain = _simulate(tmp_path, "plain", breast_cancer, batched_commitments=False)
    run = _simulate(tmp_path, "batched", breast_cancer, batched_commitments=True)
    try:
        registry, task_id = run.federation.registry, run.task.task_id
        for record in run.records:
            assert record.accepted and record.updates == PARTIES
            root, leaf_count, paid = registry.batch(task_id, record.round)
            assert (leaf_count, paid) == (PARTIES, True)
            tree = registry.batch_tree(task_id, record.round)
            assert tree is not None and tree.root == root
            for index, leaf in enumerate(tree.leaves):  # anyone proves each party's inclusion
                assert registry.is_in_batch(task_id, record.round, leaf, tree.proof(index))
            commits = registry.update_commitments(task_id, record.round)
            assert {c.update_digest for c in commits} == {
                leaf.update_digest for leaf in tree.leaves
            }
            reward = run.task.state().params.reward_per_round
            assert registry.contract.functions.rewardPaid(task_id, record.round).call() == (
                pytest.approx(reward, rel=1e-9)
            )
        # Same updates, same sums: the batched run's model is the individual commits' model.
        assert np.allclose(run.task.global_parameters(), plain.task.global_parameters())
        for name in run.parties:
            assert registry.token_balance(run.federation.account(name).address) > 0
    finally:
        plain.federation.close()
        run.federation.close()


def test_an_unusable_batched_update_is_excluded_with_its_proof(tmp_path, breast_cancer):
    split = breast_cancer
    run = _simulate(tmp_path, "setup", split, batched_commitments=True, rounds=1)
    try:
        task, federation = run.task, run.federation
        round_number = task.coordinator().open_round()
        participants = [task.participant(name) for name in run.parties]
        shards = run.shards
        for participant, shard in zip(participants, shards, strict=True):
            participant.sign(participant.train(shard.X, shard.y))
        signed = batched.waiting(task, round_number)
        assert len(signed) == PARTIES
        broken = signed[0].leaf.update_digest
        federation.store.delete(broken)  # its blob is gone: the aggregator must exclude it
        aggregate = task.aggregator().aggregate(round_number)
        assert aggregate.update_count == PARTIES - 1
        exclusions = federation.registry.excluded_updates(task.task_id, round_number)
        assert [(e.update_digest, e.reason) for e in exclusions] == [
            (broken, ExclusionReason.MISSING)
        ]
        task.key_holder().decrypt_and_commit(round_number)
        task.validator("validator-1").vote(split.X_test, split.y_test, round_number)
        assert task.round_state(round_number).phase == RoundPhase.ACCEPTED
        amount, _ = batched.pay(task.aggregator(), round_number)
        assert amount > 0
        excluded_party = signed[0].leaf.participant
        contribution = federation.registry.contribution_of(task.task_id, broken)
        assert contribution is not None and contribution.excluded
        assert contribution.participant == excluded_party
    finally:
        run.federation.close()


def test_a_copied_ciphertext_is_left_out_of_the_batch_not_the_batch(tmp_path, breast_cancer):
    """A party that signs another's ciphertext (this round's, or one already on the ledger)
    is left out of the batch, as the contract would refuse its commit; the first to sign a
    digest keeps it. A repeated digest would have made the contract refuse the whole batch."""
    split = breast_cancer
    run = _simulate(tmp_path, "setup", split, batched_commitments=True, rounds=1)
    try:
        task, federation = run.task, run.federation
        old = federation.registry.update_commitments(task.task_id, 1)[0]
        round_number = task.coordinator().open_round()
        first, copycat, replayer, honest = (task.participant(name) for name in run.parties)
        shards = run.shards
        original = first.sign(first.train(shards[0].X, shards[0].y))
        copied = federation.store.get(original.update_digest)
        copycat.sign(copycat.train(shards[1].X, shards[1].y), ciphertext=copied)
        replayed = federation.store.get(old.update_digest)
        replayer.sign(replayer.train(shards[2].X, shards[2].y), ciphertext=replayed)
        honest.sign(honest.train(shards[3].X, shards[3].y))
        assert batched.commit_waiting(task.aggregator(), round_number) is not None
        tree = federation.registry.batch_tree(task.task_id, round_number)
        assert tree is not None
        assert {leaf.participant for leaf in tree.leaves} == {first.address, honest.address}
    finally:
        run.federation.close()


def test_masked_tasks_refuse_batching(tmp_path, breast_cancer):
    from fedchain_magics import Federation
    from fedchain_magics.engine.errors import InvalidInputError

    federation = Federation.open(tmp_path / "masked")
    try:
        task = federation.create_task(
            logistic_regression(breast_cancer), TaskConfig(privacy="masked")
        )
        with pytest.raises(InvalidInputError, match="masked"):
            batched.enable(task)
    finally:
        federation.close()


BATCH_ERRORS = {
    "TrainingBatchAlreadyCommitted": {"taskId": 1, "round": 2},
    "TrainingEmptyBatch": {"taskId": 1, "round": 2},
    "TrainingBatchMasked": {"taskId": 1},
    "TrainingBatchSignatureInvalid": {"taskId": 1, "round": 2, "index": 0},
    "TrainingBatchNotSorted": {"taskId": 1, "round": 2, "index": 1},
    "TrainingNoBatch": {"taskId": 1, "round": 2},
    "TrainingNotInBatch": {
        "taskId": 1,
        "round": 2,
        "participant": "0x" + "11" * 20,
        "updateDigest": b"\x01" * 32,
    },
    "TrainingBatchMismatch": {
        "taskId": 1,
        "round": 2,
        "root": b"\x01" * 32,
        "computedRoot": b"\x02" * 32,
    },
    "TrainingBatchAlreadyPaid": {"taskId": 1, "round": 2},
}


@pytest.mark.parametrize("name", sorted(BATCH_ERRORS))
def test_every_batch_refusal_is_worded(name):
    from fedchain_magics.chain import ContractRevertError
    from fedchain_magics.engine.errors import REFUSALS, refusal

    assert name in REFUSALS
    worded = refusal(ContractRevertError(name, BATCH_ERRORS[name], "commitBatch"), lambda a: "ana")
    text = str(worded)
    assert "task 1" in text and "{" not in text and "None" not in text
