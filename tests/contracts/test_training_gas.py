"""Gas: commitUpdate within budget, and no function's gas grows with the number of participants."""

from __future__ import annotations

from collections import defaultdict

import pytest
from ledger_harness import Ledger, build_ledger

COMMIT_UPDATE_GAS_BUDGET = 60_000  # including the 21,000 base cost
UINT64_MAX = 2**64 - 1


def _dense_digest(index: int) -> bytes:
    """A digest with no zero byte: the most expensive calldata a digest can be."""
    return bytes([0xA5] * 31 + [1 + index % 255])


def _dense_samples(index: int) -> int:
    """A uint64 sample count with no zero byte (every byte equals ``1 + index % 255``)."""
    return 0x0101_0101_0101_0101 * (1 + index % 255)


def _run_round(participant_count: int) -> dict[str, list[int]]:
    """One full round on a fresh chain: the gas used by each transaction, by function."""
    ledger = build_ledger()
    training = ledger.training.functions
    gas: dict[str, list[int]] = defaultdict(list)

    def send(name: str, call: object, sender: str) -> None:
        gas[name].append(ledger.send(call, sender)["gasUsed"])

    send(
        "createTask",
        training.createTask(
            ledger.task_params(minParticipants=2, validatorQuorum=2, submissionWindowBlocks=1_000),
            ledger.aggregator,
            ledger.key_holder,
        ),
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
    send(
        "commitAggregate", training.commitAggregate(task_id, 1, _dense_digest(0)), ledger.aggregator
    )
    send("commitModel", training.commitModel(task_id, 1, _dense_digest(1)), ledger.key_holder)
    for validator in ledger.validators[:2]:
        send("vote", training.vote(task_id, 1, True, 950_000), validator)
    for participant in participants:
        send("claimReward", training.claimReward(task_id, 1), participant)
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
    """Densest calldata (0xff digest, uint64 max samples), first and later commits, two rounds."""
    training = ledger.training.functions
    task_id = ledger.setup_task(participants=4, minParticipants=1, validatorQuorum=1)
    used = []
    for round_number in (1, 2):
        assert ledger.open_round(task_id) == round_number
        for participant in ledger.participants[:4]:
            call = training.commitUpdate(task_id, round_number, b"\xff" * 32, UINT64_MAX)
            used.append(ledger.send(call, participant)["gasUsed"])
        ledger.aggregate_and_commit_model(task_id, round_number)
        ledger.send(training.vote(task_id, round_number, True, 1), ledger.validators[0])
    assert max(used) <= COMMIT_UPDATE_GAS_BUDGET, used
    assert len(set(used)) == 1, used
