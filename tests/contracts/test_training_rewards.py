"""Rewards: funded by the task's escrow, proportional to samples, floored, never above the round's
reward, claimed once; the supply never moves from what was minted at deployment."""

from __future__ import annotations

from collections.abc import Iterator
from typing import cast

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ledger_harness import SUPPLY_CAP, Ledger, build_ledger, load_artifact, update_digest
from web3 import Web3
from web3.contract import Contract

UINT32_MAX = 2**32 - 1
UINT256_MAX = 2**256 - 1


@pytest.fixture(scope="module")
def shared_ledger() -> Iterator[Ledger]:
    """One chain for a whole module: property tests create a fresh task per example."""
    yield build_ledger()


@settings(max_examples=30, deadline=None)
@given(
    reward_per_round=st.integers(min_value=0, max_value=UINT256_MAX),
    samples=st.lists(st.integers(min_value=1, max_value=UINT32_MAX), min_size=1, max_size=8),
)
def test_proportional_policy_is_floored_and_never_exceeds_the_reward(
    shared_ledger: Ledger, reward_per_round: int, samples: list[int]
) -> None:
    total = sum(samples)
    rewards = [
        shared_ledger.policy.functions.rewardFor(
            1, 1, shared_ledger.outsider, reward_per_round, count, total
        ).call()
        for count in samples
    ]
    assert rewards == [reward_per_round * count // total for count in samples]
    assert sum(rewards) <= reward_per_round


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    reward_per_round=st.integers(min_value=0, max_value=SUPPLY_CAP // 100),
    samples=st.lists(st.integers(min_value=1, max_value=UINT32_MAX), min_size=1, max_size=5),
)
def test_claimed_rewards_are_proportional_on_chain(
    shared_ledger: Ledger, reward_per_round: int, samples: list[int]
) -> None:
    ledger = shared_ledger
    training = ledger.training.functions
    task_id = ledger.setup_task(
        validators=1,
        validatorQuorum=1,
        participants=len(samples),
        minParticipants=1,
        rewardPerRound=reward_per_round,
        maxSamplesPerUpdate=UINT32_MAX,
        maxRounds=1,
    )
    round_number = ledger.run_accepted_round(task_id, samples)
    total = sum(samples)
    escrow_before = ledger.balance(ledger.training.address)
    for index, (participant, count) in enumerate(zip(ledger.participants, samples, strict=False)):
        balance_before = ledger.balance(participant)
        expected = reward_per_round * count // total
        committed = update_digest(task_id, round_number, index)
        assert training.pendingReward(task_id, round_number, committed).call() == expected
        receipt = ledger.claim(task_id, round_number, index)
        assert ledger.events(receipt)[0][1]["amount"] == expected
        assert ledger.balance(participant) == balance_before + expected
    paid = training.rewardPaid(task_id, round_number).call()
    assert paid == sum(reward_per_round * count // total for count in samples)
    assert paid <= reward_per_round
    assert ledger.balance(ledger.training.address) == escrow_before - paid
    assert ledger.token.functions.totalSupply().call() == SUPPLY_CAP


def test_rounding_dust_is_never_minted(ledger: Ledger) -> None:
    training = ledger.training.functions
    task_id = ledger.setup_task(participants=3, rewardPerRound=100)
    ledger.run_accepted_round(task_id, [1, 1, 1])
    for index, participant in enumerate(ledger.participants[:3]):
        ledger.claim(task_id, 1, index)
        assert ledger.balance(participant) == 33
    assert training.rewardPaid(task_id, 1).call() == 99
    # The dust stays in the escrow with the two unused rounds' rewards.
    assert ledger.balance(ledger.training.address) == 1 + 2 * 100
    assert ledger.token.functions.totalSupply().call() == SUPPLY_CAP


def test_rewards_per_round_are_separate(ledger: Ledger) -> None:
    training = ledger.training.functions
    task_id = ledger.setup_task(participants=2, rewardPerRound=1_000)
    ledger.run_accepted_round(task_id, [1, 3])
    ledger.run_accepted_round(task_id, [1, 1])
    alice, bob = ledger.participants[:2]
    assert training.pendingReward(task_id, 1, update_digest(task_id, 1, 0)).call() == 250
    assert training.pendingReward(task_id, 2, update_digest(task_id, 2, 0)).call() == 500
    ledger.claim(task_id, 2, 0)
    ledger.claim(task_id, 1, 0)
    ledger.claim(task_id, 1, 1)
    assert ledger.balance(alice) == 750
    assert ledger.balance(bob) == 750
    assert training.pendingReward(task_id, 2, update_digest(task_id, 2, 1)).call() == 500


def test_pending_reward_is_zero_until_accepted_and_after_claim(ledger: Ledger) -> None:
    training = ledger.training.functions
    task_id = ledger.setup_task(participants=2, rewardPerRound=10)
    committed = update_digest(task_id, 1, 0)
    ledger.open_round(task_id)
    ledger.commit_updates(task_id, 1, [1, 1])
    assert training.pendingReward(task_id, 1, committed).call() == 0
    ledger.aggregate_and_commit_model(task_id, 1)
    for validator in ledger.validators[:3]:
        assert training.pendingReward(task_id, 1, committed).call() == 0
        ledger.send(training.vote(task_id, 1, True, 1), validator)
    assert training.pendingReward(task_id, 1, committed).call() == 5
    assert training.pendingReward(task_id, 1, b"\x01" * 32).call() == 0
    assert training.pendingReward(task_id, 2, committed).call() == 0
    ledger.claim(task_id, 1, 0)
    assert training.pendingReward(task_id, 1, committed).call() == 0


def test_zero_reward_is_claimed_without_a_transfer(ledger: Ledger) -> None:
    training = ledger.training.functions
    task_id = ledger.setup_task(participants=2, rewardPerRound=0)
    ledger.run_accepted_round(task_id, [4, 6])
    participant = ledger.participants[0]
    committed = update_digest(task_id, 1, 0)
    receipt = ledger.claim(task_id, 1, 0)
    assert ledger.events(receipt) == [
        (
            "RewardClaimed",
            {
                "taskId": task_id,
                "round": 1,
                "participant": participant,
                "updateDigest": committed,
                "amount": 0,
            },
        )
    ]
    assert training.getContribution(task_id, committed).call().rewardClaimed
    ledger.assert_reverts(
        training.claimReward(task_id, 1, committed),
        participant,
        "TrainingRewardAlreadyClaimed",
        task_id,
        1,
        participant,
    )


def _deploy_constant_policy(w3: Web3, deployer: str, amount: int) -> Contract:
    """Deploys a contract whose every call returns ``amount``: an IRewardPolicy that overpays.

    Hand-assembled so that no test-only Solidity ships in the artifacts. Runtime:
    ``PUSH32 amount PUSH1 0 MSTORE PUSH1 32 PUSH1 0 RETURN``; init code copies it and returns it.
    """
    runtime = bytes([0x7F]) + amount.to_bytes(32, "big") + bytes.fromhex("6000526020" + "6000f3")
    init = bytes.fromhex(f"60{len(runtime):02x}600c600039" + f"60{len(runtime):02x}6000f3")
    assert len(init) == 0x0C
    tx_hash = w3.eth.send_transaction({"from": deployer, "data": init + runtime, "gas": 200_000})
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash)
    assert receipt["status"] == 1
    abi = load_artifact("ProportionalRewardPolicy")["abi"]
    return cast(Contract, w3.eth.contract(address=receipt["contractAddress"], abi=abi))


def test_overpaying_policy_cannot_exceed_the_round_reward() -> None:
    """Whatever the pluggable policy returns, a round pays out at most rewardPerRound."""
    ledger = build_ledger(lambda w3, deployer: _deploy_constant_policy(w3, deployer, 600))
    training = ledger.training.functions
    assert ledger.policy.functions.rewardFor(1, 1, ledger.outsider, 1_000, 1, 2).call() == 600
    task_id = ledger.setup_task(participants=2, rewardPerRound=1_000)
    ledger.run_accepted_round(task_id, [1, 1])
    first, second = ledger.participants[:2]
    ledger.claim(task_id, 1, 0)
    assert ledger.balance(first) == 600
    assert training.pendingReward(task_id, 1, update_digest(task_id, 1, 1)).call() == 0
    ledger.assert_reverts(
        training.claimReward(task_id, 1, update_digest(task_id, 1, 1)),
        second,
        "TrainingRewardExceedsPool",
        task_id,
        1,
        600,
        400,
    )
    assert training.rewardPaid(task_id, 1).call() == 600


def _deploy_echo_policy(w3: Web3, deployer: str) -> Contract:
    """An IRewardPolicy returning ``taskId * 10000 + round * 100 + (participant & 0x3f)``: it
    shows that the registry passes the task, the round and the claimant.

    Runtime: ``PUSH1 4 CALLDATALOAD PUSH2 10000 MUL PUSH1 0x24 CALLDATALOAD PUSH1 100 MUL ADD
    PUSH1 0x44 CALLDATALOAD PUSH1 0x3f AND ADD PUSH1 0 MSTORE PUSH1 32 PUSH1 0 RETURN``.
    """
    runtime = bytes.fromhex("6004356127100260243560640201604435603f160160005260206000f3")
    init = bytes.fromhex(f"60{len(runtime):02x}600c600039" + f"60{len(runtime):02x}6000f3")
    tx_hash = w3.eth.send_transaction({"from": deployer, "data": init + runtime, "gas": 200_000})
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash)
    assert receipt["status"] == 1
    abi = load_artifact("ProportionalRewardPolicy")["abi"]
    return cast(Contract, w3.eth.contract(address=receipt["contractAddress"], abi=abi))


