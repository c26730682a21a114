"""Per-round keys of masked tasks: a fresh BFV key pair each round, its secret published after the
round, so anyone can check the decryption (issue 12, part 1).

Once every individual ciphertext carries pairwise and self masks (masked.py), a round's secret key
reveals only the round's sum. So in a masked task:

1. the key holder registers the round's fresh public context on RoundKeys before the round takes
   updates (round 1 uses the task's own public context, registered at creation; the key holder
   registers round r + 1's right after committing round r's model, and the coordinator's kernel
   registers it when it opens a round and also holds the key holder's account);
2. participants encrypt, and the aggregator sums, under that round's public context; an update
   for a round with no key is refused before anything is encrypted;
3. the key holder decrypts with that round's secret (sealed in ``keys/`` under its public
   context's digest, like the task's), commits the model, then publishes the secret (blob in the
   store, digest on RoundKeys);
4. each validator fetches the secret (the store checks its digest), checks that it is the secret
   of the round's public context, decrypts the committed aggregate itself, removes the masks with
   the public reveals, combines as the round strategy does, and compares with the committed
   model's bytes: a mismatch is recorded on RoundKeys with the evidence, and the validator rejects.

A validator that finds the secret not yet published waits (the step raises a "not ready" error;
the key holder publishes in the same call that commits the model) until the last block of the
validation window, where it rejects: a round whose decryption nobody can check is not accepted.

Per-round keys are a feature of masked tasks only: publishing the secret of an unmasked round
would reveal every single update. Masked tasks always use them (no option): the flow stays
automatic, and a masked task made before RoundKeys existed (no ``round_keys`` in its manifest)
keeps its one task key, unpublished.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

import numpy as np

from ..chain import RoundKey, RoundKeysContract, TransactionResult
from ..crypto import CryptoError, EncryptionScheme, generate_scheme, load_scheme
from ..models.codec import encode_parameters
from ..storage import StorageError, digest_of
from . import masked
from .errors import FederationError, InvalidInputError, MissingKeyError, RoundNotReadyError

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from .federation import Federation
    from .task import FederatedTask

ZERO_DIGEST = bytes(32)
MANIFEST_KEY = "round_keys"
"""Where a masked task's manifest names its RoundKeys contract (so every kernel finds it)."""

_contracts: WeakKeyDictionary[FederatedTask, RoundKeysContract] = WeakKeyDictionary()
_schemes: dict[bytes, EncryptionScheme] = {}


@dataclass(frozen=True)
class DecryptionCheck:
    """A validator's re-decryption of a round with its published secret."""

    matches: bool
    recomputed_model_digest: bytes
    """All zeros when the published secret is not the secret of the round's public context."""
    secret_digest: bytes


# -- the contract -------------------------------------------------------------------------------


def contract_address(federation: Federation, deployer: LocalAccount) -> str:
    """This deployment's RoundKeys, deployed by ``deployer`` on first use and recorded in the
    workspace; a masked task's manifest names it, so other kernels need no record of their own.
    A recorded RoundKeys that predates share dealing is replaced for new tasks (the tasks that
    name it keep it)."""
    deployment = federation.registry.deployment
    record = (
        federation.workspace
        / f"round-keys-{deployment.chain_id}-{deployment.training.lower()}.json"
    )
    if record.exists():
        address = str(json.loads(record.read_text())["address"])
        if RoundKeysContract(federation.ledger, address).deals_shares():  # no code: False
            return address
    keys = RoundKeysContract.deploy(federation.ledger, deployer, deployment.training)
    record.write_text(json.dumps({"address": keys.address}) + "\n")
    return keys.address


def uses_round_keys(task: FederatedTask) -> bool:
    """Whether the task's rounds each have their own keys (a masked task naming RoundKeys)."""
    return task.masked and bool(task.manifest.get(MANIFEST_KEY))


def publishes_secrets(task: FederatedTask) -> bool:
    """Whether the key holder publishes each round's secret once its model is committed, for
    anyone to re-decrypt the sum: a task with round keys that is not valued. A valued round
    keeps its secret: its masks cancel only within each group, so a party whose group mates
    dropped out would be readable by the one mate left; its model is checked against the group
    sums the key holder reported (``Validator._score_groups``)."""
    return uses_round_keys(task) and task.config.valuation == "off"


def contract(task: FederatedTask) -> RoundKeysContract:
    """The RoundKeys contract of a masked task (checked to read the task's registry)."""
    if not uses_round_keys(task):
        raise RoundKeysNotMaskedError(task.task_id)
    keys = _contracts.get(task)
    if keys is None:
        federation = task.federation
        keys = RoundKeysContract.at(
            federation.ledger, task.manifest[MANIFEST_KEY], federation.registry.deployment.training
        )
        _contracts[task] = keys
    return keys


