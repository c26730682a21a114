"""TaskRules: a task's coordinator sets its first rules and hands them to a governor; every
change applies from the round after the one open when it is made, and any round's rules can be
read back."""

from __future__ import annotations

import pytest
from ledger_harness import (
    LEAVE_ONE_OUT,
    PROPORTIONAL,
    SHAPLEY,
    ZERO_ADDRESS,
    Ledger,
    _deploy,
    rules_tuple,
)
from web3.contract import Contract
from web3.logs import DISCARD


@pytest.fixture
def rules(ledger: Ledger) -> Contract:
    return _deploy(ledger.w3, "TaskRules", ledger.deployer, ledger.training.address)


def _events(ledger: Ledger, rules: Contract, receipt):  # type: ignore[no-untyped-def]
    """The receipt's TaskRules events, decoded."""
    decoded = []
    for name in ("RulesChanged", "RulesHandedOver"):
        event = getattr(rules.events, name)()
        for log in event.process_receipt(receipt, errors=DISCARD):
            args = dict(log["args"])
            if "rules" in args:
                args["rules"] = tuple(args["rules"].values())
            decoded.append((name, args))
    return decoded


def _as_tuple(value) -> tuple[int, ...]:  # type: ignore[no-untyped-def]
    return tuple(int(field) for field in value)


def _governed_task(ledger: Ledger, rules: Contract, governor: str) -> int:
    """A task with the default rules, handed to ``governor`` (an account, standing in for the
    timelock so each change is one direct call)."""
    task_id = ledger.setup_task(validators=2, participants=3)
    ledger.send(rules.functions.setInitialRules(task_id, rules_tuple()), ledger.coordinator)
    ledger.send(rules.functions.handOver(task_id, governor), ledger.coordinator)
    return task_id


def test_the_coordinator_sets_first_rules_that_apply_from_round_one(
    ledger: Ledger, rules: Contract
) -> None:
    task_id = ledger.setup_task()
    functions = rules.functions
    assert not functions.hasRules(task_id).call()
    ledger.assert_reverts(functions.rulesFor(task_id, 1), ledger.outsider, "RulesNotSet", task_id)
    ledger.assert_reverts(functions.latestRules(task_id), ledger.outsider, "RulesNotSet", task_id)
    first = rules_tuple(group_size=3, policy=PROPORTIONAL)
    receipt = ledger.send(functions.setInitialRules(task_id, first), ledger.coordinator)
    assert _events(ledger, rules, receipt) == [
        (
            "RulesChanged",
            {"taskId": task_id, "fromRound": 1, "by": ledger.coordinator, "rules": first},
        )
    ]
    # Set again before round 1: the new rules replace the first ones.
    second = rules_tuple(group_size=4, policy=SHAPLEY)
    ledger.send(functions.setInitialRules(task_id, second), ledger.coordinator)
    assert functions.hasRules(task_id).call()
    assert _as_tuple(functions.rulesFor(task_id, 1).call()) == second
    assert _as_tuple(functions.rulesFor(task_id, 0).call()) == second
    latest, from_round = functions.latestRules(task_id).call()
    assert (_as_tuple(latest), from_round) == (second, 1)
    assert functions.governedBy(task_id).call() == ZERO_ADDRESS


def test_first_rules_are_the_coordinators_and_set_before_round_one(
    ledger: Ledger, rules: Contract
) -> None:
    task_id = ledger.setup_task()
    functions = rules.functions
    ledger.assert_reverts(
        functions.setInitialRules(task_id, rules_tuple()),
        ledger.outsider,
        "RulesNotCoordinator",
        task_id,
        ledger.outsider,
    )
    ledger.assert_reverts(
        functions.setInitialRules(99, rules_tuple()), ledger.coordinator, "TrainingUnknownTask", 99
    )
    ledger.open_round(task_id)
    ledger.assert_reverts(
        functions.setInitialRules(task_id, rules_tuple()),
        ledger.coordinator,
        "RulesRoundsStarted",
        task_id,
        1,
    )


