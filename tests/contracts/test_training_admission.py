"""Admission control: a task that only the accounts its coordinator admits may join, each with an
optional cap on the samples its updates declare; revocation; the events and the refusals."""

from __future__ import annotations

import pytest
from ledger_harness import ROLE_PARTICIPANT, ZERO_ADDRESS, Ledger, update_digest

CAP = 200


@pytest.fixture
def invited(ledger: Ledger) -> int:
    """An admission-controlled task with 3 validators and no participant yet."""
    return ledger.setup_task(participants=0, admissionControlled=True, maxSamplesPerUpdate=1_000)


def _admit(ledger: Ledger, task_id: int, accounts: list[str], cap: int = 0) -> list:
    receipt = ledger.send(
        ledger.training.functions.admit(task_id, accounts, cap), ledger.coordinator
    )
    return ledger.events(receipt)


def test_an_open_task_admits_anyone_and_has_no_admissions(ledger: Ledger) -> None:
    task_id = ledger.setup_task(participants=1)
    newcomer = ledger.participants[1]

    ledger.send(ledger.training.functions.join(task_id), newcomer)

    assert ledger.training.functions.admission(task_id, newcomer).call() == (True, 1_000_000)
    for call in (
        ledger.training.functions.admit(task_id, [newcomer], 0),
        ledger.training.functions.revokeAdmission(task_id, newcomer),
    ):
        ledger.assert_reverts(call, ledger.coordinator, "TrainingNotAdmissionControlled", task_id)


def test_only_admitted_accounts_join_and_each_admission_is_an_event(
    ledger: Ledger, invited: int
) -> None:
    first, second, stranger = ledger.participants[:3]

    ledger.assert_reverts(
        ledger.training.functions.join(invited), first, "TrainingNotAdmitted", invited, first
    )
    events = _admit(ledger, invited, [first, second], CAP)

    assert events == [
        ("ParticipantAdmitted", {"taskId": invited, "account": first, "sampleCap": CAP}),
        ("ParticipantAdmitted", {"taskId": invited, "account": second, "sampleCap": CAP}),
    ]
    assert ledger.training.functions.admission(invited, first).call() == (True, CAP)
    assert ledger.training.functions.admission(invited, stranger).call() == (False, 0)
    ledger.send(ledger.training.functions.join(invited), first)
    member = ledger.training.functions.getMember(invited, first).call()
    assert member[0] == ROLE_PARTICIPANT and member[3] == CAP
    ledger.assert_reverts(
        ledger.training.functions.join(invited), stranger, "TrainingNotAdmitted", invited, stranger
    )


def test_an_admission_without_a_cap_takes_the_task_bound(ledger: Ledger, invited: int) -> None:
    account = ledger.participants[0]

    (event,) = _admit(ledger, invited, [account])

    assert event[1]["sampleCap"] == 1_000
    ledger.send(ledger.training.functions.join(invited), account)
    assert ledger.training.functions.getMember(invited, account).call()[3] == 1_000


def test_updates_over_the_cap_are_refused_with_the_cap(ledger: Ledger, invited: int) -> None:
    first, second = ledger.participants[:2]
    _admit(ledger, invited, [first, second], CAP)
    for account in (first, second):
        ledger.send(ledger.training.functions.join(invited), account)
    round_number = ledger.open_round(invited)
    over = ledger.training.functions.commitUpdate(
        invited, round_number, update_digest(invited, round_number, 0), CAP + 1
    )

    ledger.assert_reverts(
        over, first, "TrainingSamplesOverCap", invited, round_number, CAP + 1, CAP
    )
    # the task's own bound keeps its own error
    _admit(ledger, invited, [second], 0)
    over_task = ledger.training.functions.commitUpdate(
        invited, round_number, update_digest(invited, round_number, 1), 1_001
    )
    ledger.assert_reverts(
        over_task, second, "TrainingTooManySamples", invited, round_number, 1_001, 1_000
    )
    ledger.commit_updates(invited, round_number, [CAP, 1_000])
    assert ledger.round(invited, round_number)[3] == CAP + 1_000  # totalSamples


def test_readmitting_a_joined_party_changes_its_cap(ledger: Ledger, invited: int) -> None:
    account = ledger.participants[0]
    _admit(ledger, invited, [account], CAP)
    ledger.send(ledger.training.functions.join(invited), account)

    _admit(ledger, invited, [account], 50)

    assert ledger.training.functions.getMember(invited, account).call()[3] == 50
    assert ledger.training.functions.getTask(invited).call()[4] == 1  # participantCount


