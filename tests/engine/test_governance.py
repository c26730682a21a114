"""Governance through the session, on the in-process chain: a task's rules are handed to the
governor, a proposal is voted, queued and executed (the engine mines the waits), and the change
applies from the next round; a proposal without quorum is defeated and cannot be queued; the
offence figures of a task's stakes are governed rules, the stake itself is not."""

from __future__ import annotations

import json

import pytest
from engine_helpers import fit_and_capture, join_session_task, run_session_round, session_over

from fedchain_magics import TaskConfig
from fedchain_magics.chain import RoundPhase
from fedchain_magics.engine.errors import ContractRefusedError, InvalidInputError
from fedchain_magics.engine.governance import (
    GovernanceError,
    NotGovernedError,
    ProposalNotReadyError,
    ProposalState,
    ValuationPolicy,
)
from fedchain_magics.engine.session import Session

PARTIES = {"alice": 0.6, "bob": 0.3, "carol": 0.1}  # shares of the training data (and rewards)


@pytest.fixture
def session(tmp_path, breast_cancer):
    opened = session_over(tmp_path / "ledger", breast_cancer, PARTIES)
    yield opened
    opened.close()


def _governed_task(session: Session) -> int:
    task_id = join_session_task(session, TaskConfig(rounds=3), PARTIES)
    rules = session.govern(task_id, group_size=3, valuation="leave-one-out")
    assert (rules.group_size, rules.valuation_policy) == (3, ValuationPolicy.LEAVE_ONE_OUT)
    return task_id


def test_a_proposal_changes_the_rules_of_the_next_round(session: Session) -> None:
    task_id = _governed_task(session)
    federation = session.federation
    assert federation is not None and federation.governance is not None
    record = json.loads((federation.workspace / "deployment.json").read_text())
    assert record["governor"] == federation.governance.governor.address
    run_session_round(session, task_id, PARTIES)
    session.claim_all(task_id)  # claiming in a governed task self-delegates each party
    governance = federation.governance
    for name in PARTIES:
        address = federation.keystore.address_of(name)
        assert governance.delegate_of(address) == address
        assert governance.votes(address) == federation.registry.token_balance(address) > 0

    session.open_next_round(task_id)  # round 2 is open while the proposal passes
    proposal_id = session.propose_rules(
        task_id, "carol", "k 4 and Shapley: groups of 3 are too noisy", group_size=4,
        valuation="shapley",
    )  # fmt: skip
    assert session.vote(proposal_id, "alice", "for") == governance.votes(
        federation.keystore.address_of("alice")
    )
    session.vote(proposal_id, "carol", "against")
    session.queue(proposal_id)  # mines the rest of the voting period
    assert session.execute(proposal_id) == 3  # mines the timelock's delay
    (shown,) = session.proposals(task_id)
    assert shown.state == ProposalState.EXECUTED
    assert shown.changes == {"group_size": 4, "valuation_policy": ValuationPolicy.SHAPLEY}
    assert shown.votes_for > shown.quorum > shown.votes_against > 0
    # Rounds 1 and 2 keep the rules they opened under; round 3 runs under the new ones.
    for round_number, expected in ((1, 3), (2, 3), (3, 4)):
        assert session.rules(task_id, round_number).group_size == expected
    assert session.rules(task_id).valuation_policy == ValuationPolicy.SHAPLEY


