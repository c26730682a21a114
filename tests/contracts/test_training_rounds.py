"""FederatedTraining round life cycle: the happy path, votes, re-aggregation, exclusion,
cancellation, role changes, the end of a task, and the views."""

from __future__ import annotations

from ledger_harness import (
    ACCEPTED,
    AGGREGATED,
    AGGREGATOR_SILENT,
    CANCELLED,
    COLLECTING,
    KEY_HOLDER_SILENT,
    MALFORMED,
    NONE,
    REJECTED,
    ROLE_AGGREGATOR,
    ROLE_COORDINATOR,
    ROLE_KEY_HOLDER,
    ROLE_NONE,
    ROLE_PARTICIPANT,
    ROLE_VALIDATOR,
    TOO_FEW_UPDATES,
    VALIDATING,
    ZERO_ADDRESS,
    ZERO_DIGEST,
    Ledger,
    digest,
    update_digest,
    update_term,
    updates_hash,
)


def test_deployment_wires_token_and_policy(ledger: Ledger) -> None:
    training = ledger.training.functions
    assert training.token().call() == ledger.token.address
    assert training.rewardPolicy().call() == ledger.policy.address
    assert training.taskCount().call() == 0
    # The registry mints nothing: it holds no role on the token.
    minter_role = ledger.token.functions.MINTER_ROLE().call()
    assert not ledger.token.functions.hasRole(minter_role, ledger.training.address).call()
    deployed = ledger.training.events.RegistryDeployed().get_logs(from_block=0)
    assert [dict(log["args"]) for log in deployed] == [
        {"token": ledger.token.address, "rewardPolicy": ledger.policy.address}
    ]


