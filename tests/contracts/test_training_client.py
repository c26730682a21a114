"""The typed Python client of the contracts (``fedchain_magics.chain.TrainingContract``) on the
embedded ledger: deployment, escrow, the set an aggregate names, exclusions, cancellations,
claims by digest, and event logs read by their indexed topics."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from ledger_harness import digest

from fedchain_magics.chain import (
    CancelReason,
    ContractRevertError,
    ExclusionReason,
    Ledger,
    Role,
    RoundPhase,
    TaskParams,
    TrainingContract,
    updates_commitment,
)
from fedchain_magics.chain.training import DEFAULT_SUPPLY_CAP


class Parties:
    def __init__(self, ledger: Ledger) -> None:
        def account() -> LocalAccount:
            created: LocalAccount = Account.create()
            ledger.fund(created.address)
            return created

        self.deployer = account()
        self.coordinator = account()
        self.aggregator = account()
        self.key_holder = account()
        self.validators = [account() for _ in range(3)]
        self.participants = [account() for _ in range(3)]


@pytest.fixture
def chain(tmp_path: Path) -> Iterator[tuple[TrainingContract, Parties]]:
    ledger = Ledger.open_embedded(tmp_path / "ledger")
    parties = Parties(ledger)
    registry = TrainingContract.deploy(ledger, parties.deployer)
    registry.transfer_tokens(parties.deployer, parties.coordinator.address, 10**6)
    yield registry, parties
    ledger.close()


def _params(**overrides: Any) -> TaskParams:
    values: dict[str, Any] = {
        "model_spec_digest": digest("spec"),
        "public_context_digest": digest("context"),
        "initial_model_digest": digest("model-0"),
        "min_participants": 2,
        "max_rounds": 2,
        "validator_quorum": 2,
        "submission_window_blocks": 50,
        "validation_window_blocks": 50,
        "reward_per_round": 900,
        "max_samples_per_update": 1_000,
        "aggregation_window_blocks": 20,
    }
    values.update(overrides)
    return TaskParams(**values)


def _task(registry: TrainingContract, parties: Parties, **overrides: Any) -> int:
    task_id, _ = registry.create_task(
        parties.coordinator,
        _params(**overrides),
        parties.aggregator.address,
        parties.key_holder.address,
    )
    for validator in parties.validators:
        registry.add_validator(parties.coordinator, task_id, validator.address)
    for participant in parties.participants:
        registry.join(participant, task_id)
    return task_id


def test_deployment_mints_the_cap_to_the_treasury(
    chain: tuple[TrainingContract, Parties],
) -> None:
    registry, parties = chain
    supply = registry.ledger.call(registry.token.functions.totalSupply())
    assert supply == DEFAULT_SUPPLY_CAP
    assert registry.token_balance(parties.deployer.address) == DEFAULT_SUPPLY_CAP - 10**6
    assert registry.token_balance(parties.coordinator.address) == 10**6


def test_a_full_task_through_the_client(chain: tuple[TrainingContract, Parties]) -> None:
    registry, parties = chain
    # create_task approves the pool itself and escrows it.
    task_id = _task(registry, parties)
    assert registry.token_balance(parties.coordinator.address) == 10**6 - 1_800
    assert registry.unallocated_escrow(task_id) == 1_800
    assert registry.member(task_id, parties.aggregator.address).role == Role.AGGREGATOR
    assert registry.member(task_id, parties.participants[0].address).first_round == 1

    round_number, _ = registry.open_round(parties.coordinator, task_id)
    for index, participant in enumerate(parties.participants):
        registry.commit_update(
            participant, task_id, round_number, digest(f"u{index}"), 100 * (index + 1)
        )
    # The aggregator drops a damaged update and commits the sum of the rest.
    registry.exclude_update(
        parties.aggregator, task_id, round_number, digest("u2"), ExclusionReason.WRONG_SHAPE
    )
    (exclusion,) = registry.excluded_updates(task_id, round_number)
    assert (exclusion.update_digest, exclusion.reason) == (
        digest("u2"),
        ExclusionReason.WRONG_SHAPE,
    )
    included = registry.update_commitments(task_id, round_number)
    assert [c.update_digest for c in included] == [digest("u0"), digest("u1")]
    assert len(registry.update_commitments(task_id, round_number, include_excluded=True)) == 3
    state = registry.round(task_id, round_number)
    assert (state.commit_count, state.total_samples, state.excluded_count) == (2, 300, 1)
    assert updates_commitment(included) == (2, state.updates_hash)
    assert updates_commitment(reversed(included)) == (2, state.updates_hash)

    # A forged aggregate is rejected; the round awaits a fresh one and goes on.
    registry.commit_aggregate(parties.aggregator, task_id, round_number, digest("forged"), included)
    registry.reject_aggregate(parties.key_holder, task_id, round_number, digest("recomputed"))
    assert registry.round(task_id, round_number).phase == RoundPhase.COLLECTING
    registry.commit_aggregate(parties.aggregator, task_id, round_number, digest("sum"), included)
    registry.commit_model(parties.key_holder, task_id, round_number, digest("model-1"))
    assert registry.effective_quorum(task_id, round_number) == 2
    for validator in parties.validators:
        registry.vote(validator, task_id, round_number, True, 900_000)
    assert registry.round(task_id, round_number).phase == RoundPhase.ACCEPTED
    task = registry.task(task_id)
    assert (task.voted_rounds, task.accepted_rounds, task.ended) == (1, 1, False)

    # Claims find the participant's digest in the log.
    first, second, excluded = parties.participants
    assert registry.pending_reward(task_id, round_number, first.address) == 300
    assert registry.contribution(task_id, round_number, second.address) == (200, False)
    assert registry.contribution(task_id, round_number, excluded.address) == (0, False)
    assert registry.pending_reward(task_id, round_number, excluded.address) == 0
    assert registry.claim_reward(first, task_id, round_number)[0] == 300
    assert registry.claim_reward(second, task_id, round_number)[0] == 600
    assert registry.contribution(task_id, round_number, second.address) == (200, True)
    with pytest.raises(ContractRevertError) as refused:
        registry.claim_reward(excluded, task_id, round_number)
    assert refused.value.error_name == "TrainingContributionExcluded"

    # Round 2 stalls (too few updates) and is cancelled; the coordinator closes the task.
    round_number, _ = registry.open_round(parties.coordinator, task_id)
    registry.commit_update(first, task_id, round_number, digest("late"), 1)
    registry.ledger.mine_blocks(60)
    reason, _ = registry.cancel_round(parties.coordinator, task_id, round_number)
    assert reason == CancelReason.TOO_FEW_UPDATES
    assert registry.round(task_id, round_number).phase.finished
    registry.close_task(parties.coordinator, task_id)
    amount, _ = registry.reclaim_escrow(parties.deployer, task_id)
    assert amount == 900
    assert registry.token_balance(parties.coordinator.address) == 10**6 - 900


def test_roles_rotate_between_rounds(chain: tuple[TrainingContract, Parties]) -> None:
    registry, parties = chain
    task_id = _task(registry, parties)
    new_aggregator, new_key_holder = Account.create(), Account.create()
    registry.set_aggregator(parties.coordinator, task_id, new_aggregator.address)
    registry.set_key_holder(
        parties.coordinator, task_id, new_key_holder.address, digest("context-2")
    )
    task = registry.task(task_id)
    assert (task.aggregator, task.key_holder) == (new_aggregator.address, new_key_holder.address)
    assert task.params.public_context_digest == digest("context-2")


def test_event_logs_are_read_by_indexed_topics(
    chain: tuple[TrainingContract, Parties], monkeypatch: pytest.MonkeyPatch
) -> None:
    registry, parties = chain
    first = _task(registry, parties)
    second = _task(registry, parties)
    for task_id in (first, second):
        round_number, _ = registry.open_round(parties.coordinator, task_id)
        for index, participant in enumerate(parties.participants[:2]):
            registry.commit_update(
                participant, task_id, round_number, digest(f"{task_id}-{index}"), 1
            )

    requests: list[tuple[list[Any], int, int]] = []
    ledger = registry.ledger
    original = ledger.raw_logs

    def recording_raw_logs(address: str, topics: list[Any], first: int, last: int) -> Any:
        requests.append((list(topics), first, last))
        return original(address, topics, first, last)

    monkeypatch.setattr(ledger, "raw_logs", recording_raw_logs)
    commitments = registry.update_commitments(second, 1)
    assert [c.update_digest for c in commitments] == [digest("2-0"), digest("2-1")]
    # One query for every kind of the task's events: the task goes to the node as topic 1,
    # the event kind and the round are filtered here.
    ((topics, _, last),) = requests
    assert topics == [None, second.to_bytes(32, "big")]
    # Another round of the same task reads only the blocks mined since (none here): no rescan
    # of the history for each new round or each event kind.
    requests.clear()
    assert registry.update_commitments(second, 2) == []
    assert registry.event_logs("VoteCast", taskId=second) == []
    assert requests == []
    ledger.mine_blocks(1)  # a new block: only it is read
    registry.update_commitments(second, 1)
    assert [(first_block, last_block) for _, first_block, last_block in requests] == [
        (last + 1, ledger.block_number())
    ]
    # Filters on non-indexed arguments are applied to the topic-filtered logs.
    created = registry.event_logs("TaskCreated", taskId=second)
    assert [log["args"]["taskId"] for log in created] == [second]
    assert registry.event_logs("UpdateCommitted", taskId=first, participant="0x" + "00" * 20) == []
