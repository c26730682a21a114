"""Every revert path of the ledger contracts, decoded from the revert data with its arguments."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from ledger_harness import (
    ACCEPTED,
    AGGREGATED,
    COLLECTING,
    MALFORMED,
    REJECTED,
    ROLE_PARTICIPANT,
    ROLE_VALIDATOR,
    VALIDATING,
    ZERO_ADDRESS,
    ZERO_DIGEST,
    Ledger,
    artifact_names,
    digest,
    load_artifact,
    update_digest,
    updates_hash,
)

TASK = 1
UNKNOWN_TASK = 99
MAX_WINDOW = 2**32 - 1


@pytest.fixture
def task(ledger: Ledger) -> int:
    """Task 1: 3 validators (quorum 2), 4 participants, minParticipants 2."""
    task_id = ledger.setup_task(participants=4, minParticipants=2, validatorQuorum=2)
    assert task_id == TASK
    return task_id


@pytest.fixture
def collecting(ledger: Ledger, task: int) -> int:
    """Task 1 with round 1 Collecting and two of four updates committed (window open)."""
    ledger.open_round(task)
    ledger.commit_updates(task, 1, [10, 30])
    return task


@pytest.fixture
def closed(ledger: Ledger, collecting: int) -> int:
    """Task 1 with round 1 Collecting, its submission window closed with two updates."""
    ledger.mine_past(ledger.round(collecting, 1).submissionDeadlineBlock)
    return collecting


@pytest.fixture
def aggregated(ledger: Ledger, closed: int) -> int:
    """Task 1 with round 1 Aggregated."""
    ledger.commit_aggregate(closed, 1, digest("aggregate"))
    return closed


@pytest.fixture
def validating(ledger: Ledger, aggregated: int) -> int:
    """Task 1 with round 1 Validating (updates from participants 0 and 1)."""
    ledger.send(
        ledger.training.functions.commitModel(aggregated, 1, digest("model")), ledger.key_holder
    )
    return aggregated


@pytest.fixture
def accepted(ledger: Ledger, validating: int) -> int:
    """Task 1 with round 1 Accepted."""
    ledger.vote_all(validating, 1)
    return validating


def _aggregate_call(ledger: Ledger, task_id: int, round_number: int, aggregate: bytes):  # type: ignore[no-untyped-def]
    included = ledger.included_updates(task_id, round_number)
    return ledger.training.functions.commitAggregate(
        task_id, round_number, aggregate, len(included), updates_hash(included)
    )


# -- unknown tasks -----------------------------------------------------------------------------


def test_unknown_task(ledger: Ledger) -> None:
    training = ledger.training.functions
    for call in (
        training.addValidator(UNKNOWN_TASK, ledger.validators[0]),
        training.join(UNKNOWN_TASK),
        training.setAggregator(UNKNOWN_TASK, ledger.outsider),
        training.setKeyHolder(UNKNOWN_TASK, ledger.outsider, digest("c")),
        training.openRound(UNKNOWN_TASK),
        training.commitUpdate(UNKNOWN_TASK, 1, digest("u"), 1),
        training.excludeUpdate(UNKNOWN_TASK, 1, digest("u"), MALFORMED),
        training.commitAggregate(UNKNOWN_TASK, 1, digest("a"), 0, 0),
        training.commitModel(UNKNOWN_TASK, 1, digest("m")),
        training.rejectAggregate(UNKNOWN_TASK, 1, digest("r")),
        training.vote(UNKNOWN_TASK, 1, True, 1),
        training.finalizeRound(UNKNOWN_TASK, 1),
        training.cancelRound(UNKNOWN_TASK, 1),
        training.closeTask(UNKNOWN_TASK),
        training.claimReward(UNKNOWN_TASK, 1, digest("u")),
        training.reclaimEscrow(UNKNOWN_TASK),
        training.getTask(UNKNOWN_TASK),
        training.removeValidator(UNKNOWN_TASK, ledger.validators[0]),
        training.setRoundRules(UNKNOWN_TASK, 1, 1),
        training.handOverGovernance(UNKNOWN_TASK, ledger.outsider),
        training.unallocatedEscrow(UNKNOWN_TASK),
    ):
        ledger.assert_reverts(call, ledger.coordinator, "TrainingUnknownTask", UNKNOWN_TASK)
    ledger.assert_reverts(training.getTask(0), ledger.outsider, "TrainingUnknownTask", 0)


# -- constructor and createTask: one error per invalid parameter --------------------------------


def test_invalid_constructor_arguments(ledger: Ledger) -> None:
    artifact = load_artifact("FederatedTraining")
    factory = ledger.w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
    ledger.assert_reverts(
        factory.constructor(ZERO_ADDRESS, ledger.policy.address),
        ledger.deployer,
        "TrainingInvalidToken",
        ZERO_ADDRESS,
    )
    ledger.assert_reverts(
        factory.constructor(ledger.token.address, ZERO_ADDRESS),
        ledger.deployer,
        "TrainingInvalidRewardPolicy",
        ZERO_ADDRESS,
    )


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"modelSpecDigest": ZERO_DIGEST}, ("TrainingInvalidModelSpecDigest",)),
        ({"publicContextDigest": ZERO_DIGEST}, ("TrainingInvalidPublicContextDigest",)),
        ({"initialModelDigest": ZERO_DIGEST}, ("TrainingInvalidInitialModelDigest",)),
        ({"minParticipants": 0}, ("TrainingInvalidMinParticipants", 0)),
        ({"maxRounds": 0}, ("TrainingInvalidMaxRounds", 0)),
        ({"validatorQuorum": 0}, ("TrainingInvalidValidatorQuorum", 0)),
        ({"maxSamplesPerUpdate": 0}, ("TrainingInvalidMaxSamplesPerUpdate", 0)),
        ({"submissionWindowBlocks": 0}, ("TrainingInvalidSubmissionWindow", 0, MAX_WINDOW)),
        (
            {"submissionWindowBlocks": 2**32},
            ("TrainingInvalidSubmissionWindow", 2**32, MAX_WINDOW),
        ),
        ({"validationWindowBlocks": 0}, ("TrainingInvalidValidationWindow", 0, MAX_WINDOW)),
        (
            {"validationWindowBlocks": 2**64 - 1},
            ("TrainingInvalidValidationWindow", 2**64 - 1, MAX_WINDOW),
        ),
        ({"aggregationWindowBlocks": 0}, ("TrainingInvalidAggregationWindow", 0, MAX_WINDOW)),
        (
            {"aggregationWindowBlocks": 2**32},
            ("TrainingInvalidAggregationWindow", 2**32, MAX_WINDOW),
        ),
    ],
)
def test_invalid_task_params(
    ledger: Ledger, overrides: dict[str, object], error: tuple[object, ...]
) -> None:
    call = ledger.training.functions.createTask(
        ledger.task_params(**overrides), ledger.aggregator, ledger.key_holder
    )
    name, *args = error
    ledger.assert_reverts(call, ledger.coordinator, str(name), *args)


def test_invalid_roles(ledger: Ledger) -> None:
    training = ledger.training.functions
    params = ledger.task_params()
    coordinator, aggregator, key_holder = ledger.coordinator, ledger.aggregator, ledger.key_holder
    ledger.assert_reverts(
        training.createTask(params, ZERO_ADDRESS, key_holder),
        coordinator,
        "TrainingInvalidAggregator",
        ZERO_ADDRESS,
    )
    ledger.assert_reverts(
        training.createTask(params, aggregator, ZERO_ADDRESS),
        coordinator,
        "TrainingInvalidKeyHolder",
        ZERO_ADDRESS,
    )
    for chosen_aggregator, chosen_key_holder in (
        (coordinator, key_holder),
        (aggregator, coordinator),
        (aggregator, aggregator),
    ):
        ledger.assert_reverts(
            training.createTask(params, chosen_aggregator, chosen_key_holder),
            coordinator,
            "TrainingRolesNotDistinct",
            coordinator,
            chosen_aggregator,
            chosen_key_holder,
        )


def test_escrow_must_be_approved_and_held(ledger: Ledger) -> None:
    training = ledger.training.functions
    params = ledger.task_params(rewardPerRound=10, maxRounds=3)
    call = training.createTask(params, ledger.aggregator, ledger.key_holder)
    ledger.approve_escrow(ledger.coordinator, 29)
    ledger.assert_reverts(
        call, ledger.coordinator, "TrainingEscrowNotApproved", ledger.coordinator, 29, 30
    )
    ledger.approve_escrow(ledger.outsider, 30)
    ledger.assert_reverts(
        call, ledger.outsider, "TrainingEscrowExceedsBalance", ledger.outsider, 0, 30
    )
    ledger.assert_reverts(
        training.createTask(
            ledger.task_params(rewardPerRound=2**255, maxRounds=2),
            ledger.aggregator,
            ledger.key_holder,
        ),
        ledger.coordinator,
        "TrainingRewardPoolOverflow",
        2**255,
        2,
    )


# -- validators, participants, role changes ----------------------------------------------------


def test_not_coordinator(ledger: Ledger, task: int) -> None:
    training = ledger.training.functions
    ledger.assert_reverts(
        training.addValidator(task, ledger.outsider),
        ledger.aggregator,
        "TrainingNotManager",
        task,
        ledger.aggregator,
        ledger.coordinator,
    )
    for call in (
        training.openRound(task),
        training.setAggregator(task, ledger.outsider),
        training.setKeyHolder(task, ledger.outsider, digest("c")),
        training.closeTask(task),
    ):
        ledger.assert_reverts(
            call, ledger.aggregator, "TrainingNotCoordinator", task, ledger.aggregator
        )


def test_zero_addresses_for_roles(ledger: Ledger, task: int) -> None:
    training = ledger.training.functions
    ledger.assert_reverts(
        training.addValidator(task, ZERO_ADDRESS),
        ledger.coordinator,
        "TrainingInvalidValidator",
        ZERO_ADDRESS,
    )
    ledger.assert_reverts(
        training.setAggregator(task, ZERO_ADDRESS),
        ledger.coordinator,
        "TrainingInvalidAggregator",
        ZERO_ADDRESS,
    )
    ledger.assert_reverts(
        training.setKeyHolder(task, ZERO_ADDRESS, digest("c")),
        ledger.coordinator,
        "TrainingInvalidKeyHolder",
        ZERO_ADDRESS,
    )
    ledger.assert_reverts(
        training.setKeyHolder(task, ledger.outsider, ZERO_DIGEST),
        ledger.coordinator,
        "TrainingInvalidPublicContextDigest",
    )


def test_roles_are_held_once(ledger: Ledger, task: int) -> None:
    training = ledger.training.functions
    validator, participant = ledger.validators[0], ledger.participants[0]
    ledger.assert_reverts(
        training.addValidator(task, validator),
        ledger.coordinator,
        "TrainingRoleConflict",
        task,
        validator,
        ROLE_VALIDATOR,
    )
    ledger.assert_reverts(
        training.join(task),
        participant,
        "TrainingRoleConflict",
        task,
        participant,
        ROLE_PARTICIPANT,
    )


def test_roles_change_only_between_rounds(ledger: Ledger, collecting: int) -> None:
    training = ledger.training.functions
    for call in (
        training.setAggregator(collecting, ledger.outsider),
        training.setKeyHolder(collecting, ledger.outsider, digest("c")),
        training.closeTask(collecting),
    ):
        ledger.assert_reverts(call, ledger.coordinator, "TrainingRoundStillOpen", collecting, 1)


# -- opening rounds, ending tasks ----------------------------------------------------------------


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


def test_task_ended(ledger: Ledger) -> None:
    training = ledger.training.functions
    task_id = ledger.setup_task(participants=2, maxRounds=1)
    ledger.run_accepted_round(task_id, [1, 2])
    for call in (training.openRound(task_id), training.closeTask(task_id)):
        ledger.assert_reverts(call, ledger.coordinator, "TrainingTaskEnded", task_id)


def test_escrow_reclaimed_once(ledger: Ledger) -> None:
    training = ledger.training.functions
    task_id = ledger.setup_task(participants=2, maxRounds=1)
    ledger.assert_reverts(
        training.reclaimEscrow(task_id), ledger.outsider, "TrainingTaskNotEnded", task_id
    )
    ledger.send(training.closeTask(task_id), ledger.coordinator)
    ledger.send(training.reclaimEscrow(task_id), ledger.outsider)
    ledger.assert_reverts(
        training.reclaimEscrow(task_id), ledger.outsider, "TrainingEscrowAlreadyReclaimed", task_id
    )


# -- commitUpdate ------------------------------------------------------------------------------


def test_not_participant(ledger: Ledger, collecting: int) -> None:
    for account in (ledger.outsider, ledger.validators[0], ledger.aggregator):
        ledger.assert_reverts(
            ledger.training.functions.commitUpdate(collecting, 1, digest("u"), 5),
            account,
            "TrainingNotParticipant",
            collecting,
            account,
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
    for call, sender in (
        (training.excludeUpdate(task, 2, digest("u"), MALFORMED), ledger.aggregator),
        (training.commitAggregate(task, 2, digest("a"), 0, 0), ledger.aggregator),
        (training.commitModel(task, 3, digest("m")), ledger.key_holder),
        (training.rejectAggregate(task, 3, digest("r")), ledger.key_holder),
        (training.vote(task, 2, True, 1), ledger.validators[0]),
        (training.finalizeRound(task, 2), ledger.outsider),
        (training.cancelRound(task, 2), ledger.outsider),
    ):
        round_number = call.args[1]
        ledger.assert_reverts(call, sender, "TrainingNotCurrentRound", task, round_number, 1)


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


def test_submission_window_closed(ledger: Ledger, closed: int) -> None:
    deadline = ledger.round(closed, 1).submissionDeadlineBlock
    ledger.assert_reverts(
        ledger.training.functions.commitUpdate(closed, 1, digest("late"), 5),
        ledger.participants[2],
        "TrainingSubmissionWindowClosed",
        closed,
        1,
        deadline,
    )


def test_zero_digest(ledger: Ledger, closed: int) -> None:
    training = ledger.training.functions
    ledger.assert_reverts(
        training.commitAggregate(
            closed, 1, ZERO_DIGEST, 2, updates_hash(ledger.included_updates(closed, 1))
        ),
        ledger.aggregator,
        "TrainingZeroDigest",
    )
    ledger.commit_aggregate(closed, 1, digest("a"))
    for call in (
        training.commitModel(closed, 1, ZERO_DIGEST),
        training.rejectAggregate(closed, 1, ZERO_DIGEST),
    ):
        ledger.assert_reverts(call, ledger.key_holder, "TrainingZeroDigest")


def test_zero_update_digest(ledger: Ledger, collecting: int) -> None:
    ledger.assert_reverts(
        ledger.training.functions.commitUpdate(collecting, 1, ZERO_DIGEST, 5),
        ledger.participants[2],
        "TrainingZeroDigest",
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


# -- excludeUpdate -----------------------------------------------------------------------------


def test_exclude_update_refusals(ledger: Ledger, collecting: int) -> None:
    training = ledger.training.functions
    committed = update_digest(collecting, 1, 0)
    ledger.assert_reverts(
        training.excludeUpdate(collecting, 1, committed, MALFORMED),
        ledger.key_holder,
        "TrainingNotAggregator",
        collecting,
        ledger.key_holder,
    )
    ledger.assert_reverts(
        training.excludeUpdate(collecting, 1, committed, MALFORMED),
        ledger.aggregator,
        "TrainingSubmissionWindowOpen",
        collecting,
        1,
        ledger.round(collecting, 1).submissionDeadlineBlock,
    )
    ledger.mine_past(ledger.round(collecting, 1).submissionDeadlineBlock)
    ledger.assert_reverts(
        training.excludeUpdate(collecting, 1, digest("never"), MALFORMED),
        ledger.aggregator,
        "TrainingUnknownUpdate",
        collecting,
        1,
        digest("never"),
    )
    ledger.send(training.excludeUpdate(collecting, 1, committed, MALFORMED), ledger.aggregator)
    ledger.assert_reverts(
        training.excludeUpdate(collecting, 1, committed, MALFORMED),
        ledger.aggregator,
        "TrainingUpdateAlreadyExcluded",
        collecting,
        1,
        committed,
    )


def test_exclude_update_of_an_earlier_round_is_unknown(ledger: Ledger) -> None:
    training = ledger.training.functions
    task_id = ledger.setup_task(participants=2)
    ledger.run_accepted_round(task_id, [1, 1])
    ledger.open_round(task_id)
    ledger.commit_updates(task_id, 2, [1, 1])
    earlier = update_digest(task_id, 1, 0)
    ledger.assert_reverts(
        training.excludeUpdate(task_id, 2, earlier, MALFORMED),
        ledger.aggregator,
        "TrainingUnknownUpdate",
        task_id,
        2,
        earlier,
    )


def test_exclude_update_after_aggregation_is_wrong_phase(ledger: Ledger, aggregated: int) -> None:
    ledger.assert_reverts(
        ledger.training.functions.excludeUpdate(
            aggregated, 1, update_digest(aggregated, 1, 0), MALFORMED
        ),
        ledger.aggregator,
        "TrainingWrongPhase",
        aggregated,
        1,
        COLLECTING,
        AGGREGATED,
    )


# -- commitAggregate / commitModel / rejectAggregate -------------------------------------------


def test_not_aggregator(ledger: Ledger, closed: int) -> None:
    ledger.assert_reverts(
        _aggregate_call(ledger, closed, 1, digest("a")),
        ledger.key_holder,
        "TrainingNotAggregator",
        closed,
        ledger.key_holder,
    )


def test_too_few_updates(ledger: Ledger, task: int) -> None:
    ledger.open_round(task)
    ledger.commit_updates(task, 1, [10])
    ledger.mine_past(ledger.round(task, 1).submissionDeadlineBlock)
    ledger.assert_reverts(
        _aggregate_call(ledger, task, 1, digest("a")),
        ledger.aggregator,
        "TrainingTooFewUpdates",
        task,
        1,
        1,
        2,
    )


def test_submission_window_open(ledger: Ledger, collecting: int) -> None:
    """2 of 4 eligible participants committed: the aggregator must wait for the deadline."""
    deadline = ledger.round(collecting, 1).submissionDeadlineBlock
    ledger.assert_reverts(
        _aggregate_call(ledger, collecting, 1, digest("a")),
        ledger.aggregator,
        "TrainingSubmissionWindowOpen",
        collecting,
        1,
        deadline,
    )


def test_update_set_mismatch_on_count(ledger: Ledger, closed: int) -> None:
    included = ledger.included_updates(closed, 1)
    ledger.assert_reverts(
        ledger.training.functions.commitAggregate(
            closed, 1, digest("a"), 3, updates_hash(included)
        ),
        ledger.aggregator,
        "TrainingUpdateSetMismatch",
        closed,
        1,
        2,
        updates_hash(included),
        3,
        updates_hash(included),
    )


def test_not_key_holder(ledger: Ledger, aggregated: int) -> None:
    for call in (
        ledger.training.functions.commitModel(aggregated, 1, digest("m")),
        ledger.training.functions.rejectAggregate(aggregated, 1, digest("r")),
    ):
        ledger.assert_reverts(
            call, ledger.aggregator, "TrainingNotKeyHolder", aggregated, ledger.aggregator
        )


def test_model_or_rejection_before_aggregate_is_wrong_phase(
    ledger: Ledger, collecting: int
) -> None:
    for call in (
        ledger.training.functions.commitModel(collecting, 1, digest("m")),
        ledger.training.functions.rejectAggregate(collecting, 1, digest("r")),
    ):
        ledger.assert_reverts(
            call, ledger.key_holder, "TrainingWrongPhase", collecting, 1, AGGREGATED, COLLECTING
        )


def test_second_aggregate_is_wrong_phase(ledger: Ledger, validating: int) -> None:
    ledger.assert_reverts(
        ledger.training.functions.commitAggregate(validating, 1, digest("a2"), 0, 0),
        ledger.aggregator,
        "TrainingWrongPhase",
        validating,
        1,
        COLLECTING,
        VALIDATING,
    )


# -- votes, tallies, cancellations -------------------------------------------------------------


def test_not_validator(ledger: Ledger, validating: int) -> None:
    for account in (ledger.participants[0], ledger.coordinator, ledger.outsider):
        ledger.assert_reverts(
            ledger.training.functions.vote(validating, 1, True, 1),
            account,
            "TrainingNotValidator",
            validating,
            account,
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
    deadline = ledger.round(validating, 1).validationDeadlineBlock
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
    deadline = ledger.round(validating, 1).validationDeadlineBlock
    ledger.assert_reverts(
        ledger.training.functions.finalizeRound(validating, 1),
        ledger.outsider,
        "TrainingValidationWindowOpen",
        validating,
        1,
        deadline,
    )


def test_finalize_wrong_phase(ledger: Ledger, closed: int) -> None:
    training = ledger.training.functions
    ledger.assert_reverts(
        training.finalizeRound(closed, 0), ledger.outsider, "TrainingNotCurrentRound", 1, 0, 1
    )
    ledger.assert_reverts(
        training.finalizeRound(closed, 1),
        ledger.outsider,
        "TrainingWrongPhase",
        closed,
        1,
        VALIDATING,
        COLLECTING,
    )


def test_finalize_twice_is_wrong_phase(ledger: Ledger, validating: int) -> None:
    training = ledger.training.functions
    ledger.mine_past(ledger.round(validating, 1).validationDeadlineBlock)
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


def test_round_not_stalled(ledger: Ledger, collecting: int) -> None:
    training = ledger.training.functions
    state = ledger.round(collecting, 1)
    # Window open: nothing is late yet.
    ledger.assert_reverts(
        training.cancelRound(collecting, 1),
        ledger.outsider,
        "TrainingRoundNotStalled",
        collecting,
        1,
        state.submissionDeadlineBlock,
    )
    # Window closed with enough updates: the aggregator has until its action deadline.
    ledger.mine_past(state.submissionDeadlineBlock)
    ledger.assert_reverts(
        training.cancelRound(collecting, 1),
        ledger.outsider,
        "TrainingRoundNotStalled",
        collecting,
        1,
        state.actionDeadlineBlock,
    )


def test_cancel_a_voting_or_finished_round_is_wrong_phase(ledger: Ledger, validating: int) -> None:
    training = ledger.training.functions
    ledger.assert_reverts(
        training.cancelRound(validating, 1),
        ledger.outsider,
        "TrainingWrongPhase",
        validating,
        1,
        COLLECTING,
        VALIDATING,
    )
    ledger.vote_all(validating, 1)
    ledger.assert_reverts(
        training.cancelRound(validating, 1),
        ledger.outsider,
        "TrainingWrongPhase",
        validating,
        1,
        COLLECTING,
        ACCEPTED,
    )


# -- rewards -----------------------------------------------------------------------------------


def test_round_not_accepted(ledger: Ledger, validating: int) -> None:
    training = ledger.training.functions
    participant = ledger.participants[0]
    committed = update_digest(validating, 1, 0)
    for round_number in (1, 5):
        ledger.assert_reverts(
            training.claimReward(validating, round_number, committed),
            participant,
            "TrainingRoundNotAccepted",
            validating,
            round_number,
        )
    ledger.mine_past(ledger.round(validating, 1).validationDeadlineBlock)
    ledger.send(training.finalizeRound(validating, 1), ledger.outsider)
    assert ledger.round(validating, 1).phase == REJECTED
    ledger.assert_reverts(
        training.claimReward(validating, 1, committed),
        participant,
        "TrainingRoundNotAccepted",
        validating,
        1,
    )


def test_no_contribution(ledger: Ledger, accepted: int) -> None:
    training = ledger.training.functions
    theirs = update_digest(accepted, 1, 0)
    # Someone else's digest, an unknown digest, or one's own digest named for another round.
    for account, claimed in (
        (ledger.participants[2], theirs),
        (ledger.outsider, theirs),
        (ledger.participants[2], digest("unknown")),
    ):
        ledger.assert_reverts(
            training.claimReward(accepted, 1, claimed),
            account,
            "TrainingNoContribution",
            accepted,
            1,
            account,
        )
    ledger.open_round(accepted)
    ledger.commit_updates(accepted, 2, [1, 1])
    ledger.aggregate_and_commit_model(accepted, 2)
    ledger.vote_all(accepted, 2)
    ledger.assert_reverts(
        training.claimReward(accepted, 2, theirs),
        ledger.participants[0],
        "TrainingNoContribution",
        accepted,
        2,
        ledger.participants[0],
    )


def test_reward_already_claimed(ledger: Ledger, accepted: int) -> None:
    participant = ledger.participants[0]
    ledger.claim(accepted, 1, 0)
    balance = ledger.balance(participant)
    ledger.assert_reverts(
        ledger.training.functions.claimReward(accepted, 1, update_digest(accepted, 1, 0)),
        participant,
        "TrainingRewardAlreadyClaimed",
        accepted,
        1,
        participant,
    )
    assert ledger.balance(participant) == balance


# -- the policy --------------------------------------------------------------------------------


@pytest.mark.parametrize(("samples", "total"), [(0, 10), (11, 10), (1, 0)])
def test_policy_rejects_invalid_share(ledger: Ledger, samples: int, total: int) -> None:
    ledger.assert_reverts(
        ledger.policy.functions.rewardFor(1, 1, ledger.outsider, 1_000, samples, total),
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
    named = set(re.findall(r'"([A-Za-z0-9]+)"', sources))
    declared = {
        item["name"]
        for name in artifact_names()
        for item in load_artifact(name)["abi"]
        if item["type"] == "error"
    }
    # OpenZeppelin errors our flows cannot raise: stock ERC-20 transfer/allowance checks, the
    # role-renouncing confirmation, SafeCast inside the admin rules, and SafeERC20's failure
    # (FedToken reverts with its own errors instead of returning false).
    stock = {
        name
        for name in declared
        if name.startswith("ERC20") and name not in {"ERC20ExceededCap", "ERC20InvalidCap"}
    } | {
        "AccessControlBadConfirmation",
        "SafeCastOverflowedUintDowncast",
        "SafeERC20FailedOperation",
    }
    # OpenZeppelin's governance stack (Governor, TimelockController, Votes, ERC20Permit): errors
    # of paths the engine never takes (signature votes and permits, cancelling, proposal deposits,
    # params, executor-only calls, predecessors, reconfiguring the quorum or the period) or that
    # its settings rule out (proposal threshold 0, block-number clocks), plus library internals
    # (checkpoint ordering, nonces, ECDSA, failed low-level calls). The ones a user can meet are
    # tested in test_fed_governor.py and worded in REFUSALS.
    governance_stock = {
        name
        for name in declared
        if name.startswith(("Governor", "Timelock", "ERC2612", "ECDSA", "ERC6372"))
        and name
        not in {
            "GovernorUnexpectedProposalState",
            "GovernorAlreadyCastVote",
            "TimelockUnexpectedOperationState",
        }
    } | {
        "CheckpointUnorderedInsertion",
        "InvalidAccountNonce",
        "InvalidShortString",  # EIP712 under ERC20Permit: the token's name is a short constant
        "StringTooLong",
        "FailedCall",
        "VotesExpiredSignature",
    }
    assert declared - stock - governance_stock - named == set()