def test_full_round_happy_path(ledger: Ledger) -> None:
    training = ledger.training.functions
    params = ledger.task_params(
        minParticipants=2, validatorQuorum=2, rewardPerRound=6_000, maxRounds=2
    )

    # createTask: escrows rewardPerRound x maxRounds; ids start at 1; the caller coordinates.
    ledger.approve_escrow(ledger.coordinator, 12_000)
    coordinator_before = ledger.balance(ledger.coordinator)
    receipt = ledger.send(
        training.createTask(params, ledger.aggregator, ledger.key_holder), ledger.coordinator
    )
    task_id = 1
    assert ledger.events(receipt) == [
        (
            "TaskCreated",
            {
                "taskId": task_id,
                "coordinator": ledger.coordinator,
                "aggregator": ledger.aggregator,
                "keyHolder": ledger.key_holder,
                "params": params,
            },
        ),
        ("EscrowFunded", {"taskId": task_id, "funder": ledger.coordinator, "amount": 12_000}),
        (
            "Transfer",
            {"from": ledger.coordinator, "to": ledger.training.address, "value": 12_000},
        ),
    ]
    assert ledger.balance(ledger.coordinator) == coordinator_before - 12_000
    assert ledger.balance(ledger.training.address) == 12_000
    assert training.unallocatedEscrow(task_id).call() == 12_000
    assert training.taskCount().call() == 1
    task = training.getTask(task_id).call()
    assert tuple(task.params) == tuple(params.values())
    assert (task.coordinator, task.aggregator, task.keyHolder) == (
        ledger.coordinator,
        ledger.aggregator,
        ledger.key_holder,
    )
    assert (task.participantCount, task.validatorCount) == (0, 0)
    assert (task.currentRound, task.lastAcceptedRound, task.votedRounds) == (0, 0, 0)
    assert (task.acceptedRounds, task.ended, task.escrowReclaimed) == (0, False, False)
    assert task.currentModelDigest == params["initialModelDigest"]
    for account, role in (
        (ledger.coordinator, ROLE_COORDINATOR),
        (ledger.aggregator, ROLE_AGGREGATOR),
        (ledger.key_holder, ROLE_KEY_HOLDER),
        (ledger.outsider, ROLE_NONE),
    ):
        assert training.getMember(task_id, account).call().role == role

    # Validators, one per call, voting from round 1.
    for count, validator in enumerate(ledger.validators[:3], start=1):
        receipt = ledger.send(training.addValidator(task_id, validator), ledger.coordinator)
        assert ledger.events(receipt) == [
            (
                "ValidatorAdded",
                {
                    "taskId": task_id,
                    "validator": validator,
                    "validatorCount": count,
                    "firstRound": 1,
                },
            )
        ]
        assert training.isValidator(task_id, validator).call()
        member = tuple(training.getMember(task_id, validator).call())
        assert member == (ROLE_VALIDATOR, 1, 0, 0, False, 0, 0)
    assert not training.isValidator(task_id, ledger.outsider).call()

    # Participants join themselves, committing from round 1; the sample bound is copied in.
    contributors = ledger.participants[:3]
    for count, participant in enumerate(contributors, start=1):
        receipt = ledger.send(training.join(task_id), participant)
        assert ledger.events(receipt) == [
            (
                "ParticipantJoined",
                {
                    "taskId": task_id,
                    "participant": participant,
                    "participantCount": count,
                    "firstRound": 1,
                },
            )
        ]
        assert training.isParticipant(task_id, participant).call()
        assert tuple(training.getMember(task_id, participant).call()) == (
            ROLE_PARTICIPANT,
            1,
            0,
            params["maxSamplesPerUpdate"],
            False,  # not a masked task
            0,
            0,
        )
    assert not training.isParticipant(task_id, ledger.outsider).call()

    # openRound: deadline = block + submissionWindowBlocks; the electorate is fixed.
    receipt = ledger.send(training.openRound(task_id), ledger.coordinator)
    deadline = receipt["blockNumber"] + params["submissionWindowBlocks"]
    action_deadline = deadline + params["aggregationWindowBlocks"]
    assert ledger.events(receipt) == [
        (
            "RoundOpened",
            {
                "taskId": task_id,
                "round": 1,
                "submissionDeadlineBlock": deadline,
                "actionDeadlineBlock": action_deadline,
                "eligibleParticipants": 3,
                "validatorCount": 3,
            },
        )
    ]
    assert training.getTask(task_id).call().currentRound == 1
    assert tuple(training.getRound(task_id, 1).call()) == (
        COLLECTING,
        deadline,
        0,
        0,
        0,
        action_deadline,
        0,
        3,
        3,
        0,
        0,
        0,
        ZERO_DIGEST,
        ZERO_DIGEST,
    )

    # commitUpdate: stored under its digest; the round's count, samples and set hash grow.
    samples = [100, 200, 300]
    pairs = []
    for i, (participant, count) in enumerate(zip(contributors, samples, strict=True)):
        committed = digest(f"update-{i}")
        receipt = ledger.send(training.commitUpdate(task_id, 1, committed, count), participant)
        assert ledger.events(receipt) == [
            (
                "UpdateCommitted",
                {
                    "taskId": task_id,
                    "round": 1,
                    "updateDigest": committed,
                    "participant": participant,
                    "samples": count,
                },
            )
        ]
        assert tuple(training.getContribution(task_id, committed).call()) == (
            participant,
            1,
            count,
            False,
            False,
        )
        assert training.getMember(task_id, participant).call().lastCommittedRound == 1
        pairs.append((participant, committed))
        state = ledger.round(task_id, 1)
        assert (state.commitCount, state.totalSamples) == (i + 1, sum(samples[: i + 1]))
        assert state.updatesHash == updates_hash(pairs)
    assert tuple(training.getContribution(task_id, digest("nothing")).call()) == (
        ZERO_ADDRESS,
        0,
        0,
        False,
        False,
    )

    # commitAggregate: every eligible participant committed, so no need to wait for the deadline.
    aggregate_digest = digest("aggregate-1")
    receipt = ledger.commit_aggregate(task_id, 1, aggregate_digest)
    assert ledger.events(receipt) == [
        (
            "AggregateCommitted",
            {
                "taskId": task_id,
                "round": 1,
                "aggregateDigest": aggregate_digest,
                "updateCount": 3,
                "totalSamples": 600,
                "updatesHash": updates_hash(pairs),
            },
        )
    ]
    state = ledger.round(task_id, 1)
    assert (state.phase, state.aggregateDigest) == (AGGREGATED, aggregate_digest)
    assert state.actionDeadlineBlock == receipt["blockNumber"] + params["aggregationWindowBlocks"]

    # commitModel: opens the vote.
    model_digest = digest("model-1")
    receipt = ledger.send(training.commitModel(task_id, 1, model_digest), ledger.key_holder)
    validation_deadline = receipt["blockNumber"] + params["validationWindowBlocks"]
    assert ledger.events(receipt) == [
        (
            "ModelCommitted",
            {
                "taskId": task_id,
                "round": 1,
                "modelDigest": model_digest,
                "validationDeadlineBlock": validation_deadline,
            },
        )
    ]
    state = ledger.round(task_id, 1)
    assert (state.phase, state.modelDigest, state.validationDeadlineBlock) == (
        VALIDATING,
        model_digest,
        validation_deadline,
    )

    # Votes are tallied when the whole electorate voted, not when a quorum first appears.
    first, second, third = ledger.validators[:3]
    for validator, metric in ((first, 912_345), (second, 905_000)):
        receipt = ledger.send(training.vote(task_id, 1, True, metric), validator)
        assert ledger.events(receipt) == [
            (
                "VoteCast",
                {
                    "taskId": task_id,
                    "round": 1,
                    "validator": validator,
                    "accept": True,
                    "metricPpm": metric,
                },
            )
        ]
        assert training.hasVoted(task_id, 1, validator).call()
        assert ledger.round(task_id, 1).phase == VALIDATING
    assert not training.hasVoted(task_id, 1, third).call()
    receipt = ledger.send(training.vote(task_id, 1, False, 100_000), third)
    assert ledger.events(receipt)[1] == (
        "RoundFinalized",
        {
            "taskId": task_id,
            "round": 1,
            "modelDigest": model_digest,
            "accepted": True,
            "acceptVotes": 2,
            "rejectVotes": 1,
        },
    )
    state = ledger.round(task_id, 1)
    assert (state.phase, state.acceptVotes, state.rejectVotes) == (ACCEPTED, 2, 1)
    task = training.getTask(task_id).call()
    assert (task.currentModelDigest, task.lastAcceptedRound) == (model_digest, 1)
    assert (task.votedRounds, task.acceptedRounds, task.ended) == (1, 1, False)
    assert training.unallocatedEscrow(task_id).call() == 6_000

    # Rewards: proportional to samples, paid from the escrow.
    for (participant, committed), count in zip(pairs, samples, strict=True):
        expected = 6_000 * count // 600
        assert training.pendingReward(task_id, 1, committed).call() == expected
        receipt = ledger.send(training.claimReward(task_id, 1, committed), participant)
        assert ledger.events(receipt) == [
            (
                "RewardClaimed",
                {
                    "taskId": task_id,
                    "round": 1,
                    "participant": participant,
                    "updateDigest": committed,
                    "amount": expected,
                },
            ),
            (
                "Transfer",
                {"from": ledger.training.address, "to": participant, "value": expected},
            ),
        ]
        assert ledger.balance(participant) == expected
        assert training.pendingReward(task_id, 1, committed).call() == 0
        assert training.getContribution(task_id, committed).call().rewardClaimed
    assert training.rewardPaid(task_id, 1).call() == 6_000
    assert ledger.balance(ledger.training.address) == 6_000

    # The second round is the last: its vote ends the task.
    round_number = ledger.open_round(task_id)
    assert round_number == 2
    ledger.commit_updates(task_id, 2, [1, 1, 1])
    ledger.aggregate_and_commit_model(task_id, 2)
    receipt = ledger.vote_all(task_id, 2, accept=False)
    assert [name for name, _ in ledger.events(receipt)] == [
        "VoteCast",
        "RoundFinalized",
        "TaskEnded",
    ]
    assert ledger.events(receipt)[2][1] == {
        "taskId": task_id,
        "acceptedRounds": 1,
        "votedRounds": 2,
        "closedByCoordinator": False,
    }
    assert training.getTask(task_id).call().ended

    # The unspent part of the escrow goes back to the coordinator.
    before = ledger.balance(ledger.coordinator)
    receipt = ledger.send(training.reclaimEscrow(task_id), ledger.outsider)
    assert ledger.events(receipt) == [
        ("EscrowReclaimed", {"taskId": task_id, "funder": ledger.coordinator, "amount": 6_000}),
        (
            "Transfer",
            {"from": ledger.training.address, "to": ledger.coordinator, "value": 6_000},
        ),
    ]
    assert ledger.balance(ledger.coordinator) == before + 6_000
    assert ledger.balance(ledger.training.address) == 0
    assert training.unallocatedEscrow(task_id).call() == 0
    assert training.getTask(task_id).call().escrowReclaimed