def test_a_proposal_adds_a_validator_and_raises_the_round_rules_between_rounds(
    session: Session,
) -> None:
    """The validator set and the round rules are governed too: a passed proposal executes
    between rounds only, and the next round runs with its electorate and quorum."""
    task_id = _governed_task(session)
    federation = session.require_federation()
    governance = federation.governance
    assert governance is not None
    assert federation.registry.task(task_id).governor == governance.timelock.address
    run_session_round(session, task_id, PARTIES)
    session.claim_all(task_id)
    newcomer = federation.account("validator-2").address
    with pytest.raises(InvalidInputError, match="already task 1's participant"):
        session.propose_rules(task_id, "alice", "why", add_validators=["alice"])

    session.open_next_round(task_id)
    proposal_id = session.propose_rules(
        task_id, "alice", "a second validator, and both must accept",
        add_validators=["validator-2"], validator_quorum=2, min_participants=3,
    )  # fmt: skip
    session.vote(proposal_id, "alice", "for")
    session.queue(proposal_id)
    with pytest.raises(ProposalNotReadyError, match="between rounds only") as caught:
        session.execute(proposal_id)
    assert caught.value.next_step.action == "execute_after_round"
    for name in PARTIES:
        fit_and_capture(session, task_id, name)
        session.submit(task_id, name)
    session.aggregate(task_id)
    session.validate(task_id, "validator-1")
    assert session.execute(proposal_id) == 3

    (shown,) = session.proposals(task_id)
    assert shown.changes == {
        "min_participants": 3, "validator_quorum": 2, "add_validators": (newcomer,),
    }  # fmt: skip
    state = federation.registry.task(task_id)
    assert (state.params.min_participants, state.params.validator_quorum) == (3, 2)
    assert state.validator_count == 2
    session.open_next_round(task_id)
    for name in PARTIES:
        fit_and_capture(session, task_id, name)
        session.submit(task_id, name)
    session.aggregate(task_id)
    session.validate(task_id, "validator-1")
    assert federation.registry.round(task_id, 3).phase == RoundPhase.VALIDATING  # 1 of 2 votes
    held_out = session.validation_data[(task_id, "validator-1")]
    session.validate(task_id, "validator-2", held_out)
    assert federation.registry.round(task_id, 3).phase == RoundPhase.ACCEPTED


def test_a_proposal_without_quorum_fails_and_rules_change_only_by_proposal(
    session: Session,
) -> None:
    task_id = _governed_task(session)
    run_session_round(session, task_id, PARTIES)
    session.claim_all(task_id)
    proposal_id = session.propose_rules(task_id, "carol", "a small holder's wish", group_size=5)
    session.vote(proposal_id, "carol", "for")  # about 10% of the delegated supply < 25%
    with pytest.raises(ProposalNotReadyError, match="is defeated") as caught:
        session.queue(proposal_id)
    assert caught.value.next_step.action == "propose_change"
    assert session.rules(task_id, 2).group_size == 3
    second = session.propose_rules(task_id, "alice", "k 5 again", group_size=5)
    assert second == proposal_id + 1  # proposals are numbered from 1
    session.vote(second, "alice", "for")
    with pytest.raises(ContractRefusedError, match="already voted"):
        session.vote(second, "alice", "against")
    with pytest.raises(GovernanceError, match="under governance already"):
        session.govern(task_id)


def test_governance_refuses_bad_input_before_sending(session: Session) -> None:
    task = session.create_task(session.model("model"), TaskConfig(rounds=2))
    with pytest.raises(NotGovernedError):
        session.propose_rules(task.task_id, "alice", "why", group_size=4)
    assert session.rules(task.task_id) is None
    with pytest.raises(InvalidInputError, match="group_size must be between 2"):
        session.govern(task.task_id, group_size=1)
    with pytest.raises(InvalidInputError, match="valuation policy must be"):
        session.govern(task.task_id, valuation="median")
    session.govern(task.task_id)
    with pytest.raises(InvalidInputError, match="a proposal changes some of"):
        session.propose_rules(task.task_id, "alice", "why", quorum=3)
    with pytest.raises(InvalidInputError, match="validator_quorum must be at least 1"):
        session.propose_rules(task.task_id, "alice", "why", validator_quorum=0)
    with pytest.raises(InvalidInputError, match="is not a validator of task"):
        session.propose_rules(task.task_id, "alice", "why", remove_validators="bob")
    with pytest.raises(InvalidInputError, match="a vote is for, against or abstain"):
        session.vote(1, "alice", "maybe")


def test_stake_rules_set_first_hand_their_offence_figures_to_the_governed_rules(
    session: Session,
) -> None:
    from fedchain_magics.chain.stakes import OffenceRules

    task_id = session.create_task(session.model("model"), TaskConfig(rounds=2)).task_id
    session.set_stakes(task_id, required=10, slash_ppm=250_000, min_standing_ppm=300_000)
    stakes = session.require_federation().stakes
    assert stakes is not None
    assert stakes.offence_rules(task_id, 1) == OffenceRules(250_000, 300_000, False)
    with pytest.raises(InvalidInputError, match="govern it with those"):
        session.govern(task_id, slash=0.5)
    rules = session.govern(task_id)
    assert (rules.slash_ppm, rules.slash_below_standing_ppm) == (250_000, 300_000)
    assert stakes.offence_rules(task_id, 1) == OffenceRules(250_000, 300_000, True)
    assert stakes.stake_rules(task_id).required_stake == 10  # no vote changes it
    with pytest.raises(InvalidInputError, match="does not change the stake"):
        session.propose_rules(task_id, "alice", "more skin in the game", stake=(20, 0.5))


