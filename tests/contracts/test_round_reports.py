"""RoundReports: the key holder anchors a valued round's group report, each validator its scores,
once each, only once the round's model is committed; every refusal is a named custom error."""

from __future__ import annotations

import pytest
from ledger_harness import Ledger, _deploy, digest, load_artifact, revert_data

REPORT = digest("group report")
SCORES = digest("scores")
ZERO = "0x" + "00" * 20


@pytest.fixture
def reports(ledger: Ledger):
    return _deploy(ledger.w3, "RoundReports", ledger.deployer, ledger.training.address)


@pytest.fixture
def validating(ledger: Ledger) -> tuple[int, int]:
    """A task whose round 1 has its model committed (phase Validating)."""
    task_id = ledger.setup_task(participants=3, minParticipants=3)
    round_number = ledger.open_round(task_id)
    ledger.commit_updates(task_id, round_number, [10, 20, 30])
    ledger.aggregate_and_commit_model(task_id, round_number)
    return task_id, round_number


def test_the_key_holder_reports_the_groups_once_and_the_event_names_the_digest(
    ledger: Ledger, reports, validating
):
    task_id, round_number = validating
    receipt = ledger.send(
        reports.functions.reportGroups(task_id, round_number, REPORT), ledger.key_holder
    )
    event = reports.events.GroupsReported().process_receipt(receipt)[0]["args"]
    assert (event["taskId"], event["round"], event["reportDigest"]) == (
        task_id,
        round_number,
        REPORT,
    )
    assert reports.functions.groupReport(task_id, round_number).call() == REPORT
    ledger.assert_reverts(
        reports.functions.reportGroups(task_id, round_number, digest("other")),
        ledger.key_holder,
        "ReportsAlreadyReported",
        task_id,
        round_number,
        ledger.key_holder,
    )


def test_only_the_key_holder_reports_groups_and_only_after_the_model(ledger: Ledger, reports):
    task_id = ledger.setup_task(participants=3, minParticipants=3)
    round_number = ledger.open_round(task_id)
    ledger.assert_reverts(
        reports.functions.reportGroups(task_id, round_number, REPORT),
        ledger.aggregator,
        "ReportsNotKeyHolder",
        task_id,
        ledger.aggregator,
    )
    ledger.assert_reverts(
        reports.functions.reportGroups(task_id, round_number, REPORT),
        ledger.key_holder,
        "ReportsWrongPhase",
        task_id,
        round_number,
        1,  # Collecting
    )
    ledger.assert_reverts(
        reports.functions.reportGroups(task_id, round_number, bytes(32)),
        ledger.key_holder,
        "ReportsZeroDigest",
    )


def test_each_validator_reports_its_scores_once(ledger: Ledger, reports, validating):
    task_id, round_number = validating
    first, second = ledger.validators[:2]
    receipt = ledger.send(reports.functions.reportScores(task_id, round_number, SCORES), first)
    event = reports.events.ScoresReported().process_receipt(receipt)[0]["args"]
    assert (event["validator"], event["scoresDigest"]) == (first, SCORES)
    ledger.send(reports.functions.reportScores(task_id, round_number, digest("b")), second)
    assert reports.functions.scoreReport(task_id, round_number, first).call() == SCORES
    assert reports.functions.scoreReport(task_id, round_number, second).call() == digest("b")
    ledger.assert_reverts(
        reports.functions.reportScores(task_id, round_number, SCORES),
        first,
        "ReportsAlreadyReported",
        task_id,
        round_number,
        first,
    )
    ledger.assert_reverts(
        reports.functions.reportScores(task_id, round_number, SCORES),
        ledger.participants[0],
        "ReportsNotValidator",
        task_id,
        ledger.participants[0],
    )


def test_a_zero_registry_is_refused(ledger: Ledger):
    artifact = load_artifact("RoundReports")
    factory = ledger.w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
    with pytest.raises(Exception) as refused:
        factory.constructor("0x" + "00" * 20).estimate_gas({"from": ledger.deployer})
    assert ledger.errors.decode(revert_data(refused.value)).name == "ReportsInvalidRegistry"


def test_task_stakes_refuses_a_zero_registry_or_policy(ledger: Ledger):
    """(Beside RoundReports' own: the other contract that sits beside the registry.)"""
    artifact = load_artifact("TaskStakes")
    factory = ledger.w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
    rules = _deploy(ledger.w3, "TaskRules", ledger.deployer, ledger.training.address).address
    for registry, policy in ((ZERO, ledger.policy.address), (ledger.training.address, ZERO)):
        with pytest.raises(Exception) as refused:
            factory.constructor(registry, policy, rules).estimate_gas({"from": ledger.deployer})
        assert ledger.errors.decode(revert_data(refused.value)).name == "StakesInvalidAddress"