def test_commit_update_accepted_up_to_and_including_the_deadline_block(ledger: Ledger) -> None:
    training = ledger.training.functions
    task_id = ledger.setup_task(participants=2, submissionWindowBlocks=3)
    ledger.open_round(task_id)
    deadline = ledger.round(task_id, 1).submissionDeadlineBlock
    ledger.mine_past(deadline - 1)  # the next transaction runs in the deadline block itself
    receipt = ledger.send(
        training.commitUpdate(task_id, 1, digest("on-time"), 10), ledger.participants[0]
    )
    assert receipt["blockNumber"] == deadline
    ledger.assert_reverts(
        training.commitUpdate(task_id, 1, digest("late"), 10),
        ledger.participants[1],
        "TrainingSubmissionWindowClosed",
        task_id,
        1,
        deadline,
    )


def test_aggregate_after_deadline_with_some_participants_missing(ledger: Ledger) -> None:
    task_id = ledger.setup_task(participants=4, minParticipants=2)
    ledger.open_round(task_id)
    ledger.commit_updates(task_id, 1, [5, 7])
    deadline = ledger.round(task_id, 1).submissionDeadlineBlock
    included = ledger.included_updates(task_id, 1)
    ledger.assert_reverts(
        ledger.training.functions.commitAggregate(
            task_id, 1, digest("aggregate"), 2, updates_hash(included)
        ),
        ledger.aggregator,
        "TrainingSubmissionWindowOpen",
        task_id,
        1,
        deadline,
    )
    ledger.mine_past(deadline)
    receipt = ledger.commit_aggregate(task_id, 1, digest("aggregate"))
    assert ledger.events(receipt)[0][1]["updateCount"] == 2
    assert ledger.events(receipt)[0][1]["totalSamples"] == 12


