"""FederatedTraining round life cycle: the happy path, rejection, time-outs and the views."""

from __future__ import annotations

from ledger_harness import (
    ACCEPTED,
    AGGREGATED,
    COLLECTING,
    NONE,
    REJECTED,
    VALIDATING,
    Ledger,
    digest,
)


def test_deployment_wires_token_and_policy(ledger: Ledger) -> None:
    training = ledger.training.functions
    assert training.token().call() == ledger.token.address
    assert training.rewardPolicy().call() == ledger.policy.address
    assert training.taskCount().call() == 0
    minter_role = ledger.token.functions.MINTER_ROLE().call()
    assert ledger.token.functions.hasRole(minter_role, ledger.training.address).call()


def test_full_round_happy_path(ledger: Ledger) -> None:
    training = ledger.training.functions
    params = ledger.task_params(minParticipants=2, validatorQuorum=2, rewardPerRound=6_000)

    # createTask: ids start at 1, the caller is the coordinator.
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
        )
    ]
    assert training.taskCount().call() == 1
    task = training.getTask(task_id).call()
    assert tuple(task.params) == tuple(params.values())
    assert (task.coordinator, task.aggregator, task.keyHolder) == (
        ledger.coordinator,
        ledger.aggregator,
        ledger.key_holder,
    )
    assert (task.participantCount, task.validatorCount) == (0, 0)
    assert (task.currentRound, task.lastAcceptedRound) == (0, 0)
    assert task.currentModelDigest == params["initialModelDigest"]

    # Validators, one per call.
    for count, validator in enumerate(ledger.validators[:3], start=1):
        receipt = ledger.send(training.addValidator(task_id, validator), ledger.coordinator)
        assert ledger.events(receipt) == [
            (
                "ValidatorAdded",
                {"taskId": task_id, "validator": validator, "validatorCount": count},
            )
        ]
        assert training.isValidator(task_id, validator).call()
    assert not training.isValidator(task_id, ledger.outsider).call()

    # Participants join themselves.
    contributors = ledger.participants[:3]
    for count, participant in enumerate(contributors, start=1):
        receipt = ledger.send(training.join(task_id), participant)
        assert ledger.events(receipt) == [
            (
                "ParticipantJoined",
                {"taskId": task_id, "participant": participant, "participantCount": count},
            )
        ]
        assert training.isParticipant(task_id, participant).call()
    assert not training.isParticipant(task_id, ledger.outsider).call()

    # openRound: round 1, deadline = block + submissionWindowBlocks.
    receipt = ledger.send(training.openRound(task_id), ledger.coordinator)
    deadline = receipt["blockNumber"] + params["submissionWindowBlocks"]
    assert ledger.events(receipt) == [
        ("RoundOpened", {"taskId": task_id, "round": 1, "submissionDeadlineBlock": deadline})
    ]
    assert training.getTask(task_id).call().currentRound == 1
    assert tuple(training.getRound(task_id, 1).call()) == (
        deadline,
        0,
        0,
        COLLECTING,
        b"\x00" * 32,
        b"\x00" * 32,
        0,
        0,
        0,
    )

    # commitUpdate: the digest is only in the event; storage keeps samples and block.
    samples = [100, 200, 300]
    for i, (participant, count) in enumerate(zip(contributors, samples, strict=True)):
        update_digest = digest(f"update-{i}")
        receipt = ledger.send(training.commitUpdate(task_id, 1, update_digest, count), participant)
        assert ledger.events(receipt) == [
            (
                "UpdateCommitted",
                {
                    "taskId": task_id,
                    "round": 1,
                    "participant": participant,
                    "updateDigest": update_digest,
                    "samples": count,
                },
            )
        ]
        contribution = training.getContribution(task_id, 1, participant).call()
        assert tuple(contribution) == (count, receipt["blockNumber"], False)
        state = training.getRound(task_id, 1).call()
        assert (state.commitCount, state.totalSamples) == (i + 1, sum(samples[: i + 1]))
    assert tuple(training.getContribution(task_id, 1, ledger.outsider).call()) == (0, 0, False)

    # commitAggregate: every participant committed, so no need to wait for the deadline.
    aggregate_digest = digest("aggregate-1")
    receipt = ledger.send(training.commitAggregate(task_id, 1, aggregate_digest), ledger.aggregator)
    assert ledger.events(receipt) == [
        (
            "AggregateCommitted",
            {
                "taskId": task_id,
                "round": 1,
                "aggregateDigest": aggregate_digest,
                "commitCount": 3,
                "totalSamples": 600,
            },
        )
    ]
    state = training.getRound(task_id, 1).call()
    assert (state.phase, state.aggregateDigest) == (AGGREGATED, aggregate_digest)

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
    state = training.getRound(task_id, 1).call()
    assert (state.phase, state.modelDigest, state.validationDeadlineBlock) == (
        VALIDATING,
        model_digest,
        validation_deadline,
    )

    # First accept vote: below quorum, nothing finalized.
    first, second, third = ledger.validators[:3]
    receipt = ledger.send(training.vote(task_id, 1, True, 912_345), first)
    assert ledger.events(receipt) == [
        (
            "VoteCast",
            {
                "taskId": task_id,
                "round": 1,
                "validator": first,
                "accept": True,
                "metricPpm": 912_345,
            },
        )
    ]
    assert training.hasVoted(task_id, 1, first).call()
    assert not training.hasVoted(task_id, 1, second).call()
    assert training.getRound(task_id, 1).call().phase == VALIDATING

    # Second accept vote reaches the quorum: accepted in the same transaction.
    receipt = ledger.send(training.vote(task_id, 1, True, 905_000), second)
    assert ledger.events(receipt) == [
        (
            "VoteCast",
            {
                "taskId": task_id,
                "round": 1,
                "validator": second,
                "accept": True,
                "metricPpm": 905_000,
            },
        ),
        (
            "RoundFinalized",
            {"taskId": task_id, "round": 1, "accepted": True, "modelDigest": model_digest},
        ),
    ]
    state = training.getRound(task_id, 1).call()
    assert (state.phase, state.acceptVotes, state.rejectVotes) == (ACCEPTED, 2, 0)
    task = training.getTask(task_id).call()
    assert (task.currentModelDigest, task.lastAcceptedRound) == (model_digest, 1)
    assert not training.hasVoted(task_id, 1, third).call()

    # Rewards: proportional to samples, minted on claim.
    for participant, count in zip(contributors, samples, strict=True):
        expected = 6_000 * count // 600
        assert training.pendingReward(task_id, 1, participant).call() == expected
        receipt = ledger.send(training.claimReward(task_id, 1), participant)
        assert ledger.events(receipt) == [
            (
                "RewardClaimed",
                {"taskId": task_id, "round": 1, "participant": participant, "amount": expected},
            ),
            ("Transfer", {"from": "0x" + "00" * 20, "to": participant, "value": expected}),
        ]
        assert ledger.token.functions.balanceOf(participant).call() == expected
        assert training.pendingReward(task_id, 1, participant).call() == 0
        assert training.getContribution(task_id, 1, participant).call().rewardClaimed
    assert ledger.token.functions.totalSupply().call() == 6_000
    assert training.rewardPaid(task_id, 1).call() == 6_000

    # The next round can open.
    receipt = ledger.send(training.openRound(task_id), ledger.coordinator)
    assert ledger.events(receipt)[0][1]["round"] == 2


