"""TaskStakes: stake rules, stakes, slashing on on-chain evidence (low standing, a silent role, a
missed masked round) and withdrawal with the slashed pool shared among honest stakers; the offence
figures of a task with rules on TaskRules read from there round by round; every revert and event;
the gas of each transaction does not grow with the number of stakers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from ledger_harness import (
    AGGREGATOR_SILENT,
    ROLE_AGGREGATOR,
    ROLE_KEY_HOLDER,
    ROLE_NONE,
    ROLE_PARTICIPANT,
    ROLE_VALIDATOR,
    TOKEN_UNIT,
    ZERO_ADDRESS,
    Ledger,
    _deploy,
    build_scored_ledger,
    digest,
    load_artifact,
    revert_data,
    rules_tuple,
    update_digest,
)

from fedchain_magics.chain.merkle import MerkleTree
from fedchain_magics.chain.scores import ScoreEntry, score_tree
from fedchain_magics.crypto.masking import MaskingKey

PPM = 1_000_000
TABLE = digest("score-table")
REQUIRED = 100 * TOKEN_UNIT
ROLE = 400 * TOKEN_UNIT
BOND = 10 * TOKEN_UNIT
SLASH_PPM = 500_000
MIN_STANDING_PPM = 500_000
# TaskStakes.Offence
LOW_STANDING, SILENT_AGGREGATOR, SILENT_KEY_HOLDER, MISSED_ROUND, DISPUTE_UPHELD = range(5)


@pytest.fixture
def ledger() -> Ledger:
    return build_scored_ledger()


def fund(ledger: Ledger, account: str, amount: int) -> None:
    ledger.send(ledger.token.functions.transfer(account, amount), ledger.deployer)


def stake(ledger: Ledger, task_id: int, account: str, amount: int) -> Any:
    assert ledger.stakes is not None
    fund(ledger, account, amount)
    ledger.send(ledger.token.functions.approve(ledger.stakes.address, amount), account)
    return ledger.send(ledger.stakes.functions.stake(task_id), account)


def set_rules(ledger: Ledger, task_id: int, *, window_blocks: int = 0, **rules: int) -> Any:
    assert ledger.stakes is not None
    call = ledger.stakes.functions.setStakeRules(
        task_id,
        rules.get("required", REQUIRED),
        rules.get("role", ROLE),
        rules.get("slash_ppm", SLASH_PPM),
        rules.get("min_standing_ppm", MIN_STANDING_PPM),
        rules.get("bond", BOND),
        window_blocks,
    )
    return ledger.send(call, ledger.coordinator)


def staked_task(
    ledger: Ledger,
    participants: int = 3,
    *,
    window_blocks: int = 0,
    scored: bool = True,
    roles: bool = True,
    **overrides: Any,
) -> int:
    """A scored task, one validator, stake rules set, every participant (and the roles) staked."""
    params: dict[str, Any] = {"validators": 1, "validatorQuorum": 1, "minParticipants": 1}
    params.update(overrides)
    task_id = ledger.setup_task(participants=participants, **params)
    if scored:
        ledger.send(ledger.policy.functions.enableScoring(task_id), ledger.coordinator)
    set_rules(ledger, task_id, window_blocks=window_blocks)
    stake_everyone(ledger, task_id, participants, roles=roles)
    return task_id


def stake_everyone(ledger: Ledger, task_id: int, participants: int, *, roles: bool) -> None:
    """The first ``participants`` participants stake the required stake; with ``roles``, the
    aggregator and the key holder their role stake."""
    for participant in ledger.participants[:participants]:
        stake(ledger, task_id, participant, REQUIRED)
    if roles:
        stake(ledger, task_id, ledger.aggregator, ROLE)
        stake(ledger, task_id, ledger.key_holder, ROLE)


def post_table(
    ledger: Ledger, task_id: int, round_number: int, standings: Sequence[int]
) -> tuple[list[ScoreEntry], MerkleTree]:
    share = PPM // len(standings)
    entries = [
        ScoreEntry(participant, share, standing)
        for participant, standing in zip(ledger.participants, standings, strict=False)
    ]
    tree = score_tree(entries)
    call = ledger.policy.functions.postScores(task_id, round_number, tree.root, TABLE)
    ledger.send(call, ledger.coordinator)
    return entries, tree


def slash_low_call(
    ledger: Ledger, task_id: int, round_number: int, entry: ScoreEntry, proof: list[bytes]
) -> Any:
    assert ledger.stakes is not None
    return ledger.stakes.functions.slashLowStanding(
        task_id, round_number, entry.participant, entry.share_ppm, entry.standing_ppm, proof
    )


def stake_of(ledger: Ledger, task_id: int, account: str) -> Any:
    assert ledger.stakes is not None
    return ledger.stakes.functions.stakeOf(task_id, account).call()


# -- rules and stakes -----------------------------------------------------------------------------


def test_stake_rules_by_the_coordinator_before_round_one(ledger: Ledger) -> None:
    stakes = ledger.stakes.functions  # type: ignore[union-attr]
    task_id = ledger.setup_task()
    ledger.assert_reverts(
        stakes.setStakeRules(task_id, 1, 1, 1, 1, 1, 1),
        ledger.outsider,
        "StakesNotCoordinator",
        task_id,
        ledger.outsider,
    )
    ledger.assert_reverts(
        stakes.setStakeRules(task_id, 1, 1, PPM + 1, 1, 1, 1),
        ledger.coordinator,
        "StakesInvalidSlashPpm",
        PPM + 1,
    )
    ledger.assert_reverts(
        stakes.setStakeRules(task_id, 1, 1, 1, PPM + 1, 1, 1),
        ledger.coordinator,
        "StakesInvalidMinStanding",
        PPM + 1,
    )
    receipt = set_rules(ledger, task_id, window_blocks=7)
    assert ledger.events(receipt) == [
        (
            "StakeRulesSet",
            {
                "taskId": task_id,
                "requiredStake": REQUIRED,
                "roleStake": ROLE,
                "slashPpm": SLASH_PPM,
                "minStandingPpm": MIN_STANDING_PPM,
                "disputeBond": BOND,
                "disputeWindowBlocks": 7,
            },
        )
    ]
    assert tuple(stakes.stakeRules(task_id).call()) == (
        REQUIRED,
        ROLE,
        BOND,
        7,
        SLASH_PPM,
        MIN_STANDING_PPM,
        True,
    )
    ledger.assert_reverts(
        stakes.setStakeRules(task_id, 1, 1, 1, 1, 1, 1),
        ledger.coordinator,
        "StakesRulesAlreadySet",
        task_id,
    )
    started = ledger.setup_task()
    ledger.open_round(started)
    ledger.assert_reverts(
        stakes.setStakeRules(started, 1, 1, 1, 1, 1, 1),
        ledger.coordinator,
        "StakesRoundsStarted",
        started,
        1,
    )


def test_stake_pulls_exactly_what_the_role_requires(ledger: Ledger) -> None:
    stakes = ledger.stakes.functions  # type: ignore[union-attr]
    task_id = ledger.setup_task(participants=2)
    alice = ledger.participants[0]
    ledger.assert_reverts(stakes.stake(task_id), alice, "StakesNoRules", task_id)
    set_rules(ledger, task_id)
    for account, role in ((ledger.validators[0], ROLE_VALIDATOR), (ledger.outsider, ROLE_NONE)):
        ledger.assert_reverts(
            stakes.stake(task_id), account, "StakesNothingToStake", task_id, account, role
        )
    receipt = stake(ledger, task_id, alice, REQUIRED)
    staked = [event for event in ledger.events(receipt) if event[0] == "Staked"]
    assert staked == [
        (
            "Staked",
            {
                "taskId": task_id,
                "account": alice,
                "role": ROLE_PARTICIPANT,
                "amount": REQUIRED,
                "coversFromRound": 1,
            },
        )
    ]
    assert ledger.balance(alice) == 0
    assert ledger.balance(ledger.stakes.address) == REQUIRED  # type: ignore[union-attr]
    receipt = stake(ledger, task_id, ledger.aggregator, ROLE)
    assert ledger.events(receipt)[-2][1]["role"] == ROLE_AGGREGATOR
    stake(ledger, task_id, ledger.key_holder, ROLE)
    assert stake_of(ledger, task_id, ledger.key_holder).role == ROLE_KEY_HOLDER
    fund(ledger, alice, REQUIRED)
    ledger.assert_reverts(stakes.stake(task_id), alice, "StakesAlreadyStaked", task_id, alice)
    # A stake taken during round 1 covers the rounds after it only.
    ledger.open_round(task_id)
    bob = ledger.participants[1]
    stake(ledger, task_id, bob, REQUIRED)
    assert stake_of(ledger, task_id, bob).coversFromRound == 2
    assert tuple(stakes.claimStatus(task_id, 1, bob).call()) == (0, 0, False)
    assert tuple(stakes.claimStatus(task_id, 2, bob).call()) == (0, 0, True)
    assert tuple(stakes.claimStatus(task_id, 1, alice).call()) == (0, 0, True)


def test_no_stake_is_taken_once_the_task_ended(ledger: Ledger) -> None:
    task_id = ledger.setup_task(participants=1)
    set_rules(ledger, task_id)
    ledger.send(ledger.training.functions.closeTask(task_id), ledger.coordinator)
    participant = ledger.participants[0]
    ledger.assert_reverts(
        ledger.stakes.functions.stake(task_id),
        participant,
        "StakesTaskEnded",
        task_id,  # type: ignore[union-attr]
    )


def test_a_participant_without_its_stake_is_not_paid(ledger: Ledger) -> None:
    task_id = staked_task(ledger, participants=2, scored=False)
    newcomer = ledger.participants[2]
    ledger.send(ledger.training.functions.join(task_id), newcomer)
    ledger.open_round(task_id)
    ledger.commit_updates(task_id, 1, [1, 1, 1])
    ledger.aggregate_and_commit_model(task_id, 1)
    ledger.vote_all(task_id, 1)
    ledger.claim(task_id, 1, 0)
    call = ledger.training.functions.claimReward(task_id, 1, update_digest(task_id, 1, 2))
    ledger.assert_reverts(call, newcomer, "PolicyStakeMissing", task_id, 1, newcomer)


# -- slashing: low standing -----------------------------------------------------------------------


def test_low_standing_is_slashed_and_its_stake_goes_to_the_honest(ledger: Ledger) -> None:
    stakes = ledger.stakes.functions  # type: ignore[union-attr]
    task_id = staked_task(ledger, participants=3, maxRounds=1)
    ledger.run_accepted_round(task_id, [1, 1, 1])
    honest, also_honest, low = ledger.participants[:3]
    bogus = ScoreEntry(low, 1, 1)
    ledger.assert_reverts(
        slash_low_call(ledger, task_id, 1, bogus, []),
        ledger.outsider,
        "StakesScoresNotPosted",
        task_id,
        1,
    )
    entries, tree = post_table(ledger, task_id, 1, [PPM, 900_000, 200_000])
    ledger.assert_reverts(
        slash_low_call(ledger, task_id, 1, bogus, tree.proof(2)),
        ledger.outsider,
        "StakesInvalidProof",
        task_id,
        1,
        low,
    )
    ledger.assert_reverts(
        slash_low_call(ledger, task_id, 1, entries[1], tree.proof(1)),
        ledger.outsider,
        "StakesStandingNotLow",
        task_id,
        1,
        also_honest,
        900_000,
        MIN_STANDING_PPM,
    )
    receipt = ledger.send(
        slash_low_call(ledger, task_id, 1, entries[2], tree.proof(2)), ledger.outsider
    )
    assert ledger.events(receipt) == [
        (
            "Slashed",
            {
                "taskId": task_id,
                "round": 1,
                "party": low,
                "offence": LOW_STANDING,
                "amount": REQUIRED // 2,
                "remaining": REQUIRED // 2,
            },
        )
    ]
    assert stakes.isSlashed(task_id, 1, low, LOW_STANDING).call()
    ledger.assert_reverts(
        slash_low_call(ledger, task_id, 1, entries[2], tree.proof(2)),
        ledger.outsider,
        "StakesAlreadySlashed",
        task_id,
        1,
        low,
        LOW_STANDING,
    )
    # The slashed half is shared by the honest stakers pro rata: two participants and two roles.
    honest_stake = 2 * REQUIRED + 2 * ROLE
    expected_share = (REQUIRED // 2) * REQUIRED // honest_stake
    assert stakes.poolShareOf(task_id, honest).call() in (expected_share, expected_share - 1)
    assert stakes.poolShareOf(task_id, low).call() == 0
    for index, entry in enumerate(entries):
        ledger.send(
            ledger.policy.functions.proveShare(
                task_id,
                1,
                entry.participant,
                entry.share_ppm,
                entry.standing_ppm,
                tree.proof(index),
            ),
            ledger.outsider,
        )
        ledger.claim(task_id, 1, index)  # a slashed party is still paid its share
    ledger.assert_reverts(
        stakes.withdrawStake(task_id), ledger.outsider, "StakesNotStaked", task_id, ledger.outsider
    )
    total_paid = 0
    for account in (honest, also_honest, low, ledger.aggregator, ledger.key_holder):
        before = ledger.balance(account)
        receipt = ledger.send(stakes.withdrawStake(task_id), account)
        (name, args), *_ = ledger.events(receipt)
        assert name == "StakeWithdrawn" and args["account"] == account
        assert ledger.balance(account) - before == args["returned"] + args["poolShare"]
        total_paid += args["returned"] + args["poolShare"]
        if account == low:
            assert (args["returned"], args["poolShare"]) == (REQUIRED // 2, 0)
        else:
            assert args["poolShare"] > 0
    # Everything staked came back but the accumulator's rounding dust (a few base units).
    assert 0 <= 3 * REQUIRED + 2 * ROLE - total_paid < 10
    ledger.assert_reverts(
        stakes.withdrawStake(task_id), honest, "StakesAlreadyWithdrawn", task_id, honest
    )
    ledger.assert_reverts(
        slash_low_call(ledger, task_id, 1, entries[2], tree.proof(2)),
        ledger.outsider,
        "StakesAlreadySlashed",
        task_id,
        1,
        low,
        LOW_STANDING,
    )


def test_stakes_stay_until_the_task_ended_and_a_party_without_stake_is_not_slashed(
    ledger: Ledger,
) -> None:
    stakes = ledger.stakes.functions  # type: ignore[union-attr]
    task_id = staked_task(ledger, participants=2, roles=False)
    alice = ledger.participants[0]
    ledger.assert_reverts(stakes.withdrawStake(task_id), alice, "StakesTaskNotEnded", task_id)
    newcomer = ledger.participants[2]
    ledger.send(ledger.training.functions.join(task_id), newcomer)
    ledger.run_accepted_round(task_id, [1, 1, 1])
    entries, tree = post_table(ledger, task_id, 1, [PPM, PPM, 0])
    ledger.assert_reverts(
        slash_low_call(ledger, task_id, 1, entries[2], tree.proof(2)),
        ledger.outsider,
        "StakesNotStaked",
        task_id,
        newcomer,
    )


# -- slashing: silent roles -----------------------------------------------------------------------


def test_roles_are_recorded_while_a_round_is_open(ledger: Ledger) -> None:
    stakes = ledger.stakes.functions  # type: ignore[union-attr]
    task_id = staked_task(ledger, participants=2)
    ledger.assert_reverts(
        stakes.recordRoundRoles(task_id), ledger.outsider, "StakesRoundNotOpen", task_id, 0
    )
    ledger.open_round(task_id)
    receipt = ledger.send(stakes.recordRoundRoles(task_id), ledger.outsider)
    assert ledger.events(receipt) == [
        (
            "RoundRolesRecorded",
            {
                "taskId": task_id,
                "round": 1,
                "aggregator": ledger.aggregator,
                "keyHolder": ledger.key_holder,
            },
        )
    ]
    assert tuple(stakes.roundRoles(task_id, 1).call()) == (ledger.aggregator, ledger.key_holder)
    ledger.assert_reverts(
        stakes.recordRoundRoles(task_id), ledger.outsider, "StakesRolesAlreadyRecorded", task_id, 1
    )
    ledger.commit_updates(task_id, 1, [1, 1])
    ledger.aggregate_and_commit_model(task_id, 1)
    ledger.vote_all(task_id, 1)
    ledger.open_round(task_id)
    ledger.commit_updates(task_id, 2, [1, 1])
    ledger.aggregate_and_commit_model(task_id, 2)
    ledger.vote_all(task_id, 2)
    ledger.assert_reverts(
        stakes.recordRoundRoles(task_id), ledger.outsider, "StakesRoundNotOpen", task_id, 2
    )


def test_a_silent_aggregator_is_slashed_when_its_round_is_cancelled(ledger: Ledger) -> None:
    stakes = ledger.stakes.functions  # type: ignore[union-attr]
    task_id = staked_task(ledger, participants=2)
    ledger.open_round(task_id)
    ledger.commit_updates(task_id, 1, [1, 1])
    ledger.assert_reverts(
        stakes.slashSilentRole(task_id, 1), ledger.outsider, "StakesRoundNotCancelled", task_id, 1
    )
    ledger.mine_past(ledger.round(task_id, 1).actionDeadlineBlock)
    receipt = ledger.send(stakes.cancelStalledRound(task_id, 1), ledger.outsider)
    names = [name for name, _ in ledger.events(receipt)]
    assert names == ["RoundRolesRecorded", "RoundCancelled", "Slashed"]
    assert ledger.events(receipt)[2][1] == {
        "taskId": task_id, "round": 1, "party": ledger.aggregator, "offence": SILENT_AGGREGATOR,
        "amount": ROLE // 2, "remaining": ROLE // 2,
    }  # fmt: skip
    assert ledger.events(receipt)[1][1]["reason"] == AGGREGATOR_SILENT
    ledger.assert_reverts(
        stakes.slashSilentRole(task_id, 1),
        ledger.outsider,
        "StakesAlreadySlashed",
        task_id,
        1,
        ledger.aggregator,
        SILENT_AGGREGATOR,
    )


def test_a_silent_key_holder_is_slashed_once_from_the_recorded_roles(ledger: Ledger) -> None:
    stakes = ledger.stakes.functions  # type: ignore[union-attr]
    task_id = staked_task(ledger, participants=2)
    ledger.open_round(task_id)
    ledger.send(stakes.recordRoundRoles(task_id), ledger.outsider)
    ledger.commit_updates(task_id, 1, [1, 1])
    ledger.close_collection(task_id, 1)
    ledger.commit_aggregate(task_id, 1, digest("aggregate"))
    ledger.mine_past(ledger.round(task_id, 1).actionDeadlineBlock)
    ledger.send(
        ledger.training.functions.cancelRound(task_id, 1), ledger.outsider
    )  # not through the stakes
    receipt = ledger.send(stakes.slashSilentRole(task_id, 1), ledger.outsider)
    assert ledger.events(receipt)[0][1]["party"] == ledger.key_holder
    assert ledger.events(receipt)[0][1]["offence"] == SILENT_KEY_HOLDER


def test_no_silence_slash_without_recorded_roles_or_for_too_few_updates(ledger: Ledger) -> None:
    stakes = ledger.stakes.functions  # type: ignore[union-attr]
    task_id = staked_task(ledger, participants=2, minParticipants=2, maxRounds=3)
    ledger.open_round(task_id)
    ledger.commit_updates(task_id, 1, [1, 1])
    ledger.mine_past(ledger.round(task_id, 1).actionDeadlineBlock)
    ledger.send(ledger.training.functions.cancelRound(task_id, 1), ledger.outsider)
    ledger.assert_reverts(
        stakes.slashSilentRole(task_id, 1), ledger.outsider, "StakesRolesNotRecorded", task_id, 1
    )
    ledger.open_round(task_id)
    ledger.commit_updates(task_id, 2, [1])
    ledger.close_collection(task_id, 2)
    receipt = ledger.send(stakes.cancelStalledRound(task_id, 2), ledger.outsider)
    assert [name for name, _ in ledger.events(receipt)] == ["RoundRolesRecorded", "RoundCancelled"]
    ledger.assert_reverts(
        stakes.slashSilentRole(task_id, 2), ledger.outsider, "StakesNoSilentRole", task_id, 2
    )


# -- slashing: a missed masked round --------------------------------------------------------------


def _advertise(ledger: Ledger, task_id: int, index: int) -> None:
    key = MaskingKey.derive(bytes([index + 1]) * 32, b"round 1")
    participant = ledger.participants[index]
    proof = key.prove(ledger.training.functions.maskingKeyDigest(task_id, 1, participant).call())
    ledger.send(
        ledger.training.functions.advertiseMaskingKey(task_id, 1, key.public, proof), participant
    )


def test_a_masked_party_that_advertised_and_never_committed_is_slashed(ledger: Ledger) -> None:
    stakes = ledger.stakes.functions  # type: ignore[union-attr]
    task_id = staked_task(
        ledger, participants=3, masked=True, submissionWindowBlocks=40, scored=False
    )
    ledger.open_round(task_id)
    for index in range(3):
        _advertise(ledger, task_id, index)
    ledger.commit_updates(task_id, 1, [1, 1])  # the third party advertised, then went silent
    committed, silent = ledger.participants[0], ledger.participants[2]
    deadline = ledger.round(task_id, 1).submissionDeadlineBlock
    ledger.assert_reverts(
        stakes.slashMissedRound(task_id, 1, silent),
        ledger.outsider,
        "StakesRoundStillCollecting",
        task_id,
        1,
        deadline,
    )
    ledger.assert_reverts(
        stakes.slashMissedRound(task_id, 1, committed),
        ledger.outsider,
        "StakesRoundNotMissed",
        task_id,
        1,
        committed,
    )
    ledger.assert_reverts(
        stakes.slashMissedRound(task_id, 2, silent),
        ledger.outsider,
        "StakesRoundNotMissed",
        task_id,
        2,
        silent,
    )
    ledger.mine_past(deadline)
    receipt = ledger.send(stakes.slashMissedRound(task_id, 1, silent), ledger.outsider)
    assert ledger.events(receipt)[0] == (
        "Slashed",
        {
            "taskId": task_id,
            "round": 1,
            "party": silent,
            "offence": MISSED_ROUND,
            "amount": REQUIRED // 2,
            "remaining": REQUIRED // 2,
        },
    )
    ledger.assert_reverts(
        stakes.slashMissedRound(task_id, 1, silent),
        ledger.outsider,
        "StakesAlreadySlashed",
        task_id,
        1,
        silent,
        MISSED_ROUND,
    )


# -- the offence figures: one source --------------------------------------------------------------

RULED_SLASH_PPM = 100_000
RULED_SLASH_BELOW_PPM = 500_000


def ruled_task(
    ledger: Ledger,
    participants: int = 3,
    *,
    window_blocks: int = 0,
    roles: bool = True,
    **overrides: Any,
) -> int:
    """A scored task whose offence figures are on TaskRules (10% per offence, slashed below half
    the median's standing), handed to a governor (an account standing in for the timelock, so
    each change is one call), its stake rules set without offence figures and everyone staked."""
    assert ledger.rules is not None
    params: dict[str, Any] = {"validators": 1, "validatorQuorum": 1, "minParticipants": 1}
    task_id = ledger.setup_task(participants=participants, **(params | overrides))
    ledger.send(ledger.policy.functions.enableScoring(task_id), ledger.coordinator)
    first = rules_tuple(slash_ppm=RULED_SLASH_PPM, slash_below_standing_ppm=RULED_SLASH_BELOW_PPM)
    ledger.send(ledger.rules.functions.setInitialRules(task_id, first), ledger.coordinator)
    ledger.send(ledger.rules.functions.handOver(task_id, governor(ledger)), ledger.coordinator)
    set_rules(ledger, task_id, window_blocks=window_blocks, slash_ppm=0, min_standing_ppm=0)
    stake_everyone(ledger, task_id, participants, roles=roles)
    return task_id


def governor(ledger: Ledger) -> str:
    return ledger.validators[-1]


def offence_rules(ledger: Ledger, task_id: int, round_number: int) -> tuple[int, int, bool]:
    assert ledger.stakes is not None
    return tuple(ledger.stakes.functions.offenceRules(task_id, round_number).call())  # type: ignore[return-value]


def slashed_amount(ledger: Ledger, receipt: Any) -> int:
    return sum(args["amount"] for name, args in ledger.events(receipt) if name == "Slashed")


def test_stakes_are_deployed_over_the_task_rules_of_their_registry(ledger: Ledger) -> None:
    artifact = load_artifact("TaskStakes")
    factory = ledger.w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
    policy = _deploy(ledger.w3, "ContributionRewardPolicy", ledger.deployer)
    own_rules = _deploy(ledger.w3, "TaskRules", ledger.deployer, ledger.training.address)
    other_rules = _deploy(ledger.w3, "TaskRules", ledger.deployer, ledger.token.address)
    refusals = (
        ((ledger.training.address, policy.address, ZERO_ADDRESS), "StakesInvalidAddress", ()),
        (
            (ledger.training.address, policy.address, other_rules.address),
            "StakesRulesRegistryMismatch",
            (ledger.training.address, ledger.token.address),
        ),
    )
    for arguments, name, error_args in refusals:
        with pytest.raises(Exception) as refused:
            factory.constructor(*arguments).estimate_gas({"from": ledger.deployer})
        decoded = ledger.errors.decode(revert_data(refused.value))
        assert (decoded.name, decoded.args) == (name, error_args)
    stakes = _deploy(
        ledger.w3, "TaskStakes", ledger.deployer, ledger.training.address, policy.address,
        own_rules.address,
    )  # fmt: skip
    assert stakes.functions.taskRules().call() == own_rules.address
    (deployed,) = stakes.events.StakesDeployed().get_logs(from_block=0)
    assert dict(deployed["args"]) == {
        "registry": ledger.training.address,
        "scores": policy.address,
        "token": ledger.token.address,
        "taskRules": own_rules.address,
    }


def test_a_task_with_rules_takes_no_offence_figures_in_its_stake_rules(ledger: Ledger) -> None:
    assert ledger.rules is not None and ledger.stakes is not None
    stakes, rules = ledger.stakes.functions, ledger.rules.functions
    task_id = ledger.setup_task()
    # Rules set by the coordinator, not handed over: they decide the offence figures already.
    ledger.send(rules.setInitialRules(task_id, rules_tuple()), ledger.coordinator)
    for slash_ppm, min_standing_ppm in ((1, 0), (0, 1)):
        ledger.assert_reverts(
            stakes.setStakeRules(task_id, REQUIRED, ROLE, slash_ppm, min_standing_ppm, 0, 0),
            ledger.coordinator,
            "StakesSlashingOnTaskRules",
            task_id,
            ledger.rules.address,
        )
    receipt = set_rules(ledger, task_id, slash_ppm=0, min_standing_ppm=0)
    assert ledger.events(receipt)[0][1]["requiredStake"] == REQUIRED
    assert offence_rules(ledger, task_id, 1) == (100_000, 0, True)
    # Stake rules first, then rules on TaskRules (both before round 1): those rules decide.
    late = ledger.setup_task()
    set_rules(ledger, late)
    assert offence_rules(ledger, late, 1) == (SLASH_PPM, MIN_STANDING_PPM, False)
    ledger.send(rules.setInitialRules(late, rules_tuple(slash_ppm=300_000)), ledger.coordinator)
    assert offence_rules(ledger, late, 1) == (300_000, 0, True)
    assert tuple(stakes.stakeRules(late).call())[4:6] == (SLASH_PPM, MIN_STANDING_PPM)


def test_a_governed_change_of_the_offence_figures_applies_from_the_next_round(
    ledger: Ledger,
) -> None:
    """The governor raises the slash and lowers the threshold while round 1 is open: round 1's
    offences keep the figures it opened under, round 2's meet the new ones."""
    assert ledger.rules is not None
    task_id = ruled_task(ledger, participants=3, maxRounds=2)
    _, middling, low = ledger.participants[:3]
    ledger.open_round(task_id)
    rules = ledger.rules.functions
    receipt = ledger.send(rules.setSlash(task_id, 400_000), governor(ledger))
    assert [(name, args["fromRound"]) for name, args in ledger.events(receipt)] == [
        ("RulesChanged", 2)
    ]
    ledger.send(rules.setSlashBelowStanding(task_id, 300_000), governor(ledger))
    assert offence_rules(ledger, task_id, 1) == (RULED_SLASH_PPM, RULED_SLASH_BELOW_PPM, True)
    assert offence_rules(ledger, task_id, 2) == (400_000, 300_000, True)
    ledger.commit_updates(task_id, 1, [1, 1, 1])
    ledger.aggregate_and_commit_model(task_id, 1)
    ledger.vote_all(task_id, 1)
    entries, tree = post_table(ledger, task_id, 1, [PPM, 400_000, 200_000])
    for index in (1, 2):  # both below round 1's half of the median: 10% each
        receipt = ledger.send(
            slash_low_call(ledger, task_id, 1, entries[index], tree.proof(index)), ledger.outsider
        )
        assert slashed_amount(ledger, receipt) == REQUIRED // 10
    ledger.run_accepted_round(task_id, [1, 1, 1])
    entries, tree = post_table(ledger, task_id, 2, [PPM, 400_000, 200_000])
    ledger.assert_reverts(
        slash_low_call(ledger, task_id, 2, entries[1], tree.proof(1)),
        ledger.outsider,
        "StakesStandingNotLow",
        task_id,
        2,
        middling,
        400_000,
        300_000,
    )
    receipt = ledger.send(
        slash_low_call(ledger, task_id, 2, entries[2], tree.proof(2)), ledger.outsider
    )
    assert slashed_amount(ledger, receipt) == (REQUIRED - REQUIRED // 10) * 4 // 10
    assert stake_of(ledger, task_id, low).amount == REQUIRED * 9 // 10 * 6 // 10
    # The stake each staker paid never changed: only what an offence costs did.
    assert stake_of(ledger, task_id, ledger.participants[0]).amount == REQUIRED


def test_every_offence_of_a_task_with_rules_costs_its_rounds_slash(ledger: Ledger) -> None:
    """A silent aggregator slashed in round 1 (10%) and again in round 2, after the governor
    raised the slash to 50% while round 1 was open."""
    assert ledger.rules is not None
    stakes = ledger.stakes.functions  # type: ignore[union-attr]
    task_id = ruled_task(ledger, participants=2, maxRounds=3)
    for round_number, expected in ((1, ROLE // 10), (2, (ROLE - ROLE // 10) // 2)):
        ledger.open_round(task_id)
        if round_number == 1:
            ledger.send(ledger.rules.functions.setSlash(task_id, 500_000), governor(ledger))
        ledger.commit_updates(task_id, round_number, [1, 1])
        ledger.mine_past(ledger.round(task_id, round_number).actionDeadlineBlock)
        receipt = ledger.send(stakes.cancelStalledRound(task_id, round_number), ledger.outsider)
        (slash,) = [args for name, args in ledger.events(receipt) if name == "Slashed"]
        assert (slash["party"], slash["offence"], slash["amount"]) == (
            ledger.aggregator,
            SILENT_AGGREGATOR,
            expected,
        )


# -- gas ------------------------------------------------------------------------------------------


def _gas_of_a_staked_round(participant_count: int) -> dict[str, int]:
    """Gas of each stakes and policy transaction, measured on the last participant's."""
    ledger = build_scored_ledger()
    stakes = ledger.stakes.functions  # type: ignore[union-attr]
    gas: dict[str, int] = {}
    task_id = ledger.setup_task(
        participants=participant_count, validators=1, validatorQuorum=1, minParticipants=1,
        maxRounds=1, submissionWindowBlocks=200,
    )  # fmt: skip
    ledger.send(ledger.policy.functions.enableScoring(task_id), ledger.coordinator)
    set_rules(ledger, task_id, window_blocks=5)
    for participant in ledger.participants[:participant_count]:
        gas["stake"] = stake(ledger, task_id, participant, REQUIRED)["gasUsed"]
    stake(ledger, task_id, ledger.aggregator, ROLE)
    ledger.open_round(task_id)
    gas["recordRoundRoles"] = ledger.send(stakes.recordRoundRoles(task_id), ledger.coordinator)[
        "gasUsed"
    ]
    ledger.commit_updates(task_id, 1, [1] * participant_count)
    ledger.aggregate_and_commit_model(task_id, 1)
    ledger.vote_all(task_id, 1)
    last = ledger.participants[participant_count - 1]
    fund(ledger, last, BOND)
    ledger.send(ledger.token.functions.approve(ledger.stakes.address, BOND), last)  # type: ignore[union-attr]
    gas["openDispute"] = ledger.send(stakes.openDispute(task_id, 1, digest("evidence")), last)[
        "gasUsed"
    ]
    gas["voteOnDispute"] = ledger.send(
        stakes.voteOnDispute(task_id, 1, False), ledger.validators[0]
    )["gasUsed"]
    ledger.mine_past(ledger.round(task_id, 1).validationDeadlineBlock + 5)
    standings = [PPM] * (participant_count - 1) + [0]
    share = PPM // participant_count
    entries = [
        ScoreEntry(p, share, s) for p, s in zip(ledger.participants, standings, strict=False)
    ]
    tree = score_tree(entries)
    gas["postScores"] = ledger.send(
        ledger.policy.functions.postScores(task_id, 1, tree.root, TABLE), ledger.coordinator
    )["gasUsed"]
    index = participant_count - 1
    entry = entries[index]
    gas["proveShare"] = ledger.send(
        ledger.policy.functions.proveShare(
            task_id, 1, entry.participant, entry.share_ppm, entry.standing_ppm, tree.proof(index)
        ),
        ledger.outsider,
    )["gasUsed"]
    gas["proofLength"] = len(tree.proof(index))
    gas["claimReward"] = ledger.claim(task_id, 1, index)["gasUsed"]
    gas["slashLowStanding"] = ledger.send(
        slash_low_call(ledger, task_id, 1, entry, tree.proof(index)), ledger.outsider
    )["gasUsed"]
    gas["withdrawStake"] = ledger.send(stakes.withdrawStake(task_id), ledger.participants[0])[
        "gasUsed"
    ]
    return gas


def test_gas_of_each_transaction_does_not_grow_with_stakers() -> None:
    small, large = _gas_of_a_staked_round(3), _gas_of_a_staked_round(30)
    print({name: (small[name], large[name]) for name in small})  # the figures of the report
    for name in (
        "stake",
        "recordRoundRoles",
        "openDispute",
        "voteOnDispute",
        "postScores",
        "claimReward",
        "withdrawStake",
    ):
        assert abs(large[name] - small[name]) <= 100, (name, small[name], large[name])
    # A Merkle proof is log2(rows) siblings: each costs its calldata and one keccak, nothing else.
    extra_siblings = large["proofLength"] - small["proofLength"]
    for name in ("proveShare", "slashLowStanding"):
        assert 0 <= large[name] - small[name] <= 700 * extra_siblings, (
            name,
            small[name],
            large[name],
        )


def _gas_of_slashes(*, ruled: bool) -> dict[str, int]:
    """Gas of a low-standing slash and of a cancelled round's silent-aggregator slash, in a task
    slashed by its own stake rules or by its rules on TaskRules (same figures: 50%, or 10%)."""
    ledger = build_scored_ledger()
    stakes = ledger.stakes.functions  # type: ignore[union-attr]
    make = ruled_task if ruled else staked_task
    task_id = make(ledger, participants=3, maxRounds=2)
    ledger.run_accepted_round(task_id, [1, 1, 1])
    entries, tree = post_table(ledger, task_id, 1, [PPM, PPM, 0])
    call = slash_low_call(ledger, task_id, 1, entries[2], tree.proof(2))
    gas = {"slashLowStanding": ledger.send(call, ledger.outsider)["gasUsed"]}
    ledger.open_round(task_id)
    ledger.commit_updates(task_id, 2, [1, 1, 1])
    ledger.mine_past(ledger.round(task_id, 2).actionDeadlineBlock)
    receipt = ledger.send(stakes.cancelStalledRound(task_id, 2), ledger.outsider)
    assert slashed_amount(ledger, receipt) > 0
    gas["cancelStalledRound"] = receipt["gasUsed"]
    return gas


def test_gas_of_a_slash_reading_the_task_rules() -> None:
    """Reading the round's offence figures is one call to TaskRules, never a loop: it added about
    5.7k gas to every slash (a cold account and one slot; measured before and after the change),
    and a task with rules there pays about 4.6k more (its latest checkpoint and version)."""
    own, ruled = _gas_of_slashes(ruled=False), _gas_of_slashes(ruled=True)
    print({name: (own[name], ruled[name]) for name in own})  # the figures of the report
    for name in own:
        assert 0 < ruled[name] - own[name] <= 8_000, (name, own[name], ruled[name])
    assert own["slashLowStanding"] <= 107_000, own
    assert ruled["slashLowStanding"] <= 113_000, ruled
