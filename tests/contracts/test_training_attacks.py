"""The attacks of issues 15 and 9, each written as the attack: it now fails with a named custom
error, and the honest flow around it completes."""

from __future__ import annotations

from ledger_harness import (
    ACCEPTED,
    COLLECTING,
    REJECTED,
    ROLE_AGGREGATOR,
    ROLE_COORDINATOR,
    ROLE_KEY_HOLDER,
    ROLE_PARTICIPANT,
    ROLE_VALIDATOR,
    SUPPLY_CAP,
    Ledger,
    digest,
    update_digest,
    updates_hash,
)

UINT256_MAX = 2**256 - 1
UINT64_MAX = 2**64 - 1


# -- issue 15: rewards printed instead of funded -------------------------------------------------


def test_one_account_in_every_role_cannot_create_a_task(ledger: Ledger) -> None:
    attacker = ledger.outsider
    params = ledger.task_params(validatorQuorum=1, minParticipants=1, rewardPerRound=UINT256_MAX)
    ledger.assert_reverts(
        ledger.training.functions.createTask(params, attacker, attacker),
        attacker,
        "TrainingRolesNotDistinct",
        attacker,
        attacker,
        attacker,
    )


def test_an_unbacked_reward_cannot_be_promised(ledger: Ledger) -> None:
    """rewardPerRound = 2^256 - 1 with sybil roles: refused for its size, then for its backing."""
    attacker, sybil_aggregator, sybil_key_holder = ledger.outsider, *ledger.participants[40:42]
    training = ledger.training.functions
    overflowing = ledger.task_params(rewardPerRound=UINT256_MAX, maxRounds=2)
    ledger.assert_reverts(
        training.createTask(overflowing, sybil_aggregator, sybil_key_holder),
        attacker,
        "TrainingRewardPoolOverflow",
        UINT256_MAX,
        2,
    )
    huge = ledger.task_params(rewardPerRound=UINT256_MAX, maxRounds=1)
    call = training.createTask(huge, sybil_aggregator, sybil_key_holder)
    ledger.assert_reverts(call, attacker, "TrainingEscrowNotApproved", attacker, 0, UINT256_MAX)
    ledger.approve_escrow(attacker, UINT256_MAX)
    ledger.assert_reverts(call, attacker, "TrainingEscrowExceedsBalance", attacker, 0, UINT256_MAX)
    assert ledger.token.functions.totalSupply().call() == SUPPLY_CAP


def test_self_dealing_task_pays_out_only_its_own_escrow(ledger: Ledger) -> None:
    """An attacker runs a whole task with its sybils in every role and claims: it gets back
    exactly the tokens it escrowed, and the supply never moves from the cap."""
    training = ledger.training.functions
    attacker = ledger.outsider
    aggregator, key_holder, validator, participant = ledger.participants[40:44]
    sybils = [attacker, aggregator, key_holder, validator, participant]
    ledger.send(ledger.token.functions.transfer(attacker, 100), ledger.coordinator)
    params = ledger.task_params(
        minParticipants=1, validatorQuorum=1, maxRounds=1, rewardPerRound=100
    )
    ledger.approve_escrow(attacker, 100)
    ledger.send(training.createTask(params, aggregator, key_holder), attacker)
    task_id = training.taskCount().call()
    ledger.send(training.addValidator(task_id, validator), attacker)
    ledger.send(training.join(task_id), participant)
    ledger.send(training.openRound(task_id), attacker)
    ledger.send(training.commitUpdate(task_id, 1, digest("self"), 1), participant)
    ledger.send(
        training.commitAggregate(
            task_id, 1, digest("agg"), 1, updates_hash([(participant, digest("self"))])
        ),
        aggregator,
    )
    ledger.send(training.commitModel(task_id, 1, digest("model")), key_holder)
    ledger.send(training.vote(task_id, 1, True, 1), validator)
    ledger.send(training.claimReward(task_id, 1, digest("self")), participant)
    assert sum(ledger.balance(account) for account in sybils) == 100
    assert ledger.token.functions.totalSupply().call() == SUPPLY_CAP


# -- issue 15: an honest round forced into rejection ---------------------------------------------


