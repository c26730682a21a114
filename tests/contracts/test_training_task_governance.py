"""Who manages a task's validator set and round rules: its coordinator, until it hands them to a
governor (a governance timelock); removing validators and setting the round rules between rounds
only; every refusal by its custom error and every change by its event."""

from __future__ import annotations

import pytest
from ledger_harness import (
    ACCEPTED,
    ZERO_ADDRESS,
    Ledger,
)


@pytest.fixture
def task_id(ledger: Ledger) -> int:
    """A task with 3 validators, quorum 1, 4 participants, min participants 2."""
    return ledger.setup_task(validators=3, participants=4, minParticipants=2, validatorQuorum=1)


def _hand_over(ledger: Ledger, task_id: int, governor: str) -> list:
    receipt = ledger.send(
        ledger.training.functions.handOverGovernance(task_id, governor), ledger.coordinator
    )
    return ledger.events(receipt)


def test_the_coordinator_hands_the_task_over_and_keeps_running_rounds(
    ledger: Ledger, task_id: int
) -> None:
    training = ledger.training.functions
    governor = ledger.outsider
    assert training.getTask(task_id).call().governor == ZERO_ADDRESS

    events = _hand_over(ledger, task_id, governor)

    assert events == [
        (
            "GovernanceHandedOver",
            {"taskId": task_id, "by": ledger.coordinator, "governor": governor},
        )
    ]
    assert training.getTask(task_id).call().governor == governor
    newcomer = ledger.validators[3]
    for call in (
        training.addValidator(task_id, newcomer),
        training.removeValidator(task_id, ledger.validators[0]),
        training.setRoundRules(task_id, 1, 1),
        training.handOverGovernance(task_id, newcomer),
    ):
        ledger.assert_reverts(
            call, ledger.coordinator, "TrainingNotManager", task_id, ledger.coordinator, governor
        )
    ledger.send(training.addValidator(task_id, newcomer), governor)
    assert training.isValidator(task_id, newcomer).call()
    # Rounds stay the coordinator's.
    ledger.run_accepted_round(task_id, [1, 1])


def test_a_governor_moves_the_task_to_another_and_zero_is_refused(
    ledger: Ledger, task_id: int
) -> None:
    training = ledger.training.functions
    first, second = ledger.outsider, ledger.participants[6]
    ledger.assert_reverts(
        training.handOverGovernance(task_id, ZERO_ADDRESS),
        ledger.coordinator,
        "TrainingInvalidGovernor",
        task_id,
        ZERO_ADDRESS,
    )
    _hand_over(ledger, task_id, first)

    receipt = ledger.send(training.handOverGovernance(task_id, second), first)

    assert ledger.events(receipt) == [
        ("GovernanceHandedOver", {"taskId": task_id, "by": first, "governor": second})
    ]
    ledger.assert_reverts(
        training.setRoundRules(task_id, 1, 1), first, "TrainingNotManager", task_id, first, second
    )


def test_a_removed_validator_votes_no_more_and_leaves_between_rounds(
    ledger: Ledger, task_id: int
) -> None:
    training = ledger.training.functions
    removed = ledger.validators[2]
    round_number = ledger.open_round(task_id)
    ledger.assert_reverts(
        training.removeValidator(task_id, removed),
        ledger.coordinator,
        "TrainingRoundStillOpen",
        task_id,
        round_number,
    )
    ledger.commit_updates(task_id, round_number, [1, 1])
    ledger.aggregate_and_commit_model(task_id, round_number)
    ledger.vote_all(task_id, round_number)

    receipt = ledger.send(training.removeValidator(task_id, removed), ledger.coordinator)

    assert ledger.events(receipt) == [
        ("ValidatorRemoved", {"taskId": task_id, "validator": removed, "validatorCount": 2})
    ]
    assert not training.isValidator(task_id, removed).call()
    assert training.getTask(task_id).call().validatorCount == 2
    ledger.assert_reverts(
        training.removeValidator(task_id, removed),
        ledger.coordinator,
        "TrainingNotValidator",
        task_id,
        removed,
    )
    second = ledger.open_round(task_id)
    assert ledger.round(task_id, second).validatorCount == 2
    ledger.commit_updates(task_id, second, [1, 1])
    ledger.aggregate_and_commit_model(task_id, second)
    ledger.assert_reverts(
        training.vote(task_id, second, True, 1), removed, "TrainingNotValidator", task_id, removed
    )
    ledger.vote_all(task_id, second)  # the two left: the round is decided without it
    assert ledger.round(task_id, second).phase == ACCEPTED


def test_round_rules_change_between_rounds_and_apply_from_the_next(
    ledger: Ledger, task_id: int
) -> None:
    training = ledger.training.functions
    ledger.run_accepted_round(task_id, [1, 1])
    for minimum, quorum, error in (
        (0, 1, "TrainingInvalidMinParticipants"),
        (1, 0, "TrainingInvalidValidatorQuorum"),
    ):
        ledger.assert_reverts(
            training.setRoundRules(task_id, minimum, quorum),
            ledger.coordinator,
            error,
            0,
        )
    ledger.assert_reverts(
        training.setRoundRules(task_id, 3, 2),
        ledger.outsider,
        "TrainingNotManager",
        task_id,
        ledger.outsider,
        ledger.coordinator,
    )

    receipt = ledger.send(training.setRoundRules(task_id, 3, 2), ledger.coordinator)

    assert ledger.events(receipt) == [
        (
            "RoundRulesChanged",
            {
                "taskId": task_id,
                "fromRound": 2,
                "by": ledger.coordinator,
                "minParticipants": 3,
                "validatorQuorum": 2,
            },
        )
    ]
    round_number = ledger.open_round(task_id)
    ledger.assert_reverts(
        training.setRoundRules(task_id, 1, 1),
        ledger.coordinator,
        "TrainingRoundStillOpen",
        task_id,
        round_number,
    )
    ledger.commit_updates(task_id, round_number, [1, 1])
    ledger.close_collection(task_id, round_number)
    too_few = training.commitAggregate(task_id, round_number, b"\x01" * 32, 2, 0)
    error = ledger.simulate_revert(too_few, ledger.aggregator)
    assert (error.name, error.args[2:]) == ("TrainingTooFewUpdates", (2, 3))
