"""FedGovernor and its timelock own governed task rules: a proposal goes through propose, vote,
queue and execute, and the change applies from the next round; one without quorum is defeated."""

from __future__ import annotations

import pytest
from eth_utils import keccak
from ledger_harness import (
    ABSTAIN,
    ACTIVE,
    AGAINST,
    DEFEATED,
    EXECUTED,
    FOR,
    LEAVE_ONE_OUT,
    PENDING,
    QUEUED,
    QUORUM_PERCENT,
    SUCCEEDED,
    TIMELOCK_DELAY_S,
    TOKEN_UNIT,
    VOTING_DELAY_BLOCKS,
    VOTING_PERIOD_BLOCKS,
    Governance,
    Ledger,
    deploy_governance,
    rules_tuple,
)
from web3.logs import DISCARD

# Voters: three participants hold 60, 30 and 10 FCR, each delegated to itself.
HOLDINGS = (60 * TOKEN_UNIT, 30 * TOKEN_UNIT, 10 * TOKEN_UNIT)


def _state_bit(state: int) -> bytes:
    """OpenZeppelin's ``_encodeStateBitmap`` of one state, as a bytes32."""
    return (1 << state).to_bytes(32, "big")


@pytest.fixture
def governance(ledger: Ledger) -> Governance:
    deployed = deploy_governance(ledger)
    token = ledger.token.functions
    for holder, amount in zip(ledger.participants, HOLDINGS, strict=False):
        ledger.send(token.transfer(holder, amount), ledger.deployer)
        ledger.send(token.delegate(holder), holder)
    return deployed


def _governed_task(ledger: Ledger, governance: Governance) -> int:
    task_id = ledger.setup_task(validators=2, participants=3)
    rules = governance.rules.functions
    ledger.send(rules.setInitialRules(task_id, rules_tuple(group_size=3)), ledger.coordinator)
    ledger.send(rules.handOver(task_id, governance.timelock.address), ledger.coordinator)
    return task_id


def _proposal(governance: Governance, task_id: int, description: str):  # type: ignore[no-untyped-def]
    """(targets, values, calldatas, description) setting k to 4 and the policy to leave-one-out."""
    rules = governance.rules
    calldatas = [
        rules.encode_abi("setGroupSize", args=[task_id, 4]),
        rules.encode_abi("setValuationPolicy", args=[task_id, LEAVE_ONE_OUT]),
    ]
    return [rules.address, rules.address], [0, 0], calldatas, description


def _propose(ledger: Ledger, governance: Governance, proposal, proposer: str) -> int:  # type: ignore[no-untyped-def]
    governor = governance.governor.functions
    receipt = ledger.send(governor.propose(*proposal), proposer)
    (created,) = governance.governor.events.ProposalCreated().process_receipt(
        receipt, errors=DISCARD
    )
    return int(created["args"]["proposalId"])


def test_a_proposal_is_voted_queued_and_executed_and_applies_from_the_next_round(
    ledger: Ledger, governance: Governance
) -> None:
    governor = governance.governor.functions
    rules = governance.rules.functions
    task_id = _governed_task(ledger, governance)
    round_number = ledger.open_round(task_id)
    proposal = _proposal(governance, task_id, "k 4 and leave-one-out: groups are too few")
    targets, values, calldatas, description = proposal
    proposal_id = _propose(ledger, governance, proposal, ledger.participants[2])
    description_hash = keccak(text=description)
    assert proposal_id == governor.hashProposal(targets, values, calldatas, description_hash).call()
    assert governor.state(proposal_id).call() == PENDING
    snapshot = governor.proposalSnapshot(proposal_id).call()
    assert snapshot == ledger.w3.eth.block_number + VOTING_DELAY_BLOCKS
    ledger.mine_past(snapshot + 1)
    assert governor.state(proposal_id).call() == ACTIVE
    # Quorum is a fraction of the supply delegated at the snapshot (100 FCR), not of the cap.
    assert governor.quorum(snapshot).call() == sum(HOLDINGS) * QUORUM_PERCENT // 100
    receipt = ledger.send(governor.castVote(proposal_id, FOR), ledger.participants[1])
    (cast,) = governance.governor.events.VoteCast().process_receipt(receipt, errors=DISCARD)
    assert cast["args"]["weight"] == HOLDINGS[1]
    ledger.send(governor.castVote(proposal_id, AGAINST), ledger.participants[2])
    assert tuple(governor.proposalVotes(proposal_id).call()) == (HOLDINGS[2], HOLDINGS[1], 0)
    ledger.mine_past(governor.proposalDeadline(proposal_id).call() + 1)
    assert governor.state(proposal_id).call() == SUCCEEDED

    receipt = ledger.send(
        governor.queue(targets, values, calldatas, description_hash), ledger.outsider
    )
    (queued,) = governance.governor.events.ProposalQueued().process_receipt(receipt, errors=DISCARD)
    eta = int(queued["args"]["etaSeconds"])
    assert eta == ledger.w3.eth.get_block("latest")["timestamp"] + TIMELOCK_DELAY_S
    assert governor.state(proposal_id).call() == QUEUED
    execute = governor.execute(targets, values, calldatas, description_hash)
    error = ledger.simulate_revert(execute, ledger.outsider)
    assert error.name == "TimelockUnexpectedOperationState"
    ledger.tester.time_travel(eta)
    receipt = ledger.send(execute, ledger.outsider)
    assert governor.state(proposal_id).call() == EXECUTED
    changed = governance.rules.events.RulesChanged().process_receipt(receipt, errors=DISCARD)
    assert [log["args"]["by"] for log in changed] == [governance.timelock.address] * 2
    assert [log["args"]["fromRound"] for log in changed] == [round_number + 1] * 2
    # The open round keeps the rules it opened under; the next one runs under the new ones.
    assert rules.rulesFor(task_id, round_number).call()[:2] == (3, 2)
    assert rules.rulesFor(task_id, round_number + 1).call()[:2] == (4, LEAVE_ONE_OUT)