def test_front_running_outsider_cannot_commit_to_the_running_round(ledger: Ledger) -> None:
    training = ledger.training.functions
    task_id = ledger.setup_task(participants=2, minParticipants=2)
    ledger.open_round(task_id)
    ledger.commit_updates(task_id, 1, [10, 20])
    # The outsider joins mid-round and commits ahead of the aggregate.
    ledger.send(training.join(task_id), ledger.outsider)
    ledger.assert_reverts(
        training.commitUpdate(task_id, 1, digest("front-run"), 10),
        ledger.outsider,
        "TrainingNotInRoundSnapshot",
        task_id,
        1,
        ledger.outsider,
        2,
    )
    # Its joining does not reopen collection: the honest aggregate goes in at once and is accepted.
    ledger.aggregate_and_commit_model(task_id, 1)
    ledger.vote_all(task_id, 1)
    assert ledger.round(task_id, 1).phase == ACCEPTED
    # From the next round on, the newcomer takes part like anyone else.
    round_number = ledger.open_round(task_id)
    ledger.send(training.commitUpdate(task_id, round_number, digest("next"), 10), ledger.outsider)


def test_commitment_landing_after_the_aggregator_read_the_logs_is_a_retry_not_a_rejection(
    ledger: Ledger,
) -> None:
    training = ledger.training.functions
    task_id = ledger.setup_task(participants=3, minParticipants=2, submissionWindowBlocks=5)
    ledger.open_round(task_id)
    ledger.commit_updates(task_id, 1, [10, 20])
    seen = ledger.included_updates(task_id, 1)  # the aggregator reads two commitments...
    deadline = ledger.round(task_id, 1).submissionDeadlineBlock
    ledger.mine_past(deadline - 1)
    ledger.commit_updates(task_id, 1, [30], first=2)  # ...a third lands in the deadline block
    ledger.mine_past(deadline)
    stale = training.commitAggregate(task_id, 1, digest("sum-of-two"), 2, updates_hash(seen))
    full = ledger.included_updates(task_id, 1)
    ledger.assert_reverts(
        stale,
        ledger.aggregator,
        "TrainingUpdateSetMismatch",
        task_id,
        1,
        3,
        updates_hash(full),
        2,
        updates_hash(seen),
    )
    # Nothing was recorded; the aggregator sums the three and the round is accepted.
    assert ledger.round(task_id, 1).phase == COLLECTING
    ledger.aggregate_and_commit_model(task_id, 1)
    ledger.vote_all(task_id, 1)
    assert ledger.round(task_id, 1).phase == ACCEPTED


def test_aggregate_of_a_different_set_of_the_same_size_is_refused(ledger: Ledger) -> None:
    training = ledger.training.functions
    task_id = ledger.setup_task(participants=2)
    ledger.open_round(task_id)
    ledger.commit_updates(task_id, 1, [1, 1])
    actual = ledger.included_updates(task_id, 1)
    claimed = [actual[0], (ledger.participants[5], digest("never-committed"))]
    ledger.assert_reverts(
        training.commitAggregate(task_id, 1, digest("a"), 2, updates_hash(claimed)),
        ledger.aggregator,
        "TrainingUpdateSetMismatch",
        task_id,
        1,
        2,
        updates_hash(actual),
        2,
        updates_hash(claimed),
    )


# -- issue 15: a minority of validators accepting ------------------------------------------------


def test_three_rejects_then_two_accepts_is_not_accepted(ledger: Ledger) -> None:
    """5 validators, quorum 2: the two accepting validators are a minority."""
    training = ledger.training.functions
    task_id = ledger.setup_task(validators=5, validatorQuorum=2, participants=2)
    ledger.open_round(task_id)
    ledger.commit_updates(task_id, 1, [1, 1])
    ledger.aggregate_and_commit_model(task_id, 1)
    for validator in ledger.validators[:3]:
        ledger.send(training.vote(task_id, 1, False, 1), validator)
    for validator in ledger.validators[3:5]:
        receipt = ledger.send(training.vote(task_id, 1, True, 1), validator)
    assert ledger.events(receipt)[-1][1]["accepted"] is False
    state = ledger.round(task_id, 1)
    assert (state.phase, state.acceptVotes, state.rejectVotes) == (REJECTED, 2, 3)


def test_puppet_validators_added_mid_vote_cannot_vote(ledger: Ledger) -> None:
    training = ledger.training.functions
    task_id = ledger.setup_task(validators=3, validatorQuorum=2, participants=2)
    ledger.open_round(task_id)
    ledger.commit_updates(task_id, 1, [1, 1])
    ledger.aggregate_and_commit_model(task_id, 1)
    ledger.send(training.vote(task_id, 1, False, 1), ledger.validators[0])
    ledger.send(training.vote(task_id, 1, False, 1), ledger.validators[1])
    puppets = ledger.validators[3:5]
    for puppet in puppets:
        ledger.send(training.addValidator(task_id, puppet), ledger.coordinator)
        ledger.assert_reverts(
            training.vote(task_id, 1, True, 1),
            puppet,
            "TrainingNotInRoundSnapshot",
            task_id,
            1,
            puppet,
            2,
        )
    # The round's electorate is still three: the third vote tallies it, rejected.
    assert ledger.round(task_id, 1).validatorCount == 3
    ledger.send(training.vote(task_id, 1, True, 1), ledger.validators[2])
    assert ledger.round(task_id, 1).phase == REJECTED