def test_policy_receives_task_round_and_participant() -> None:
    ledger = build_ledger(_deploy_echo_policy)
    training = ledger.training.functions
    ledger.setup_task(participants=0, validators=0)  # task 1, unused: task 2 has a two-digit id
    task_id = ledger.setup_task(participants=2, rewardPerRound=10**6)
    ledger.run_accepted_round(task_id, [1, 1])
    round_number = ledger.run_accepted_round(task_id, [1, 1])
    for index, participant in enumerate(ledger.participants[:2]):
        expected = task_id * 10_000 + round_number * 100 + (int(participant, 16) & 0x3F)
        committed = update_digest(task_id, round_number, index)
        assert training.pendingReward(task_id, round_number, committed).call() == expected
        receipt = ledger.claim(task_id, round_number, index)
        assert ledger.events(receipt)[0][1]["amount"] == expected


def test_supply_after_full_flows_is_what_was_minted_at_deployment(ledger: Ledger) -> None:
    """Two tasks run to their end, every reward claimed, every escrow reclaimed: the supply is
    the cap and every token is accounted for."""
    training = ledger.training.functions
    for samples in ([1, 2], [3, 4, 5]):
        task_id = ledger.setup_task(participants=len(samples), maxRounds=2, rewardPerRound=999)
        for _ in range(2):
            round_number = ledger.run_accepted_round(task_id, samples)
            for index in range(len(samples)):
                ledger.claim(task_id, round_number, index)
        ledger.send(training.reclaimEscrow(task_id), ledger.outsider)
    holders = [ledger.deployer, ledger.coordinator, ledger.training.address, *ledger.participants]
    assert sum(ledger.balance(account) for account in holders) == SUPPLY_CAP
    assert ledger.token.functions.totalSupply().call() == SUPPLY_CAP