def round_key(task: FederatedTask, round_number: int) -> RoundKey | None:
    """The round's key digests for the read model: the public context its updates are encrypted
    under (round 1: the task's own) and the published secret; None without round keys."""
    if not uses_round_keys(task):
        return None
    keys = contract(task)
    return RoundKey(
        keys.round_public_context(task.task_id, round_number),
        keys.round_key(task.task_id, round_number).secret_digest,
    )


# -- the public side: participants, the aggregator, anyone verifying the sum ----------------------


def public_scheme(task: FederatedTask, round_number: int) -> EncryptionScheme:
    """The scheme the round's updates are encrypted and summed under: the round's registered
    public context in a task with round keys, the task's own otherwise."""
    if not uses_round_keys(task):
        return task.public_scheme
    digest = contract(task).round_public_context(task.task_id, round_number)
    if digest is None:
        raise RoundKeyMissingError(task.task_id, round_number)
    scheme = _schemes.get(digest)
    if scheme is None:
        scheme = _checked_public(task, task.federation.store.get(digest), round_number)
        _schemes[digest] = scheme
    return scheme


def _checked_public(task: FederatedTask, blob: bytes, round_number: int) -> EncryptionScheme:
    """A round's public context: no secret key in it, and the task's parameters (same ring, plain
    modulus, resolution and party bound), so the task's bounds hold for it."""
    try:
        scheme = load_scheme(blob)
    except CryptoError as error:
        raise RoundKeyInvalidError(task.task_id, round_number, str(error)) from None
    if scheme.has_secret_key:
        raise RoundKeyInvalidError(task.task_id, round_number, "it holds its secret key")
    if _parameters(scheme) != _parameters(task.public_scheme):
        raise RoundKeyInvalidError(task.task_id, round_number, "its parameters are not the task's")
    return scheme


def _parameters(scheme: EncryptionScheme) -> dict[str, object]:
    described = scheme.describe()
    described.pop("context_sha256")
    return described


# -- the key holder -------------------------------------------------------------------------------


def secret_context(task: FederatedTask, round_number: int) -> bytes | None:
    """The key holder's secret context for the round, if this workspace holds it."""
    federation = task.federation
    if not uses_round_keys(task):
        return federation.secret_context(task.task_id)
    digest = contract(task).round_public_context(task.task_id, round_number)
    if digest is None or digest == task.state().params.public_context_digest:
        return federation.secret_context(task.task_id)
    return federation.round_secret_context(digest)


def register_round_key(
    task: FederatedTask, key_holder: LocalAccount, round_number: int
) -> TransactionResult | None:
    """Make a fresh key pair for the round (the task's parameters), seal its secret here, put its
    public context in the store and register its digest; None if the round has a key already."""
    keys = contract(task)
    if keys.round_public_context(task.task_id, round_number) is not None:
        return None
    described = task.public_scheme.describe()
    generated = generate_scheme(
        str(described["scheme"]),
        max_parties=int(described["max_parties"]),
        poly_modulus_degree=described["poly_modulus_degree"],
        coeff_mod_bit_sizes=described["coeff_mod_bit_sizes"],
        plain_modulus_bits=described["plain_modulus_bits"],
        resolution_bits=described["resolution_bits"],
    )
    federation = task.federation
    digest = federation.store.put(generated.public_context_bytes())
    federation.keep_round_secret_context(digest, generated.secret_context_bytes())
    return keys.register_round_key(key_holder, task.task_id, round_number, digest)


def register_if_key_holder(task: FederatedTask, round_number: int) -> TransactionResult | None:
    """Register the round's key if this workspace holds the task's key holder account (the
    coordinator's kernel opening a round after one that was cancelled before its decryption).
    Round 1 needs none: it uses the task's own public context."""
    if round_number <= 1 or not uses_round_keys(task):
        return None
    federation = task.federation
    name = federation.name_of(task.state().key_holder)
    if name is None or federation.secret_context(task.task_id) is None:
        return None
    return register_round_key(task, federation.account(name), round_number)


def publish_secret(
    task: FederatedTask, key_holder: LocalAccount, round_number: int
) -> TransactionResult | None:
    """After the round's model is committed: put the round's secret context in the store and
    publish its digest (None if published already, or for a task that keeps its secrets: see
    :func:`publishes_secrets`)."""
    if not publishes_secrets(task):
        return None
    keys = contract(task)
    if keys.round_key(task.task_id, round_number).secret_digest is not None:
        return None
    secret = secret_context(task, round_number)
    if secret is None:
        raise MissingKeyError(task.task_id, "key holder")
    digest = task.federation.store.put(secret)
    return keys.publish_round_secret(key_holder, task.task_id, round_number, digest)


def after_model(
    task: FederatedTask, key_holder: LocalAccount, round_number: int
) -> TransactionResult | None:
    """The key holder's steps once it committed the round's model: publish the round's secret,
    then register the next round's key unless this was the task's last round."""
    published = publish_secret(task, key_holder, round_number)
    state = task.state()
    if uses_round_keys(task) and state.voted_rounds + 1 < state.params.max_rounds:
        register_round_key(task, key_holder, round_number + 1)
    return published