def test_a_revoked_party_neither_joins_nor_commits_and_counts_no_more(
    ledger: Ledger, invited: int
) -> None:
    joined, waiting, other = ledger.participants[:3]
    _admit(ledger, invited, [joined, waiting, other], CAP)
    for account in (joined, other):
        ledger.send(ledger.training.functions.join(invited), account)

    receipts = [
        ledger.send(ledger.training.functions.revokeAdmission(invited, account), ledger.coordinator)
        for account in (joined, waiting)
    ]

    assert [ledger.events(receipt) for receipt in receipts] == [
        [("AdmissionRevoked", {"taskId": invited, "account": joined, "wasParticipant": True})],
        [("AdmissionRevoked", {"taskId": invited, "account": waiting, "wasParticipant": False})],
    ]
    assert ledger.training.functions.getTask(invited).call()[4] == 1  # participantCount
    assert ledger.training.functions.admission(invited, joined).call() == (False, 0)
    ledger.assert_reverts(
        ledger.training.functions.join(invited), waiting, "TrainingNotAdmitted", invited, waiting
    )
    round_number = ledger.open_round(invited)
    assert ledger.round(invited, round_number)[7] == 1  # eligibleParticipants
    commit = ledger.training.functions.commitUpdate(
        invited, round_number, update_digest(invited, round_number, 0), 10
    )
    ledger.assert_reverts(commit, joined, "TrainingNotAdmitted", invited, joined)
    ledger.assert_reverts(
        ledger.training.functions.revokeAdmission(invited, joined),
        ledger.coordinator,
        "TrainingNotAdmitted",
        invited,
        joined,
    )


def test_a_revoked_participant_readmitted_takes_part_again(ledger: Ledger, invited: int) -> None:
    account = ledger.participants[0]
    _admit(ledger, invited, [account], CAP)
    ledger.send(ledger.training.functions.join(invited), account)
    ledger.send(ledger.training.functions.revokeAdmission(invited, account), ledger.coordinator)

    _admit(ledger, invited, [account], CAP)

    assert ledger.training.functions.getTask(invited).call()[4] == 1  # participantCount
    round_number = ledger.open_round(invited)
    ledger.commit_updates(invited, round_number, [CAP])
    assert ledger.round(invited, round_number)[2] == 1  # commitCount


def test_admissions_are_the_coordinators_and_checked(ledger: Ledger, invited: int) -> None:
    account = ledger.participants[0]
    admit = ledger.training.functions.admit
    for sender in (ledger.outsider, ledger.aggregator, account):
        ledger.assert_reverts(
            admit(invited, [account], 0), sender, "TrainingNotCoordinator", invited, sender
        )
        ledger.assert_reverts(
            ledger.training.functions.revokeAdmission(invited, account),
            sender,
            "TrainingNotCoordinator",
            invited,
            sender,
        )
    ledger.assert_reverts(
        admit(invited, [account], 1_001),
        ledger.coordinator,
        "TrainingInvalidSampleCap",
        invited,
        1_001,
        1_000,
    )
    ledger.assert_reverts(
        admit(invited, [account, ZERO_ADDRESS], 0),
        ledger.coordinator,
        "TrainingInvalidAccount",
        ZERO_ADDRESS,
    )
    validator = ledger.validators[0]
    ledger.assert_reverts(
        admit(invited, [account, validator], 0),
        ledger.coordinator,
        "TrainingRoleConflict",
        invited,
        validator,
        2,  # Role.Validator
    )
    ledger.assert_reverts(admit(99, [account], 0), ledger.coordinator, "TrainingUnknownTask", 99)
    # a refused batch admitted no one
    assert ledger.training.functions.admission(invited, account).call() == (False, 0)


def test_admitting_costs_the_same_per_account_whatever_the_task_size(
    ledger: Ledger, invited: int
) -> None:
    """Constant gas per admitted account: admitting 20 at once costs 20 times one, give or take
    the transaction's base cost, and the 20th account costs what the first did."""
    accounts = [ledger.w3.eth.account.create().address for _ in range(41)]
    one = ledger.send(
        ledger.training.functions.admit(invited, accounts[:1], CAP), ledger.coordinator
    )
    first_batch = ledger.send(
        ledger.training.functions.admit(invited, accounts[1:21], CAP), ledger.coordinator
    )
    second_batch = ledger.send(
        ledger.training.functions.admit(invited, accounts[21:41], CAP), ledger.coordinator
    )

    per_account = (first_batch["gasUsed"] - one["gasUsed"]) / 19
    # equal but for calldata: an address's zero bytes cost 4 gas, others 16
    assert abs(second_batch["gasUsed"] - first_batch["gasUsed"]) < 0.001 * first_batch["gasUsed"]
    assert 20_000 < per_account < 30_000
