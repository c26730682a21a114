"""Disputes: a participant disputes a round with a bond within its window; a majority of the task's
validators upholds (the round pays nothing, the aggregator is slashed, the bond refunded) or
dismisses (the bond goes to the honest stakers); a dispute with no majority lapses."""

from __future__ import annotations

from typing import Any

import pytest
from ledger_harness import COLLECTING, Ledger, build_scored_ledger, digest, update_digest
from test_task_stakes import BOND, DISPUTE_UPHELD, ROLE, TABLE, fund, staked_task

EVIDENCE = digest("evidence")
WINDOW_BLOCKS = 6
UPHELD, DISMISSED, LAPSED = 2, 3, 4


@pytest.fixture
def ledger() -> Ledger:
    return build_scored_ledger()


def disputable(ledger: Ledger, *, validators: int = 3, scored: bool = False) -> int:
    """A staked task taking disputes, round 1 accepted (votes of ``validators``)."""
    task_id = staked_task(
        ledger, participants=2, window_blocks=WINDOW_BLOCKS, scored=scored,
        validators=validators, validatorQuorum=1,
    )  # fmt: skip
    ledger.open_round(task_id)
    ledger.send(ledger.stakes.functions.recordRoundRoles(task_id), ledger.coordinator)  # type: ignore[union-attr]
    ledger.commit_updates(task_id, 1, [1, 1])
    ledger.aggregate_and_commit_model(task_id, 1)
    ledger.vote_all(task_id, 1)
    return task_id


def open_dispute(ledger: Ledger, task_id: int, opener: str) -> Any:
    fund(ledger, opener, BOND)
    ledger.send(ledger.token.functions.approve(ledger.stakes.address, BOND), opener)  # type: ignore[union-attr]
    return ledger.send(ledger.stakes.functions.openDispute(task_id, 1, EVIDENCE), opener)  # type: ignore[union-attr]


def claim_call(ledger: Ledger, task_id: int, index: int) -> Any:
    return ledger.training.functions.claimReward(task_id, 1, update_digest(task_id, 1, index))


def test_opening_a_dispute_is_checked(ledger: Ledger) -> None:
    stakes = ledger.stakes.functions  # type: ignore[union-attr]
    no_disputes = staked_task(ledger, participants=1)
    alice = ledger.participants[0]
    ledger.assert_reverts(
        stakes.openDispute(no_disputes, 1, EVIDENCE), alice, "StakesDisputesDisabled", no_disputes
    )
    task_id = staked_task(
        ledger, participants=2, window_blocks=WINDOW_BLOCKS, validators=1, validatorQuorum=1
    )
    ledger.assert_reverts(
        stakes.openDispute(task_id, 1, EVIDENCE),
        ledger.outsider,
        "StakesNotParticipant",
        task_id,
        ledger.outsider,
    )
    ledger.assert_reverts(stakes.openDispute(task_id, 1, b"\x00" * 32), alice, "StakesZeroEvidence")
    ledger.open_round(task_id)
    ledger.assert_reverts(
        stakes.openDispute(task_id, 1, EVIDENCE),
        alice,
        "StakesRoundNotDisputable",
        task_id,
        1,
        COLLECTING,
    )
    ledger.commit_updates(task_id, 1, [1, 1])
    ledger.aggregate_and_commit_model(task_id, 1)
    deadline = ledger.round(task_id, 1).validationDeadlineBlock + WINDOW_BLOCKS
    ledger.mine_past(deadline)
    ledger.assert_reverts(
        stakes.openDispute(task_id, 1, EVIDENCE),
        alice,
        "StakesDisputeWindowClosed",
        task_id,
        1,
        deadline,
    )


