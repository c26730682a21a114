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


def _batched_round_gas(leaf_count: int) -> tuple[int, int]:
    """Gas of commitBatch and payBatch for a first round of ``leaf_count`` signed updates."""
    from eth_account import Account

    from fedchain_magics.chain.batch import BatchTree, order_batch, sign_update

    ledger = build_ledger()
    keys = {}
    for key in ledger.tester.backend.account_keys:
        account = Account.from_key(key.to_bytes())
        keys[account.address] = account
    task_id = ledger.setup_task(
        participants=leaf_count, validators=1, validatorQuorum=1, minParticipants=1
    )
    ledger.open_round(task_id)
    updates = order_batch(
        [
            sign_update(
                keys[participant],
                chain_id=ledger.w3.eth.chain_id,
                contract=ledger.training.address,
                task_id=task_id,
                round_number=1,
                update_digest=_dense_digest(index),
                samples=_dense_samples(index) % 1_000_000 or 1,
            )
            for index, participant in enumerate(ledger.participants[:leaf_count])
        ]
    )
    call = ledger.training.functions.commitBatch(task_id, 1, [u.as_tuple() for u in updates])
    committed = ledger.send(call, ledger.aggregator)["gasUsed"]
    ledger.aggregate_and_commit_model(task_id, 1)
    ledger.vote_all(task_id, 1)
    leaves = [leaf.as_tuple() for leaf in BatchTree([u.leaf for u in updates]).leaves]
    paid = ledger.send(ledger.training.functions.payBatch(task_id, 1, leaves), ledger.outsider)
    return committed, paid["gasUsed"]


def test_batch_gas_is_constant_per_leaf() -> None:
    """A batch's transactions loop over their leaves, each leaf at the same cost: the gas per
    leaf (past the fixed part) is the same for 8 and 32 leaves, within 2% (the Merkle tree's
    levels and calldata zero bytes vary slightly)."""
    gas = {count: _batched_round_gas(count) for count in (4, 8, 32)}
    for which in (0, 1):
        small = (gas[8][which] - gas[4][which]) / 4
        large = (gas[32][which] - gas[8][which]) / 24
        assert large == pytest.approx(small, rel=0.02), (which, small, large)
    per_leaf_commit = (gas[32][0] - gas[8][0]) / 24
    per_leaf_pay = (gas[32][1] - gas[8][1]) / 24
    # Today: ~17.7k a signed leaf committed, ~38k a leaf paid (a first reward: a fresh balance).
    assert per_leaf_commit < 20_000, per_leaf_commit
    assert per_leaf_pay < 42_000, per_leaf_pay
