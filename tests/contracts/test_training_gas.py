"""Gas: commitUpdate within budget, and no function's gas grows with the number of participants."""

from __future__ import annotations

from collections import defaultdict

import pytest
from ledger_harness import Ledger, build_ledger, updates_hash

COMMIT_UPDATE_GAS_BUDGET = 60_000  # including the 21,000 base cost
MAX_SAMPLES_PER_UPDATE = 2**32 - 1  # the largest bound a task can set (a uint32)


def _dense_digest(index: int) -> bytes:
    """A distinct digest with no zero byte: the most expensive calldata a digest can be."""
    return bytes([0xA5] * 30 + [1 + index // 255 % 255, 1 + index % 255])


def _dense_samples(index: int) -> int:
    """A sample count with no zero byte (every byte equals ``1 + index % 255``), in the bound."""
    return 0x0101_0101 * (1 + index % 255)


def _run_round(participant_count: int) -> dict[str, list[int]]:
    """One full task on a fresh chain: the gas used by each transaction, by function."""
    ledger = build_ledger()
    training = ledger.training.functions
    gas: dict[str, list[int]] = defaultdict(list)

    def send(name: str, call: object, sender: str) -> None:
        gas[name].append(ledger.send(call, sender)["gasUsed"])

    params = ledger.task_params(
        minParticipants=2,
        validatorQuorum=2,
        maxRounds=1,
        submissionWindowBlocks=1_000,
        maxSamplesPerUpdate=MAX_SAMPLES_PER_UPDATE,
    )
    ledger.approve_escrow(ledger.coordinator, params["rewardPerRound"])
    send(
        "createTask",
        training.createTask(params, ledger.aggregator, ledger.key_holder),
        ledger.coordinator,
    )
    task_id = 1
    for validator in ledger.validators[:3]:
        send("addValidator", training.addValidator(task_id, validator), ledger.coordinator)
    participants = ledger.participants[:participant_count]
    for participant in participants:
        send("join", training.join(task_id), participant)
    send("openRound", training.openRound(task_id), ledger.coordinator)
    for index, participant in enumerate(participants):
        # Same calldata size and density for every commit: only storage could make them differ.
        call = training.commitUpdate(task_id, 1, _dense_digest(index), _dense_samples(index))
        send("commitUpdate", call, participant)
    pairs = [(participant, _dense_digest(i)) for i, participant in enumerate(participants)]
    call = training.commitAggregate(
        task_id, 1, _dense_digest(1_000), len(pairs), updates_hash(pairs)
    )
    send("commitAggregate", call, ledger.aggregator)
    send("commitModel", training.commitModel(task_id, 1, _dense_digest(1_001)), ledger.key_holder)
    for validator in ledger.validators[:3]:
        send("vote", training.vote(task_id, 1, True, 950_000), validator)
    for index, participant in enumerate(participants):
        send("claimReward", training.claimReward(task_id, 1, _dense_digest(index)), participant)
    send("reclaimEscrow", training.reclaimEscrow(task_id), ledger.outsider)
    return gas


@pytest.fixture(scope="module")
def round_gas() -> dict[int, dict[str, list[int]]]:
    return {count: _run_round(count) for count in (10, 60)}


def test_every_commit_update_is_within_budget(round_gas: dict[int, dict[str, list[int]]]) -> None:
    for count, gas in round_gas.items():
        commits = gas["commitUpdate"]
        assert len(commits) == count
        assert max(commits) <= COMMIT_UPDATE_GAS_BUDGET, commits
        # The first commit of a round costs what the later ones cost.
        assert commits[0] == commits[-1]


def test_gas_does_not_grow_with_participants(round_gas: dict[int, dict[str, list[int]]]) -> None:
    small, large = round_gas[10], round_gas[60]
    assert small.keys() == large.keys()
    for name in small:
        assert max(large[name]) == pytest.approx(max(small[name]), rel=0.01), name
    overall_small = max(max(values) for values in small.values())
    overall_large = max(max(values) for values in large.values())
    assert overall_large == pytest.approx(overall_small, rel=0.01)


def test_worst_case_commit_update_within_budget(ledger: Ledger) -> None:
    """Densest calldata (0xff digests, the largest sample count), first and later commits, two
    rounds (the second rewrites each committer's member slot from a non-zero round)."""
    training = ledger.training.functions
    task_id = ledger.setup_task(
        participants=4,
        validators=1,
        minParticipants=1,
        validatorQuorum=1,
        maxSamplesPerUpdate=MAX_SAMPLES_PER_UPDATE,
    )
    used = []
    for round_number in (1, 2):
        assert ledger.open_round(task_id) == round_number
        for index, participant in enumerate(ledger.participants[:4]):
            worst_digest = bytes([0xFF] * 31 + [0xF0 + 4 * round_number + index])
            call = training.commitUpdate(
                task_id, round_number, worst_digest, MAX_SAMPLES_PER_UPDATE
            )
            used.append(ledger.send(call, participant)["gasUsed"])
        ledger.aggregate_and_commit_model(task_id, round_number)
        ledger.send(training.vote(task_id, round_number, True, 1), ledger.validators[0])
    assert max(used) <= COMMIT_UPDATE_GAS_BUDGET, used
    assert len(set(used)) == 1, used