def test_rejection_by_vote_keeps_the_previous_model(ledger: Ledger) -> None:
    training = ledger.training.functions
    task_id = ledger.setup_task(participants=2, validatorQuorum=2)
    ledger.run_accepted_round(task_id, [10, 20])
    accepted_model = digest(f"model-{task_id}-1")
    assert training.getTask(task_id).call().currentModelDigest == accepted_model

    round_number = ledger.open_round(task_id)
    ledger.commit_updates(task_id, round_number, [10, 20])
    ledger.aggregate_and_commit_model(task_id, round_number)
    first, second, third = ledger.validators[:3]
    ledger.send(training.vote(task_id, round_number, True, 800_000), first)
    ledger.send(training.vote(task_id, round_number, False, 100_000), second)
    receipt = ledger.send(training.vote(task_id, round_number, False, 120_000), third)
    assert ledger.events(receipt)[-1] == (
        "RoundFinalized",
        {
            "taskId": task_id,
            "round": round_number,
            "modelDigest": accepted_model,
            "accepted": False,
            "acceptVotes": 1,
            "rejectVotes": 2,
        },
    )
    state = ledger.round(task_id, round_number)
    assert (state.phase, state.acceptVotes, state.rejectVotes) == (REJECTED, 1, 2)
    task = training.getTask(task_id).call()
    assert (task.currentModelDigest, task.lastAcceptedRound) == (accepted_model, 1)
    assert (task.votedRounds, task.acceptedRounds) == (2, 1)
    assert training.pendingReward(task_id, round_number, update_digest(task_id, 2, 0)).call() == 0
    # A rejected round does not block the task.
    assert ledger.open_round(task_id) == 3


