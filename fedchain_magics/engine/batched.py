"""Batched commitments: each party signs its update commitment off-chain, the aggregator records
the round's signed commitments in one transaction and pays the round in one.

An engine option, not a task parameter: the contract takes a batch in any unmasked task (a
round can mix a batch with parties' own commits), so nothing is fixed at creation and a task
created without it can use it later. ``simulate(..., batched=True)`` turns it on.

How a signed commitment reaches the aggregator: through the workspace's *batch inbox*, a folder
the parties and the aggregator share (one kernel, or kernels sharing a workspace). Each party
stores its ciphertext in the blob store as for a commit, signs ``UpdateCommitment(task, round,
digest, samples)`` with its account key (EIP-712) and drops the signature, 160 bytes of JSON, in
the inbox; the aggregator commits every signature waiting for the round before it aggregates.
Across machines the smallest sound path is a route on the served ledger's HTTP server that takes
a signed commitment (the contract re-checks every signature, so the route needs no trust); it is
not built yet.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..chain import ExclusionReason, TransactionResult, UpdateCommitment
from ..chain.batch import BatchLeaf, BatchTree, SignedUpdate
from .errors import InvalidInputError, StaleUpdateError

if TYPE_CHECKING:
    from .roles import Aggregator, LocalUpdate, Participant
    from .task import FederatedTask

INBOX_DIRNAME = "batch-inbox"
#: Leaves one ``payBatch`` pays at most. Measured on the in-process chain: about 41,300 gas a
#: leaf (the reward policy, a token transfer, an event) over 85,000 a payment, so 256 leaves
#: take about 10.7M gas, a third of a 30M-gas block; 1,000 leaves did not fit in one block at
#: all. A larger batch is not paid in one transaction: each party claims its own leaf with its
#: Merkle proof (``claim``).
MAX_LEAVES_PER_PAYMENT = 256
_ENABLED_MARKER = "enabled"


@dataclass(frozen=True)
class SignedSubmission:
    """A party's update, stored and signed for the aggregator's batch (no transaction yet)."""

    task_id: int
    round: int
    update_digest: bytes
    ciphertext_bytes: int
    signed: SignedUpdate


def _task_dir(task: FederatedTask) -> Path:
    return Path(task.federation.workspace) / INBOX_DIRNAME / f"task-{task.task_id}"


def enable(task: FederatedTask) -> None:
    """Turn batched commitments on for ``task`` in this workspace."""
    if task.masked:
        raise InvalidInputError(
            f"task {task.task_id} is masked: its updates are committed one by one (each "
            "party's masks need its own record); run it without batched=True"
        )
    directory = _task_dir(task)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / _ENABLED_MARKER).touch()


def enabled(task: FederatedTask) -> bool:
    return (_task_dir(task) / _ENABLED_MARKER).exists()


def sign(
    participant: Participant, update: LocalUpdate, ciphertext: bytes | None = None
) -> SignedSubmission:
    """Encrypt and store ``participant``'s update as a commit does, then sign its commitment
    and leave it in the batch inbox for the aggregator."""
    task = participant.task
    number = task.open_round_number()
    if update.task_id != task.task_id:
        raise InvalidInputError(f"this update is for task {update.task_id}, not {task.task_id}")
    if update.round != number or update.base_model_digest != task.state().current_model_digest:
        raise StaleUpdateError(task.task_id, participant.name, update.round, number)
    if ciphertext is None:
        ciphertext = task.public_scheme.encrypt(participant.weighted_delta(update))
    digest = participant.federation.store.put(ciphertext)
    signed = participant.registry.sign_update(  # off-chain: the party needs no gas for it
        participant.federation.signer(participant.name),
        task.task_id,
        number,
        digest,
        int(update.samples),
    )
    inbox = _task_dir(task) / f"round-{number}"
    inbox.mkdir(parents=True, exist_ok=True)
    path = inbox / f"{participant.address}.json"
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(_as_json(signed)))
    os.replace(temporary, path)  # a party that signs again replaces its signature
    return SignedSubmission(task.task_id, number, digest, len(ciphertext), signed)


def waiting(task: FederatedTask, round_number: int) -> list[SignedUpdate]:
    """The signed commitments in the inbox for the round, in the order they arrived."""
    inbox = _task_dir(task) / f"round-{round_number}"
    if not inbox.is_dir():
        return []
    arrived = sorted(inbox.glob("*.json"), key=lambda path: (path.stat().st_mtime_ns, path.name))
    return [_from_json(json.loads(path.read_text())) for path in arrived]


def commit_waiting(aggregator: Aggregator, round_number: int) -> TransactionResult | None:
    """Commit the round's waiting signed commitments in one batch, leaving out (off-chain, as
    the contract would refuse them) any whose party already committed to the round or whose
    digest is already on the ledger or signed earlier in the round by another party (the first
    to arrive keeps it, as the first commit would); None when the round has a batch or nothing
    waits."""
    task, registry = aggregator.task, aggregator.registry
    if registry.batch(task.task_id, round_number)[1]:
        return None
    committed = registry.update_commitments(task.task_id, round_number, include_excluded=True)
    parties = {c.participant.lower() for c in committed}
    on_ledger = {  # the task's digests, read once for the batch rather than once per party
        bytes(log["args"]["updateDigest"])
        for log in registry.event_logs("UpdateCommitted", taskId=task.task_id)
    }
    usable = []
    for signed in waiting(task, round_number):
        leaf = signed.leaf
        if signed.round_number != round_number or leaf.participant.lower() in parties:
            continue
        if leaf.update_digest in on_ledger:
            continue  # a replayed digest: the contract refuses one committed on its own
        on_ledger.add(leaf.update_digest)  # a copy signed later in the round is left out too:
        usable.append(signed)  # one repeated digest would make the contract refuse the batch
    if not usable:
        return None
    tree, result = registry.commit_batch(aggregator.account, task.task_id, round_number, usable)
    aggregator.federation.emit(
        "update_committed",
        result.block_number,
        f"{len(tree.leaves)} signed updates committed in one batch",
        task_id=task.task_id,
        round=round_number,
        account=aggregator.address,
        tx_hash=result.tx_hash,
        gas_used=result.gas_used,
    )
    return result


def exclude(
    aggregator: Aggregator,
    round_number: int,
    commitment: UpdateCommitment,
    reason: ExclusionReason,
) -> TransactionResult | None:
    """Exclude ``commitment`` with its batch proof if it is a leaf of the round's batch; None
    if it was committed on its own (exclude it as such)."""
    tree = aggregator.registry.batch_tree(aggregator.task.task_id, round_number)
    if tree is None:
        return None
    for index, leaf in enumerate(tree.leaves):
        if leaf.update_digest == commitment.update_digest:
            return aggregator.registry.exclude_batched_update(
                aggregator.account, aggregator.task.task_id, round_number, tree, index, reason
            )
    return None


def pay(aggregator: Aggregator, round_number: int) -> tuple[int, TransactionResult] | None:
    """Pay every included leaf of an accepted round's batch in one transaction (anyone may;
    the aggregator does it here); None when the round has no unpaid batch, or one of more than
    ``MAX_LEAVES_PER_PAYMENT`` leaves, whose parties claim their own (``claim``)."""
    registry, task_id = aggregator.registry, aggregator.task.task_id
    tree = _unpaid_tree(aggregator, round_number, MAX_LEAVES_PER_PAYMENT)
    if tree is None:
        return None
    amount, result = registry.pay_batch(aggregator.account, task_id, round_number, tree)
    aggregator.federation.emit(
        "reward_claimed",
        result.block_number,
        f"round {round_number}'s batch paid ({len(tree.leaves)} parties)",
        task_id=task_id,
        round=round_number,
        account=aggregator.address,
        tx_hash=result.tx_hash,
        gas_used=result.gas_used,
    )
    return amount, result


def claim(party: Participant, round_number: int) -> tuple[int, TransactionResult] | None:
    """``party``'s reward for its leaf of an accepted round's unpaid batch, claimed with the
    leaf's Merkle proof; None when the round has no unpaid batch or ``party`` no leaf in it
    (its reward, if any, is claimed as for its own commit)."""
    tree = _unpaid_tree(party, round_number)
    if tree is None:
        return None
    try:
        tree.index_of(party.address)
    except KeyError:
        return None
    return party.registry.claim_batched_reward(
        party.account, party.task.task_id, round_number, tree
    )


def _unpaid_tree(
    role: Aggregator | Participant, round_number: int, max_leaves: int | None = None
) -> BatchTree | None:
    """The round's batch rebuilt from the log, if it has one not paid yet (and of at most
    ``max_leaves`` leaves: a larger one is not rebuilt)."""
    registry, task_id = role.registry, role.task.task_id
    root, leaf_count, paid = registry.batch(task_id, round_number)
    if paid or root == bytes(32) or (max_leaves is not None and leaf_count > max_leaves):
        return None
    return registry.batch_tree(task_id, round_number, root)


def _as_json(signed: SignedUpdate) -> dict[str, Any]:
    leaf = signed.leaf
    return {
        "task": signed.task_id,
        "round": signed.round_number,
        "participant": leaf.participant,
        "digest": leaf.update_digest.hex(),
        "samples": leaf.samples,
        "r": signed.r.hex(),
        "vs": signed.vs.hex(),
    }


def _from_json(data: dict[str, Any]) -> SignedUpdate:
    leaf = BatchLeaf(str(data["participant"]), bytes.fromhex(data["digest"]), int(data["samples"]))
    return SignedUpdate(
        int(data["task"]),
        int(data["round"]),
        leaf,
        bytes.fromhex(data["r"]),
        bytes.fromhex(data["vs"]),
    )