# -- validators -----------------------------------------------------------------------------------


def check_decryption(task: FederatedTask, round_number: int) -> DecryptionCheck | None:
    """Re-decrypt the round's committed aggregate with its published secret and compare the
    model it gives with the committed one; None while the secret is not published."""
    state = task.round_state(round_number)
    if state.aggregate_digest is None or state.model_digest is None:
        raise RoundNotReadyError(
            f"round {round_number} of task {task.task_id} has no committed model to check yet"
        )
    secret_digest = contract(task).round_key(task.task_id, round_number).secret_digest
    if secret_digest is None:
        return None
    store = task.federation.store
    try:
        secret = _checked_secret(task, round_number, store.get(secret_digest))
    except (CryptoError, StorageError, RoundKeyInvalidError):
        return DecryptionCheck(False, ZERO_DIGEST, secret_digest)
    aggregate = store.get(state.aggregate_digest, max_bytes=task.max_ciphertext_bytes)
    bfv = masked.bfv(secret)
    residues = bfv.decrypt_residues(aggregate)
    summed = bfv.values_of(masked.unmask(task, round_number, residues, bfv.plain_modulus))
    total_weight = state.total_samples / task.config.sample_scale
    parameters = task.strategy.combine(task.global_parameters(), summed, total_weight)
    recomputed = digest_of(encode_parameters(parameters))
    return DecryptionCheck(recomputed == state.model_digest, recomputed, secret_digest)


def _checked_secret(task: FederatedTask, round_number: int, blob: bytes) -> EncryptionScheme:
    """The published secret, checked to be the secret of the round's public context: it loads
    with its secret key, and decrypts what the public context encrypts."""
    secret = load_scheme(blob)
    public = public_scheme(task, round_number)
    if not secret.has_secret_key or secret.context_sha256 != public.context_sha256:
        raise RoundKeyInvalidError(task.task_id, round_number, "it is not the round key's secret")
    probe = np.random.default_rng().uniform(-1, 1, 64)
    if not np.allclose(secret.decrypt(public.encrypt(probe)), probe, atol=1e-6):
        raise RoundKeyInvalidError(task.task_id, round_number, "it does not decrypt the round")
    return secret


def verify_decryption(task: FederatedTask, validator: LocalAccount, round_number: int) -> bool:
    """A validator's check before it votes: True if the committed model is the decryption (or
    the task does not publish its round secrets); False, with the evidence recorded on
    RoundKeys, if it is not, or if the secret is still unpublished at the window's last
    block."""
    if not publishes_secrets(task):
        return True
    check = check_decryption(task, round_number)
    if check is None:
        deadline = task.round_state(round_number).validation_deadline_block
        if task.federation.ledger.block_number() + 1 < deadline:
            raise RoundSecretNotPublishedError(task.task_id, round_number, deadline)
        return False
    if not check.matches:
        keys = contract(task)
        if keys.mismatch(task.task_id, round_number, str(validator.address)) is None:
            keys.record_mismatch(
                validator,
                task.task_id,
                round_number,
                check.recomputed_model_digest,
                check.secret_digest,
            )
    return check.matches


# -- errors ---------------------------------------------------------------------------------------


class RoundKeysNotMaskedError(InvalidInputError):
    def __init__(self, task_id: int) -> None:
        super().__init__(
            f"task {task_id} has no per-round keys: only a masked task's rounds have them, since "
            "publishing an unmasked round's secret would reveal every single update; create the "
            'task with TaskConfig(privacy="masked")'
        )


class RoundKeyMissingError(RoundNotReadyError):
    def __init__(self, task_id: int, round_number: int) -> None:
        self.task_id, self.round = task_id, round_number
        super().__init__(
            f"round {round_number} of task {task_id} has no encryption key registered yet, so "
            "no update can be encrypted: wait for the key holder to register it (its kernel "
            "does when it decrypts the previous round, or with "
            f"task.key_holder().register_round_key({round_number}))"
        )


class RoundKeyInvalidError(FederationError):
    def __init__(self, task_id: int, round_number: int, why: str) -> None:
        super().__init__(
            f"the key registered for round {round_number} of task {task_id} cannot be used: "
            f"{why}; do not submit, and tell the task's coordinator"
        )


class RoundSecretNotPublishedError(RoundNotReadyError):
    def __init__(self, task_id: int, round_number: int, deadline_block: int) -> None:
        super().__init__(
            f"the key holder of task {task_id} has not published round {round_number}'s secret "
            "yet, so its decryption cannot be checked: vote again once it has (its kernel "
            f"publishes it with the model); at block {deadline_block}, the window's last, a "
            "validator votes reject"
        )
