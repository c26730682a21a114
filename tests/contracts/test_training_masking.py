"""Masked tasks on-chain: participants advertise a round masking key before any update, updates
are taken once the advertisement closed, included participants reveal before the key holder may
commit the model, and no update can be excluded once masks are revealed."""

from __future__ import annotations

import pytest
from ledger_harness import COLLECTING, Ledger, digest, update_digest, updates_hash

from fedchain_magics.crypto.masking import MaskingKey


def _key(index: int) -> MaskingKey:
    return MaskingKey.derive(bytes([index + 1]) * 32, b"round 1")


KEY = _key(0).public


@pytest.fixture
def masked(ledger: Ledger) -> int:
    """A masked task: 3 validators, 3 participants, round 1 open (keys for 100 blocks)."""
    task_id = ledger.setup_task(
        participants=3, masked=True, minParticipants=2, submissionWindowBlocks=200
    )
    ledger.open_round(task_id)
    return task_id


def _proof(ledger: Ledger, task_id: int, index: int, key: MaskingKey) -> bytes:
    participant = ledger.participants[index]
    return key.prove(ledger.training.functions.maskingKeyDigest(task_id, 1, participant).call())


def _advertise_call(ledger: Ledger, task_id: int, index: int, key: MaskingKey | None = None):
    key = key or _key(index)
    proof = _proof(ledger, task_id, index, key)
    return ledger.training.functions.advertiseMaskingKey(task_id, 1, key.public, proof)


def _advertise(ledger: Ledger, task_id: int, index: int):
    return ledger.send(_advertise_call(ledger, task_id, index), ledger.participants[index])


def _commit(ledger: Ledger, task_id: int, index: int):
    call = ledger.training.functions.commitUpdate(task_id, 1, update_digest(task_id, 1, index), 10)
    return ledger.send(call, ledger.participants[index])


def test_keys_first_then_updates_then_reveals_then_the_model(ledger: Ledger, masked: int) -> None:
    first = ledger.participants[0]
    receipt = _advertise(ledger, masked, 0)
    assert ledger.events(receipt) == [
        (
            "MaskingKeyAdvertised",
            {"taskId": masked, "round": 1, "participant": first, "publicKey": KEY},
        )
    ]
    early = ledger.training.functions.commitUpdate(masked, 1, update_digest(masked, 1, 0), 10)
    deadline = ledger.training.functions.getMaskedRound(masked, 1).call()[0]
    ledger.assert_reverts(early, first, "TrainingAdvertisementOpen", masked, 1, deadline)
    for index in (1, 2):
        _advertise(ledger, masked, index)
    # every eligible participant advertised: the advertisement is closed, updates are taken
    ledger.assert_reverts(
        _advertise_call(ledger, masked, 0),
        first,
        "TrainingAlreadyAdvertised",
        masked,
        1,
        first,
    )
    for index in range(3):
        _commit(ledger, masked, index)
    included = ledger.included_updates(masked, 1)
    ledger.send(
        ledger.training.functions.commitAggregate(
            masked, 1, digest("aggregate"), 3, updates_hash(included)
        ),
        ledger.aggregator,
    )
    model = ledger.training.functions.commitModel(masked, 1, digest("model"))
    ledger.assert_reverts(model, ledger.key_holder, "TrainingMasksNotRevealed", masked, 1, 0, 3)
    for index in range(3):
        reveal = ledger.training.functions.revealMasks(
            masked, 1, update_digest(masked, 1, index), digest(f"reveal-{index}")
        )
        receipt = ledger.send(reveal, ledger.participants[index])
        assert ledger.events(receipt)[0][0] == "MasksRevealed"
    assert ledger.training.functions.getMaskedRound(masked, 1).call()[1:] == (3, 3)
    ledger.send(model, ledger.key_holder)


def test_a_party_without_a_key_cannot_commit_and_keys_close_at_the_deadline(
    ledger: Ledger, masked: int
) -> None:
    silent = ledger.participants[2]
    for index in (0, 1):
        _advertise(ledger, masked, index)
    deadline = ledger.training.functions.getMaskedRound(masked, 1).call()[0]
    ledger.mine_past(deadline)
    ledger.assert_reverts(
        _advertise_call(ledger, masked, 2),
        silent,
        "TrainingAdvertisementClosed",
        masked,
        1,
        deadline,
    )
    ledger.assert_reverts(
        ledger.training.functions.commitUpdate(masked, 1, update_digest(masked, 1, 2), 10),
        silent,
        "TrainingNoMaskingKey",
        masked,
        1,
        silent,
    )
    _commit(ledger, masked, 0)
    _commit(ledger, masked, 1)