def test_commit_update_accepted_up_to_and_including_the_deadline_block(ledger: Ledger) -> None:
    training = ledger.training.functions
    task_id = ledger.setup_task(participants=2, submissionWindowBlocks=3)
    ledger.open_round(task_id)
    deadline = training.getRound(task_id, 1).call().submissionDeadlineBlock
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
    training = ledger.training.functions
    task_id = ledger.setup_task(participants=4, minParticipants=2)
    ledger.open_round(task_id)
    ledger.commit_updates(task_id, 1, [5, 7])
    deadline = training.getRound(task_id, 1).call().submissionDeadlineBlock
    ledger.assert_reverts(
        training.commitAggregate(task_id, 1, digest("aggregate")),
        ledger.aggregator,
        "TrainingSubmissionWindowOpen",
        task_id,
        1,
        deadline,
    )
    ledger.mine_past(deadline)
    receipt = ledger.send(
        training.commitAggregate(task_id, 1, digest("aggregate")), ledger.aggregator
    )
    assert ledger.events(receipt)[0][1]["commitCount"] == 2
    assert ledger.events(receipt)[0][1]["totalSamples"] == 12


def test_rejection_keeps_the_previous_model(ledger: Ledger) -> None:
    training = ledger.training.functions
    task_id = ledger.setup_task(participants=2, validatorQuorum=2)  # 3 validators: 2 rejects end it
    ledger.run_accepted_round(task_id, [10, 20])
    accepted_model = digest(f"model-{task_id}-1")
    assert training.getTask(task_id).call().currentModelDigest == accepted_model

    round_number = ledger.open_round(task_id)
    ledger.commit_updates(task_id, round_number, [10, 20])
    ledger.aggregate_and_commit_model(task_id, round_number)
    first, second, third = ledger.validators[:3]

    receipt = ledger.send(training.vote(task_id, round_number, True, 800_000), first)
    assert [name for name, _ in ledger.events(receipt)] == ["VoteCast"]
    receipt = ledger.send(training.vote(task_id, round_number, False, 100_000), second)
    # 1 reject <= validatorCount - quorum = 1: the quorum can still be reached.
    assert [name for name, _ in ledger.events(receipt)] == ["VoteCast"]
    receipt = ledger.send(training.vote(task_id, round_number, False, 120_000), third)
    assert ledger.events(receipt) == [
        (
            "VoteCast",
            {
                "taskId": task_id,
                "round": round_number,
                "validator": third,
                "accept": False,
                "metricPpm": 120_000,
            },
        ),
        (
            "RoundFinalized",
            {
                "taskId": task_id,
                "round": round_number,
                "accepted": False,
                "modelDigest": accepted_model,
            },
        ),
    ]
    state = training.getRound(task_id, round_number).call()
    assert (state.phase, state.acceptVotes, state.rejectVotes) == (REJECTED, 1, 2)
    task = training.getTask(task_id).call()
    assert (task.currentModelDigest, task.lastAcceptedRound) == (accepted_model, 1)
    assert training.pendingReward(task_id, round_number, ledger.participants[0]).call() == 0

    # A rejected round does not block the task.
    assert ledger.open_round(task_id) == 3