def test_a_proposal_without_quorum_is_defeated_and_cannot_be_queued(
    ledger: Ledger, governance: Governance
) -> None:
    governor = governance.governor.functions
    task_id = _governed_task(ledger, governance)
    proposal = _proposal(governance, task_id, "k 4, backed by 10 of 100 FCR")
    targets, values, calldatas, description = proposal
    proposal_id = _propose(ledger, governance, proposal, ledger.participants[2])
    ledger.mine_past(governor.proposalSnapshot(proposal_id).call() + 1)
    ledger.send(governor.castVote(proposal_id, FOR), ledger.participants[2])  # 10% < 25%
    ledger.mine_past(governor.proposalDeadline(proposal_id).call() + 1)
    assert governor.state(proposal_id).call() == DEFEATED
    ledger.assert_reverts(
        governor.queue(targets, values, calldatas, keccak(text=description)),
        ledger.outsider,
        "GovernorUnexpectedProposalState",
        proposal_id,
        DEFEATED,
        _state_bit(SUCCEEDED),
    )
    assert governance.rules.functions.rulesFor(task_id, 1).call()[0] == 3


def test_abstentions_count_toward_quorum_but_not_for_the_change(
    ledger: Ledger, governance: Governance
) -> None:
    governor = governance.governor.functions
    task_id = _governed_task(ledger, governance)
    proposal_id = _propose(
        ledger, governance, _proposal(governance, task_id, "abstain"), ledger.participants[0]
    )
    ledger.mine_past(governor.proposalSnapshot(proposal_id).call() + 1)
    ledger.send(governor.castVote(proposal_id, ABSTAIN), ledger.participants[0])  # 60%: quorum
    ledger.send(governor.castVote(proposal_id, FOR), ledger.participants[2])
    ledger.mine_past(governor.proposalDeadline(proposal_id).call() + 1)
    assert governor.state(proposal_id).call() == SUCCEEDED


def test_undelegated_tokens_do_not_vote_and_only_the_timelock_changes_rules(
    ledger: Ledger, governance: Governance
) -> None:
    governor = governance.governor.functions
    task_id = _governed_task(ledger, governance)
    # The treasury holds most of the supply but never delegated: it has no votes.
    assert ledger.token.functions.getVotes(ledger.deployer).call() == 0
    proposal_id = _propose(
        ledger, governance, _proposal(governance, task_id, "treasury"), ledger.deployer
    )
    ledger.mine_past(governor.proposalSnapshot(proposal_id).call() + 1)
    receipt = ledger.send(governor.castVote(proposal_id, FOR), ledger.deployer)
    (cast,) = governance.governor.events.VoteCast().process_receipt(receipt, errors=DISCARD)
    assert cast["args"]["weight"] == 0
    ledger.assert_reverts(
        governor.castVote(proposal_id, FOR),
        ledger.deployer,
        "GovernorAlreadyCastVote",
        ledger.deployer,
    )
    # Neither a voter, the coordinator nor the treasury can bypass the timelock.
    for account in (ledger.participants[0], ledger.coordinator, ledger.deployer):
        ledger.assert_reverts(
            governance.rules.functions.setGroupSize(task_id, 9),
            account,
            "RulesNotGovernor",
            task_id,
            account,
            governance.timelock.address,
        )


def test_the_timelock_is_wired_to_the_governor_alone(
    ledger: Ledger, governance: Governance
) -> None:
    timelock = governance.timelock.functions
    governor = governance.governor.functions
    assert timelock.getMinDelay().call() == TIMELOCK_DELAY_S
    assert timelock.hasRole(timelock.PROPOSER_ROLE().call(), governance.governor.address).call()
    assert timelock.hasRole(timelock.CANCELLER_ROLE().call(), governance.governor.address).call()
    assert timelock.hasRole(timelock.EXECUTOR_ROLE().call(), "0x" + "00" * 20).call()
    assert not timelock.hasRole(timelock.DEFAULT_ADMIN_ROLE().call(), ledger.deployer).call()
    assert governor.timelock().call() == governance.timelock.address
    assert governor.votingDelay().call() == VOTING_DELAY_BLOCKS
    assert governor.votingPeriod().call() == VOTING_PERIOD_BLOCKS
    assert governor.proposalThreshold().call() == 0
    assert governor.CLOCK_MODE().call() == "mode=blocknumber&from=default"