def test_masked_calls_are_checked(ledger: Ledger, masked: int) -> None:
    first, second = ledger.participants[:2]
    advertise = ledger.training.functions.advertiseMaskingKey
    proof = _proof(ledger, masked, 0, _key(0))
    ledger.assert_reverts(
        advertise(masked, 1, KEY[:33], proof), first, "TrainingInvalidMaskingKey", masked, 33
    )
    ledger.assert_reverts(
        advertise(masked, 1, KEY, proof),
        ledger.outsider,
        "TrainingNotParticipant",
        masked,
        ledger.outsider,
    )
    # a replay: party 0's key and proof, sent by party 1 (or front-run): the proof is party 0's
    ledger.assert_reverts(
        advertise(masked, 1, KEY, proof), second, "TrainingMaskingKeyNotProven", masked, 1, second
    )
    # a forged proof: another key's signature, or garbage
    forged = _proof(ledger, masked, 0, _key(5))
    for bad in (forged, b"\x01" * 65, b""):
        ledger.assert_reverts(
            advertise(masked, 1, KEY, bad), first, "TrainingMaskingKeyNotProven", masked, 1, first
        )
    open_task = ledger.setup_task(participants=2)
    ledger.open_round(open_task)
    ledger.assert_reverts(
        advertise(open_task, 1, KEY, proof), first, "TrainingNotMasked", open_task
    )
    reveal = ledger.training.functions.revealMasks(open_task, 1, digest("u"), digest("r"))
    ledger.assert_reverts(reveal, first, "TrainingNotMasked", open_task)
    for index in range(3):
        _advertise(ledger, masked, index)
    _commit(ledger, masked, 0)
    _commit(ledger, masked, 1)
    _commit(ledger, masked, 2)
    # reveals only once the aggregate is committed, only for one's own included update
    own = update_digest(masked, 1, 0)
    early = ledger.training.functions.revealMasks(masked, 1, own, digest("r"))
    ledger.assert_reverts(early, first, "TrainingWrongPhase", masked, 1, 2, COLLECTING)
    ledger.send(
        ledger.training.functions.commitAggregate(
            masked, 1, digest("aggregate"), 3, updates_hash(ledger.included_updates(masked, 1))
        ),
        ledger.aggregator,
    )
    others = ledger.training.functions.revealMasks(masked, 1, own, digest("r"))
    ledger.assert_reverts(others, second, "TrainingNoContribution", masked, 1, second)
    zero = ledger.training.functions.revealMasks(masked, 1, own, b"\x00" * 32)
    ledger.assert_reverts(zero, first, "TrainingZeroDigest")
    ledger.send(others, first)
    ledger.assert_reverts(others, first, "TrainingAlreadyRevealed", masked, 1, first)


def test_no_update_is_excluded_once_masks_are_revealed(ledger: Ledger, masked: int) -> None:
    """A rejected aggregate sends the round back to collecting; the included set the reveals
    were made for must not shrink then, or the reveals would no longer cancel the masks."""
    for index in range(3):
        _advertise(ledger, masked, index)
    for index in range(3):
        _commit(ledger, masked, index)
    aggregate = digest("aggregate")
    ledger.send(
        ledger.training.functions.commitAggregate(
            masked, 1, aggregate, 3, updates_hash(ledger.included_updates(masked, 1))
        ),
        ledger.aggregator,
    )
    own = update_digest(masked, 1, 0)
    ledger.send(
        ledger.training.functions.revealMasks(masked, 1, own, digest("r")), ledger.participants[0]
    )
    ledger.send(
        ledger.training.functions.rejectAggregate(masked, 1, digest("recomputed")),
        ledger.key_holder,
    )
    exclude = ledger.training.functions.excludeUpdate(masked, 1, update_digest(masked, 1, 2), 2)
    ledger.assert_reverts(exclude, ledger.aggregator, "TrainingMasksRevealed", masked, 1)
