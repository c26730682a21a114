"""Batched commitments: participants sign EIP-712 commitments, the aggregator commits a round's
batch in one transaction, every per-participant check holds for each leaf, anyone proves a leaf's
inclusion, and exclusion, claims and payment work on a batched round."""

from __future__ import annotations

from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from ledger_harness import (
    ACCEPTED,
    ALTERED,
    COLLECTING,
    TOKEN_UNIT,
    Ledger,
    digest,
    updates_hash,
)

from fedchain_magics.chain.batch import (
    DOMAIN_NAME,
    DOMAIN_VERSION,
    BatchLeaf,
    BatchTree,
    SignedUpdate,
    order_batch,
    sign_update,
    typed_data_domain,
    verify_proof,
)

EIP170_MAX_CODE_BYTES = 24_576
REWARD = 1_000 * TOKEN_UNIT


def _accounts(ledger: Ledger) -> dict[str, LocalAccount]:
    """The chain's prefunded accounts with their keys (eth-tester's deterministic ones)."""
    keys = ledger.tester.backend.account_keys
    accounts = [Account.from_key(key.to_bytes()) for key in keys]
    return {account.address: account for account in accounts}


def _sign(
    ledger: Ledger, signer: str, task_id: int, round_number: int, label: str, samples: int
) -> SignedUpdate:
    return sign_update(
        _accounts(ledger)[signer],
        chain_id=ledger.w3.eth.chain_id,
        contract=ledger.training.address,
        task_id=task_id,
        round_number=round_number,
        update_digest=digest(label),
        samples=samples,
    )


def _signed_round(
    ledger: Ledger, task_id: int, round_number: int, samples: list[int]
) -> list[SignedUpdate]:
    return order_batch(
        [
            _sign(ledger, participant, task_id, round_number, f"u-{round_number}-{i}", count)
            for i, (participant, count) in enumerate(
                zip(ledger.participants, samples, strict=False)
            )
        ]
    )


def _rows(updates: list[SignedUpdate]) -> list[tuple[Any, ...]]:
    return [update.as_tuple() for update in updates]


def _commit_batch(ledger: Ledger, task_id: int, round_number: int, updates: list[SignedUpdate]):
    call = ledger.training.functions.commitBatch(task_id, round_number, _rows(updates))
    return ledger.send(call, ledger.aggregator), BatchTree([u.leaf for u in updates])


def test_deployed_code_fits_eip170(ledger: Ledger) -> None:
    code = ledger.w3.eth.get_code(ledger.training.address)
    assert len(code) < EIP170_MAX_CODE_BYTES, len(code)


def test_signed_commitment_matches_the_contract_digest(ledger: Ledger) -> None:
    """What eth-account signs is the contract's EIP-712 hash: it recovers to the participant."""
    task_id = ledger.setup_task(participants=1)
    ledger.open_round(task_id)
    update = _sign(ledger, ledger.participants[0], task_id, 1, "u", 7)
    on_chain = ledger.training.functions.updateCommitmentHash(task_id, 1, digest("u"), 7).call()
    vs = int.from_bytes(update.vs, "big")
    vrs = ((vs >> 255) + 27, int.from_bytes(update.r, "big"), vs & ((1 << 255) - 1))
    assert Account._recover_hash(on_chain, vrs=vrs) == ledger.participants[0]


def test_eip712_domain(ledger: Ledger) -> None:
    """The domain participants sign under is the registry's name, version, chain and address:
    eth-account's typed-data hash over it is the contract's."""
    message = encode_typed_data(
        typed_data_domain(ledger.w3.eth.chain_id, ledger.training.address),
        {"UpdateCommitment": [
            {"name": "taskId", "type": "uint256"},
            {"name": "round", "type": "uint32"},
            {"name": "updateDigest", "type": "bytes32"},
            {"name": "samples", "type": "uint64"},
        ]},
        {"taskId": 3, "round": 2, "updateDigest": digest("u"), "samples": 9},
    )  # fmt: skip
    expected = keccak(b"\x19" + message.version + message.header + message.body)
    assert typed_data_domain(1, ledger.training.address)["name"] == DOMAIN_NAME
    assert typed_data_domain(1, ledger.training.address)["version"] == DOMAIN_VERSION
    on_chain = ledger.training.functions.updateCommitmentHash(3, 2, digest("u"), 9).call()
    assert on_chain == expected


