"""Valued rounds (issue #11) on real BFV ciphertexts and the in-process EVM: 9 parties (8 honest
and 1 bad), k = 3, 10 rounds on breast_cancer. In each scenario the bad party ends with the
lowest reward and at most half the honest median, the model stays within 2 points of an
all-honest run, no round is lost to the bad party, and the key holder decrypted nothing but
sums of whole groups of at least k parties."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pytest
from engine_helpers import Split
from sklearn.linear_model import LogisticRegression, SGDClassifier

from fedchain_magics import TOKEN_UNIT, Federation, TaskConfig
from fedchain_magics.chain import RoundPhase
from fedchain_magics.data import split_iid
from fedchain_magics.engine import governance, incentives, valuation
from fedchain_magics.engine.federation import TREASURY
from fedchain_magics.engine.governance import config_rules
from fedchain_magics.engine.ledger_view import read_snapshot
from fedchain_magics.models import initialize

PARTIES = 9
ROUNDS = 10
K = 3
BAD = "party-1"


STAKE = 10 * TOKEN_UNIT
PPM = 1_000_000
SLASH_BELOW_PPM = 100_000
"""The scenarios' slash line, a tenth of the median's standing. Each bad party ends at 0 (an
estimate at or below 0, posted clipped); the honest party with the weakest shard (party-6)
ended between 0.2 and 0.68 over the runs measured (groups are drawn from block hashes, which
change between runs). A line at 0.25 slashed it in one run of several."""


@dataclass
class Outcome:
    balances: dict[str, int]
    """Reward tokens each party claimed (its stake is held apart, in TaskStakes)."""
    slashed: dict[str, int]
    accuracy: float
    phases: list[RoundPhase]
    decryptions: list[tuple[int, int, tuple[str, ...]]]
    addresses: dict[str, str]
    left_out_rounds: int


def _bad_update(behaviour: str, update, round_number: int):
    if behaviour == "free-rider":  # sends the model back unchanged, declares 10x the samples
        return dataclasses.replace(
            update, delta=np.zeros_like(update.delta), samples=10 * update.samples
        )
    if behaviour == "scaled":  # a 100x-scaled update (its client skips the range check)
        return dataclasses.replace(update, delta=100 * update.delta)
    if behaviour == "noisy":
        noise = np.random.default_rng(round_number).normal(0.0, 1.0, update.delta.shape)
        return dataclasses.replace(update, delta=noise)
    return update


def _model(split: Split) -> SGDClassifier:
    """Logistic regression trained by local SGD epochs (FedAvg's setting), every party's
    starting point the same."""
    sgd = SGDClassifier(loss="log_loss", learning_rate="constant", eta0=0.01, random_state=0)
    return initialize(sgd, split.X_train[:20], split.y_train[:20], classes=[0, 1])


def _staked_parties(federation, task, count: int, *, min_standing_ppm: int):
    """``count`` parties (party-1...), each funded with the stake, joined and staked; the task
    slashes a quarter of a stake below ``min_standing_ppm``."""
    names = [f"party-{index + 1}" for index in range(count)]
    parties = [task.participant(name) for name in names]
    incentives.set_stakes(
        federation,
        task.task_id,
        required=STAKE,
        slash_ppm=250_000,
        min_standing_ppm=min_standing_ppm,
    )
    treasury = federation.account(TREASURY)
    for name, party in zip(names, parties, strict=True):
        federation.registry.transfer_tokens(treasury, party.address, STAKE)
        party.join()
        incentives.stake(federation, task.task_id, name)
    return names, parties


def _run(tmp_path, split: Split, behaviour: str) -> Outcome:
    config = TaskConfig(
        rounds=ROUNDS,
        min_participants=PARTIES,
        reward_per_round=90 * TOKEN_UNIT,
        valuation="shapley",
        group_size=K,
    )
    with Federation.open(tmp_path / behaviour) as federation:
        task = federation.create_task(_model(split), config, validators=["v-1"])
        names, parties = _staked_parties(
            federation, task, PARTIES, min_standing_ppm=SLASH_BELOW_PPM
        )
        shards = split_iid(split.X_train, split.y_train, PARTIES, seed=0)
        phases, left_out = [], 0
        for _ in range(ROUNDS):
            number = task.coordinator().open_round()
            for name, party, shard in zip(names, parties, shards, strict=True):
                flipped = name == BAD and behaviour == "label-flipper"
                update = party.train(shard.X, 1 - shard.y if flipped else shard.y)
                party.submit(_bad_update(behaviour, update, number) if name == BAD else update)
            task.aggregator().aggregate(number)
            task.key_holder().decrypt_and_commit(number)
            report = valuation.read_group_report(task, number)
            left_out += len(report["groups"]) > len(report["kept"])
            task.validator("v-1").vote(split.X_test, split.y_test, number)
            phases.append(task.round_state(number).phase)
            table = task.coordinator().settle_round(number)
            for party in parties:
                if table.share_of(party.address) > 0:
                    party.claim(number)
        # the standings' history the last posted table carries is what the chain's reports say
        rebuilt = [o for n in range(1, ROUNDS + 1) for o in valuation._round_observations(task, n)]
        assert valuation.observations(task, ROUNDS) == rebuilt
        accuracy = float(task.global_model().score(split.X_test, split.y_test))
        addresses = {party.address: name for name, party in zip(names, parties, strict=True)}
        stakes = federation.stakes
        assert stakes is not None
        return Outcome(
            {
                n: federation.registry.token_balance(p.address)
                for n, p in zip(names, parties, strict=True)
            },
            {
                n: stakes.stake_of(task.task_id, p.address).slashed_amount
                for n, p in zip(names, parties, strict=True)
            },
            accuracy,
            phases,
            list(federation.decryptions),
            addresses,
            left_out,
        )


@pytest.fixture(scope="module")
def all_honest(tmp_path_factory, breast_cancer) -> Outcome:
    return _run(tmp_path_factory.mktemp("honest"), breast_cancer, "honest")


@pytest.mark.slow
def test_all_honest_parties_are_all_paid_and_none_is_slashed(all_honest):
    assert all(balance > 0 for balance in all_honest.balances.values()), all_honest.balances
    assert not any(all_honest.slashed.values()), all_honest.slashed
    assert all_honest.phases == [RoundPhase.ACCEPTED] * ROUNDS


@pytest.mark.slow
@pytest.mark.parametrize("behaviour", ["free-rider", "label-flipper", "scaled"])
def test_the_bad_party_is_paid_least_and_the_model_keeps_up(
    tmp_path, breast_cancer, all_honest, behaviour
):
    outcome = _run(tmp_path, breast_cancer, behaviour)
    honest = [balance for name, balance in outcome.balances.items() if name != BAD]
    assert outcome.balances[BAD] < min(honest), outcome.balances
    assert outcome.balances[BAD] <= 0.5 * float(np.median(honest)), outcome.balances
    assert outcome.slashed[BAD] > 0, outcome.slashed  # its stake paid for its standing
    assert outcome.accuracy >= all_honest.accuracy - 0.02
    # no round was lost to the bad party: every one accepted, its model from the good groups
    assert outcome.phases == [RoundPhase.ACCEPTED] * ROUNDS
    if behaviour == "scaled":
        assert outcome.left_out_rounds == ROUNDS  # the outlying group never entered the model
    # every decryption the key holder was asked for: whole groups of at least k, disjoint in
    # each round, covering the round's parties (the decrypted group sums are all it saw)
    assert len(outcome.decryptions) == ROUNDS * (PARTIES // K)
    for round_number in range(1, ROUNDS + 1):
        groups = [parties for _, r, parties in outcome.decryptions if r == round_number]
        assert all(len(group) >= K for group in groups)
        members = [party for group in groups for party in group]
        assert len(members) == len(set(members)) == PARTIES


@pytest.mark.slow
def test_governance_changes_k_and_the_next_round_decrypts_larger_groups(tmp_path, breast_cancer):
    """k goes from 3 to 6 by a proposal executed while round 2 is open: round 2 still decrypts
    two groups of 3, round 3 one group of all 6 (the engine reads TaskRules each round)."""
    split = breast_cancer
    config = TaskConfig(
        rounds=3, min_participants=6, reward_per_round=60 * TOKEN_UNIT, valuation="shapley"
    )
    with Federation.open(tmp_path / "governed") as federation:
        task = federation.create_task(_model(split), config, validators=["v-1"])
        names = [f"party-{index + 1}" for index in range(6)]
        parties = [task.participant(name) for name in names]
        for party in parties:
            party.join()
        governance.govern(federation, task.task_id, governance.task_rules(**config_rules(config)))
        shards = split_iid(split.X_train, split.y_train, 6, seed=1)

        def run_round() -> int:
            number = task.coordinator().open_round()
            for party, shard in zip(parties, shards, strict=True):
                party.submit(party.train(shard.X, shard.y))
            task.aggregator().aggregate(number)
            task.key_holder().decrypt_and_commit(number)
            task.validator("v-1").vote(split.X_test, split.y_test, number)
            table = task.coordinator().settle_round(number)
            for party in parties:
                if table.share_of(party.address) > 0:
                    party.claim(number)  # a governed task's claim self-delegates the party
            return number

        run_round()
        task.coordinator().open_round()  # round 2 opens under k = 3 ...
        proposal = governance.propose(
            federation, task.task_id, "party-1", "k 6", governance.encode_changes({"group_size": 6})
        )
        for name in names:
            governance.vote(federation, proposal, name, governance.vote_support("for"))
        governance.queue(federation, proposal)
        assert governance.execute(federation, proposal) == 3  # ... and keeps it
        for party, shard in zip(parties, shards, strict=True):
            party.submit(party.train(shard.X, shard.y))
        task.aggregator().aggregate(2)
        task.key_holder().decrypt_and_commit(2)
        task.validator("v-1").vote(split.X_test, split.y_test, 2)
        task.coordinator().settle_round(2)
        run_round()
        sizes = {
            number: sorted(len(group) for _, r, group in federation.decryptions if r == number)
            for number in (1, 2, 3)
        }
        assert sizes == {1: [3, 3], 2: [3, 3], 3: [6]}
        assert valuation.read_group_report(task, 3)["k"] == 6


@pytest.mark.slow
def test_research_mode_values_single_parties_and_pays_the_honest_most(tmp_path, breast_cancer):
    """Plaintext research mode (every update published): 3 honest parties, a free-rider
    declaring 10x and a label-flipper, per-party Shapley over 5 rounds."""
    split = breast_cancer
    config = TaskConfig(
        rounds=5,
        min_participants=5,
        reward_per_round=50 * TOKEN_UNIT,
        valuation="shapley",
        privacy="research",
    )
    behaviours = ["honest", "honest", "honest", "free-rider", "label-flipper"]
    with Federation.open(tmp_path / "research") as federation:
        task = federation.create_task(_model(split), config, validators=["v-1"])
        names = [f"party-{index + 1}" for index in range(5)]
        parties = [task.participant(name) for name in names]
        for party in parties:
            party.join()
        shards = split_iid(split.X_train, split.y_train, 5, seed=0)
        for _ in range(5):
            number = task.coordinator().open_round()
            for party, shard, behaviour in zip(parties, shards, behaviours, strict=True):
                labels = 1 - shard.y if behaviour == "label-flipper" else shard.y
                update = party.train(shard.X, labels)
                party.submit(_bad_update(behaviour, update, number))
            task.aggregator().aggregate(number)
            task.key_holder().decrypt_and_commit(number)
            task.validator("v-1").vote(split.X_test, split.y_test, number)
            table = task.coordinator().settle_round(number)
            for party in parties:
                if table.share_of(party.address) > 0:
                    party.claim(number)
        balances = {
            n: federation.registry.token_balance(p.address)
            for n, p in zip(names, parties, strict=True)
        }
        ranked = sorted(balances, key=balances.get, reverse=True)
        assert set(ranked[:3]) == {"party-1", "party-2", "party-3"}, balances
        assert all(len(group) == 1 for _, _, group in federation.decryptions)


def test_a_rejected_valued_round_still_pays_the_groups_that_helped(tmp_path, breast_cancer):
    """The validators vote the round down (its accuracy misses the task's bar), yet its score
    table is posted and the honest group is paid; the poisoner's group, which hurt, is not,
    and the round's reward is kept out of what the coordinator can reclaim."""
    split = breast_cancer
    reward = 60 * TOKEN_UNIT
    config = TaskConfig(
        rounds=2,
        min_participants=6,
        reward_per_round=reward,
        valuation="leave-one-out",
        group_size=K,
        min_metric=0.999,  # no first round reaches it: the vote rejects
    )
    with Federation.open(tmp_path / "rejected") as federation:
        task = federation.create_task(_model(split), config, validators=["v-1"])
        names = [f"party-{index + 1}" for index in range(6)]
        parties = [task.participant(name) for name in names]
        for party in parties:
            party.join()
        shards = split_iid(split.X_train, split.y_train, 6, seed=2)
        number = task.coordinator().open_round()
        for name, party, shard in zip(names, parties, shards, strict=True):
            update = party.train(shard.X, shard.y)
            if name == BAD:  # poisons the model: its update reversed and scaled up
                update = dataclasses.replace(update, delta=-20 * update.delta)
            party.submit(update)
        task.aggregator().aggregate(number)
        task.key_holder().decrypt_and_commit(number)
        vote = task.validator("v-1").vote(split.X_test, split.y_test, number)
        assert not vote.accept
        assert task.round_state(number).phase == RoundPhase.REJECTED
        table = task.coordinator().settle_round(number)
        report = valuation.read_group_report(task, number)
        group_of = {m: g["name"] for g in report["groups"] for m in g["members"]}
        bad_group = group_of[parties[0].address]
        owed = {p.name for p in read_snapshot(federation, [task.task_id]).unclaimed()}
        assert owed == {n for n, p in zip(names, parties, strict=True) if table.share_of(p.address)}
        paid = {
            name: party.claim(number) if table.share_of(party.address) > 0 else 0
            for name, party in zip(names, parties, strict=True)
        }
        honest = [
            n for n, p in zip(names, parties, strict=True) if group_of[p.address] != bad_group
        ]
        assert all(paid[name] > 0 for name in honest), paid
        assert all(
            paid[name] == 0
            for name, party in zip(names, parties, strict=True)
            if group_of[party.address] == bad_group
        ), paid
        assert 0 < sum(paid.values()) <= reward
        assert federation.registry.task(task.task_id).rewarded_rejected_rounds == 1
        assert federation.registry.unallocated_escrow(task.task_id) == reward  # round 2's only


def test_a_cheaters_group_mates_cannot_be_slashed_before_their_standing_is_established(
    tmp_path, breast_cancer
):
    """Round 1 values groups only: the honest mates of a label-flipper share its group's
    score and no round has separated them yet. Their rows carry the typical standing until
    they were valued in ESTABLISHED_AFTER_ROUNDS rounds, so no one (slashLowStanding takes any row,
    from anyone) can slash them with round 1's table."""
    split, parties_count = breast_cancer, 6
    config = TaskConfig(rounds=1, min_participants=parties_count, valuation="shapley", group_size=K)
    with Federation.open(tmp_path / "early") as federation:
        task = federation.create_task(_model(split), config, validators=["v-1"])
        names, parties = _staked_parties(federation, task, parties_count, min_standing_ppm=500_000)
        shards = split_iid(split.X_train, split.y_train, parties_count, seed=0)
        task.coordinator().open_round()
        for name, party, shard in zip(names, parties, shards, strict=True):
            party.submit(party.train(shard.X, 1 - shard.y if name == BAD else shard.y))
        task.aggregator().aggregate(1)
        task.key_holder().decrypt_and_commit(1)
        task.validator("v-1").vote(split.X_test, split.y_test, 1)
        table = task.coordinator().settle_round(1)

        bad_group = next(
            e["group"] for e in table.entries if e["participant"] == parties[0].address
        )
        mates = [e for e in table.entries if e["group"] == bad_group]
        assert len(mates) == K and min(e["score"] for e in table.entries) == mates[0]["score"]
        assert all(e["standing_ppm"] == 1_000_000 and e["rounds"] == 1 for e in table.entries)
        mate = next(e["participant"] for e in mates if e["participant"] != parties[0].address)
        name = federation.name_of(mate)
        with pytest.raises(Exception, match="StakesStandingNotLow"):
            incentives.slash_low_standing(federation, task.task_id, 1, name, by=names[-1])
        stakes = federation.stakes
        assert all(stakes.stake_of(task.task_id, p.address).slashed_amount == 0 for p in parties)


def test_a_model_at_a_fixed_point_slashes_no_honest_party(tmp_path, breast_cancer):
    """Each party fits logistic regression from scratch on its own shard every round, so from
    round 2 on every update is the same local fit, the updates cancel around the global model
    and the two groups' values are noise of opposite signs (+x and -x). Such rounds teach the
    standings nothing: after four rounds no honest party's standing is established below the
    median, so a task that slashes below the median's standing (1.0) slashes no one. Weighed in
    full, the three cancelling rounds scored half the parties at -1 and slashed them."""
    split, parties_count = breast_cancer, 6
    config = TaskConfig(rounds=4, min_participants=parties_count, valuation="shapley", group_size=K)
    model = initialize(LogisticRegression(max_iter=1000), split.X_train[:20], split.y_train[:20])
    with Federation.open(tmp_path / "fixed-point") as federation:
        task = federation.create_task(model, config, validators=["v-1"])
        names, parties = _staked_parties(federation, task, parties_count, min_standing_ppm=PPM)
        shards = split_iid(split.X_train, split.y_train, parties_count, seed=0)
        weights = []
        for _ in range(config.rounds):
            number = task.coordinator().open_round()
            for party, shard in zip(parties, shards, strict=True):
                local = task.global_model().fit(shard.X, shard.y)  # from scratch, as a cell may
                party.submit(party.update_from_model(local, len(shard.y)))
            task.aggregator().aggregate(number)
            task.key_holder().decrypt_and_commit(number)
            task.validator("v-1").vote(split.X_test, split.y_test, number)
            table = task.coordinator().settle_round(number)
            values = valuation.round_values(task, number)
            assert values is not None
            weights.append(table.history[-1].weight)
            if number > 1:  # the cancelling rounds: +x and -x
                assert abs(sum(values.values())) < 1e-3 * sum(map(abs, values.values()))
        assert weights[0] == 1.0 and max(weights[1:]) < 0.01, weights
        assert all(entry["standing_ppm"] == PPM for entry in table.entries), table.entries
        stakes = federation.stakes
        assert stakes is not None
        slashed = {
            name: stakes.stake_of(task.task_id, party.address).slashed_amount
            for name, party in zip(names, parties, strict=True)
        }
        assert not any(slashed.values()), slashed
