"""Rewards: proportional to samples, floored, never above the round's reward, claimed once."""

from __future__ import annotations

from collections.abc import Iterator
from typing import cast

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ledger_harness import Ledger, build_ledger, load_artifact
from web3 import Web3
from web3.contract import Contract

UINT64_MAX = 2**64 - 1
UINT256_MAX = 2**256 - 1


@pytest.fixture(scope="module")
def shared_ledger() -> Iterator[Ledger]:
    """One chain for a whole module: property tests create a fresh task per example."""
    yield build_ledger()


@settings(max_examples=30, deadline=None)
@given(
    reward_per_round=st.integers(min_value=0, max_value=UINT256_MAX),
    samples=st.lists(st.integers(min_value=1, max_value=UINT64_MAX), min_size=1, max_size=8),
)
def test_proportional_policy_is_floored_and_never_exceeds_the_reward(
    shared_ledger: Ledger, reward_per_round: int, samples: list[int]
) -> None:
    total = sum(samples)
    rewards = [
        shared_ledger.policy.functions.rewardFor(reward_per_round, count, total).call()
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
    reward_per_round=st.integers(min_value=0, max_value=10**27),
    samples=st.lists(st.integers(min_value=1, max_value=UINT64_MAX), min_size=1, max_size=5),
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
    )
    round_number = ledger.run_accepted_round(task_id, samples)
    total = sum(samples)
    supply_before = ledger.token.functions.totalSupply().call()
    for participant, count in zip(ledger.participants, samples, strict=False):
        balance_before = ledger.token.functions.balanceOf(participant).call()
        expected = reward_per_round * count // total
        assert training.pendingReward(task_id, round_number, participant).call() == expected
        receipt = ledger.send(training.claimReward(task_id, round_number), participant)
        assert ledger.events(receipt)[0][1]["amount"] == expected
        assert ledger.token.functions.balanceOf(participant).call() == balance_before + expected
    paid = training.rewardPaid(task_id, round_number).call()
    assert paid == sum(reward_per_round * count // total for count in samples)
    assert paid <= reward_per_round
    assert ledger.token.functions.totalSupply().call() == supply_before + paid


def test_rounding_dust_is_never_minted(ledger: Ledger) -> None:
    training = ledger.training.functions
    task_id = ledger.setup_task(participants=3, rewardPerRound=100)
    ledger.run_accepted_round(task_id, [1, 1, 1])
    for participant in ledger.participants[:3]:
        ledger.send(training.claimReward(task_id, 1), participant)
        assert ledger.token.functions.balanceOf(participant).call() == 33
    assert training.rewardPaid(task_id, 1).call() == 99
    assert ledger.token.functions.totalSupply().call() == 99


def test_rewards_per_round_are_separate(ledger: Ledger) -> None:
    training = ledger.training.functions
    task_id = ledger.setup_task(participants=2, rewardPerRound=1_000)
    ledger.run_accepted_round(task_id, [1, 3])
    ledger.run_accepted_round(task_id, [1, 1])
    alice, bob = ledger.participants[:2]
    assert training.pendingReward(task_id, 1, alice).call() == 250
    assert training.pendingReward(task_id, 2, alice).call() == 500
    ledger.send(training.claimReward(task_id, 2), alice)
    ledger.send(training.claimReward(task_id, 1), alice)
    ledger.send(training.claimReward(task_id, 1), bob)
    assert ledger.token.functions.balanceOf(alice).call() == 750
    assert ledger.token.functions.balanceOf(bob).call() == 750
    assert training.pendingReward(task_id, 2, bob).call() == 500


def test_pending_reward_is_zero_until_accepted_and_after_claim(ledger: Ledger) -> None:
    training = ledger.training.functions
    task_id = ledger.setup_task(participants=2, rewardPerRound=10)
    participant = ledger.participants[0]
    ledger.open_round(task_id)
    ledger.commit_updates(task_id, 1, [1, 1])
    assert training.pendingReward(task_id, 1, participant).call() == 0
    ledger.aggregate_and_commit_model(task_id, 1)
    for validator in ledger.validators[:2]:
        assert training.pendingReward(task_id, 1, participant).call() == 0
        ledger.send(training.vote(task_id, 1, True, 1), validator)
    assert training.pendingReward(task_id, 1, participant).call() == 5
    assert training.pendingReward(task_id, 1, ledger.outsider).call() == 0
    ledger.send(training.claimReward(task_id, 1), participant)
    assert training.pendingReward(task_id, 1, participant).call() == 0


def test_zero_reward_is_claimed_without_minting(ledger: Ledger) -> None:
    training = ledger.training.functions
    task_id = ledger.setup_task(participants=2, rewardPerRound=0)
    ledger.run_accepted_round(task_id, [4, 6])
    participant = ledger.participants[0]
    receipt = ledger.send(training.claimReward(task_id, 1), participant)
    assert ledger.events(receipt) == [
        ("RewardClaimed", {"taskId": task_id, "round": 1, "participant": participant, "amount": 0})
    ]
    assert training.getContribution(task_id, 1, participant).call().rewardClaimed
    ledger.assert_reverts(
        training.claimReward(task_id, 1),
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
    assert ledger.policy.functions.rewardFor(1_000, 1, 2).call() == 600
    task_id = ledger.setup_task(participants=2, rewardPerRound=1_000)
    ledger.run_accepted_round(task_id, [1, 1])
    first, second = ledger.participants[:2]
    ledger.send(training.claimReward(task_id, 1), first)
    assert ledger.token.functions.balanceOf(first).call() == 600
    assert training.pendingReward(task_id, 1, second).call() == 0
    ledger.assert_reverts(
        training.claimReward(task_id, 1),
        second,
        "TrainingRewardExceedsPool",
        task_id,
        1,
        600,
        400,
    )
    assert training.rewardPaid(task_id, 1).call() == 600