def test_batched_round_runs_to_payment(ledger: Ledger) -> None:
    samples = [100, 300, 200, 400]
    task_id = ledger.setup_task(participants=4, rewardPerRound=REWARD)
    round_number = ledger.open_round(task_id)
    updates = _signed_round(ledger, task_id, round_number, samples)
    receipt, tree = _commit_batch(ledger, task_id, round_number, updates)

    events = ledger.events(receipt)
    committed = [args for name, args in events if name == "UpdateCommitted"]
    assert [(a["participant"], a["updateDigest"]) for a in committed] == [
        (u.leaf.participant, u.leaf.update_digest) for u in updates
    ]
    assert events[-1] == (
        "BatchCommitted",
        {
            "taskId": task_id,
            "round": round_number,
            "root": tree.root,
            "leafCount": 4,
            "totalSamples": sum(samples),
        },
    )
    state = ledger.round(task_id, round_number)
    pairs = [(u.leaf.participant, u.leaf.update_digest) for u in updates]
    assert (state.phase, state.commitCount, state.totalSamples, state.updatesHash) == (
        COLLECTING,
        4,
        sum(samples),
        updates_hash(pairs),
    )
    batch = ledger.training.functions.getBatch(task_id, round_number).call()
    assert (batch.root, batch.leafCount, batch.paid) == (tree.root, 4, False)

    # Anyone proves a participant's inclusion; a changed leaf does not prove.
    for index, leaf in enumerate(tree.leaves):
        proof = tree.proof(index)
        assert verify_proof(leaf, proof, tree.root)
        assert ledger.training.functions.isInBatch(
            task_id, round_number, leaf.as_tuple(), proof
        ).call()
        forged = BatchLeaf(leaf.participant, leaf.update_digest, leaf.samples + 1)
        assert not ledger.training.functions.isInBatch(
            task_id, round_number, forged.as_tuple(), proof
        ).call()

    # Every participant of the snapshot is in: collection closed, the aggregate names the set.
    ledger.aggregate_and_commit_model(task_id, round_number)
    ledger.vote_all(task_id, round_number)
    assert ledger.round(task_id, round_number).phase == ACCEPTED

    before = {leaf.participant: ledger.balance(leaf.participant) for leaf in tree.leaves}
    call = ledger.training.functions.payBatch(
        task_id, round_number, [leaf.as_tuple() for leaf in tree.leaves]
    )
    receipt = ledger.send(call, ledger.outsider)
    events = ledger.events(receipt)
    claims = [args for name, args in events if name == "RewardClaimed"]
    expected = {leaf.participant: REWARD * leaf.samples // sum(samples) for leaf in tree.leaves}
    assert {c["participant"]: c["amount"] for c in claims} == expected
    assert ("BatchPaid", {
        "taskId": task_id, "round": round_number, "payer": ledger.outsider,
        "paidCount": 4, "amount": sum(expected.values()),
    }) in events  # fmt: skip
    for leaf in tree.leaves:
        assert (
            ledger.balance(leaf.participant) - before[leaf.participant]
            == expected[leaf.participant]
        )
    assert ledger.training.functions.rewardPaid(task_id, round_number).call() == sum(
        expected.values()
    )
    ledger.assert_reverts(call, ledger.outsider, "TrainingBatchAlreadyPaid", task_id, 1)
    first = tree.leaves[0]
    claim = ledger.training.functions.claimBatchedReward(
        task_id, round_number, first.as_tuple(), tree.proof(0)
    )
    ledger.assert_reverts(claim, first.participant, "TrainingBatchAlreadyPaid", task_id, 1)


def test_exclusion_and_own_claims_on_a_batched_round(ledger: Ledger) -> None:
    samples = [100, 300, 200, 400]
    task_id = ledger.setup_task(participants=4, rewardPerRound=REWARD)
    round_number = ledger.open_round(task_id)
    updates = _signed_round(ledger, task_id, round_number, samples)
    _, tree = _commit_batch(ledger, task_id, round_number, updates)
    functions = ledger.training.functions

    excluded = tree.leaves[1]
    bad_proof = tree.proof(2)
    call = functions.excludeBatchedUpdate(task_id, 1, excluded.as_tuple(), bad_proof, ALTERED)
    ledger.assert_reverts(
        call,
        ledger.aggregator,
        "TrainingNotInBatch",
        task_id,
        1,
        excluded.participant,
        excluded.update_digest,
    )
    call = functions.excludeBatchedUpdate(task_id, 1, excluded.as_tuple(), tree.proof(1), ALTERED)
    ledger.assert_reverts(call, ledger.outsider, "TrainingNotAggregator", task_id, ledger.outsider)
    events = ledger.events(ledger.send(call, ledger.aggregator))
    assert events == [
        (
            "UpdateExcluded",
            {
                "taskId": task_id,
                "round": 1,
                "updateDigest": excluded.update_digest,
                "participant": excluded.participant,
                "reason": ALTERED,
            },
        )
    ]
    ledger.assert_reverts(
        call, ledger.aggregator, "TrainingUpdateAlreadyExcluded", task_id, 1, excluded.update_digest
    )
    ledger.aggregate_and_commit_model(task_id, round_number)  # the set without the excluded leaf
    ledger.vote_all(task_id, round_number)

    included_samples = sum(samples) - excluded.samples
    claimer = tree.leaves[0]
    claim = functions.claimBatchedReward(task_id, 1, claimer.as_tuple(), tree.proof(0))
    ledger.assert_reverts(
        claim, ledger.outsider, "TrainingNoContribution", task_id, 1, ledger.outsider
    )
    events = ledger.events(ledger.send(claim, claimer.participant))
    own = REWARD * claimer.samples // included_samples
    assert ("RewardClaimed", {
        "taskId": task_id, "round": 1, "participant": claimer.participant,
        "updateDigest": claimer.update_digest, "amount": own,
    }) in events  # fmt: skip
    ledger.assert_reverts(
        claim, claimer.participant, "TrainingRewardAlreadyClaimed", task_id, 1, claimer.participant
    )
    excluded_claim = functions.claimBatchedReward(task_id, 1, excluded.as_tuple(), tree.proof(1))
    ledger.assert_reverts(
        excluded_claim,
        excluded.participant,
        "TrainingContributionExcluded",
        task_id,
        1,
        excluded.update_digest,
    )

    # The batch pays the two leaves left: not the excluded one, not the one already claimed.
    leaves = [leaf.as_tuple() for leaf in tree.leaves]
    wrong = functions.payBatch(task_id, 1, leaves[:-1])
    computed = BatchTree(tree.leaves[:-1]).root
    ledger.assert_reverts(
        wrong, ledger.outsider, "TrainingBatchMismatch", task_id, 1, tree.root, computed
    )
    events = ledger.events(ledger.send(functions.payBatch(task_id, 1, leaves), ledger.outsider))
    paid = {args["participant"] for name, args in events if name == "RewardClaimed"}
    assert paid == {tree.leaves[2].participant, tree.leaves[3].participant}
    assert functions.rewardPaid(task_id, 1).call() == sum(
        REWARD * tree.leaves[i].samples // included_samples for i in (0, 2, 3)
    )


def test_every_commit_check_holds_for_each_leaf(ledger: Ledger) -> None:
    functions = ledger.training.functions
    task_id = ledger.setup_task(participants=3, maxSamplesPerUpdate=1_000)
    round_number = ledger.open_round(task_id)
    late = ledger.participants[3]
    ledger.send(functions.join(task_id), late)
    first, second, third = ledger.participants[:3]

    def refused(updates: list[SignedUpdate], name: str, *args: Any) -> None:
        call = functions.commitBatch(task_id, round_number, _rows(updates))
        ledger.assert_reverts(call, ledger.aggregator, name, *args)

    good = _sign(ledger, first, task_id, 1, "a", 10)
    ledger.assert_reverts(
        functions.commitBatch(task_id, 1, _rows([good])),
        ledger.outsider,
        "TrainingNotAggregator",
        task_id,
        ledger.outsider,
    )
    refused([], "TrainingEmptyBatch", task_id, 1)
    garbage = SignedUpdate(task_id, 1, good.leaf, b"\x00" * 32, b"\x00" * 32)
    refused([garbage], "TrainingBatchSignatureInvalid", task_id, 1, 0)
    outsider = _sign(ledger, ledger.outsider, task_id, 1, "o", 10)
    refused([outsider], "TrainingNotParticipant", task_id, ledger.outsider)
    refused([_sign(ledger, late, task_id, 1, "l", 10)], "TrainingNotInRoundSnapshot", task_id, 1,
            late, 2)  # fmt: skip
    refused([_sign(ledger, second, task_id, 1, "z", 0)], "TrainingZeroSamples", task_id, 1)
    refused([_sign(ledger, second, task_id, 1, "z", 1_001)], "TrainingTooManySamples", task_id, 1,
            1_001, 1_000)  # fmt: skip
    pair = [good, _sign(ledger, second, task_id, 1, "b", 10)]
    descending = sorted(pair, key=lambda u: u.leaf.update_digest, reverse=True)
    refused(descending, "TrainingBatchNotSorted", task_id, 1, 1)
    same_digest = [good, _sign(ledger, second, task_id, 1, "a", 10)]
    refused(same_digest, "TrainingBatchNotSorted", task_id, 1, 1)
    twice = order_batch([good, _sign(ledger, first, task_id, 1, "a2", 10)])
    refused(twice, "TrainingAlreadyCommitted", task_id, 1, first)
    # A signature for another round (or task, or contract) recovers another account.
    other_round = _sign(ledger, first, task_id, 2, "a", 10)
    wrong = SignedUpdate(task_id, 1, good.leaf, other_round.r, other_round.vs)
    assert (
        ledger.simulate_revert(
            functions.commitBatch(task_id, 1, _rows([wrong])), ledger.aggregator
        ).name
        == "TrainingNotParticipant"
    )

    # A digest committed on its own is refused in a batch, as is a participant that committed.
    ledger.send(functions.commitUpdate(task_id, 1, digest("own"), 5), third)
    refused([_sign(ledger, second, task_id, 1, "own", 5)], "TrainingDigestAlreadyCommitted",
            task_id, digest("own"), third)  # fmt: skip
    refused([_sign(ledger, third, task_id, 1, "t", 5)], "TrainingAlreadyCommitted", task_id, 1,
            third)  # fmt: skip

    _commit_batch(ledger, task_id, 1, [good])
    refused([_sign(ledger, second, task_id, 1, "b", 10)], "TrainingBatchAlreadyCommitted",
            task_id, 1)  # fmt: skip
    # The participant in the batch cannot commit again on its own either.
    ledger.assert_reverts(
        functions.commitUpdate(task_id, 1, digest("again"), 5),
        first,
        "TrainingAlreadyCommitted",
        task_id,
        1,
        first,
    )


def test_batches_are_refused_out_of_their_window(ledger: Ledger) -> None:
    functions = ledger.training.functions
    masked = ledger.setup_task(participants=2, masked=True)
    ledger.open_round(masked)
    update = _sign(ledger, ledger.participants[0], masked, 1, "m", 10)
    ledger.assert_reverts(
        functions.commitBatch(masked, 1, _rows([update])),
        ledger.aggregator,
        "TrainingBatchMasked",
        masked,
    )

    task_id = ledger.setup_task(participants=2)
    ledger.open_round(task_id)
    update = _sign(ledger, ledger.participants[0], task_id, 1, "late", 10)
    deadline = ledger.round(task_id, 1).submissionDeadlineBlock
    ledger.mine_past(deadline)
    ledger.assert_reverts(
        functions.commitBatch(task_id, 1, _rows([update])),
        ledger.aggregator,
        "TrainingSubmissionWindowClosed",
        task_id,
        1,
        deadline,
    )


def test_pay_batch_needs_a_batch(ledger: Ledger) -> None:
    task_id = ledger.setup_task(participants=2)
    round_number = ledger.run_accepted_round(task_id, [10, 20])
    call = ledger.training.functions.payBatch(task_id, round_number, [])
    ledger.assert_reverts(call, ledger.outsider, "TrainingNoBatch", task_id, round_number)


def test_naive_reference_contract(ledger: Ledger) -> None:
    from ledger_harness import _deploy

    naive = _deploy(ledger.w3, "NaiveRoundReference", ledger.deployer, REWARD).functions
    a, b = ledger.participants[:2]
    ledger.assert_reverts(naive.submit(digest("x"), 10), a, "NaiveNotRegistered", a)
    ledger.send(naive.register(), a)
    ledger.assert_reverts(naive.register(), a, "NaiveAlreadyRegistered", a)
    ledger.send(naive.register(), b)
    ledger.send(naive.submit(digest("x"), 10), a)
    ledger.assert_reverts(naive.submit(digest("y"), 10), a, "NaiveAlreadySubmitted", 1, a)
    ledger.send(naive.submit(digest("y"), 30), b)
    ledger.send(naive.finalize(), ledger.outsider)
    assert naive.balanceOf(a).call() == REWARD // 4
    assert naive.balanceOf(b).call() == REWARD * 3 // 4
    assert naive.round().call() == 2
