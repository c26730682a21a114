"""Per-round keys of masked tasks (issue 12, part 1): each round's updates are encrypted under
that round's key; after the model is committed the key holder publishes the round's secret, and
a validator re-decrypts the aggregate itself: an honest model is accepted, a model that is not
the decryption is rejected with the evidence on-chain."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from engine_helpers import wine, wine_model
from sklearn.exceptions import ConvergenceWarning

from fedchain_magics import TaskConfig
from fedchain_magics.chain import RoundKey, RoundKeysContract, RoundPhase
from fedchain_magics.crypto import generate_scheme, load_scheme
from fedchain_magics.crypto._container import read_blob_header
from fedchain_magics.engine import masked, round_keys
from fedchain_magics.engine.ledger_view import task_history
from fedchain_magics.engine.round_keys import (
    RoundKeyMissingError,
    RoundKeysNotMaskedError,
    RoundSecretNotPublishedError,
)
from fedchain_magics.models.codec import encode_parameters
from fedchain_magics.storage import digest_of

PARTIES = 2


@pytest.fixture
def data():
    return wine()


@pytest.fixture
def task(federation, data):
    config = TaskConfig(privacy="masked", min_participants=2, submission_window_blocks=60)
    created = federation.create_task(wine_model(*data), config)
    for index in range(PARTIES):
        created.participant(f"party-{index}").join()
    return created


def _submit_all(task, data):
    X, y = data
    number = task.current_round()
    trained = []
    for index in range(PARTIES):
        participant = task.participant(f"party-{index}")
        participant.advertise_masking_key(number)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            trained.append((participant, participant.train(X[index::PARTIES], y[index::PARTIES])))
    for participant, update in trained:
        participant.submit(update)
    return trained


def _aggregate_and_reveal(task, trained):
    number = task.aggregator().aggregate().round
    for participant, _ in trained:
        participant.reveal_masks(number)
    return number


def _context_of(federation, update_digest) -> str:
    return read_blob_header(federation.store.get(update_digest)).context_sha256


def test_each_round_has_its_key_and_a_validator_re_decrypts_it(task, federation, data):
    X, y = data
    keys = round_keys.contract(task)
    task.coordinator().open_round()
    _aggregate_and_reveal(task, _submit_all(task, data))
    model = task.key_holder().decrypt_and_commit()

    published = keys.round_key(task.task_id, 1).secret_digest
    secret = load_scheme(federation.store.get(published))
    assert secret.has_secret_key
    assert secret.context_sha256 == task.public_scheme.context_sha256  # round 1: the task's key
    check = round_keys.check_decryption(task, 1)
    assert check.matches and check.recomputed_model_digest == model.model_digest
    vote = task.validator("validator-1").vote(X, y)
    assert vote.accept
    assert keys.mismatch(task.task_id, 1, task.validator("validator-1").address) is None
    (summary,) = task_history(task)
    assert summary.round_key == RoundKey(task.state().params.public_context_digest, published)

    second_key = keys.round_key(
        task.task_id, 2
    ).public_context_digest  # registered with round 1's model
    assert second_key is not None and second_key != task.state().params.public_context_digest
    task.coordinator().open_round()
    trained = _submit_all(task, data)
    second = load_scheme(federation.store.get(second_key))
    assert not second.has_secret_key
    for commitment in task.commitments(2):
        assert _context_of(federation, commitment.update_digest) == second.context_sha256
    _aggregate_and_reveal(task, trained)
    task.key_holder().decrypt_and_commit()
    secret_2 = load_scheme(federation.store.get(keys.round_key(task.task_id, 2).secret_digest))
    assert secret_2.context_sha256 == second.context_sha256 != secret.context_sha256
    assert task.validator("validator-1").vote(X, y).accept
    assert task.round_state(2).phase == RoundPhase.ACCEPTED


def test_a_key_holder_that_commits_a_model_that_is_not_the_decryption_is_caught(
    task, federation, data
):
    X, y = data
    keys = round_keys.contract(task)
    validator = task.validator("validator-1")
    task.coordinator().open_round()
    trained = _submit_all(task, data)
    _aggregate_and_reveal(task, trained)
    holder = task.key_holder()
    honest = np.asarray(
        task.global_parameters()
        + sum(u.delta * u.samples for _, u in trained) / sum(u.samples for _, u in trained)
    )
    forged = honest + 0.05  # close enough to pass the metric checks, not the decryption
    forged_digest = federation.store.put(encode_parameters(forged))
    federation.registry.commit_model(holder.account, task.task_id, 1, forged_digest)

    with pytest.raises(RoundSecretNotPublishedError, match="votes reject"):
        validator.vote(X, y)  # the key holder has not published the round's secret yet

    round_keys.publish_secret(task, holder.account, 1)
    vote = validator.vote(X, y)

    assert not vote.accept
    assert vote.aggregate_verified and vote.within_bound  # the sum is right, the model plausible:
    assert task.strategy.accept(vote.metric, vote.previous_metric)  # only the decryption is not
    assert task.round_state(1).phase == RoundPhase.REJECTED
    evidence = keys.mismatch(task.task_id, 1, validator.address)
    check = round_keys.check_decryption(task, 1)
    assert evidence.recomputed_model_digest == check.recomputed_model_digest != forged_digest
    assert np.abs(honest - _decode(evidence, task)).max() <= 1e-6
    (logged,) = keys.contract.events.DecryptionMismatchRecorded().get_logs(from_block=0)
    assert logged["args"]["modelDigest"] == forged_digest


def _decode(evidence, task):
    """The model the validator decrypted, rebuilt as it was (its digest is the evidence)."""
    state = task.round_state(1)
    secret = load_scheme(
        task.federation.store.get(
            round_keys.contract(task).round_key(task.task_id, 1).secret_digest
        )
    )
    aggregate = task.federation.store.get(state.aggregate_digest)
    residues = secret.decrypt_residues(aggregate)
    summed = secret.values_of(masked.unmask(task, 1, residues, secret.plain_modulus))
    parameters = task.strategy.combine(
        task.global_parameters(), summed, state.total_samples / task.config.sample_scale
    )
    assert digest_of(encode_parameters(parameters)) == evidence.recomputed_model_digest
    return parameters


def test_a_published_secret_that_is_not_the_round_keys_is_rejected(task, federation, data):
    X, y = data
    task.coordinator().open_round()
    _aggregate_and_reveal(task, _submit_all(task, data))
    holder = task.key_holder().account
    model = federation.store.put(encode_parameters(task.global_parameters()))
    federation.registry.commit_model(holder, task.task_id, 1, model)
    other = generate_scheme("bfv", max_parties=task.config.max_parties, parameter_count=39)
    wrong = federation.store.put(other.secret_context_bytes())
    round_keys.contract(task).publish_round_secret(holder, task.task_id, 1, wrong)

    validator = task.validator("validator-1")
    assert not validator.vote(X, y).accept

    evidence = round_keys.contract(task).mismatch(task.task_id, 1, validator.address)
    assert evidence.recomputed_model_digest == bytes(32)  # the secret does not fit the round
    assert task.round_state(1).phase == RoundPhase.REJECTED


def test_an_update_waits_for_its_round_key(task, federation, data):
    coordinator = task.coordinator()
    coordinator.open_round()  # round 1, cancelled before any decryption: no key for round 2
    deadline = task.round_state(1).submission_deadline_block
    federation.ledger.mine_blocks(deadline - federation.ledger.block_number() + 1)
    coordinator.cancel_round(1)
    federation.registry.open_round(coordinator.account, task.task_id)  # not through the engine
    head = federation.ledger.block_number()

    with pytest.raises(RoundKeyMissingError, match="round 2 of task 1 has no encryption key"):
        _submit_all(task, data)

    assert federation.ledger.block_number() == head + PARTIES  # only the masking keys went out
    task.key_holder().register_round_key(2)  # the round is collecting and holds no update
    _submit_all(task, data)
    key = round_keys.contract(task).round_key(task.task_id, 2).public_context_digest
    context = load_scheme(federation.store.get(key)).context_sha256
    assert _context_of(federation, task.commitments(2)[0].update_digest) == context


def test_per_round_keys_are_for_masked_tasks_only(federation, data):
    plain = federation.create_task(wine_model(*data), TaskConfig(min_participants=1))
    assert not round_keys.uses_round_keys(plain)
    with pytest.raises(RoundKeysNotMaskedError, match='TaskConfig\\(privacy="masked"\\)'):
        round_keys.contract(plain)
    with pytest.raises(RoundKeysNotMaskedError):
        plain.key_holder().register_round_key()
    assert round_keys.publish_secret(plain, plain.key_holder().account, 1) is None


def test_a_recorded_round_keys_without_share_dealing_is_replaced_for_new_tasks(task, federation):
    """A workspace whose recorded RoundKeys predates share dealing (here: a contract whose code
    has no dealShares) gets a current one for its next masked task; the tasks that name the
    recorded one keep it."""
    current = round_keys.contract(task)
    assert current.deals_shares()
    coordinator = federation.account("coordinator")
    assert round_keys.contract_address(federation, coordinator) == current.address
    record = next(federation.workspace.glob("round-keys-*.json"))
    without_dealing = federation.registry.deployment.training  # code, but no dealShares
    assert not RoundKeysContract(federation.ledger, without_dealing).deals_shares()
    record.write_text(json.dumps({"address": without_dealing}) + "\n")
    replaced = round_keys.contract_address(federation, coordinator)
    assert replaced not in (current.address, without_dealing)
    assert RoundKeysContract(federation.ledger, replaced).deals_shares()
    assert json.loads(record.read_text())["address"] == replaced
    assert round_keys.contract(task).address == current.address
