"""The per-kernel ``Session`` the magics hold, used directly as a script would: no IPython."""

from __future__ import annotations

import subprocess
import sys
import warnings

import pytest
from engine_helpers import head, logistic_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from fedchain_magics import TaskConfig
from fedchain_magics.aggregation import sum_encrypted
from fedchain_magics.chain import ContractRevertError, RoundPhase
from fedchain_magics.engine.errors import (
    CollectionOpenError,
    DataMismatchError,
    MissingKeyError,
    NoFederationError,
    NotAModelError,
    NotValidatorError,
    RoundPhaseError,
    RoundsExhaustedError,
    StaleUpdateError,
    TooFewUpdatesError,
    UnknownPartyError,
    UnknownTaskError,
    UnknownVariableError,
)
from fedchain_magics.engine.session import DataRef, Session
from fedchain_magics.models.errors import ModelNotInitializedError


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
        "X_test": split.X_test,
        "y_test": split.y_test,
        "_hidden": 1,
    }
    opened = Session(namespace, hidden_names={"X_bobby"})
    opened.open(tmp_path / "ledger")
    yield opened
    opened.close()


ALICE, BOB, TEST = (
    DataRef("X_alice", "y_alice"),
    DataRef("X_bob", "y_bob"),
    DataRef("X_test", "y_test"),
)


