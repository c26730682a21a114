"""RoundKeys on-chain: the key holder of a masked task registers each round's public context
before the round takes updates and publishes its secret once the model is committed; a validator
records its evidence when the decryption is not the committed model. Every revert and event."""

from __future__ import annotations

import pytest
from eth_utils import keccak
from ledger_harness import (
    ZERO_DIGEST,
    DecodedError,
    Ledger,
    _deploy,
    abi_type,
    digest,
    load_artifact,
    update_digest,
    updates_hash,
)
from web3.contract import Contract

from fedchain_magics.crypto.masking import MaskingKey

COLLECTING = 1
PUBLIC_2 = digest("public-context-round-2")
SECRET_1 = digest("secret-context-round-1")


@pytest.fixture
def keys(ledger: Ledger) -> Contract:
    return _deploy(ledger.w3, "RoundKeys", ledger.deployer, ledger.training.address)


@pytest.fixture
def masked(ledger: Ledger) -> int:
    """A masked task: 1 validator, 2 participants, no round open yet."""
    return ledger.setup_task(
        validators=1, participants=2, masked=True, minParticipants=2, validatorQuorum=1
    )


def _events(ledger: Ledger, keys: Contract, receipt) -> list[tuple[str, dict]]:
    decoded = []
    for log in receipt["logs"]:
        for item in keys.abi:
            if item["type"] != "event":
                continue
            event = keys.events[item["name"]]()
            types = ",".join(abi_type(argument) for argument in item["inputs"])
            if bytes(log["topics"][0]) == keccak(text=f"{item['name']}({types})"):
                decoded.append((item["name"], dict(event.process_log(log)["args"])))
    return decoded


def _reverts(ledger: Ledger, call, sender: str, name: str, *args) -> None:
    assert ledger.simulate_revert(call, sender) == DecodedError(name, args)


def _run_to_validating(ledger: Ledger, task_id: int, round_number: int) -> bytes:
    """Round ``round_number`` (already open) of the masked task: keys advertised, updates,
    aggregate, reveals, model committed; returns the model digest."""
    training = ledger.training.functions
    for index in range(2):
        key = MaskingKey.derive(bytes([index + 1]) * 32, f"round {round_number}".encode())
        participant = ledger.participants[index]
        proof = key.prove(training.maskingKeyDigest(task_id, round_number, participant).call())
        ledger.send(
            training.advertiseMaskingKey(task_id, round_number, key.public, proof), participant
        )
    ledger.commit_updates(task_id, round_number, [10, 20])
    included = ledger.included_updates(task_id, round_number)
    ledger.send(
        training.commitAggregate(
            task_id, round_number, digest(f"aggregate-{round_number}"), 2, updates_hash(included)
        ),
        ledger.aggregator,
    )
    for index in range(2):
        reveal = training.revealMasks(
            task_id,
            round_number,
            update_digest(task_id, round_number, index),
            digest(f"reveal-{round_number}-{index}"),
        )
        ledger.send(reveal, ledger.participants[index])
    model = digest(f"model-{round_number}")
    ledger.send(training.commitModel(task_id, round_number, model), ledger.key_holder)
    return model


def test_a_round_key_is_registered_before_the_round_and_its_secret_published_after(
    ledger: Ledger, keys: Contract, masked: int
) -> None:
    functions = keys.functions
    task_context = ledger.training.functions.getTask(masked).call().params.publicContextDigest
    assert functions.roundPublicContext(masked, 1).call() == task_context  # round 1: the task's
    assert functions.roundPublicContext(masked, 2).call() == ZERO_DIGEST
    ledger.open_round(masked)
    early = functions.publishRoundSecret(masked, 1, SECRET_1)
    _reverts(ledger, early, ledger.key_holder, "KeysModelNotCommitted", masked, 1, COLLECTING)
    receipt = ledger.send(functions.registerRoundKey(masked, 2, PUBLIC_2), ledger.key_holder)
    assert _events(ledger, keys, receipt) == [
        ("RoundKeyRegistered", {"taskId": masked, "round": 2, "publicContextDigest": PUBLIC_2})
    ]
    assert functions.roundPublicContext(masked, 2).call() == PUBLIC_2
    _reverts(
        ledger,
        functions.registerRoundKey(masked, 2, digest("another")),
        ledger.key_holder,
        "KeysAlreadyRegistered",
        masked,
        2,
        PUBLIC_2,
    )

    _run_to_validating(ledger, masked, 1)
    receipt = ledger.send(early, ledger.key_holder)
    assert _events(ledger, keys, receipt) == [
        ("RoundSecretPublished", {"taskId": masked, "round": 1, "secretDigest": SECRET_1})
    ]
    assert tuple(functions.roundKey(masked, 1).call()) == (ZERO_DIGEST, SECRET_1)
    assert tuple(functions.roundKey(masked, 2).call()) == (PUBLIC_2, ZERO_DIGEST)
    _reverts(
        ledger,
        functions.publishRoundSecret(masked, 1, digest("again")),
        ledger.key_holder,
        "KeysAlreadyPublished",
        masked,
        1,
        SECRET_1,
    )