def test_timed_out_vote_is_tallied_by_anyone(ledger: Ledger) -> None:
    """Two of three validators accept, the third never votes: the deadline tally accepts."""
    training = ledger.training.functions
    task_id = ledger.setup_task(participants=2, validatorQuorum=2)
    ledger.open_round(task_id)
    ledger.commit_updates(task_id, 1, [3, 4])
    model_digest = ledger.aggregate_and_commit_model(task_id, 1)
    for validator in ledger.validators[:2]:
        ledger.send(training.vote(task_id, 1, True, 990_000), validator)
    deadline = ledger.round(task_id, 1).validationDeadlineBlock
    ledger.assert_reverts(
        training.finalizeRound(task_id, 1),
        ledger.outsider,
        "TrainingValidationWindowOpen",
        task_id,
        1,
        deadline,
    )
    ledger.mine_past(deadline)
    ledger.assert_reverts(
        training.vote(task_id, 1, True, 990_000),
        ledger.validators[2],
        "TrainingValidationWindowClosed",
        task_id,
        1,
        deadline,
    )
    receipt = ledger.send(training.finalizeRound(task_id, 1), ledger.outsider)
    assert ledger.events(receipt) == [
        (
            "RoundFinalized",
            {
                "taskId": task_id,
                "round": 1,
                "modelDigest": model_digest,
                "accepted": True,
                "acceptVotes": 2,
                "rejectVotes": 0,
            },
        )
    ]
    assert ledger.round(task_id, 1).phase == ACCEPTED


def test_timed_out_vote_without_a_majority_is_rejected(ledger: Ledger) -> None:
    training = ledger.training.functions
    task_id = ledger.setup_task(participants=2, validatorQuorum=2)
    ledger.open_round(task_id)
    ledger.commit_updates(task_id, 1, [3, 4])
    ledger.aggregate_and_commit_model(task_id, 1)
    ledger.send(training.vote(task_id, 1, True, 990_000), ledger.validators[0])
    ledger.mine_past(ledger.round(task_id, 1).validationDeadlineBlock)
    receipt = ledger.send(training.finalizeRound(task_id, 1), ledger.outsider)
    assert ledger.events(receipt)[0][1]["accepted"] is False
    assert ledger.round(task_id, 1).phase == REJECTED
    task = training.getTask(task_id).call()
    assert (task.currentModelDigest, task.lastAcceptedRound) == (digest("model-0"), 0)
    assert ledger.open_round(task_id) == 2


def test_round_with_too_few_updates_is_cancelled_and_not_counted(ledger: Ledger) -> None:
    training = ledger.training.functions
    task_id = ledger.setup_task(participants=3, minParticipants=2, maxRounds=1)
    ledger.open_round(task_id)
    ledger.commit_updates(task_id, 1, [9])
    deadline = ledger.round(task_id, 1).submissionDeadlineBlock
    ledger.assert_reverts(
        training.cancelRound(task_id, 1),
        ledger.outsider,
        "TrainingRoundNotStalled",
        task_id,
        1,
        deadline,
    )
    ledger.mine_past(deadline)
    receipt = ledger.send(training.cancelRound(task_id, 1), ledger.outsider)
    assert ledger.events(receipt) == [
        ("RoundCancelled", {"taskId": task_id, "round": 1, "reason": TOO_FEW_UPDATES})
    ]
    assert ledger.round(task_id, 1).phase == CANCELLED
    assert training.getTask(task_id).call().votedRounds == 0
    # maxRounds is 1, yet the task goes on: a cancelled round is not a voted one.
    assert ledger.open_round(task_id) == 2


def test_silent_aggregator_round_is_cancelled(ledger: Ledger) -> None:
    training = ledger.training.functions
    task_id = ledger.setup_task(participants=2)
    ledger.open_round(task_id)
    ledger.commit_updates(task_id, 1, [1, 1])  # every eligible participant: collection closed
    action_deadline = ledger.round(task_id, 1).actionDeadlineBlock
    ledger.assert_reverts(
        training.cancelRound(task_id, 1),
        ledger.outsider,
        "TrainingRoundNotStalled",
        task_id,
        1,
        action_deadline,
    )
    ledger.mine_past(action_deadline)
    receipt = ledger.send(training.cancelRound(task_id, 1), ledger.outsider)
    assert ledger.events(receipt) == [
        ("RoundCancelled", {"taskId": task_id, "round": 1, "reason": AGGREGATOR_SILENT})
    ]
    assert training.getTask(task_id).call().votedRounds == 0