@pytest.mark.parametrize(
    ("rules_value", "error", "argument"),
    [
        (rules_tuple(group_size=1), "RulesInvalidGroupSize", 1),
        (rules_tuple(min_standing_ppm=1_000_001), "RulesInvalidMinStanding", 1_000_001),
        (rules_tuple(max_weight_over_median_ppm=999_999), "RulesInvalidWeightCap", 999_999),
        (rules_tuple(slash_ppm=1_000_001), "RulesInvalidSlashPpm", 1_000_001),
        (
            rules_tuple(slash_below_standing_ppm=1_000_001),
            "RulesInvalidSlashStanding",
            1_000_001,
        ),
    ],
)
def test_rules_out_of_range_are_refused(
    ledger: Ledger, rules: Contract, rules_value: tuple[int, ...], error: str, argument: int
) -> None:
    task_id = ledger.setup_task()
    call = rules.functions.setInitialRules(task_id, rules_value)
    ledger.assert_reverts(call, ledger.coordinator, error, argument)


def test_the_coordinator_hands_the_rules_over_once(ledger: Ledger, rules: Contract) -> None:
    task_id = ledger.setup_task()
    functions = rules.functions
    governor = ledger.outsider
    ledger.assert_reverts(
        functions.handOver(task_id, governor), ledger.coordinator, "RulesNotSet", task_id
    )
    ledger.send(functions.setInitialRules(task_id, rules_tuple()), ledger.coordinator)
    ledger.assert_reverts(
        functions.handOver(task_id, governor),
        ledger.outsider,
        "RulesNotCoordinator",
        task_id,
        ledger.outsider,
    )
    ledger.assert_reverts(
        functions.handOver(task_id, ZERO_ADDRESS), ledger.coordinator, "RulesInvalidGovernor"
    )
    receipt = ledger.send(functions.handOver(task_id, governor), ledger.coordinator)
    assert _events(ledger, rules, receipt) == [
        (
            "RulesHandedOver",
            {"taskId": task_id, "coordinator": ledger.coordinator, "governor": governor},
        )
    ]
    assert functions.governedBy(task_id).call() == governor
    for call in (
        functions.handOver(task_id, ledger.deployer),
        functions.setInitialRules(task_id, rules_tuple(group_size=5)),
    ):
        ledger.assert_reverts(call, ledger.coordinator, "RulesAlreadyGoverned", task_id, governor)


def test_only_the_governor_changes_governed_rules(ledger: Ledger, rules: Contract) -> None:
    ungoverned = ledger.setup_task()
    ledger.send(rules.functions.setInitialRules(ungoverned, rules_tuple()), ledger.coordinator)
    governor = ledger.outsider
    task_id = _governed_task(ledger, rules, governor)
    functions = rules.functions
    changes = (
        lambda task: functions.setGroupSize(task, 4),
        lambda task: functions.setValuationPolicy(task, LEAVE_ONE_OUT),
        lambda task: functions.setMinStanding(task, 500_000),
        lambda task: functions.setMaxWeightOverMedian(task, 3_000_000),
        lambda task: functions.setSlash(task, 200_000),
        lambda task: functions.setSlashBelowStanding(task, 300_000),
    )
    for change in changes:
        for account in (ledger.coordinator, ledger.deployer, ledger.participants[0]):
            ledger.assert_reverts(
                change(task_id), account, "RulesNotGovernor", task_id, account, governor
            )
        ledger.assert_reverts(
            change(ungoverned), governor, "RulesNotGovernor", ungoverned, governor, ZERO_ADDRESS
        )


