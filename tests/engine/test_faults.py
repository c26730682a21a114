"""Faults and bad input around a round: nothing committed is lost, nothing refused is kept."""

from __future__ import annotations

import pytest
from engine_helpers import head, logistic_regression

from fedchain_magics import Federation, TaskConfig
from fedchain_magics.engine import InvalidInputError
from fedchain_magics.engine.roles import LocalUpdate


@pytest.fixture
def task(federation, breast_cancer):
    created = federation.create_task(
        logistic_regression(breast_cancer), TaskConfig(min_participants=1)
    )
    created.participant("alice").join()
    created.coordinator().open_round()
    return created


def test_an_interrupt_after_the_commitment_is_mined_keeps_the_blob(
    task, breast_cancer, monkeypatch
):
    federation = task.federation
    update = task.participant("alice").train(breast_cancer.X_train, breast_cancer.y_train)
    mined = []
    commit = federation.registry.commit_update

    def mined_then_interrupted(*args, **kwargs):
        mined.append(commit(*args, **kwargs))
        raise KeyboardInterrupt  # the user pressed stop just as the receipt came back

    monkeypatch.setattr(federation.registry, "commit_update", mined_then_interrupted)
    with pytest.raises(KeyboardInterrupt):
        task.participant("alice").submit(update)
    [commitment] = task.commitments(1)
    assert mined and federation.store.has(commitment.update_digest)
    assert federation.store.get(commitment.update_digest)  # the committed ciphertext is intact


def test_an_interrupt_after_the_aggregate_is_mined_keeps_the_blob(task, breast_cancer, monkeypatch):
    federation = task.federation
    update = task.participant("alice").train(breast_cancer.X_train, breast_cancer.y_train)
    task.participant("alice").submit(update)
    commit = federation.registry.commit_aggregate

    def mined_then_interrupted(*args, **kwargs):
        commit(*args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(federation.registry, "commit_aggregate", mined_then_interrupted)
    with pytest.raises(KeyboardInterrupt):
        task.aggregator().aggregate()
    digest = task.round_state(1).aggregate_digest
    assert digest is not None and federation.store.has(digest)


@pytest.mark.parametrize(
    ("samples", "problem"),
    [(-5, "at least one"), (0, "at least one"), (2**64, "at most"), (2.5, "whole number")],
)
def test_bad_sample_counts_are_refused_before_anything_is_written(task, samples, problem):
    federation = task.federation
    base = task.global_parameters()
    update = LocalUpdate(
        task_id=task.task_id,
        round=1,
        base_model_digest=task.state().current_model_digest,
        delta=base * 0,
        samples=samples,  # type: ignore[arg-type]
    )
    blobs = sorted(federation.store.root.rglob("*"))
    before = head(federation)
    with pytest.raises(InvalidInputError, match=problem):
        task.participant("alice").submit(update)
    assert head(federation) == before
    assert sorted(federation.store.root.rglob("*")) == blobs


def test_a_directory_that_is_not_a_ledger_is_refused(tmp_path):
    occupied = tmp_path / "notes"
    occupied.mkdir()
    (occupied / "todo.txt").write_text("mine")
    with pytest.raises(InvalidInputError, match="not a fedchain ledger directory"):
        Federation.open(occupied)
    assert sorted(p.name for p in occupied.iterdir()) == ["todo.txt"]
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    with pytest.raises(InvalidInputError, match="is a file"):
        Federation.open(a_file)
    with pytest.raises(InvalidInputError, match="cannot"):
        Federation.open("/proc/self/fedchain")


def test_the_secret_context_is_sealed_and_keyed_by_its_public_context(task):
    federation = task.federation
    [key_file] = (federation.workspace / "keys").iterdir()
    deployment = federation.registry.deployment
    public_context = task.state().params.public_context_digest
    assert key_file.name == (
        f"chain-{deployment.chain_id}-{deployment.training.lower()}"
        f"-context-{public_context.hex()}.sealed"
    )
    assert key_file.stat().st_mode & 0o077 == 0
    secret = federation.secret_context(task.task_id)
    assert secret and secret not in key_file.read_bytes()
    before = key_file.read_bytes()
    federation._keep_secret_context(public_context, b"another key")  # never overwritten
    assert key_file.read_bytes() == before
    assert federation.secret_context(task.task_id) == secret


def test_a_client_that_skips_its_range_check_cannot_slip_a_wrapped_sum_into_a_model(
    federation, breast_cancer, monkeypatch
):
    split = breast_cancer
    task = federation.create_task(
        logistic_regression(split), TaskConfig(min_participants=2, max_metric_drop=1.0)
    )
    honest = task.participant("alice")
    honest.join()
    mallory = task.participant("mallory")
    mallory.join()
    task.coordinator().open_round()
    honest.submit(honest.train(split.X_train, split.y_train))
    scheme = task.public_scheme
    update = mallory.train(split.X_train, split.y_train)
    weight = update.samples / task.config.sample_scale
    near_capacity = 0.9 * scheme.capacity / weight  # each value alone fits; the sum wraps
    forged = LocalUpdate(
        update.task_id,
        update.round,
        update.base_model_digest,
        update.delta * 0 + near_capacity,
        update.samples,
    )
    monkeypatch.setattr(scheme, "_check_bound", lambda values: None)  # mallory's own client
    mallory.submit(forged)
    monkeypatch.undo()

    task.aggregator().aggregate()
    task.key_holder().decrypt_and_commit()  # the aggregate IS the sum of what was committed
    vote = task.validator("validator-1").vote(split.X_test, split.y_test)
    assert vote.aggregate_verified and not vote.within_bound and not vote.accept
    assert task.round_state(1).phase.label == "rejected"
    assert task.state().current_model_digest == task.state().params.initial_model_digest