def test_a_quorum_voting_first_does_not_close_the_vote(ledger: Ledger) -> None:
    """Votes are tallied when everyone voted or at the deadline: two early accepts out of three
    do not end the round (the third validator still votes)."""
    training = ledger.training.functions
    task_id = ledger.setup_task(validators=3, validatorQuorum=2, participants=2)
    ledger.open_round(task_id)
    ledger.commit_updates(task_id, 1, [1, 1])
    ledger.aggregate_and_commit_model(task_id, 1)
    for validator in ledger.validators[:2]:
        receipt = ledger.send(training.vote(task_id, 1, True, 1), validator)
        assert [name for name, _ in ledger.events(receipt)] == ["VoteCast"]
    receipt = ledger.send(training.vote(task_id, 1, False, 1), ledger.validators[2])
    assert [name for name, _ in ledger.events(receipt)] == ["VoteCast", "RoundFinalized"]


# -- issue 15: one account in several roles ------------------------------------------------------


def test_no_account_holds_two_roles(ledger: Ledger) -> None:
    training = ledger.training.functions
    task_id = ledger.setup_task(validators=1, participants=1)
    validator, participant = ledger.validators[0], ledger.participants[0]
    # A validator cannot join, so it never validates a model containing its own update.
    ledger.assert_reverts(
        training.join(task_id),
        validator,
        "TrainingRoleConflict",
        task_id,
        validator,
        ROLE_VALIDATOR,
    )
    # A participant cannot be made a validator.
    ledger.assert_reverts(
        training.addValidator(task_id, participant),
        ledger.coordinator,
        "TrainingRoleConflict",
        task_id,
        participant,
        ROLE_PARTICIPANT,
    )
    # The coordinator, aggregator and key holder can do neither.
    for account, role in (
        (ledger.coordinator, ROLE_COORDINATOR),
        (ledger.aggregator, ROLE_AGGREGATOR),
        (ledger.key_holder, ROLE_KEY_HOLDER),
    ):
        ledger.assert_reverts(
            training.join(task_id), account, "TrainingRoleConflict", task_id, account, role
        )
        ledger.assert_reverts(
            training.addValidator(task_id, account),
            ledger.coordinator,
            "TrainingRoleConflict",
            task_id,
            account,
            role,
        )
    # Nor can a role be handed to someone holding another.
    ledger.assert_reverts(
        training.setAggregator(task_id, ledger.key_holder),
        ledger.coordinator,
        "TrainingRoleConflict",
        task_id,
        ledger.key_holder,
        ROLE_KEY_HOLDER,
    )
    ledger.assert_reverts(
        training.setKeyHolder(task_id, validator, digest("ctx")),
        ledger.coordinator,
        "TrainingRoleConflict",
        task_id,
        validator,
        ROLE_VALIDATOR,
    )


# -- issue 15: a key holder voiding rounds, a task run out of rounds ----------------------------


def test_key_holder_rejecting_every_aggregate_only_delays(ledger: Ledger) -> None:
    """maxRounds 1: rejected aggregates and cancelled rounds do not use up the task's round."""
    training = ledger.training.functions
    task_id = ledger.setup_task(participants=2, maxRounds=1)
    ledger.open_round(task_id)
    ledger.commit_updates(task_id, 1, [1, 1])
    for attempt in range(3):
        ledger.commit_aggregate(task_id, 1, digest(f"aggregate-{attempt}"))
        ledger.send(
            training.rejectAggregate(task_id, 1, digest(f"bogus-{attempt}")), ledger.key_holder
        )
        assert ledger.round(task_id, 1).phase == COLLECTING
    # The key holder finally goes silent: anyone cancels, the coordinator replaces it.
    ledger.commit_aggregate(task_id, 1, digest("aggregate-final"))
    ledger.mine_past(ledger.round(task_id, 1).actionDeadlineBlock)
    ledger.send(training.cancelRound(task_id, 1), ledger.outsider)
    new_key_holder = ledger.participants[20]
    ledger.send(
        training.setKeyHolder(task_id, new_key_holder, digest("public-context")),
        ledger.coordinator,
    )
    task = training.getTask(task_id).call()
    assert (task.votedRounds, task.ended) == (0, False)
    round_number = ledger.open_round(task_id)
    ledger.commit_updates(task_id, round_number, [1, 1])
    ledger.commit_aggregate(task_id, round_number, digest("aggregate"))
    ledger.send(training.commitModel(task_id, round_number, digest("m")), new_key_holder)
    ledger.vote_all(task_id, round_number)
    task = training.getTask(task_id).call()
    assert (task.votedRounds, task.acceptedRounds, task.ended) == (1, 1, True)