def test_silent_key_holder_round_is_cancelled(ledger: Ledger) -> None:
    training = ledger.training.functions
    task_id = ledger.setup_task(participants=2)
    ledger.open_round(task_id)
    ledger.commit_updates(task_id, 1, [1, 1])
    receipt = ledger.commit_aggregate(task_id, 1, digest("aggregate"))
    key_holder_deadline = receipt["blockNumber"] + 15
    assert ledger.round(task_id, 1).actionDeadlineBlock == key_holder_deadline
    ledger.assert_reverts(
        training.cancelRound(task_id, 1),
        ledger.outsider,
        "TrainingRoundNotStalled",
        task_id,
        1,
        key_holder_deadline,
    )
    ledger.mine_past(key_holder_deadline)
    receipt = ledger.send(training.cancelRound(task_id, 1), ledger.outsider)
    assert ledger.events(receipt) == [
        ("RoundCancelled", {"taskId": task_id, "round": 1, "reason": KEY_HOLDER_SILENT})
    ]
    assert ledger.round(task_id, 1).phase == CANCELLED


def test_rejected_aggregate_awaits_a_fresh_one_and_the_round_goes_on(ledger: Ledger) -> None:
    training = ledger.training.functions
    task_id = ledger.setup_task(participants=2)
    ledger.run_accepted_round(task_id, [10, 20])
    accepted_model = training.getTask(task_id).call().currentModelDigest
    round_number = ledger.open_round(task_id)
    ledger.commit_updates(task_id, round_number, [10, 20])
    ledger.commit_aggregate(task_id, round_number, digest("forged"))
    receipt = ledger.send(
        training.rejectAggregate(task_id, round_number, digest("recomputed")), ledger.key_holder
    )
    assert ledger.events(receipt) == [
        (
            "AggregateRejected",
            {
                "taskId": task_id,
                "round": round_number,
                "aggregateDigest": digest("forged"),
                "keyHolder": ledger.key_holder,
                "recomputedDigest": digest("recomputed"),
                "actionDeadlineBlock": receipt["blockNumber"] + 15,
            },
        )
    ]
    state = ledger.round(task_id, round_number)
    assert (state.phase, state.aggregateDigest) == (COLLECTING, ZERO_DIGEST)
    assert state.actionDeadlineBlock == receipt["blockNumber"] + 15
    assert training.getTask(task_id).call().currentModelDigest == accepted_model
    # Still no room for a late commit: the window stays closed.
    ledger.assert_reverts(
        training.commitUpdate(task_id, round_number, digest("late"), 1),
        ledger.participants[0],
        "TrainingAlreadyCommitted",
        task_id,
        round_number,
        ledger.participants[0],
    )
    # The honest aggregate is committed, decrypted and voted through.
    ledger.aggregate_and_commit_model(task_id, round_number)
    ledger.vote_all(task_id, round_number)
    assert ledger.round(task_id, round_number).phase == ACCEPTED
    assert training.getTask(task_id).call().votedRounds == 2