def test_register_is_for_the_next_round_or_an_empty_collecting_one(
    ledger: Ledger, keys: Contract, masked: int
) -> None:
    register = keys.functions.registerRoundKey
    holder = ledger.key_holder
    _reverts(ledger, register(masked, 2, PUBLIC_2), holder, "KeysNotNextRound", masked, 2, 0)
    ledger.open_round(masked)
    # round 1 is collecting and holds no update: its key may still come (a round opened first)
    ledger.send(register(masked, 1, digest("public-1")), holder)
    _run_to_validating(ledger, masked, 1)
    _reverts(ledger, register(masked, 1, digest("late")), holder, "KeysNotNextRound", masked, 1, 1)
    task_context = ledger.training.functions.getTask(masked).call().params.publicContextDigest
    for reused in (task_context, digest("public-1")):
        _reverts(ledger, register(masked, 2, reused), holder, "KeysDigestReused", masked, reused)


def test_only_the_key_holder_of_a_masked_task_with_nonzero_digests(
    ledger: Ledger, keys: Contract, masked: int
) -> None:
    functions = keys.functions
    outsider = ledger.outsider
    _reverts(
        ledger, functions.registerRoundKey(masked, 1, ZERO_DIGEST), ledger.key_holder,
        "KeysZeroDigest",
    )  # fmt: skip
    _reverts(
        ledger, functions.publishRoundSecret(masked, 1, ZERO_DIGEST), ledger.key_holder,
        "KeysZeroDigest",
    )  # fmt: skip
    for call in (
        functions.registerRoundKey(masked, 1, PUBLIC_2),
        functions.publishRoundSecret(masked, 1, SECRET_1),
    ):
        _reverts(ledger, call, outsider, "KeysNotKeyHolder", masked, outsider)
    plain = ledger.setup_task(validators=1, participants=2)
    _reverts(
        ledger, functions.registerRoundKey(plain, 1, PUBLIC_2), ledger.key_holder,
        "KeysNotMasked", plain,
    )  # fmt: skip
    bytecode = load_artifact("RoundKeys")["bytecode"]
    factory = ledger.w3.eth.contract(abi=keys.abi, bytecode=bytecode)
    _reverts(ledger, factory.constructor("0x" + "00" * 20), ledger.deployer, "KeysInvalidRegistry")