def test_rejecting_an_aggregate_needs_a_different_recomputed_digest(ledger: Ledger) -> None:
    task_id = ledger.setup_task(participants=2)
    ledger.open_round(task_id)
    ledger.commit_updates(task_id, 1, [1, 1])
    ledger.commit_aggregate(task_id, 1, digest("aggregate"))
    ledger.assert_reverts(
        ledger.training.functions.rejectAggregate(task_id, 1, digest("aggregate")),
        ledger.key_holder,
        "TrainingAggregateMatches",
        task_id,
        1,
        digest("aggregate"),
    )


# -- issue 9: replayed digests, absurd sample counts, damaged updates ----------------------------


def test_replayed_digest_is_refused(ledger: Ledger) -> None:
    training = ledger.training.functions
    task_id = ledger.setup_task(participants=3, minParticipants=2)
    ledger.open_round(task_id)
    honest, replayer = ledger.participants[0], ledger.participants[1]
    victim_digest = update_digest(task_id, 1, 0)
    ledger.commit_updates(task_id, 1, [50])
    ledger.assert_reverts(
        training.commitUpdate(task_id, 1, victim_digest, 50),
        replayer,
        "TrainingDigestAlreadyCommitted",
        task_id,
        victim_digest,
        honest,
    )
    # In a later round too.
    ledger.commit_updates(task_id, 1, [50, 50], first=1)
    ledger.aggregate_and_commit_model(task_id, 1)
    ledger.vote_all(task_id, 1)
    ledger.open_round(task_id)
    ledger.assert_reverts(
        training.commitUpdate(task_id, 2, victim_digest, 50),
        replayer,
        "TrainingDigestAlreadyCommitted",
        task_id,
        victim_digest,
        honest,
    )


def test_absurd_sample_counts_are_refused(ledger: Ledger) -> None:
    training = ledger.training.functions
    task_id = ledger.setup_task(participants=2, maxSamplesPerUpdate=10_000)
    ledger.open_round(task_id)
    greedy = ledger.participants[0]
    ledger.assert_reverts(
        training.commitUpdate(task_id, 1, digest("greedy"), UINT64_MAX),
        greedy,
        "TrainingTooManySamples",
        task_id,
        1,
        UINT64_MAX,
        10_000,
    )
    ledger.assert_reverts(
        training.commitUpdate(task_id, 1, digest("greedy"), 10_001),
        greedy,
        "TrainingTooManySamples",
        task_id,
        1,
        10_001,
        10_000,
    )
    ledger.assert_reverts(
        training.commitUpdate(task_id, 1, digest("nothing"), 0),
        greedy,
        "TrainingZeroSamples",
        task_id,
        1,
    )
    ledger.commit_updates(task_id, 1, [10_000, 1])  # the bound itself is accepted


def test_damaged_update_is_excluded_and_the_round_proceeds(ledger: Ledger) -> None:
    """A participant commits a digest whose blob is damaged: the aggregator excludes it with a
    reason, sums the rest, and the damaged participant earns nothing."""
    training = ledger.training.functions
    task_id = ledger.setup_task(participants=3, minParticipants=2, rewardPerRound=1_000)
    ledger.open_round(task_id)
    ledger.commit_updates(task_id, 1, [10, 10, 10])
    damaged = update_digest(task_id, 1, 1)
    ledger.send(training.excludeUpdate(task_id, 1, damaged, 1), ledger.aggregator)
    ledger.aggregate_and_commit_model(task_id, 1)
    ledger.vote_all(task_id, 1)
    ledger.claim(task_id, 1, 0)
    ledger.claim(task_id, 1, 2)
    assert ledger.balance(ledger.participants[0]) == 500
    assert ledger.balance(ledger.participants[2]) == 500
    assert ledger.balance(ledger.participants[1]) == 0
