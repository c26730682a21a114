"""Every custom error of the ledger contracts, decoded from the revert data with its arguments."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from ledger_harness import (
    ACCEPTED,
    AGGREGATED,
    COLLECTING,
    REJECTED,
    VALIDATING,
    ZERO_ADDRESS,
    ZERO_DIGEST,
    Ledger,
    artifact_names,
    digest,
    load_artifact,
)

TASK = 1
UNKNOWN_TASK = 99


@pytest.fixture
def task(ledger: Ledger) -> int:
    """Task 1: 3 validators (quorum 2), 4 participants, minParticipants 2."""
    task_id = ledger.setup_task(participants=4, minParticipants=2, validatorQuorum=2)
    assert task_id == TASK
    return task_id


@pytest.fixture
def collecting(ledger: Ledger, task: int) -> int:
    """Task 1 with round 1 Collecting and two updates committed."""
    ledger.open_round(task)
    ledger.commit_updates(task, 1, [10, 30])
    return task


@pytest.fixture
def validating(ledger: Ledger, collecting: int) -> int:
    """Task 1 with round 1 Validating (updates from participants 0 and 1)."""
    ledger.mine_past(
        ledger.training.functions.getRound(collecting, 1).call().submissionDeadlineBlock
    )
    ledger.aggregate_and_commit_model(collecting, 1)
    return collecting


@pytest.fixture
def accepted(ledger: Ledger, validating: int) -> int:
    """Task 1 with round 1 Accepted."""
    for validator in ledger.validators[:2]:
        ledger.send(ledger.training.functions.vote(validating, 1, True, 1), validator)
    return validating


# -- task set-up -------------------------------------------------------------------------------


def test_unknown_task(ledger: Ledger) -> None:
    training = ledger.training.functions
    for call in (
        training.addValidator(UNKNOWN_TASK, ledger.validators[0]),
        training.join(UNKNOWN_TASK),
        training.openRound(UNKNOWN_TASK),
        training.commitUpdate(UNKNOWN_TASK, 1, digest("u"), 1),
        training.commitAggregate(UNKNOWN_TASK, 1, digest("a")),
        training.commitModel(UNKNOWN_TASK, 1, digest("m")),
        training.vote(UNKNOWN_TASK, 1, True, 1),
        training.finalizeRound(UNKNOWN_TASK, 1),
        training.claimReward(UNKNOWN_TASK, 1),
        training.getTask(UNKNOWN_TASK),
    ):
        ledger.assert_reverts(call, ledger.coordinator, "TrainingUnknownTask", UNKNOWN_TASK)
    ledger.assert_reverts(training.getTask(0), ledger.outsider, "TrainingUnknownTask", 0)


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"modelSpecDigest": ZERO_DIGEST}, "modelSpecDigest is zero"),
        ({"publicContextDigest": ZERO_DIGEST}, "publicContextDigest is zero"),
        ({"initialModelDigest": ZERO_DIGEST}, "initialModelDigest is zero"),
        ({"minParticipants": 0}, "minParticipants must be >= 1"),
        ({"maxRounds": 0}, "maxRounds must be >= 1"),
        ({"validatorQuorum": 0}, "validatorQuorum must be >= 1"),
        ({"submissionWindowBlocks": 0}, "submissionWindowBlocks must be in [1, 2^32 - 1]"),
        ({"submissionWindowBlocks": 2**32}, "submissionWindowBlocks must be in [1, 2^32 - 1]"),
        ({"validationWindowBlocks": 0}, "validationWindowBlocks must be in [1, 2^32 - 1]"),
        ({"validationWindowBlocks": 2**64 - 1}, "validationWindowBlocks must be in [1, 2^32 - 1]"),
    ],
)
def test_invalid_task_params(ledger: Ledger, overrides: dict[str, object], reason: str) -> None:
    call = ledger.training.functions.createTask(
        ledger.task_params(**overrides), ledger.aggregator, ledger.key_holder
    )
    ledger.assert_reverts(call, ledger.coordinator, "TrainingInvalidParams", reason)


def test_invalid_roles(ledger: Ledger) -> None:
    training = ledger.training.functions
    params = ledger.task_params()
    ledger.assert_reverts(
        training.createTask(params, ZERO_ADDRESS, ledger.key_holder),
        ledger.coordinator,
        "TrainingInvalidParams",
        "aggregator is the zero address",
    )
    ledger.assert_reverts(
        training.createTask(params, ledger.aggregator, ZERO_ADDRESS),
        ledger.coordinator,
        "TrainingInvalidParams",
        "keyHolder is the zero address",
    )
    task_id = ledger.create_task()
    ledger.assert_reverts(
        training.addValidator(task_id, ZERO_ADDRESS),
        ledger.coordinator,
        "TrainingInvalidParams",
        "validator is the zero address",
    )


def test_invalid_constructor_arguments(ledger: Ledger) -> None:
    artifact = load_artifact("FederatedTraining")
    factory = ledger.w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
    ledger.assert_reverts(
        factory.constructor(ZERO_ADDRESS, ledger.policy.address),
        ledger.deployer,
        "TrainingInvalidParams",
        "token is the zero address",
    )
    ledger.assert_reverts(
        factory.constructor(ledger.token.address, ZERO_ADDRESS),
        ledger.deployer,
        "TrainingInvalidParams",
        "rewardPolicy is the zero address",
    )


def test_not_coordinator(ledger: Ledger, task: int) -> None:
    training = ledger.training.functions
    for call in (training.addValidator(task, ledger.outsider), training.openRound(task)):
        ledger.assert_reverts(
            call, ledger.aggregator, "TrainingNotCoordinator", task, ledger.aggregator
        )


def test_already_validator(ledger: Ledger, task: int) -> None:
    validator = ledger.validators[0]
    ledger.assert_reverts(
        ledger.training.functions.addValidator(task, validator),
        ledger.coordinator,
        "TrainingAlreadyValidator",
        task,
        validator,
    )


def test_already_joined(ledger: Ledger, task: int) -> None:
    participant = ledger.participants[0]
    ledger.assert_reverts(
        ledger.training.functions.join(task),
        participant,
        "TrainingAlreadyJoined",
        task,
        participant,
    )


# -- opening rounds ----------------------------------------------------------------------------


def test_not_enough_validators(ledger: Ledger) -> None:
    task_id = ledger.setup_task(validators=1, validatorQuorum=2)
    ledger.assert_reverts(
        ledger.training.functions.openRound(task_id),
        ledger.coordinator,
        "TrainingNotEnoughValidators",
        task_id,
        1,
        2,
    )


def test_round_still_open(ledger: Ledger, validating: int) -> None:
    ledger.assert_reverts(
        ledger.training.functions.openRound(validating),
        ledger.coordinator,
        "TrainingRoundStillOpen",
        validating,
        1,
    )


def test_max_rounds_reached(ledger: Ledger) -> None:
    task_id = ledger.setup_task(participants=2, maxRounds=1)
    ledger.run_accepted_round(task_id, [1, 2])
    ledger.assert_reverts(
        ledger.training.functions.openRound(task_id),
        ledger.coordinator,
        "TrainingMaxRoundsReached",
        task_id,
        1,
    )


# -- commitUpdate ------------------------------------------------------------------------------


def test_not_participant(ledger: Ledger, collecting: int) -> None:
    ledger.assert_reverts(
        ledger.training.functions.commitUpdate(collecting, 1, digest("u"), 5),
        ledger.outsider,
        "TrainingNotParticipant",
        collecting,
        ledger.outsider,
    )


def test_not_current_round(ledger: Ledger, task: int) -> None:
    training = ledger.training.functions
    participant = ledger.participants[0]
    # No round opened yet.
    ledger.assert_reverts(
        training.commitUpdate(task, 1, digest("u"), 5),
        participant,
        "TrainingNotCurrentRound",
        task,
        1,
        0,
    )
    ledger.open_round(task)
    for round_number in (0, 2):
        ledger.assert_reverts(
            training.commitUpdate(task, round_number, digest("u"), 5),
            participant,
            "TrainingNotCurrentRound",
            task,
            round_number,
            1,
        )
    ledger.assert_reverts(
        training.commitAggregate(task, 2, digest("a")),
        ledger.aggregator,
        "TrainingNotCurrentRound",
        task,
        2,
        1,
    )
    ledger.assert_reverts(
        training.commitModel(task, 3, digest("m")),
        ledger.key_holder,
        "TrainingNotCurrentRound",
        task,
        3,
        1,
    )
    ledger.assert_reverts(
        training.vote(task, 2, True, 1),
        ledger.validators[0],
        "TrainingNotCurrentRound",
        task,
        2,
        1,
    )
    ledger.assert_reverts(
        training.finalizeRound(task, 2), ledger.outsider, "TrainingNotCurrentRound", task, 2, 1
    )


def test_not_current_round_after_the_round_moved_on(ledger: Ledger) -> None:
    task_id = ledger.setup_task(participants=2)
    ledger.run_accepted_round(task_id, [1, 1])
    ledger.open_round(task_id)
    ledger.assert_reverts(
        ledger.training.functions.commitUpdate(task_id, 1, digest("u"), 1),
        ledger.participants[0],
        "TrainingNotCurrentRound",
        task_id,
        1,
        2,
    )


def test_submission_window_closed(ledger: Ledger, collecting: int) -> None:
    deadline = ledger.training.functions.getRound(collecting, 1).call().submissionDeadlineBlock
    ledger.mine_past(deadline)
    ledger.assert_reverts(
        ledger.training.functions.commitUpdate(collecting, 1, digest("late"), 5),
        ledger.participants[2],
        "TrainingSubmissionWindowClosed",
        collecting,
        1,
        deadline,
    )


def test_zero_digest(ledger: Ledger, collecting: int) -> None:
    training = ledger.training.functions
    ledger.assert_reverts(
        training.commitUpdate(collecting, 1, ZERO_DIGEST, 5),
        ledger.participants[2],
        "TrainingZeroDigest",
    )
    ledger.mine_past(training.getRound(collecting, 1).call().submissionDeadlineBlock)
    ledger.assert_reverts(
        training.commitAggregate(collecting, 1, ZERO_DIGEST),
        ledger.aggregator,
        "TrainingZeroDigest",
    )
    ledger.send(training.commitAggregate(collecting, 1, digest("a")), ledger.aggregator)
    ledger.assert_reverts(
        training.commitModel(collecting, 1, ZERO_DIGEST), ledger.key_holder, "TrainingZeroDigest"
    )


def test_zero_samples(ledger: Ledger, collecting: int) -> None:
    ledger.assert_reverts(
        ledger.training.functions.commitUpdate(collecting, 1, digest("u"), 0),
        ledger.participants[2],
        "TrainingZeroSamples",
        collecting,
        1,
    )


def test_already_committed(ledger: Ledger, collecting: int) -> None:
    participant = ledger.participants[0]
    ledger.assert_reverts(
        ledger.training.functions.commitUpdate(collecting, 1, digest("again"), 5),
        participant,
        "TrainingAlreadyCommitted",
        collecting,
        1,
        participant,
    )


def test_commit_after_aggregation_is_wrong_phase(ledger: Ledger, validating: int) -> None:
    ledger.assert_reverts(
        ledger.training.functions.commitUpdate(validating, 1, digest("u"), 5),
        ledger.participants[2],
        "TrainingWrongPhase",
        validating,
        1,
        COLLECTING,
        VALIDATING,
    )


# -- commitAggregate / commitModel -------------------------------------------------------------


def test_not_aggregator(ledger: Ledger, collecting: int) -> None:
    ledger.assert_reverts(
        ledger.training.functions.commitAggregate(collecting, 1, digest("a")),
        ledger.key_holder,
        "TrainingNotAggregator",
        collecting,
        ledger.key_holder,
    )


def test_too_few_updates(ledger: Ledger, task: int) -> None:
    ledger.open_round(task)
    ledger.commit_updates(task, 1, [10])
    ledger.mine_past(ledger.training.functions.getRound(task, 1).call().submissionDeadlineBlock)
    ledger.assert_reverts(
        ledger.training.functions.commitAggregate(task, 1, digest("a")),
        ledger.aggregator,
        "TrainingTooFewUpdates",
        task,
        1,
        1,
        2,
    )


def test_submission_window_open(ledger: Ledger, collecting: int) -> None:
    """2 of 4 participants committed: the aggregator must wait for the deadline."""
    deadline = ledger.training.functions.getRound(collecting, 1).call().submissionDeadlineBlock
    ledger.assert_reverts(
        ledger.training.functions.commitAggregate(collecting, 1, digest("a")),
        ledger.aggregator,
        "TrainingSubmissionWindowOpen",
        collecting,
        1,
        deadline,
    )


def test_not_key_holder(ledger: Ledger, collecting: int) -> None:
    ledger.assert_reverts(
        ledger.training.functions.commitModel(collecting, 1, digest("m")),
        ledger.aggregator,
        "TrainingNotKeyHolder",
        collecting,
        ledger.aggregator,
    )


def test_model_before_aggregate_is_wrong_phase(ledger: Ledger, collecting: int) -> None:
    ledger.assert_reverts(
        ledger.training.functions.commitModel(collecting, 1, digest("m")),
        ledger.key_holder,
        "TrainingWrongPhase",
        collecting,
        1,
        AGGREGATED,
        COLLECTING,
    )


def test_second_aggregate_is_wrong_phase(ledger: Ledger, validating: int) -> None:
    ledger.assert_reverts(
        ledger.training.functions.commitAggregate(validating, 1, digest("a2")),
        ledger.aggregator,
        "TrainingWrongPhase",
        validating,
        1,
        COLLECTING,
        VALIDATING,
    )


# -- votes and finalization --------------------------------------------------------------------


def test_not_validator(ledger: Ledger, validating: int) -> None:
    participant = ledger.participants[0]
    ledger.assert_reverts(
        ledger.training.functions.vote(validating, 1, True, 1),
        participant,
        "TrainingNotValidator",
        validating,
        participant,
    )


def test_vote_before_model_is_wrong_phase(ledger: Ledger, collecting: int) -> None:
    ledger.assert_reverts(
        ledger.training.functions.vote(collecting, 1, True, 1),
        ledger.validators[0],
        "TrainingWrongPhase",
        collecting,
        1,
        VALIDATING,
        COLLECTING,
    )


def test_already_voted(ledger: Ledger, validating: int) -> None:
    validator = ledger.validators[0]
    ledger.send(ledger.training.functions.vote(validating, 1, False, 1), validator)
    ledger.assert_reverts(
        ledger.training.functions.vote(validating, 1, True, 1),
        validator,
        "TrainingAlreadyVoted",
        validating,
        1,
        validator,
    )


def test_vote_after_acceptance_is_wrong_phase(ledger: Ledger, accepted: int) -> None:
    ledger.assert_reverts(
        ledger.training.functions.vote(accepted, 1, True, 1),
        ledger.validators[2],
        "TrainingWrongPhase",
        accepted,
        1,
        VALIDATING,
        ACCEPTED,
    )


def test_validation_window_closed(ledger: Ledger, validating: int) -> None:
    deadline = ledger.training.functions.getRound(validating, 1).call().validationDeadlineBlock
    ledger.mine_past(deadline)
    ledger.assert_reverts(
        ledger.training.functions.vote(validating, 1, True, 1),
        ledger.validators[0],
        "TrainingValidationWindowClosed",
        validating,
        1,
        deadline,
    )


def test_validation_window_open(ledger: Ledger, validating: int) -> None:
    deadline = ledger.training.functions.getRound(validating, 1).call().validationDeadlineBlock
    ledger.assert_reverts(
        ledger.training.functions.finalizeRound(validating, 1),
        ledger.outsider,
        "TrainingValidationWindowOpen",
        validating,
        1,
        deadline,
    )


def test_finalize_wrong_phase(ledger: Ledger, collecting: int) -> None:
    training = ledger.training.functions
    ledger.assert_reverts(
        training.finalizeRound(collecting, 0), ledger.outsider, "TrainingNotCurrentRound", 1, 0, 1
    )
    # Enough updates and past the deadline: the round waits for its aggregate, it is not dead.
    ledger.mine_past(training.getRound(collecting, 1).call().submissionDeadlineBlock)
    ledger.assert_reverts(
        training.finalizeRound(collecting, 1),
        ledger.outsider,
        "TrainingWrongPhase",
        collecting,
        1,
        VALIDATING,
        COLLECTING,
    )
    ledger.send(training.commitAggregate(collecting, 1, digest("a")), ledger.aggregator)
    ledger.assert_reverts(
        training.finalizeRound(collecting, 1),
        ledger.outsider,
        "TrainingWrongPhase",
        collecting,
        1,
        VALIDATING,
        AGGREGATED,
    )


def test_finalize_twice_is_wrong_phase(ledger: Ledger, validating: int) -> None:
    training = ledger.training.functions
    ledger.mine_past(training.getRound(validating, 1).call().validationDeadlineBlock)
    ledger.send(training.finalizeRound(validating, 1), ledger.outsider)
    ledger.assert_reverts(
        training.finalizeRound(validating, 1),
        ledger.outsider,
        "TrainingWrongPhase",
        validating,
        1,
        VALIDATING,
        REJECTED,
    )


# -- rewards -----------------------------------------------------------------------------------


def test_round_not_accepted(ledger: Ledger, validating: int) -> None:
    training = ledger.training.functions
    participant = ledger.participants[0]
    ledger.assert_reverts(
        training.claimReward(validating, 1),
        participant,
        "TrainingRoundNotAccepted",
        validating,
        1,
    )
    ledger.assert_reverts(
        training.claimReward(validating, 5), participant, "TrainingRoundNotAccepted", validating, 5
    )
    ledger.mine_past(training.getRound(validating, 1).call().validationDeadlineBlock)
    ledger.send(training.finalizeRound(validating, 1), ledger.outsider)
    assert training.getRound(validating, 1).call().phase == REJECTED
    ledger.assert_reverts(
        training.claimReward(validating, 1), participant, "TrainingRoundNotAccepted", validating, 1
    )


def test_no_contribution(ledger: Ledger, accepted: int) -> None:
    for account in (ledger.participants[2], ledger.outsider):
        ledger.assert_reverts(
            ledger.training.functions.claimReward(accepted, 1),
            account,
            "TrainingNoContribution",
            accepted,
            1,
            account,
        )


def test_reward_already_claimed(ledger: Ledger, accepted: int) -> None:
    participant = ledger.participants[0]
    ledger.send(ledger.training.functions.claimReward(accepted, 1), participant)
    balance = ledger.token.functions.balanceOf(participant).call()
    ledger.assert_reverts(
        ledger.training.functions.claimReward(accepted, 1),
        participant,
        "TrainingRewardAlreadyClaimed",
        accepted,
        1,
        participant,
    )
    assert ledger.token.functions.balanceOf(participant).call() == balance


# -- the token and the policy ------------------------------------------------------------------


def test_token_mint_needs_minter_role(ledger: Ledger) -> None:
    minter_role = ledger.token.functions.MINTER_ROLE().call()
    ledger.assert_reverts(
        ledger.token.functions.mint(ledger.outsider, 1),
        ledger.outsider,
        "AccessControlUnauthorizedAccount",
        ledger.outsider,
        minter_role,
    )
    # Even the admin must grant itself the role first.
    ledger.assert_reverts(
        ledger.token.functions.mint(ledger.deployer, 1),
        ledger.deployer,
        "AccessControlUnauthorizedAccount",
        ledger.deployer,
        minter_role,
    )


def test_token_rejects_zero_admin(ledger: Ledger) -> None:
    artifact = load_artifact("FedToken")
    factory = ledger.w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
    ledger.assert_reverts(
        factory.constructor(ZERO_ADDRESS), ledger.deployer, "FedTokenInvalidAdmin", ZERO_ADDRESS
    )


@pytest.mark.parametrize(("samples", "total"), [(0, 10), (11, 10), (1, 0)])
def test_policy_rejects_invalid_share(ledger: Ledger, samples: int, total: int) -> None:
    ledger.assert_reverts(
        ledger.policy.functions.rewardFor(1_000, samples, total),
        ledger.outsider,
        "ProportionalRewardInvalidShare",
        samples,
        total,
    )


# -- coverage of the error surface -------------------------------------------------------------


def test_every_custom_error_is_exercised() -> None:
    """Each error our contracts declare is named in a test of this directory."""
    here = Path(__file__).parent
    sources = "\n".join(path.read_text() for path in sorted(here.glob("test_*.py")))
    named = set(re.findall(r'"([A-Za-z]+)"', sources))
    declared = {
        item["name"]
        for name in artifact_names()
        for item in load_artifact(name)["abi"]
        if item["type"] == "error"
    }
    # OpenZeppelin's ERC-20 and AccessControl errors that FedToken cannot raise from our flows
    # (transfers, allowances and role renouncing are stock OpenZeppelin behaviour).
    stock = {
        name
        for name in declared
        if name.startswith("ERC20") or name == "AccessControlBadConfirmation"
    }
    assert declared - stock - named == set()


def test_only_the_key_holder_rejects_an_aggregate(ledger: Ledger, collecting: int) -> None:
    ledger.assert_reverts(
        ledger.training.functions.rejectAggregate(collecting, 1, digest("r")),
        ledger.aggregator,
        "TrainingNotKeyHolder",
        collecting,
        ledger.aggregator,
    )


def test_reject_aggregate_needs_an_aggregate(ledger: Ledger, collecting: int) -> None:
    ledger.assert_reverts(
        ledger.training.functions.rejectAggregate(collecting, 1, digest("r")),
        ledger.key_holder,
        "TrainingWrongPhase",
        collecting,
        1,
        AGGREGATED,
        COLLECTING,
    )
