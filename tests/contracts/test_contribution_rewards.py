"""ContributionRewardPolicy: proportional by default, paid by proven score table rows once the
coordinator enabled scoring; every revert and event; payouts of a scored round never exceed it."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ledger_harness import (
    TOKEN_UNIT,
    Ledger,
    _deploy,
    build_ledger,
    build_scored_ledger,
    digest,
    update_digest,
)

from fedchain_magics.chain.merkle import MerkleTree, leaf_hash
from fedchain_magics.chain.scores import SCORE_LEAF_TYPES, ScoreEntry, score_tree

PPM = 1_000_000
ZERO = b"\x00" * 32
TABLE = digest("score-table")


@pytest.fixture
def ledger() -> Ledger:
    return build_scored_ledger()


def scored_task(ledger: Ledger, participants: int = 3, **overrides: object) -> int:
    """A task whose coordinator enabled scoring, one validator, ``participants`` joined."""
    params = {"validators": 1, "validatorQuorum": 1, "minParticipants": 1, "maxRounds": 2}
    params.update(overrides)
    task_id = ledger.setup_task(participants=participants, **params)  # type: ignore[arg-type]
    ledger.send(ledger.policy.functions.enableScoring(task_id), ledger.coordinator)
    return task_id


def entries_for(ledger: Ledger, shares: Sequence[int]) -> list[ScoreEntry]:
    return [
        ScoreEntry(participant, share, PPM - index)
        for index, (participant, share) in enumerate(zip(ledger.participants, shares, strict=False))
    ]


def post(
    ledger: Ledger, task_id: int, round_number: int, entries: Sequence[ScoreEntry]
) -> MerkleTree:
    tree = score_tree(entries)
    call = ledger.policy.functions.postScores(task_id, round_number, tree.root, TABLE)
    ledger.send(call, ledger.coordinator)
    return tree


def prove(
    ledger: Ledger, task_id: int, round_number: int, entry: ScoreEntry, proof: list[bytes]
) -> object:
    call = ledger.policy.functions.proveShare(
        task_id, round_number, entry.participant, entry.share_ppm, entry.standing_ppm, proof
    )
    return ledger.send(call, ledger.outsider)


# -- binding --------------------------------------------------------------------------------------


def test_bind_registry_once_by_the_deployer_to_a_registry_that_pays_through_it() -> None:
    ledger = build_ledger(lambda w3, deployer: _deploy(w3, "ContributionRewardPolicy", deployer))
    policy = ledger.policy.functions
    rules = _deploy(ledger.w3, "TaskRules", ledger.deployer, ledger.training.address)
    stakes = _deploy(
        ledger.w3, "TaskStakes", ledger.deployer, ledger.training.address, ledger.policy.address,
        rules.address,
    )  # fmt: skip
    task_id = ledger.setup_task()
    ledger.assert_reverts(policy.enableScoring(task_id), ledger.coordinator, "PolicyNotBound")
    ledger.assert_reverts(
        policy.bindRegistry(ledger.training.address, stakes.address),
        ledger.outsider,
        "PolicyNotDeployer",
        ledger.outsider,
    )
    zero = "0x" + "00" * 20
    ledger.assert_reverts(
        policy.bindRegistry(ledger.training.address, zero),
        ledger.deployer,
        "PolicyRegistryMismatch",
        ledger.training.address,
        zero,
    )
    proportional = _deploy(ledger.w3, "ProportionalRewardPolicy", ledger.deployer)
    foreign = _deploy(
        ledger.w3, "FederatedTraining", ledger.deployer, ledger.token.address, proportional.address
    )
    ledger.assert_reverts(
        policy.bindRegistry(foreign.address, stakes.address),
        ledger.deployer,
        "PolicyRegistryMismatch",
        foreign.address,
        stakes.address,
    )
    receipt = ledger.send(
        policy.bindRegistry(ledger.training.address, stakes.address), ledger.deployer
    )
    assert ledger.events(receipt) == [
        ("RegistryBound", {"registry": ledger.training.address, "stakes": stakes.address})
    ]
    assert policy.registry().call() == ledger.training.address
    assert policy.stakes().call() == stakes.address
    ledger.assert_reverts(
        policy.bindRegistry(ledger.training.address, stakes.address),
        ledger.deployer,
        "PolicyAlreadyBound",
        ledger.training.address,
    )


# -- proportional tasks ---------------------------------------------------------------------------


def test_an_unscored_task_pays_exactly_the_proportional_share(ledger: Ledger) -> None:
    task_id = ledger.setup_task(participants=3, rewardPerRound=1_000)
    assert not ledger.policy.functions.isScored(task_id).call()
    ledger.run_accepted_round(task_id, [1, 2, 4])
    for index, expected in enumerate([142, 285, 571]):
        receipt = ledger.claim(task_id, 1, index)
        assert ledger.events(receipt)[0][1]["amount"] == expected
    ledger.assert_reverts(
        ledger.policy.functions.rewardFor(task_id, 1, ledger.outsider, 1_000, 0, 7),
        ledger.outsider,
        "PolicyInvalidSamples",
        0,
        7,
    )
    ledger.assert_reverts(
        ledger.policy.functions.rewardFor(task_id, 1, ledger.outsider, 1_000, 8, 7),
        ledger.outsider,
        "PolicyInvalidSamples",
        8,
        7,
    )


# -- enabling scoring -----------------------------------------------------------------------------


def test_enable_scoring_by_the_coordinator_before_round_one(ledger: Ledger) -> None:
    policy = ledger.policy.functions
    task_id = ledger.setup_task()
    ledger.assert_reverts(
        policy.enableScoring(task_id),
        ledger.outsider,
        "PolicyNotCoordinator",
        task_id,
        ledger.outsider,
    )
    receipt = ledger.send(policy.enableScoring(task_id), ledger.coordinator)
    assert ledger.events(receipt) == [
        ("ScoringEnabled", {"taskId": task_id, "coordinator": ledger.coordinator})
    ]
    assert policy.isScored(task_id).call()
    ledger.assert_reverts(
        policy.enableScoring(task_id), ledger.coordinator, "PolicyScoringAlreadyEnabled", task_id
    )
    late = ledger.setup_task()
    ledger.open_round(late)
    ledger.assert_reverts(
        policy.enableScoring(late), ledger.coordinator, "PolicyRoundsStarted", late, 1
    )


# -- posting and proving --------------------------------------------------------------------------


def test_post_scores_refusals_and_event(ledger: Ledger) -> None:
    policy = ledger.policy.functions
    root = digest("root")
    unscored = ledger.setup_task(validators=1, validatorQuorum=1, minParticipants=1)
    ledger.run_accepted_round(unscored, [1, 1, 1, 1])
    ledger.assert_reverts(
        policy.postScores(unscored, 1, root, TABLE), ledger.coordinator, "PolicyNotScored", unscored
    )
    task_id = scored_task(ledger)
    ledger.open_round(task_id)
    ledger.assert_reverts(
        policy.postScores(task_id, 1, root, TABLE),
        ledger.coordinator,
        "PolicyRoundNotDecided",
        task_id,
        1,
    )
    ledger.commit_updates(task_id, 1, [1, 1, 1])
    ledger.aggregate_and_commit_model(task_id, 1)
    ledger.vote_all(task_id, 1)
    ledger.assert_reverts(
        policy.postScores(task_id, 1, root, TABLE),
        ledger.outsider,
        "PolicyNotCoordinator",
        task_id,
        ledger.outsider,
    )
    ledger.assert_reverts(
        policy.postScores(task_id, 1, ZERO, TABLE), ledger.coordinator, "PolicyZeroScores"
    )
    ledger.assert_reverts(
        policy.postScores(task_id, 1, root, ZERO), ledger.coordinator, "PolicyZeroScores"
    )
    receipt = ledger.send(policy.postScores(task_id, 1, root, TABLE), ledger.coordinator)
    assert ledger.events(receipt) == [
        (
            "ScoresPosted",
            {"taskId": task_id, "round": 1, "scoresRoot": root, "scoreTableDigest": TABLE},
        )
    ]
    assert policy.scoresRoot(task_id, 1).call() == root
    assert policy.scoreTableDigest(task_id, 1).call() == TABLE
    ledger.assert_reverts(
        policy.postScores(task_id, 1, root, TABLE),
        ledger.coordinator,
        "PolicyScoresAlreadyPosted",
        task_id,
        1,
    )


def test_a_scored_round_pays_each_proven_share(ledger: Ledger) -> None:
    policy = ledger.policy.functions
    task_id = scored_task(ledger, rewardPerRound=1_000 * TOKEN_UNIT)
    ledger.run_accepted_round(task_id, [10, 1_000, 10])
    entries = entries_for(ledger, [500_000, 300_000, 200_000])
    first = entries[0]
    ledger.assert_reverts(
        policy.proveShare(task_id, 1, first.participant, first.share_ppm, first.standing_ppm, []),
        ledger.outsider,
        "PolicyScoresNotPosted",
        task_id,
        1,
    )
    ledger.assert_reverts(
        ledger.training.functions.claimReward(task_id, 1, update_digest(task_id, 1, 0)),
        first.participant,
        "PolicyScoresNotPosted",
        task_id,
        1,
    )
    tree = post(ledger, task_id, 1, entries)
    ledger.assert_reverts(
        ledger.training.functions.claimReward(task_id, 1, update_digest(task_id, 1, 0)),
        first.participant,
        "PolicyShareNotProven",
        task_id,
        1,
        first.participant,
    )
    # A row that is not the table's: a doubled share, or another party's proof.
    ledger.assert_reverts(
        policy.proveShare(
            task_id, 1, first.participant, 2 * first.share_ppm, first.standing_ppm, tree.proof(0)
        ),
        ledger.outsider,
        "PolicyInvalidProof",
        task_id,
        1,
        first.participant,
    )
    ledger.assert_reverts(
        policy.proveShare(
            task_id, 1, first.participant, first.share_ppm, first.standing_ppm, tree.proof(1)
        ),
        ledger.outsider,
        "PolicyInvalidProof",
        task_id,
        1,
        first.participant,
    )
    for index, entry in enumerate(entries):
        receipt = prove(ledger, task_id, 1, entry, tree.proof(index))
        assert ledger.events(receipt) == [
            (
                "ShareProven",
                {
                    "taskId": task_id,
                    "round": 1,
                    "participant": entry.participant,
                    "sharePpm": entry.share_ppm,
                    "standingPpm": entry.standing_ppm,
                },
            )
        ]
        assert policy.provenShare(task_id, 1, entry.participant).call() == [
            True,
            entry.share_ppm,
            entry.standing_ppm,
        ] or tuple(policy.provenShare(task_id, 1, entry.participant).call()) == (
            True,
            entry.share_ppm,
            entry.standing_ppm,
        )
    ledger.assert_reverts(
        policy.proveShare(
            task_id, 1, first.participant, first.share_ppm, first.standing_ppm, tree.proof(0)
        ),
        ledger.outsider,
        "PolicyShareAlreadyProven",
        task_id,
        1,
        first.participant,
    )
    # Paid by share, not by the declared samples (the second party declared 100x).
    for index, share in enumerate([500, 300, 200]):
        receipt = ledger.claim(task_id, 1, index)
        assert ledger.events(receipt)[0][1]["amount"] == share * TOKEN_UNIT


def test_a_share_above_the_whole_round_is_refused_even_in_a_posted_table(ledger: Ledger) -> None:
    task_id = scored_task(ledger, participants=1)
    ledger.run_accepted_round(task_id, [1])
    participant = ledger.participants[0]
    leaves = [leaf_hash(SCORE_LEAF_TYPES, (participant, PPM + 1, PPM)), digest("padding")]
    tree = MerkleTree(leaves)
    ledger.send(
        ledger.policy.functions.postScores(task_id, 1, tree.root, TABLE), ledger.coordinator
    )
    ledger.assert_reverts(
        ledger.policy.functions.proveShare(task_id, 1, participant, PPM + 1, PPM, tree.proof(0)),
        ledger.outsider,
        "PolicyInvalidShare",
        task_id,
        1,
        participant,
        PPM + 1,
    )


@pytest.mark.parametrize("size", [1, 2, 3, 7, 9])
def test_openzeppelin_merkle_proof_accepts_every_row_of_python_trees(
    ledger: Ledger, size: int
) -> None:
    task_id = scored_task(ledger, participants=1)
    ledger.run_accepted_round(task_id, [1])
    entries = [ScoreEntry(f"0x{index + 1:040x}", index, PPM + index) for index in range(size)]
    tree = post(ledger, task_id, 1, entries)
    for index, entry in enumerate(entries):
        prove(ledger, task_id, 1, entry, tree.proof(index))


UINT256_MAX = 2**256 - 1


@settings(
    max_examples=5,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    reward_per_round=st.integers(min_value=0, max_value=10**6 * TOKEN_UNIT),
    weights=st.lists(st.integers(min_value=0, max_value=PPM), min_size=1, max_size=5),
)
def test_payouts_of_a_scored_round_never_exceed_its_reward(
    reward_per_round: int, weights: list[int]
) -> None:
    ledger = build_scored_ledger()  # a fresh chain per example: log scans stay short
    total = sum(weights) or 1
    shares = [weight * PPM // total for weight in weights]  # sums to <= 1e6, floored
    task_id = scored_task(
        ledger, participants=len(shares), rewardPerRound=reward_per_round, maxRounds=1
    )
    ledger.run_accepted_round(task_id, [1] * len(shares))
    entries = entries_for(ledger, shares)
    tree = post(ledger, task_id, 1, entries)
    paid = 0
    for index, entry in enumerate(entries):
        prove(ledger, task_id, 1, entry, tree.proof(index))
        receipt = ledger.claim(task_id, 1, index)
        amount = ledger.events(receipt)[0][1]["amount"]
        assert amount == reward_per_round * entry.share_ppm // PPM
        paid += amount
    assert paid <= reward_per_round
    assert ledger.training.functions.rewardPaid(task_id, 1).call() == paid


def test_a_rejected_round_of_a_scored_task_pays_its_table_and_keeps_its_reward(
    ledger: Ledger,
) -> None:
    """The validators voted the round's model down; the groups that helped are still paid by
    the posted table, and the round's reward stays out of what the coordinator reclaims."""
    training = ledger.training.functions
    rewards = 1_000 * TOKEN_UNIT
    task_id = scored_task(ledger, rewardPerRound=rewards, maxRounds=2)
    ledger.open_round(task_id)
    ledger.commit_updates(task_id, 1, [10, 10, 10])
    ledger.aggregate_and_commit_model(task_id, 1)
    ledger.vote_all(task_id, 1, accept=False)
    assert ledger.policy.functions.paysRejectedRounds(task_id).call() is True
    assert training.getTask(task_id).call().rewardedRejectedRounds == 1
    assert training.unallocatedEscrow(task_id).call() == rewards  # round 2's only
    entries = entries_for(ledger, [600_000, 400_000, 0])  # the third party's group did not help
    tree = post(ledger, task_id, 1, entries)
    for index, entry in enumerate(entries):
        prove(ledger, task_id, 1, entry, tree.proof(index))
    assert training.pendingReward(task_id, 1, update_digest(task_id, 1, 0)).call() == (
        600 * TOKEN_UNIT
    )
    paid = [ledger.events(ledger.claim(task_id, 1, index))[0][1]["amount"] for index in range(3)]
    assert paid == [600 * TOKEN_UNIT, 400 * TOKEN_UNIT, 0]
    # Round 2 rejected too: the task ends, and the coordinator reclaims nothing of either round.
    ledger.open_round(task_id)
    ledger.commit_updates(task_id, 2, [10, 10, 10])
    ledger.aggregate_and_commit_model(task_id, 2)
    ledger.vote_all(task_id, 2, accept=False)
    assert training.getTask(task_id).call().ended is True
    assert training.unallocatedEscrow(task_id).call() == 0


def test_a_rejected_round_of_a_proportional_task_pays_nothing(ledger: Ledger) -> None:
    training = ledger.training.functions
    rewards = 1_000 * TOKEN_UNIT
    task_id = ledger.setup_task(
        participants=2,
        validators=1,
        validatorQuorum=1,
        minParticipants=1,
        maxRounds=2,
        rewardPerRound=rewards,
    )
    assert ledger.policy.functions.paysRejectedRounds(task_id).call() is False
    ledger.open_round(task_id)
    ledger.commit_updates(task_id, 1, [10, 10])
    ledger.aggregate_and_commit_model(task_id, 1)
    ledger.vote_all(task_id, 1, accept=False)
    assert training.getTask(task_id).call().rewardedRejectedRounds == 0
    assert training.pendingReward(task_id, 1, update_digest(task_id, 1, 0)).call() == 0
    ledger.assert_reverts(
        training.claimReward(task_id, 1, update_digest(task_id, 1, 0)),
        ledger.participants[0],
        "TrainingRoundNotAccepted",
        task_id,
        1,
    )
    assert training.unallocatedEscrow(task_id).call() == 2 * rewards
