"""Bad input is refused with the contract's custom error, and the ledger does not move."""

from __future__ import annotations

import pytest
from engine_helpers import head, logistic_regression

from fedchain_magics import TaskConfig
from fedchain_magics.chain import ContractRevertError
from fedchain_magics.engine import InvalidInputError
from fedchain_magics.engine.roles import LocalUpdate


@pytest.fixture
def open_round(federation, breast_cancer):
    """A task with alice joined and round 1 open; bob has an account but did not join."""
    task = federation.create_task(
        logistic_regression(breast_cancer),
        TaskConfig(min_participants=1, submission_window_blocks=5),
    )
    alice = task.participant("alice")
    alice.join()
    task.participant("bob").account  # noqa: B018 - create and fund bob's account
    task.coordinator().open_round()
    return task


def _files(directory):
    return sorted((path, path.stat().st_size) for path in directory.rglob("*"))


def _refused(federation, call, error_name, error=ContractRevertError):
    before = head(federation)
    blobs_before = _files(federation.store.root)
    keys_before = _files(federation.keystore.directory)
    with pytest.raises(error) as caught:
        call()
    if error_name is not None:
        assert caught.value.error_name == error_name
    assert head(federation) == before, "a refused call must not add a block"
    assert _files(federation.store.root) == blobs_before, "nor leave a blob behind"
    assert _files(federation.keystore.directory) == keys_before, "nor create an account"
    return caught.value


def test_a_replayed_digest_is_refused(federation, breast_cancer):
    task = federation.create_task(logistic_regression(breast_cancer), TaskConfig())
    alice, carol = task.participant("alice"), task.participant("carol")
    alice.join()
    carol.join()
    task.coordinator().open_round()
    submission = alice.submit(alice.train(breast_cancer.X_train, breast_cancer.y_train))
    error = _refused(
        federation,
        lambda: federation.registry.commit_update(
            carol.account, 1, 1, submission.update_digest, 100
        ),
        "TrainingDigestAlreadyCommitted",
    )
    assert error.error_args["committer"].lower() == alice.address.lower()


@pytest.mark.parametrize("samples", [2**64 - 1, 10**6 + 1])
def test_absurd_sample_counts_are_refused_by_the_contract(federation, open_round, samples):
    alice = open_round.participant("alice")
    _refused(
        federation,
        lambda: federation.registry.commit_update(alice.account, 1, 1, b"\x11" * 32, samples),
        "TrainingTooManySamples",
    )


@pytest.mark.parametrize("samples", [-5, 0, 10**6 + 1, 2**64 - 1])
def test_bad_sample_counts_are_refused_before_the_chain(
    federation, breast_cancer, open_round, samples
):
    alice = open_round.participant("alice")
    update = alice.train(breast_cancer.X_train, breast_cancer.y_train)
    bad = LocalUpdate(update.task_id, update.round, update.base_model_digest, update.delta, samples)
    _refused(federation, lambda: alice.submit(bad), None, InvalidInputError)


def test_a_reward_that_cannot_fit_is_refused_before_anything_is_written(federation, breast_cancer):
    before_tasks = federation.task_ids()
    _refused(
        federation,
        lambda: federation.create_task(
            logistic_regression(breast_cancer), TaskConfig(reward_per_round=10**98)
        ),
        None,
        InvalidInputError,
    )
    assert federation.task_ids() == before_tasks


def test_a_second_commitment_in_one_round(federation, breast_cancer, open_round):
    alice = open_round.participant("alice")
    update = alice.train(breast_cancer.X_train, breast_cancer.y_train)
    alice.submit(update)
    error = _refused(federation, lambda: alice.submit(update), "TrainingAlreadyCommitted")
    assert error.error_args["round"] == 1


def test_a_commitment_from_a_non_participant(federation, breast_cancer, open_round):
    bob = open_round.participant("bob")
    update = bob.train(breast_cancer.X_train, breast_cancer.y_train)
    error = _refused(federation, lambda: bob.submit(update), "TrainingNotParticipant")
    assert error.error_args["account"].lower() == bob.address.lower()


def test_a_commitment_after_the_window(federation, breast_cancer, open_round):
    alice = open_round.participant("alice")
    update = alice.train(breast_cancer.X_train, breast_cancer.y_train)
    federation.ledger.mine_blocks(6)
    _refused(federation, lambda: alice.submit(update), "TrainingSubmissionWindowClosed")


def test_a_zero_sample_commitment(federation, open_round):
    alice = open_round.participant("alice")
    _refused(
        federation,
        lambda: federation.registry.commit_update(alice.account, 1, 1, b"\x11" * 32, 0),
        "TrainingZeroSamples",
    )


def test_an_update_without_samples_is_refused_before_the_chain(federation, open_round):
    alice = open_round.participant("alice")
    model = open_round.global_model()
    with pytest.raises(ValueError, match="no training samples"):
        alice.update_from_model(model, samples=0)


def test_a_vote_by_a_non_validator_and_a_double_claim(federation, breast_cancer, open_round):
    alice = open_round.participant("alice")
    alice.submit(alice.train(breast_cancer.X_train, breast_cancer.y_train))
    open_round.aggregator().aggregate()
    open_round.key_holder().decrypt_and_commit()
    impostor = open_round.validator("alice")
    _refused(
        federation,
        lambda: impostor.vote(breast_cancer.X_test, breast_cancer.y_test),
        "TrainingNotValidator",
    )
    open_round.validator("validator-1").vote(breast_cancer.X_test, breast_cancer.y_test)
    assert alice.claim(1) > 0
    _refused(federation, lambda: alice.claim(1), "TrainingRewardAlreadyClaimed")


def test_the_submission_deadline_block_is_the_last_one_accepted(
    federation, breast_cancer, open_round
):
    alice = open_round.participant("alice")
    update = alice.train(breast_cancer.X_train, breast_cancer.y_train)
    deadline = open_round.round_state(1).submission_deadline_block
    federation.ledger.mine_blocks(deadline - federation.ledger.block_number())
    # The chain is at the deadline: the next block is past it, so the estimate must refuse.
    _refused(federation, lambda: alice.submit(update), "TrainingSubmissionWindowClosed")


def test_a_commitment_landing_in_the_deadline_block_is_accepted(
    federation, breast_cancer, open_round
):
    alice = open_round.participant("alice")
    update = alice.train(breast_cancer.X_train, breast_cancer.y_train)
    deadline = open_round.round_state(1).submission_deadline_block
    federation.ledger.mine_blocks(deadline - 1 - federation.ledger.block_number())
    submission = alice.submit(update)
    assert submission.transaction.block_number == deadline


def test_naming_a_party_by_name_or_address_sends_nothing(federation):
    """A proposal's validator, a delegate or a proven row names a party by name or address:
    reading its address sends nothing (its account is funded only when it acts), and a
    malformed address is refused in one line."""
    before = head(federation)
    address = federation.address_of("carol")
    assert federation.address_of(address.lower()) == address  # an address is taken as given
    assert federation.ledger.balance_wei(address) == 0
    assert head(federation) == before
    with pytest.raises(InvalidInputError, match="not an account address"):
        federation.address_of("0x1234")