def test_an_upheld_dispute_voids_the_round_and_slashes_its_aggregator(ledger: Ledger) -> None:
    stakes = ledger.stakes.functions  # type: ignore[union-attr]
    task_id = disputable(ledger, scored=True)
    alice, bob = ledger.participants[:2]
    deadline = ledger.round(task_id, 1).validationDeadlineBlock + WINDOW_BLOCKS
    ledger.assert_reverts(
        claim_call(ledger, task_id, 0), alice, "PolicyDisputeWindowOpen", task_id, 1, deadline
    )
    ledger.assert_reverts(
        ledger.policy.functions.postScores(task_id, 1, digest("root"), TABLE),
        ledger.coordinator,
        "PolicyDisputeWindowOpen",
        task_id,
        1,
        deadline,
    )
    receipt = open_dispute(ledger, task_id, alice)
    opened = [event for event in ledger.events(receipt) if event[0] == "DisputeOpened"]
    vote_deadline = ledger.w3.eth.block_number + 10  # the task's validationWindowBlocks
    assert opened == [
        (
            "DisputeOpened",
            {
                "taskId": task_id,
                "round": 1,
                "opener": alice,
                "evidenceDigest": EVIDENCE,
                "bond": BOND,
                "voteDeadlineBlock": vote_deadline,
            },
        )
    ]
    assert ledger.balance(alice) == 0
    ledger.assert_reverts(
        stakes.openDispute(task_id, 1, EVIDENCE), bob, "StakesDisputeExists", task_id, 1, 1
    )
    ledger.assert_reverts(claim_call(ledger, task_id, 0), alice, "PolicyDisputeOpen", task_id, 1)
    ledger.assert_reverts(
        ledger.policy.functions.postScores(task_id, 1, digest("root"), TABLE),
        ledger.coordinator,
        "PolicyDisputeOpen",
        task_id,
        1,
    )
    ledger.assert_reverts(
        stakes.voteOnDispute(task_id, 1, True), alice, "StakesNotValidator", task_id, alice
    )
    first, second = ledger.validators[:2]
    receipt = ledger.send(stakes.voteOnDispute(task_id, 1, True), first)
    assert ledger.events(receipt) == [
        ("DisputeVoteCast", {"taskId": task_id, "round": 1, "validator": first, "uphold": True})
    ]
    assert stakes.hasVotedOnDispute(task_id, 1, first).call()
    ledger.assert_reverts(
        stakes.voteOnDispute(task_id, 1, True),
        first,
        "StakesAlreadyVotedOnDispute",
        task_id,
        1,
        first,
    )
    receipt = ledger.send(stakes.voteOnDispute(task_id, 1, True), second)  # 2 of 3: a majority
    names = [name for name, _ in ledger.events(receipt)]
    assert names == ["DisputeVoteCast", "DisputeResolved", "Slashed", "Transfer"]
    assert ledger.events(receipt)[1][1] == {
        "taskId": task_id,
        "round": 1,
        "state": UPHELD,
        "upholdVotes": 2,
        "dismissVotes": 0,
    }
    slashed = ledger.events(receipt)[2][1]
    assert (slashed["party"], slashed["offence"], slashed["amount"]) == (
        ledger.aggregator,
        DISPUTE_UPHELD,
        ROLE // 2,
    )
    assert ledger.balance(alice) == BOND  # refunded
    ledger.assert_reverts(claim_call(ledger, task_id, 0), alice, "PolicyRoundDisputed", task_id, 1)
    ledger.assert_reverts(
        ledger.policy.functions.postScores(task_id, 1, digest("root"), TABLE),
        ledger.coordinator,
        "PolicyRoundDisputed",
        task_id,
        1,
    )
    ledger.assert_reverts(
        stakes.voteOnDispute(task_id, 1, True),
        ledger.validators[2],
        "StakesNoOpenDispute",
        task_id,
        1,
    )


def test_a_dismissed_dispute_pays_its_bond_to_the_honest_stakers(ledger: Ledger) -> None:
    stakes = ledger.stakes.functions  # type: ignore[union-attr]
    task_id = disputable(ledger)
    alice, bob = ledger.participants[:2]
    open_dispute(ledger, task_id, alice)
    ledger.send(stakes.voteOnDispute(task_id, 1, False), ledger.validators[0])
    receipt = ledger.send(stakes.voteOnDispute(task_id, 1, False), ledger.validators[1])
    assert ledger.events(receipt)[-1] == (
        "DisputeResolved",
        {"taskId": task_id, "round": 1, "state": DISMISSED, "upholdVotes": 0, "dismissVotes": 2},
    )
    assert ledger.balance(alice) == 0
    assert stakes.poolShareOf(task_id, bob).call() > 0
    ledger.mine_past(ledger.round(task_id, 1).validationDeadlineBlock + WINDOW_BLOCKS)
    ledger.claim(task_id, 1, 0)  # a dismissed dispute leaves the round paying as usual


def test_a_dispute_without_majority_lapses_and_refunds_its_bond(ledger: Ledger) -> None:
    stakes = ledger.stakes.functions  # type: ignore[union-attr]
    task_id = disputable(ledger)
    alice = ledger.participants[0]
    ledger.assert_reverts(
        stakes.closeDispute(task_id, 1), ledger.outsider, "StakesNoOpenDispute", task_id, 1
    )
    open_dispute(ledger, task_id, alice)
    ledger.send(stakes.voteOnDispute(task_id, 1, True), ledger.validators[0])
    deadline = stakes.disputeOf(task_id, 1).call().voteDeadlineBlock
    ledger.assert_reverts(
        stakes.closeDispute(task_id, 1),
        ledger.outsider,
        "StakesDisputeVotingOpen",
        task_id,
        1,
        deadline,
    )
    ledger.assert_reverts(stakes.withdrawStake(task_id), alice, "StakesTaskNotEnded", task_id)
    ledger.mine_past(deadline)
    ledger.assert_reverts(
        stakes.voteOnDispute(task_id, 1, True),
        ledger.validators[1],
        "StakesDisputeVotingClosed",
        task_id,
        1,
        deadline,
    )
    receipt = ledger.send(stakes.closeDispute(task_id, 1), ledger.outsider)
    assert ledger.events(receipt)[0] == (
        "DisputeResolved",
        {"taskId": task_id, "round": 1, "state": LAPSED, "upholdVotes": 1, "dismissVotes": 0},
    )
    assert ledger.balance(alice) == BOND
    ledger.claim(task_id, 1, 0)


def test_stakes_are_withdrawn_only_once_the_last_round_is_settled(ledger: Ledger) -> None:
    stakes = ledger.stakes.functions  # type: ignore[union-attr]
    task_id = staked_task(
        ledger, participants=2, window_blocks=WINDOW_BLOCKS, scored=False, validators=1,
        validatorQuorum=1, maxRounds=1,
    )  # fmt: skip
    ledger.run_accepted_round(task_id, [1, 1])
    alice = ledger.participants[0]
    deadline = ledger.round(task_id, 1).validationDeadlineBlock + WINDOW_BLOCKS
    ledger.assert_reverts(
        stakes.withdrawStake(task_id), alice, "StakesLastRoundUnsettled", task_id, 1, deadline
    )
    ledger.mine_past(deadline)
    receipt = ledger.send(stakes.withdrawStake(task_id), alice)
    assert ledger.events(receipt)[0][0] == "StakeWithdrawn"
