"""Masked rounds through the engine (issue 12): the key holder gets the exact sum, yet decrypting
any single party's ciphertext gives it values uniform modulo t; a party that advertised a key and
then dropped out is cancelled by the others' reveals; updates wait for every key."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
from engine_helpers import logistic_regression, wine, wine_model
from scipy import stats
from sklearn.exceptions import ConvergenceWarning

from fedchain_magics import TaskConfig
from fedchain_magics.aggregation import weighted_average
from fedchain_magics.crypto import load_scheme
from fedchain_magics.crypto.masking import mask_for, stream
from fedchain_magics.engine import masked, round_keys
from fedchain_magics.engine.ledger_view import read_snapshot
from fedchain_magics.engine.masked import KeysStillOpenError, dealt_bundles
from fedchain_magics.sidebar.state import build_state

PARTIES = 3


@pytest.fixture
def task(federation):
    X, y = wine()
    model = wine_model(X, y)
    config = TaskConfig(privacy="masked", min_participants=2, submission_window_blocks=60)
    created = federation.create_task(model, config)
    created.data = (X, y)
    return created


def _blob_files(federation):
    return sorted(path.name for path in federation.store.root.rglob("*") if path.is_file())


def _train(task, index):
    X, y = task.data
    participant = task.participant(f"party-{index}")
    participant.advertise_masking_key(task.current_round())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return participant, participant.train(X[index::PARTIES], y[index::PARTIES])


def test_the_key_holder_gets_the_exact_sum_but_no_single_update(task, federation):
    for index in range(PARTIES):
        task.participant(f"party-{index}").join()
    base = task.global_parameters()
    task.coordinator().open_round()
    trained = [_train(task, index) for index in range(PARTIES)]
    for participant, update in trained:
        participant.submit(update)

    task.aggregator().aggregate()
    for participant, _ in trained:
        participant.reveal_masks(1)
    head, blobs = federation.ledger.block_number(), _blob_files(federation)
    assert trained[0][0].reveal_masks(1) is None  # once: a second reveal sends nothing
    assert (federation.ledger.block_number(), _blob_files(federation)) == (head, blobs)
    model = task.key_holder().decrypt_and_commit()

    updates = [update for _, update in trained]
    plain = base + weighted_average([u.delta for u in updates], [u.samples for u in updates])
    assert np.abs(model.parameters - plain).max() <= 1e-6
    secret = load_scheme(federation.secret_context(task.task_id))
    t = secret.plain_modulus
    one = federation.store.get(task.commitments(1)[0].update_digest)
    residues = secret.decrypt_residues(one)[:42]
    weighted = updates[0].delta * updates[0].samples / task.config.sample_scale
    honest = secret.decrypt_residues(secret.encrypt(weighted))[:42]
    assert stats.kstest(residues / t, "uniform").pvalue > 1e-3
    assert stats.kstest(honest / t, "uniform").pvalue < 1e-6  # what masking hides
    (snapshot,) = read_snapshot(federation).tasks  # the ledger view and the sidebar say so
    assert snapshot.privacy == build_state(read_snapshot(federation))["tasks"][0]["privacy"]
    assert snapshot.privacy == "masked"


def test_updates_wait_for_every_key_and_a_dropped_party_is_cancelled(task, federation):
    for index in range(PARTIES):
        task.participant(f"party-{index}").join()
    base = task.global_parameters()
    task.coordinator().open_round()
    first, first_update = _train(task, 0)
    head = federation.ledger.block_number()

    with pytest.raises(KeysStillOpenError, match="1 of 3 parties advertised"):
        first.submit(first_update)

    assert federation.ledger.block_number() == head
    trained = [(first, first_update), _train(task, 1)]
    _train(task, 2)  # party 2 advertises its key, then never submits
    for participant, update in trained:
        participant.submit(update)
    deadline = task.round_state(1).submission_deadline_block
    federation.ledger.mine_blocks(deadline - federation.ledger.block_number() + 1)
    task.aggregator().aggregate()
    for participant, _ in trained:
        participant.reveal_masks(1)
    model = task.key_holder().decrypt_and_commit()

    updates = [update for _, update in trained]
    plain = base + weighted_average([u.delta for u in updates], [u.samples for u in updates])
    assert np.abs(model.parameters - plain).max() <= 1e-6


def test_a_silent_party_is_rebuilt_from_its_peers_shares_once_enough_revealed(task, federation):
    """Three parties, each sharing its secrets with its 2 peers at threshold 2 (2/3, rounded
    up): with one reveal in, the two silent parties cannot be rebuilt and the model waits; with
    two in, the third party, silent, is rebuilt from their shares and the sum is exact."""
    for index in range(PARTIES):
        task.participant(f"party-{index}").join()
    base = task.global_parameters()
    task.coordinator().open_round()
    trained = [_train(task, index) for index in range(PARTIES)]
    for participant, update in trained:
        participant.submit(update)
    assert len(dealt_bundles(task, 1)) == PARTIES
    task.aggregator().aggregate()
    trained[0][0].reveal_masks(1)

    with pytest.raises(Exception, match=r"2 of the 3 parties in round 1's sum .* too few"):
        task.key_holder().decrypt_and_commit()

    trained[1][0].reveal_masks(1)  # party-2 stays silent
    model = task.key_holder().decrypt_and_commit()
    updates = [update for _, update in trained]
    plain = base + weighted_average([u.delta for u in updates], [u.samples for u in updates])
    assert np.abs(model.parameters - plain).max() <= 1e-6


def test_masked_needs_bfv():
    with pytest.raises(Exception, match='privacy="masked" needs scheme="bfv"'):
        TaskConfig(privacy="masked", scheme="ckks").check(validator_count=1)


def test_one_key_advertised_by_two_accounts_counts_once(task, federation):
    """A Sybil advertising its own masking key from a second account (the contract refuses
    anyone else's key): no one masks against the copy, its update is excluded, and the sum of
    the others is exact."""
    from fedchain_magics.chain import ExclusionReason
    from fedchain_magics.engine import masked

    for index in range(PARTIES):
        task.participant(f"party-{index}").join()
    base = task.global_parameters()
    task.coordinator().open_round()
    trained = [_train(task, index) for index in range(2)]
    sybil = task.participant("party-2")
    key = masked.masking_key(task, trained[1][0].account, 1)  # party 1's key, held by the Sybil
    registry = federation.registry
    proof = key.prove(registry.masking_key_digest(task.task_id, 1, sybil.address))
    registry.advertise_masking_key(sybil.account, task.task_id, 1, key.public, proof)
    for participant, update in trained:
        participant.submit(update)
    garbage = task.public_scheme.encrypt(np.zeros(task.parameter_count))
    registry.commit_update(sybil.account, task.task_id, 1, federation.store.put(garbage), 10)

    task.aggregator().aggregate()
    excluded = registry.excluded_updates(task.task_id, 1)
    assert [(e.participant, e.reason) for e in excluded] == [
        (sybil.address, ExclusionReason.MALFORMED)
    ]
    for participant, _ in trained:
        participant.reveal_masks(1)
    model = task.key_holder().decrypt_and_commit()
    updates = [update for _, update in trained]
    plain = base + weighted_average([u.delta for u in updates], [u.samples for u in updates])
    assert np.abs(model.parameters - plain).max() <= 1e-6


def test_a_party_that_deals_malformed_shares_is_left_out_and_the_round_goes_on(task, federation):
    """party-2 deals a bundle whose shares need 1 peer, not the task's 2 of 2: nobody could
    count on rebuilding it, so its update is excluded with the reason said in one line, and
    the two others' sum is exact."""
    from fedchain_magics.chain import ExclusionReason
    from fedchain_magics.crypto.masking import deal_shares

    for index in range(PARTIES):
        task.participant(f"party-{index}").join()
    base = task.global_parameters()
    task.coordinator().open_round()
    trained = [_train(task, index) for index in range(PARTIES)]
    cheat = trained[2][0]
    key = masked.masking_key(task, cheat.account, 1)
    peers = masked.round_graph(task, 1, masked.advertised_keys(task, 1))[key.public]
    bundle = deal_shares(key, peers, 1, masked.context(task, 1)).to_bytes()
    round_keys.contract(task).deal_shares(
        cheat.account, task.task_id, 1, federation.store.put(bundle)
    )
    for participant, update in trained:
        participant.submit(update)
    summaries = []
    federation.events.subscribe(lambda event: summaries.append(event.summary))

    task.aggregator().aggregate()
    excluded = federation.registry.excluded_updates(task.task_id, 1)
    assert [(e.participant, e.reason) for e in excluded] == [
        (cheat.address, ExclusionReason.MALFORMED)
    ]
    assert any(
        "party-2's update excluded (malformed: its share bundle is unusable: the share "
        "bundle's commitments are not 2 points" in summary
        for summary in summaries
    ), summaries
    for participant, _ in trained[:2]:
        participant.reveal_masks(1)
    model = task.key_holder().decrypt_and_commit()
    updates = [update for _, update in trained[:2]]
    plain = base + weighted_average([u.delta for u in updates], [u.samples for u in updates])
    assert np.abs(model.parameters - plain).max() <= 1e-6


def test_the_ledger_view_says_a_task_is_masked(task, federation):
    from fedchain_magics.widgets import ledger_table

    assert "masked: no single update can be decrypted" in ledger_table(federation, 1).caption


def _roles_that_recover(task, parties):
    """The parties reordered as 7 revealers, the silent one, the late one and the dropped one,
    chosen on the round's random peer graph so that the silent party and its absent peers each
    keep the task's threshold of revealing peers: the promise of threshold recovery. (Fixed roles
    miss it on about one graph in five, when the silent party's peers are mostly the absent.)"""
    keys, graph = masked.round_peers(task, 1)
    key_of = {participant: keys[str(participant.account.address)] for participant in parties}

    def enough(key, revealers):
        peers = graph[key]
        return len(peers & revealers) >= masked.recovery_threshold(task, len(peers))

    for silent, late, dropped in itertools.permutations(parties, 3):
        revealers = [p for p in parties if p not in (silent, late, dropped)]
        revealing = {key_of[p] for p in revealers}
        absent = graph[key_of[silent]] & {key_of[late], key_of[dropped]}
        if enough(key_of[silent], revealing) and all(enough(a, revealing) for a in absent):
            return [*revealers, silent, late, dropped]
    raise AssertionError("no roles let the silent party be rebuilt on this graph")


def test_ten_parties_two_drop_after_advertising(task, federation):
    """The issue's case: 10 parties advertise their keys, 2 never commit and one survivor goes
    silent once its update is in the sum (all had dealt their shares: a party that drops before
    dealing needs its peers in the sum to reveal, see docs/threat-model.md); the round completes
    with the 8 survivors' exact sum. One of the 2 was merely late (it dealt its shares and
    encrypted its update, then missed the window): its masking secret is rebuilt from shares to
    cancel its pair masks, yet with the round's published secret its ciphertext still decrypts
    to uniform residues."""
    X, y = task.data
    parties = [task.participant(f"party-{index}") for index in range(10)]
    for participant in parties:
        participant.join()
    base = task.global_parameters()
    task.coordinator().open_round()
    for participant in parties:
        participant.advertise_masking_key(1)
    parties = _roles_that_recover(task, parties)
    updates = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for index, participant in enumerate(parties[:9]):
            update = participant.train(X[index::10], y[index::10])
            if index < 8:
                participant.submit(update)
                updates.append(update)
            else:  # late: dealt and encrypted, never committed
                late = participant._masked_ciphertext(participant.weighted_delta(update), 1)
    parties[9].deal_shares(1)  # dealt its shares, then dropped before training
    deadline = task.round_state(1).submission_deadline_block
    federation.ledger.mine_blocks(deadline - federation.ledger.block_number() + 1)
    task.aggregator().aggregate()
    for participant in parties[:7]:  # party-7 is in the sum and stays silent
        participant.reveal_masks(1)
    model = task.key_holder().decrypt_and_commit()

    plain = base + weighted_average([u.delta for u in updates], [u.samples for u in updates])
    assert np.abs(model.parameters - plain).max() <= 1e-6

    published = round_keys.contract(task).round_key(task.task_id, 1).secret_digest
    secret = load_scheme(federation.store.get(published))
    t = secret.plain_modulus
    reveals = masked.round_reveals(task, 1)  # party-8's masking secret rebuilt from shares
    late_key = masked.masking_key(task, parties[8].account, 1)
    assert late_key.public not in {r.public for r in reveals.reveals.values()}
    residues = secret.decrypt_residues(late)[:2000]
    peers = masked.round_graph(task, 1, masked.advertised_keys(task, 1))[late_key.public]
    context = masked.context(task, 1)
    pair_masks = (
        mask_for(late_key, peers, residues.size, t, context)
        - stream(late_key.self_seed(context), residues.size, t)
    ) % t
    without_pairs = (residues - pair_masks) % t  # all an attacker can remove
    assert stats.kstest(without_pairs / t, "uniform").pvalue > 1e-3


def test_simulate_runs_masked_rounds(breast_cancer, tmp_path):
    from fedchain_magics.engine.simulation import simulate

    split = breast_cancer
    model = logistic_regression(split)
    result = simulate(
        model,
        split.X_train,
        split.y_train,
        split.X_test,
        split.y_test,
        parties=3,
        rounds=2,
        config=TaskConfig(privacy="masked"),
        workspace=tmp_path / "simulated",
        progress=False,
    )
    try:
        assert result.task.masked and all(record.accepted for record in result.records)
        assert result.final_metric > 0.9
    finally:
        result.federation.close()


def test_a_party_sits_out_what_it_cannot_advertise_and_is_told_what_it_must_fix(task, federation):
    """A masking key is advertised once per round; a second try, a party that joined after the
    round opened and a try after the key window closed each sit the round out (None, nothing
    sent), while a party that is not in the task is refused (the session words the refusal).
    The digest a key signs is computed without the node, as the contract computes it."""
    from fedchain_magics.chain import ContractRevertError

    registry = federation.registry
    first, second = (task.participant(f"party-{index}") for index in range(2))
    first.join()
    second.join()
    task.coordinator().open_round()
    local = registry.masking_key_digest(task.task_id, 1, first.address)
    on_chain = registry.contract.functions.maskingKeyDigest(task.task_id, 1, first.address)
    assert local == bytes(on_chain.call())

    assert first.advertise_masking_key(1) is not None
    late = task.participant("party-late")
    late.join()  # after round 1 opened: it trains from round 2
    stranger = task.participant("party-stranger")
    stranger.account  # noqa: B018 (its account is made and funded now)
    head = federation.ledger.block_number()
    assert first.advertise_masking_key(1) is None
    assert late.advertise_masking_key(1) is None
    with pytest.raises(ContractRevertError, match="TrainingNotParticipant"):
        stranger.advertise_masking_key(1)
    assert federation.ledger.block_number() == head
    federation.ledger.mine_blocks(task.round_state(1).submission_deadline_block)
    head = federation.ledger.block_number()
    assert second.advertise_masking_key(1) is None
    assert federation.ledger.block_number() == head
