"""Admission-controlled tasks through the engine: only admitted parties join, a sample cap bounds
what an update declares, a revoked party submits nothing more; every refusal comes before any
write and names what to do next."""

from __future__ import annotations

import pytest
from engine_helpers import fit_and_capture, head, logistic_regression

from fedchain_magics import TaskConfig
from fedchain_magics.chain import ContractRevertError
from fedchain_magics.chain.keystore import KeystoreError
from fedchain_magics.engine.errors import InvalidInputError, NotAdmittedError, refusal
from fedchain_magics.engine.session import DataRef, Session

ALICE, BOB, TEST = DataRef("X_alice", "y_alice"), DataRef("X_bob", "y_bob"), DataRef("X_t", "y_t")


@pytest.fixture
def session(tmp_path, breast_cancer):
    split = breast_cancer
    half = len(split.y_train) // 2
    namespace = {
        "model": logistic_regression(split),
        "X_alice": split.X_train[:half],
        "y_alice": split.y_train[:half],
        "X_bob": split.X_train[half:],
        "y_bob": split.y_train[half:],
        "X_t": split.X_test,
        "y_t": split.y_test,
    }
    opened = Session(namespace)
    opened.open(tmp_path / "ledger")
    yield opened
    opened.close()


def _invited_task(session: Session, **config) -> int:
    task = session.create_task(
        session.model("model"), TaskConfig(admission="invited", min_participants=1, **config)
    )
    return task.task_id


def _store_files(session: Session) -> set[str]:
    root = session.federation.workspace
    return {str(path.relative_to(root)) for path in root.rglob("*") if "blobs" in path.parts}


def test_a_party_joins_only_once_admitted_and_learns_its_address(session):
    task_id = _invited_task(session)
    address = session.federation.account("alice").address
    before = head(session.federation)

    with pytest.raises(NotAdmittedError) as refused:
        session.join(task_id, "alice", ALICE)

    assert address in str(refused.value) and "coordinator" in str(refused.value)
    assert head(session.federation) == before  # nothing was sent
    session.admit(task_id, ["alice"])
    session.join(task_id, "alice", ALICE)
    assert session.participants(task_id) == ["alice"]
    assert session.task(task_id).state().params.admission_controlled


def test_a_sample_cap_is_refused_before_encrypting_then_lifted(session):
    task_id = _invited_task(session)
    session.join(task_id, "validator-1", TEST, validator=True)
    session.admit(task_id, ["alice"], sample_cap=100)  # alice holds more than 100 samples
    session.join(task_id, "alice", ALICE)
    fit_and_capture(session, task_id, "alice")
    before, blobs = head(session.federation), _store_files(session)

    with pytest.raises(InvalidInputError, match=r"at most 100 samples an update, not \d+"):
        session.submit(task_id, "alice")

    assert head(session.federation) == before and _store_files(session) == blobs
    session.admit(task_id, ["alice"])  # admitted again, with the task's bound
    submission = session.submit(task_id, "alice")
    assert submission.round == 1
    aggregate, _ = session.aggregate(task_id)
    assert aggregate is not None and aggregate.update_count == 1
    assert session.validate(task_id, "validator-1").accept


def test_the_contract_refuses_a_declared_count_over_the_cap_in_plain_words(session):
    """A client that skips the engine's own check meets the contract's, worded."""
    task_id = _invited_task(session)
    session.admit(task_id, ["alice"], sample_cap=100)
    session.join(task_id, "alice", ALICE)
    task = session.task(task_id)
    round_number = session.open_next_round(task_id)
    alice = session.federation.account("alice")

    with pytest.raises(ContractRevertError) as reverted:
        task.federation.registry.commit_update(alice, task_id, round_number, b"\x01" * 32, 101)
    worded = refusal(reverted.value, session.name_of)

    assert worded.revert.error_name == "TrainingSamplesOverCap"
    assert "admitted to task 1 for at most 100 samples an update, not 101" in str(worded)


def test_a_revoked_party_submits_nothing_more(session):
    task_id = _invited_task(session)
    session.admit(task_id, ["alice", "bob"])
    session.join(task_id, "alice", ALICE)
    session.join(task_id, "bob", BOB)
    session.revoke_admission(task_id, "bob")
    fit_and_capture(session, task_id, "bob")

    with pytest.raises(InvalidInputError, match="admission to task 1 was revoked"):
        session.submit(task_id, "bob")

    assert session.task(task_id).state().participant_count == 1
    session.admit(task_id, ["bob"])
    assert session.submit(task_id, "bob").round == 1


def test_admission_refusals_name_the_fix(session):
    open_task = session.create_task(session.model("model"), TaskConfig()).task_id
    with pytest.raises(InvalidInputError, match=r"open to anyone.*admission=\"invited\""):
        session.admit(open_task, ["alice"])
    task_id = _invited_task(session, max_samples_per_update=500)
    before = head(session.federation)
    for accounts, cap, message in [
        (["0x1234"], None, "not an account address"),
        (["alice"], 501, "from 1 to 500"),
        (["alice"], 0, "from 1 to 500"),
        ([], None, "at least one account"),
        (["bad name!"], None, "not a valid account name"),
    ]:
        with pytest.raises((InvalidInputError, KeystoreError), match=message):
            session.admit(task_id, accounts, cap)
    assert head(session.federation) == before
    with pytest.raises(InvalidInputError, match="admission must be one of open, invited"):
        TaskConfig(admission="closed").check(validator_count=1)