def test_a_validator_records_a_mismatch_once_against_the_published_secret(
    ledger: Ledger, keys: Contract, masked: int
) -> None:
    functions = keys.functions
    validator = ledger.validators[0]
    ledger.open_round(masked)
    model = _run_to_validating(ledger, masked, 1)
    recomputed = digest("the real decryption")
    record = functions.recordMismatch(masked, 1, recomputed, SECRET_1)
    _reverts(ledger, record, ledger.outsider, "KeysNotValidator", masked, ledger.outsider)
    _reverts(ledger, record, validator, "KeysSecretNotPublished", masked, 1)
    ledger.send(functions.publishRoundSecret(masked, 1, SECRET_1), ledger.key_holder)
    wrong = digest("another secret")
    _reverts(
        ledger, functions.recordMismatch(masked, 1, recomputed, wrong), validator,
        "KeysSecretMismatch", masked, 1, SECRET_1, wrong,
    )  # fmt: skip
    _reverts(
        ledger, functions.recordMismatch(masked, 1, model, SECRET_1), validator,
        "KeysModelMatches", masked, 1, model,
    )  # fmt: skip
    assert functions.mismatch(masked, 1, validator).call() == (False, ZERO_DIGEST)

    receipt = ledger.send(record, validator)

    assert _events(ledger, keys, receipt) == [
        (
            "DecryptionMismatchRecorded",
            {
                "taskId": masked,
                "round": 1,
                "validator": validator,
                "modelDigest": model,
                "recomputedModelDigest": recomputed,
                "secretDigest": SECRET_1,
            },
        )
    ]
    assert functions.mismatch(masked, 1, validator).call() == (True, recomputed)
    _reverts(ledger, record, validator, "KeysAlreadyRecorded", masked, 1, validator)
    unopened = functions.recordMismatch(masked, 2, recomputed, SECRET_1)
    _reverts(ledger, unopened, validator, "KeysModelNotCommitted", masked, 2, 0)


def test_each_call_reads_a_fixed_number_of_slots(
    ledger: Ledger, keys: Contract, masked: int
) -> None:
    """No loop: registering (two fresh slots), publishing and recording (one or two) cost about
    90k-101k gas, most of it the registry's task and round views."""
    functions = keys.functions
    gas = {}
    ledger.open_round(masked)
    gas["register"] = ledger.send(
        functions.registerRoundKey(masked, 2, PUBLIC_2), ledger.key_holder
    )["gasUsed"]
    _run_to_validating(ledger, masked, 1)
    gas["publish"] = ledger.send(
        functions.publishRoundSecret(masked, 1, SECRET_1), ledger.key_holder
    )["gasUsed"]
    gas["record"] = ledger.send(
        functions.recordMismatch(masked, 1, digest("x"), SECRET_1), ledger.validators[0]
    )["gasUsed"]
    print("RoundKeys gas:", gas)
    assert all(used < 120_000 for used in gas.values()), gas


def test_a_share_bundle_is_dealt_once_by_an_advertiser_while_the_round_collects(
    ledger: Ledger, keys: Contract, masked: int
) -> None:
    functions, training = keys.functions, ledger.training.functions
    first, second = ledger.participants[:2]
    bundle = digest("bundle-0")
    ledger.open_round(masked)
    _reverts(
        ledger,
        functions.dealShares(masked, 1, bundle),
        first,
        "KeysNotAdvertiser",
        masked,
        1,
        first,
    )
    _reverts(ledger, functions.dealShares(masked, 1, ZERO_DIGEST), first, "KeysZeroDigest")
    key = MaskingKey.derive(b"\x01" * 32, b"round 1")
    proof = key.prove(training.maskingKeyDigest(masked, 1, first).call())
    ledger.send(training.advertiseMaskingKey(masked, 1, key.public, proof), first)
    receipt = ledger.send(functions.dealShares(masked, 1, bundle), first)
    assert _events(ledger, keys, receipt) == [
        ("SharesDealt", {"taskId": masked, "round": 1, "dealer": first, "bundleDigest": bundle})
    ]
    assert functions.shareBundle(masked, 1, first).call() == bundle
    assert functions.shareBundle(masked, 1, second).call() == ZERO_DIGEST
    _reverts(
        ledger,
        functions.dealShares(masked, 1, digest("again")),
        first,
        "KeysAlreadyDealt",
        masked,
        1,
        first,
        bundle,
    )
    _reverts(
        ledger,
        functions.dealShares(masked, 2, bundle),
        first,
        "KeysNotAdvertiser",
        masked,
        2,
        first,
    )


def test_no_share_is_dealt_once_the_aggregate_fixed_the_set(
    ledger: Ledger, keys: Contract, masked: int
) -> None:
    ledger.open_round(masked)
    _run_to_validating(ledger, masked, 1)
    late = keys.functions.dealShares(masked, 1, digest("late"))
    validating = 3
    _reverts(ledger, late, ledger.participants[0], "KeysRoundNotCollecting", masked, 1, validating)