def test_stakes_that_predate_governed_slashing_refuse_a_slash_vote(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A deployment whose TaskStakes does not read its TaskRules (one deployed before it did):
    a vote on slashing would change nothing a staker meets, so none is proposed."""
    from fedchain_magics.chain.stakes import StakesContract

    task_id = _governed_task(session)
    monkeypatch.setattr(StakesContract, "task_rules_address", lambda self: None)
    with pytest.raises(GovernanceError, match="do not read its governed rules"):
        session.propose_rules(task_id, "alice", "offences cost more", slash=0.5)
    other = session.create_task(session.model("model"), TaskConfig(rounds=2)).task_id
    with pytest.raises(GovernanceError, match="do not read its governed rules"):
        session.govern(other, slash=0.2)
    assert session.propose_rules(task_id, "alice", "k 4", group_size=4) == 1


def test_the_ledger_view_shows_the_rules_and_proposals(session: Session) -> None:
    from fedchain_magics.engine.ledger_view import read_snapshot

    ungoverned = session.create_task(session.model("model"), TaskConfig(rounds=2)).task_id
    task_id = _governed_task(session)
    run_session_round(session, task_id, PARTIES)
    session.claim_all(task_id)
    number = session.propose_rules(
        task_id, "alice", "Shapley, standing 0.5", valuation="shapley", min_standing=0.5
    )
    session.vote(number, "alice", "for")
    federation = session.federation
    assert federation is not None
    snapshot = read_snapshot(federation)
    by_task = {task.task_id: task for task in snapshot.tasks}
    assert by_task[ungoverned].governance is None
    summary = by_task[task_id].governance
    assert summary is not None
    assert summary.rules["group_size"] == 3 and summary.rules["valuation"] == "leave-one-out"
    assert summary.from_round == 1
    (proposal,) = summary.proposals
    assert (proposal.number, proposal.description, proposal.state) == (
        1, "Shapley, standing 0.5", "active",
    )  # fmt: skip
    assert proposal.changes == {"valuation": "shapley", "min_standing": 0.5}
    assert proposal.votes_for > 0 and proposal.votes_against == 0


def test_every_rules_revert_is_worded_with_a_next_step() -> None:
    from fedchain_magics.chain import ContractRevertError
    from fedchain_magics.chain.artifacts import load_artifact
    from fedchain_magics.engine.errors import REFUSALS, refusal
    from fedchain_magics.magics._errors import MAGIC_STEPS

    # Our errors carry the Rules prefix (Checkpoints' unordered insertion cannot happen: rounds
    # only grow).
    errors = [
        item
        for item in load_artifact("TaskRules").abi
        if item["type"] == "error" and item["name"].startswith("Rules")
    ]
    assert len(errors) == 12 and {item["name"] for item in errors} <= set(REFUSALS)
    for item in errors:
        args = {
            entry["name"]: ("0x" + "11" * 20 if entry["type"] == "address" else 7)
            for entry in item["inputs"]
        }
        worded = refusal(ContractRevertError(item["name"], args, "setGroupSize"), lambda a: "alice")
        assert "{" not in str(worded) and worded.next_step is not None
        assert worded.next_step.action in MAGIC_STEPS


def test_a_deployment_recorded_before_governance_still_loads(tmp_path) -> None:
    import json

    from fedchain_magics import Federation
    from fedchain_magics.engine import governance

    with Federation.open(tmp_path / "ledger") as federation:
        path = federation.workspace / "deployment.json"
    recorded = json.loads(path.read_text())
    for name in ("task_rules", "governor", "timelock", "governance_deployed_at_block"):
        recorded.pop(name)  # as written before governance existed
    path.write_text(json.dumps(recorded))
    with Federation.open(tmp_path / "ledger") as federation:
        assert federation.registry.deployment.governor == ""
        assert governance.contracts(federation) is None and federation.governance is None
