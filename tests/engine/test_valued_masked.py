"""A valued task that is also masked (issues #11 and #12): each party masks only with the group
mates drawn for it before anyone submits, so the masks cancel within every group sum the key
holder decrypts and never across groups; a party that advertised its key and then dropped out
is cancelled by its group mates' reveals, and its group, left below k, joins another."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from engine_helpers import wine, wine_model
from scipy import stats
from sklearn.exceptions import ConvergenceWarning

from fedchain_magics import TOKEN_UNIT, TaskConfig
from fedchain_magics.chain import RoundPhase
from fedchain_magics.crypto import load_scheme
from fedchain_magics.engine import masked, round_keys, valuation

PARTIES = 6  # two groups of three: a dropout leaves one group below k
K = 3
DROPPED = "party-5"


@pytest.fixture
def task(federation):
    X, y = wine()
    model = wine_model(X, y)
    config = TaskConfig(
        privacy="masked",
        valuation="leave-one-out",
        group_size=K,
        min_participants=K,
        submission_window_blocks=60,
        rounds=2,
        reward_per_round=60 * TOKEN_UNIT,
    )
    created = federation.create_task(model, config, validators=["validator-1"])
    created.data = (X, y)
    for index in range(PARTIES):
        created.participant(f"party-{index}").join()
    return created


def _train_all(task, number):
    X, y = task.data
    trained = {}
    for index in range(PARTIES):
        participant = task.participant(f"party-{index}")
        participant.advertise_masking_key(number)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            trained[participant.name] = (
                participant,
                participant.train(X[index::PARTIES], y[index::PARTIES]),
            )
    return trained


def test_masks_cancel_within_each_group_and_a_dropout_is_recovered(task, federation):
    X, y = task.data
    number = task.coordinator().open_round()
    trained = _train_all(task, number)
    keys = masked.advertised_keys(task, number)
    drawn = valuation.masking_groups(task, number, sorted(keys))
    graph = masked.round_graph(task, number, keys)
    for group in drawn:  # each party masks with its group mates, and with no one else
        for member in group:
            assert graph[keys[member]] == {keys[mate] for mate in group if mate != member}

    submitted = {name: pair for name, pair in trained.items() if name != DROPPED}
    for participant, update in submitted.values():
        participant.submit(update)
    deadline = task.round_state(number).submission_deadline_block
    federation.ledger.mine_blocks(deadline - federation.ledger.block_number() + 1)
    task.aggregator().aggregate(number)
    for participant, _ in submitted.values():
        participant.reveal_masks(number)
    task.key_holder().decrypt_and_commit(number)

    dropped = trained[DROPPED][0].address
    report = valuation.read_group_report(task, number)
    groups = [tuple(group["members"]) for group in report["groups"]]
    assert all(len(members) >= K for members in groups)
    assert len(groups) == 1  # the dropout's group fell below k and joined the other
    assert dropped not in groups[0]
    weighted = {
        participant.address: participant.weighted_delta(update)
        for participant, update in submitted.values()
    }
    for group in report["groups"]:  # each group's decrypted sum is its members' exact sum
        plain = sum(weighted[member] for member in group["members"])
        assert np.abs(np.asarray(group["values"]) - plain).max() <= 1e-6
    logged = [members for task_id, _, members in federation.decryptions if task_id == task.task_id]
    assert sorted(map(sorted, logged)) == sorted(map(sorted, groups))  # nothing else decrypted

    secret = load_scheme(round_keys.secret_context(task, number))
    one = federation.store.get(task.commitments(number)[0].update_digest)
    residues = secret.decrypt_residues(one)[: task.parameter_count]
    assert stats.kstest(residues / secret.plain_modulus, "uniform").pvalue > 1e-3
    # The secret stays with the key holder: a group mate left alone could read the other.
    assert round_keys.contract(task).round_key(task.task_id, number).secret_digest is None

    vote = task.validator("validator-1").vote(X, y, number)
    assert vote.aggregate_verified and vote.within_bound
    assert task.round_state(number).phase in (RoundPhase.ACCEPTED, RoundPhase.REJECTED)
    table = task.coordinator().settle_round(number)
    assert table.share_of(dropped) == 0

    # Round 2 runs under the key registered with round 1's model, every party present.
    number = task.coordinator().open_round()
    everyone = _train_all(task, number)
    for participant, update in everyone.values():
        participant.submit(update)
    task.aggregator().aggregate(number)
    for participant, _ in everyone.values():
        participant.reveal_masks(number)
    task.key_holder().decrypt_and_commit(number)
    report = valuation.read_group_report(task, number)
    assert sorted(len(group["members"]) for group in report["groups"]) == [K, K]
    for group in report["groups"]:
        plain = sum(
            everyone[federation.name_of(member)][0].weighted_delta(
                everyone[federation.name_of(member)][1]
            )
            for member in group["members"]
        )
        assert np.abs(np.asarray(group["values"]) - plain).max() <= 1e-6


def test_a_valued_masked_round_needs_k_masking_keys(task):
    number = task.coordinator().open_round()
    task.participant("party-0").advertise_masking_key(number)
    task.participant("party-1").advertise_masking_key(number)
    keys = masked.advertised_keys(task, number)

    with pytest.raises(Exception, match="2 masking keys, fewer than a group of k=3"):
        masked.round_graph(task, number, keys)


def test_a_party_whose_group_mates_all_dropped_is_left_out_not_unmasked(task, federation):
    """Two of a group's three drop after advertising: the one left has no mask peer in the
    sum, so revealing its masks would unmask its update. The aggregator leaves it out (the
    reason in its event), and the round goes on with the other group."""
    from fedchain_magics.chain import ExclusionReason

    number = task.coordinator().open_round()
    trained = _train_all(task, number)
    keys = masked.advertised_keys(task, number)
    group = next(g for g in valuation.masking_groups(task, number, sorted(keys)))
    names = {federation.name_of(member): member for member in group}
    alone, *dropped = sorted(names)
    for name, (participant, update) in trained.items():
        if name not in dropped:
            participant.submit(update)
    deadline = task.round_state(number).submission_deadline_block
    federation.ledger.mine_blocks(deadline - federation.ledger.block_number() + 1)
    summaries = []
    federation.events.subscribe(lambda event: summaries.append(event.summary))

    task.aggregator().aggregate(number)
    excluded = federation.registry.excluded_updates(task.task_id, number)
    assert [(e.participant, e.reason) for e in excluded] == [
        (names[alone], ExclusionReason.MALFORMED)
    ]
    assert any(
        f"{alone}'s update excluded (malformed: none of its mask peers" in s for s in summaries
    )
    assert masked.lone_in_sum(task, number, [names[alone]]) == {names[alone]}
    for name, (participant, _) in trained.items():
        if name not in dropped:
            participant.reveal_masks(number)  # the left-out party is not in the sum: no reveal
    task.key_holder().decrypt_and_commit(number)
    report = valuation.read_group_report(task, number)
    assert [len(g["members"]) for g in report["groups"]] == [K]
    assert names[alone] not in report["groups"][0]["members"]