def test_excluded_update_leaves_the_round_and_earns_nothing(ledger: Ledger) -> None:
    training = ledger.training.functions
    task_id = ledger.setup_task(participants=3, minParticipants=2, rewardPerRound=900)
    ledger.open_round(task_id)
    ledger.commit_updates(task_id, 1, [100, 200, 300])
    bad = update_digest(task_id, 1, 2)
    before = ledger.round(task_id, 1)
    receipt = ledger.send(training.excludeUpdate(task_id, 1, bad, MALFORMED), ledger.aggregator)
    assert ledger.events(receipt) == [
        (
            "UpdateExcluded",
            {
                "taskId": task_id,
                "round": 1,
                "updateDigest": bad,
                "participant": ledger.participants[2],
                "reason": MALFORMED,
            },
        )
    ]
    after = ledger.round(task_id, 1)
    assert (after.commitCount, after.totalSamples, after.excludedCount) == (2, 300, 1)
    assert after.updatesHash == (before.updatesHash - update_term(ledger.participants[2], bad)) % (
        2**104
    )
    assert after.updatesHash == updates_hash(ledger.included_updates(task_id, 1))
    assert training.getContribution(task_id, bad).call().excluded
    # The aggregate names the two included updates; the round is accepted.
    ledger.aggregate_and_commit_model(task_id, 1)
    ledger.vote_all(task_id, 1)
    ledger.claim(task_id, 1, 0)
    ledger.claim(task_id, 1, 1)
    assert [ledger.balance(p) for p in ledger.participants[:2]] == [300, 600]
    assert training.pendingReward(task_id, 1, bad).call() == 0
    ledger.assert_reverts(
        training.claimReward(task_id, 1, bad),
        ledger.participants[2],
        "TrainingContributionExcluded",
        task_id,
        1,
        bad,
    )


def test_exclusions_below_the_minimum_let_anyone_cancel(ledger: Ledger) -> None:
    training = ledger.training.functions
    task_id = ledger.setup_task(participants=2, minParticipants=2)
    ledger.open_round(task_id)
    ledger.commit_updates(task_id, 1, [1, 1])
    ledger.send(
        training.excludeUpdate(task_id, 1, update_digest(task_id, 1, 0), MALFORMED),
        ledger.aggregator,
    )
    ledger.assert_reverts(
        training.commitAggregate(task_id, 1, digest("a"), 1, 0),
        ledger.aggregator,
        "TrainingTooFewUpdates",
        task_id,
        1,
        1,
        2,
    )
    receipt = ledger.send(training.cancelRound(task_id, 1), ledger.outsider)
    assert ledger.events(receipt)[0][1]["reason"] == TOO_FEW_UPDATES


def test_coordinator_rotates_a_silent_aggregator_and_key_holder(ledger: Ledger) -> None:
    training = ledger.training.functions
    task_id = ledger.setup_task(participants=2)
    ledger.open_round(task_id)
    ledger.commit_updates(task_id, 1, [1, 1])
    new_aggregator, new_key_holder = ledger.participants[10], ledger.participants[11]
    ledger.assert_reverts(
        training.setAggregator(task_id, new_aggregator),
        ledger.coordinator,
        "TrainingRoundStillOpen",
        task_id,
        1,
    )
    ledger.mine_past(ledger.round(task_id, 1).actionDeadlineBlock)
    ledger.send(training.cancelRound(task_id, 1), ledger.outsider)

    receipt = ledger.send(training.setAggregator(task_id, new_aggregator), ledger.coordinator)
    assert ledger.events(receipt) == [
        (
            "AggregatorChanged",
            {"taskId": task_id, "previous": ledger.aggregator, "next": new_aggregator},
        )
    ]
    new_context = digest("public-context-2")
    receipt = ledger.send(
        training.setKeyHolder(task_id, new_key_holder, new_context), ledger.coordinator
    )
    assert ledger.events(receipt) == [
        (
            "KeyHolderChanged",
            {
                "taskId": task_id,
                "previous": ledger.key_holder,
                "next": new_key_holder,
                "publicContextDigest": new_context,
            },
        )
    ]
    task = training.getTask(task_id).call()
    assert (task.aggregator, task.keyHolder) == (new_aggregator, new_key_holder)
    assert task.params.publicContextDigest == new_context
    assert training.getMember(task_id, ledger.aggregator).call().role == ROLE_NONE
    assert training.getMember(task_id, new_aggregator).call().role == ROLE_AGGREGATOR
    assert training.getMember(task_id, new_key_holder).call().role == ROLE_KEY_HOLDER

    # The old aggregator is powerless; the new roles run round 2 to acceptance.
    round_number = ledger.open_round(task_id)
    ledger.commit_updates(task_id, round_number, [1, 1])
    included = ledger.included_updates(task_id, round_number)
    aggregate = training.commitAggregate(
        task_id, round_number, digest("a"), len(included), updates_hash(included)
    )
    ledger.assert_reverts(
        aggregate, ledger.aggregator, "TrainingNotAggregator", task_id, ledger.aggregator
    )
    ledger.send(aggregate, new_aggregator)
    ledger.send(training.commitModel(task_id, round_number, digest("m")), new_key_holder)
    ledger.vote_all(task_id, round_number)
    assert ledger.round(task_id, round_number).phase == ACCEPTED