def test_each_change_is_checked_and_applies_from_the_next_round(
    ledger: Ledger, rules: Contract
) -> None:
    governor = ledger.outsider
    task_id = _governed_task(ledger, rules, governor)
    functions = rules.functions
    before = rules_tuple()
    ledger.assert_reverts(functions.setGroupSize(task_id, 1), governor, "RulesInvalidGroupSize", 1)
    ledger.assert_reverts(
        functions.setMinStanding(task_id, 2_000_000), governor, "RulesInvalidMinStanding", 2_000_000
    )
    ledger.assert_reverts(
        functions.setMaxWeightOverMedian(task_id, 10), governor, "RulesInvalidWeightCap", 10
    )
    ledger.assert_reverts(
        functions.setSlash(task_id, 1_000_001), governor, "RulesInvalidSlashPpm", 1_000_001
    )
    ledger.assert_reverts(
        functions.setSlashBelowStanding(task_id, 1_000_001),
        governor,
        "RulesInvalidSlashStanding",
        1_000_001,
    )
    ledger.open_round(task_id)  # round 1 open: changes apply from round 2
    expected = list(before)
    for call, index, value in (
        (functions.setGroupSize(task_id, 4), 0, 4),
        (functions.setValuationPolicy(task_id, LEAVE_ONE_OUT), 1, LEAVE_ONE_OUT),
        (functions.setMinStanding(task_id, 500_000), 2, 500_000),
        (functions.setMaxWeightOverMedian(task_id, 3_000_000), 3, 3_000_000),
        (functions.setSlash(task_id, 250_000), 4, 250_000),
        (functions.setSlashBelowStanding(task_id, 400_000), 5, 400_000),
    ):
        receipt = ledger.send(call, governor)
        expected[index] = value
        assert _events(ledger, rules, receipt) == [
            (
                "RulesChanged",
                {"taskId": task_id, "fromRound": 2, "by": governor, "rules": tuple(expected)},
            )
        ]
    # Round 1 keeps the rules it opened under; round 2 onward has every change made meanwhile.
    assert _as_tuple(functions.rulesFor(task_id, 1).call()) == before
    assert _as_tuple(functions.rulesFor(task_id, 2).call()) == tuple(expected)
    latest, from_round = functions.latestRules(task_id).call()
    assert (_as_tuple(latest), from_round) == (tuple(expected), 2)
    # What TaskStakes reads: the offence figures of the round an offence is in.
    assert tuple(functions.slashingRulesFor(task_id, 1).call()) == (True, before[4], before[5])
    assert tuple(functions.slashingRulesFor(task_id, 2).call()) == (True, 250_000, 400_000)


def test_every_round_reads_the_rules_it_ran_under(ledger: Ledger, rules: Contract) -> None:
    governor = ledger.outsider
    task_id = _governed_task(ledger, rules, governor)
    functions = rules.functions
    ledger.send(functions.setGroupSize(task_id, 5), governor)  # before round 1: from round 1
    assert functions.rulesFor(task_id, 1).call()[0] == 5
    ledger.run_accepted_round(task_id, [10, 20, 30])
    ledger.send(functions.setGroupSize(task_id, 6), governor)  # round 1 finished: from round 2
    ledger.run_accepted_round(task_id, [10, 20, 30])
    ledger.send(functions.setGroupSize(task_id, 7), governor)  # from round 3
    groups = [functions.rulesFor(task_id, number).call()[0] for number in (0, 1, 2, 3, 4, 50)]
    assert groups == [5, 5, 6, 7, 7, 7]


def test_a_task_without_rules_has_no_slashing_rules_here(ledger: Ledger, rules: Contract) -> None:
    """The one view TaskStakes calls never reverts: a task without rules answers ``set`` false
    (its stakes then slash by their own figures)."""
    task_id = ledger.setup_task()
    assert tuple(rules.functions.slashingRulesFor(task_id, 1).call()) == (False, 0, 0)
    ledger.send(
        rules.functions.setInitialRules(task_id, rules_tuple(slash_below_standing_ppm=200_000)),
        ledger.coordinator,
    )
    for round_number in (0, 1, 9):
        slashing = rules.functions.slashingRulesFor(task_id, round_number).call()
        assert tuple(slashing) == (True, 100_000, 200_000)


def test_an_ended_tasks_rules_no_longer_change(ledger: Ledger, rules: Contract) -> None:
    governor = ledger.outsider
    task_id = _governed_task(ledger, rules, governor)
    ledger.send(ledger.training.functions.closeTask(task_id), ledger.coordinator)
    ledger.assert_reverts(
        rules.functions.setGroupSize(task_id, 4), governor, "RulesTaskEnded", task_id
    )