def fit(session, task_id, name):
    model = session.start_training(task_id, name)
    X, y = session.data(session.parties[(task_id, name)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    return session.capture_update(task_id, name, model)


def new_task(session, **config):
    task = session.create_task(session.model("model"), TaskConfig(**config))
    return task.task_id


def test_a_round_through_the_session(session):
    task_id = new_task(session, min_participants=2)
    session.join(task_id, "alice", ALICE)
    session.join(task_id, "bob", BOB)
    session.join(task_id, "validator-1", TEST, validator=True)
    assert session.participants(task_id) == ["alice", "bob"]
    assert session.validators(task_id) == ["validator-1"]
    for name in ("alice", "bob"):
        fit(session, task_id, name)
        submission = session.submit(task_id, name)
        assert submission.round == 1 and (task_id, name) not in session.updates
    aggregate, _ = session.aggregate(task_id)
    assert aggregate is not None and aggregate.update_count == 2
    vote = session.validate(task_id, "validator-1")
    assert vote.accept and vote.aggregate_verified
    pending = session.pending_rewards()
    assert {p.name for p in pending} == {"alice", "bob"}
    claimed = session.claim_all(task_id)
    assert sum(claimed.values()) == sum(p.amount for p in pending)
    assert session.pending_rewards() == []
    assert session.claim("alice") == 0


def test_variables_are_looked_up_by_name_with_suggestions(session):
    with pytest.raises(UnknownVariableError) as caught:
        session.variable("X_alce")
    assert caught.value.suggestion == "X_alice"
    with pytest.raises(UnknownVariableError) as caught:
        session.variable("hidden")  # names starting with _ are never suggested
    assert caught.value.suggestion is None
    with pytest.raises(DataMismatchError):
        session.data(DataRef("X_alice", "y_test"))
    with pytest.raises(NotAModelError):
        session.model("y_test")
    session.namespace["raw"] = LogisticRegression()
    with pytest.raises(ModelNotInitializedError):
        session.model("raw")


def test_refusals_come_before_any_write(session):
    task_id = new_task(session, min_participants=2)
    session.join(task_id, "alice", ALICE)
    assert session.open_next_round(task_id) == 1
    before = head(session.federation)
    with pytest.raises(UnknownTaskError) as caught:
        session.submit(9, "alice")
    assert caught.value.task_ids == [1]
    with pytest.raises(UnknownPartyError) as caught:
        session.start_training(task_id, "alcie")
    assert caught.value.suggestion == "alice"
    with pytest.raises(TooFewUpdatesError):
        session.aggregate(task_id)
    with pytest.raises(RoundPhaseError) as phase:
        session.validate(task_id, "validator-1", TEST)
    assert phase.value.phase == RoundPhase.COLLECTING
    with pytest.raises(NotValidatorError):
        session.validate(task_id, "alice", TEST)
    with pytest.raises(UnknownPartyError):
        session.claim("nobody")
    with pytest.raises(ValueError, match="validator names repeat"):
        session.create_task(session.model("model"), validators=["v1", "v1"])
    with pytest.raises(ValueError, match="at most"):
        session.create_task(session.model("model"), TaskConfig(rounds=2**32))
    with pytest.raises(ModelNotInitializedError):
        session.create_task(LogisticRegression())
    assert head(session.federation) == before


def test_an_update_from_an_earlier_round_is_stale(session):
    task_id = new_task(session, min_participants=1, submission_window_blocks=12)
    session.join(task_id, "alice", ALICE)
    session.join(task_id, "bob", BOB)
    fit(session, task_id, "alice")  # captured in round 1, never submitted
    fit(session, task_id, "bob")
    session.submit(task_id, "bob")
    session.federation.ledger.mine_blocks(12)
    session.aggregate(task_id)
    session.validate(task_id, "validator-1", TEST)
    assert session.open_next_round(task_id) == 2
    with pytest.raises(StaleUpdateError) as caught:
        session.submit(task_id, "alice")
    assert (caught.value.trained_round, caught.value.open_round) == (1, 2)


def test_the_next_round_cancels_a_stalled_round_without_using_up_the_task(session):
    task_id = new_task(session, rounds=1, submission_window_blocks=2, min_participants=1)
    session.join(task_id, "alice", ALICE)
    assert session.open_next_round(task_id) == 1
    session.federation.ledger.mine_blocks(3)  # the window passed with no update
    assert session.open_next_round(task_id) == 2
    task = session.task(task_id)
    assert task.round_state(1).phase == RoundPhase.CANCELLED
    assert task.state().voted_rounds == 0 and not task.state().ended
    fit(session, task_id, "alice")
    session.submit(task_id, "alice")
    session.aggregate(task_id)
    session.validate(task_id, "validator-1", TEST)
    assert task.state().ended  # its one round was voted on
    before = head(session.federation)
    with pytest.raises(RoundsExhaustedError):
        session.open_next_round(task_id)
    assert head(session.federation) == before


def test_a_workspace_without_the_role_keys_cannot_aggregate(session):
    task_id = new_task(session, min_participants=1)
    session.join(task_id, "alice", ALICE)
    fit(session, task_id, "alice")
    session.submit(task_id, "alice")
    (session.federation.workspace / "keystore" / "aggregator.json").unlink()
    before = head(session.federation)
    with pytest.raises(MissingKeyError) as caught:
        session.aggregate(task_id)
    assert caught.value.role == "aggregator"
    assert head(session.federation) == before


def test_open_close_and_reopen(session, tmp_path):
    task_id = new_task(session, min_participants=1)
    session.join(task_id, "alice", ALICE)
    workspace = session.federation.workspace
    assert session.holds(workspace) and session.open(workspace) is session.federation
    session.close()
    with pytest.raises(NoFederationError):
        session.require_federation()
    session.open(workspace)
    assert session.parties == {(task_id, "alice"): ALICE}  # same workspace: bindings kept
    session.open(tmp_path / "other")
    assert session.parties == {}


def test_the_session_does_not_import_ipython():
    script = "import sys, fedchain_magics.engine.session; print('IPython' in sys.modules)"
    completed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    assert completed.stdout.strip() == "False"


def test_a_refused_aggregate_leaves_no_blob_behind(session):
    task_id = new_task(session, min_participants=1)
    for name, data in (("alice", ALICE), ("bob", BOB), ("carol", TEST)):
        session.join(task_id, name, data)
    for name in ("alice", "bob"):  # two updates, so the sum is a new blob
        fit(session, task_id, name)
        session.submit(task_id, name)
    store = session.federation.store.root
    blobs = sorted(path for path in store.rglob("*") if path.is_file())
    before = head(session.federation)
    with pytest.raises(CollectionOpenError):
        session.aggregate(task_id)  # carol joined but has not submitted; the window is open
    assert sorted(path for path in store.rglob("*") if path.is_file()) == blobs
    assert head(session.federation) == before
    # The contract refuses a sum that names another set of updates: the sum stored for the
    # commitment is removed again, since nothing was sent.
    session.federation.ledger.mine_blocks(1_000)
    task = session.task(task_id)
    aggregate = sum_encrypted(task.public_scheme, task.committed_update_blobs(1))
    with pytest.raises(ContractRevertError) as caught:
        task.aggregator().commit_aggregate_blob(1, aggregate, task.commitments(1)[:1])
    assert caught.value.error_name == "TrainingUpdateSetMismatch"
    assert sorted(path for path in store.rglob("*") if path.is_file()) == blobs