def test_coordinator_closes_a_task_and_reclaims_its_escrow(ledger: Ledger) -> None:
    training = ledger.training.functions
    task_id = ledger.setup_task(participants=2, rewardPerRound=100, maxRounds=5)
    ledger.run_accepted_round(task_id, [1, 1])
    ledger.assert_reverts(
        training.reclaimEscrow(task_id), ledger.outsider, "TrainingTaskNotEnded", task_id
    )
    receipt = ledger.send(training.closeTask(task_id), ledger.coordinator)
    assert ledger.events(receipt) == [
        (
            "TaskEnded",
            {
                "taskId": task_id,
                "acceptedRounds": 1,
                "votedRounds": 1,
                "closedByCoordinator": True,
            },
        )
    ]
    ledger.assert_reverts(
        training.openRound(task_id), ledger.coordinator, "TrainingTaskEnded", task_id
    )
    before = ledger.balance(ledger.coordinator)
    assert ledger.events(ledger.send(training.reclaimEscrow(task_id), ledger.coordinator))[0] == (
        "EscrowReclaimed",
        {"taskId": task_id, "funder": ledger.coordinator, "amount": 400},
    )
    assert ledger.balance(ledger.coordinator) == before + 400
    # The accepted round's contributors still claim their share.
    ledger.claim(task_id, 1, 0)
    ledger.claim(task_id, 1, 1)
    assert ledger.balance(ledger.training.address) == 0


def test_tasks_are_independent(ledger: Ledger) -> None:
    training = ledger.training.functions
    first = ledger.setup_task(participants=2)
    second = ledger.setup_task(participants=1, initialModelDigest=digest("other-model"))
    assert (first, second) == (1, 2)
    assert training.isParticipant(first, ledger.participants[1]).call()
    assert not training.isParticipant(second, ledger.participants[1]).call()
    ledger.run_accepted_round(first, [1, 1])
    assert training.getTask(second).call().currentRound == 0
    assert training.getTask(second).call().currentModelDigest == digest("other-model")


def test_unopened_round_reads_as_none(ledger: Ledger) -> None:
    task_id = ledger.setup_task()
    state = ledger.round(task_id, 7)
    assert state.phase == NONE
    assert state.submissionDeadlineBlock == 0


def test_the_set_hash_sums_independently_computed_update_terms(ledger: Ledger) -> None:
    task_id = ledger.setup_task(participants=4)
    round_number = ledger.open_round(task_id)
    ledger.commit_updates(task_id, round_number, [1, 2, 3, 4])
    terms = [
        update_term(participant, update_digest(task_id, round_number, index))
        for index, participant in enumerate(ledger.participants[:4])
    ]
    assert ledger.round(task_id, round_number).updatesHash == sum(terms) % 2**104


def test_a_round_needs_the_quorum_and_a_majority_of_its_validators(ledger: Ledger) -> None:
    """One vote short of max(quorum, majority) rejects; that many accepts."""
    training = ledger.training.functions
    for validators, quorum, expected in ((5, 2, 3), (5, 4, 4), (4, 1, 3), (2, 1, 2)):
        task_id = ledger.setup_task(validators=validators, participants=2, validatorQuorum=quorum)
        for accepts, outcome in ((expected - 1, REJECTED), (expected, ACCEPTED)):
            round_number = ledger.open_round(task_id)
            ledger.commit_updates(task_id, round_number, [1, 1])
            ledger.aggregate_and_commit_model(task_id, round_number)
            for index, validator in enumerate(ledger.validators[:validators]):
                ledger.send(training.vote(task_id, round_number, index < accepts, 1), validator)
            assert ledger.round(task_id, round_number).phase == outcome, (validators, quorum)