def test_single_reject_ends_the_round_when_every_validator_is_needed(ledger: Ledger) -> None:
    training = ledger.training.functions
    task_id = ledger.setup_task(participants=1, validators=2, validatorQuorum=2, minParticipants=1)
    ledger.open_round(task_id)
    ledger.commit_updates(task_id, 1, [1])
    ledger.aggregate_and_commit_model(task_id, 1)
    receipt = ledger.send(training.vote(task_id, 1, False, 0), ledger.validators[0])
    assert ledger.events(receipt)[-1] == (
        "RoundFinalized",
        {"taskId": task_id, "round": 1, "accepted": False, "modelDigest": digest("model-0")},
    )


def test_timed_out_vote_is_finalized_as_rejected(ledger: Ledger) -> None:
    training = ledger.training.functions
    task_id = ledger.setup_task(participants=2, validatorQuorum=2)
    ledger.open_round(task_id)
    ledger.commit_updates(task_id, 1, [3, 4])
    ledger.aggregate_and_commit_model(task_id, 1)
    ledger.send(training.vote(task_id, 1, True, 990_000), ledger.validators[0])
    deadline = training.getRound(task_id, 1).call().validationDeadlineBlock

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
        ledger.validators[1],
        "TrainingValidationWindowClosed",
        task_id,
        1,
        deadline,
    )
    receipt = ledger.send(training.finalizeRound(task_id, 1), ledger.outsider)  # anyone may
    assert ledger.events(receipt) == [
        (
            "RoundFinalized",
            {"taskId": task_id, "round": 1, "accepted": False, "modelDigest": digest("model-0")},
        )
    ]
    assert training.getRound(task_id, 1).call().phase == REJECTED
    task = training.getTask(task_id).call()
    assert (task.currentModelDigest, task.lastAcceptedRound) == (digest("model-0"), 0)
    assert ledger.open_round(task_id) == 2


def test_round_with_too_few_updates_is_finalized_as_rejected(ledger: Ledger) -> None:
    """A Collecting round past its deadline with fewer than minParticipants updates is dead."""
    training = ledger.training.functions
    task_id = ledger.setup_task(participants=3, minParticipants=2)
    ledger.open_round(task_id)
    ledger.commit_updates(task_id, 1, [9])
    deadline = training.getRound(task_id, 1).call().submissionDeadlineBlock
    ledger.assert_reverts(
        training.finalizeRound(task_id, 1),
        ledger.outsider,
        "TrainingSubmissionWindowOpen",
        task_id,
        1,
        deadline,
    )
    ledger.mine_past(deadline)
    receipt = ledger.send(training.finalizeRound(task_id, 1), ledger.outsider)
    assert ledger.events(receipt) == [
        (
            "RoundFinalized",
            {"taskId": task_id, "round": 1, "accepted": False, "modelDigest": digest("model-0")},
        )
    ]
    assert training.getRound(task_id, 1).call().phase == REJECTED
    assert ledger.open_round(task_id) == 2


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
    state = ledger.training.functions.getRound(task_id, 7).call()
    assert state.phase == NONE
    assert state.submissionDeadlineBlock == 0


def test_key_holder_rejects_a_forged_aggregate_and_the_task_goes_on(ledger: Ledger) -> None:
    training = ledger.training.functions
    task_id = ledger.setup_task(participants=2)
    ledger.run_accepted_round(task_id, [10, 20])
    accepted_model = training.getTask(task_id).call().currentModelDigest
    round_number = ledger.open_round(task_id)
    ledger.commit_updates(task_id, round_number, [10, 20])
    ledger.send(
        training.commitAggregate(task_id, round_number, digest("forged")), ledger.aggregator
    )
    receipt = ledger.send(
        training.rejectAggregate(task_id, round_number, digest("recomputed")), ledger.key_holder
    )
    assert ledger.events(receipt) == [
        (
            "AggregateRejected",
            {
                "taskId": task_id,
                "round": round_number,
                "keyHolder": ledger.key_holder,
                "recomputedDigest": digest("recomputed"),
            },
        ),
        (
            "RoundFinalized",
            {
                "taskId": task_id,
                "round": round_number,
                "accepted": False,
                "modelDigest": accepted_model,
            },
        ),
    ]
    assert training.getRound(task_id, round_number).call().phase == REJECTED
    assert training.getTask(task_id).call().currentModelDigest == accepted_model
    assert ledger.open_round(task_id) == round_number + 1
