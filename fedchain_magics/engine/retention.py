"""Bounded storage: how long a workspace keeps the participants' encrypted updates.

Every round leaves one encrypted update per party in the blob store; without pruning a
10-party task of ~145 KB updates grows by ~1.45 MB a round, forever. An update blob is needed
while its round can still be disputed, and no longer:

- its round is finished (accepted, rejected or cancelled), no aggregate of it was ever rejected
  on-chain, and its aggregate, if one was committed, was recomputed *in this workspace* and
  found to be the sum of the committed updates (``verifications.json``); and
- ``keep_rounds`` later rounds of the same task have finished since (default
  :data:`DEFAULT_KEEP_ROUNDS`), so a late check still finds them for a while.

Only then may the blob be pruned. Aggregates, models, manifests, public contexts, reveals and
anything else that is not an individual update are always kept, as is any digest that an
unfinished round, a round still in its window or a task's current model names. The policy is
a workspace setting (``retention.json`` in the workspace; :class:`RetentionPolicy`); with
``auto`` on (the default) the engine prunes after each round this workspace sees finish. Only
the workspace's own local store is pruned: a shared store (a served ledger's ``/blobs/``, S3) is
left to whoever runs it.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..chain import RoundPhase
from ..storage import LocalBlobStore
from .errors import InvalidInputError

if TYPE_CHECKING:
    from .events import LedgerEvent
    from .federation import Federation

FILENAME = "retention.json"
DEFAULT_KEEP_ROUNDS = 1
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetentionPolicy:
    """How long this workspace keeps individual update blobs (see the module's docstring)."""

    keep_rounds: int = DEFAULT_KEEP_ROUNDS
    """Finished rounds of a task after which an earlier round's updates may be pruned."""
    auto: bool = True
    """Prune after each round this workspace sees finish (False: only ``gc`` prunes)."""

    def __post_init__(self) -> None:
        check_keep_rounds(self.keep_rounds)

    @classmethod
    def load(cls, workspace: Path) -> RetentionPolicy:
        """The workspace's policy; the default when it has none (or an unreadable one)."""
        try:
            recorded = json.loads((workspace / FILENAME).read_text())
            return cls(
                keep_rounds=int(recorded.get("keep_rounds", DEFAULT_KEEP_ROUNDS)),
                auto=bool(recorded.get("auto", True)),
            )
        except (OSError, ValueError, TypeError, AttributeError, InvalidInputError):
            return cls()

    def save(self, workspace: Path) -> None:
        path = workspace / FILENAME
        temporary = path.with_name(path.name + ".tmp")
        temporary.write_text(json.dumps(asdict(self), indent=2) + "\n")
        os.replace(temporary, path)


def check_keep_rounds(keep_rounds: int) -> int:
    if isinstance(keep_rounds, bool) or not isinstance(keep_rounds, int) or keep_rounds < 0:
        raise InvalidInputError(
            f"keep_rounds is a whole number of rounds, 0 or more, not {keep_rounds!r}"
        )
    return keep_rounds


@dataclass(frozen=True)
class PrunedUpdate:
    task_id: int
    round: int
    digest: bytes
    size_bytes: int


@dataclass
class GarbageReport:
    """What one ``gc`` removed (or, with ``dry_run``, would remove)."""

    keep_rounds: int
    dry_run: bool
    removed: list[PrunedUpdate] = field(default_factory=list)
    bytes_freed: int = 0
    rounds_pruned: int = 0
    rounds_kept: int = 0
    """Finished rounds whose updates are kept: still in their window, or not verified here."""
    skipped: str | None = None
    """Why nothing was pruned at all (the blobs are in a store this workspace does not own)."""

    def summary(self) -> str:
        if self.skipped is not None:
            return f"gc: nothing pruned: {self.skipped}"
        verb = "would remove" if self.dry_run else "removed"
        return (
            f"gc: {verb} {len(self.removed)} update blob(s) of {self.rounds_pruned} round(s), "
            f"{_megabytes(self.bytes_freed)} {'to free' if self.dry_run else 'freed'}; kept the "
            f"updates of {self.rounds_kept} finished round(s) (keep_rounds={self.keep_rounds}, "
            "or not verified here) and of any unfinished round"
        )


def collect_garbage(
    federation: Federation, keep_rounds: int | None = None, *, dry_run: bool = False
) -> GarbageReport:
    """Prune the update blobs the retention policy lets go (``keep_rounds``: this run's
    window; default the workspace's policy). ``dry_run``: report, change nothing."""
    if keep_rounds is None:
        keep_rounds = RetentionPolicy.load(federation.workspace).keep_rounds
    report = GarbageReport(keep_rounds=check_keep_rounds(keep_rounds), dry_run=dry_run)
    store = federation.store
    if not isinstance(store, LocalBlobStore):
        report.skipped = (
            f"the blobs are in a shared store ({federation.blob_location}); prune them in the "
            "workspace that serves it"
        )
        return report
    protected: set[bytes] = set()
    candidates: list[tuple[int, int, bytes]] = []
    for task_id in federation.task_ids():
        for round_number, updates, finished, prunable in _rounds(federation, task_id, keep_rounds):
            if prunable:
                candidates.extend((task_id, round_number, digest) for digest in updates)
            else:
                protected.update(updates)
                report.rounds_kept += finished
        protected.update(_kept_digests(federation, task_id))
    seen_rounds = set()
    for task_id, round_number, digest in candidates:
        size = None if digest in protected else store.size(digest)
        if size is not None:
            report.removed.append(PrunedUpdate(task_id, round_number, digest, size))
            seen_rounds.add((task_id, round_number))
    report.rounds_pruned = len(seen_rounds)  # the rounds that had something left to remove
    report.bytes_freed = sum(update.size_bytes for update in report.removed)
    if not dry_run and report.removed:
        store.prune(update.digest for update in report.removed)
    return report


def _rounds(
    federation: Federation, task_id: int, keep_rounds: int
) -> Iterator[tuple[int, list[bytes], bool, bool]]:
    """Each round of the task: its update digests (excluded ones too), whether it is finished
    and whether the policy lets its updates go."""
    registry = federation.registry
    current = registry.task(task_id).current_round
    rounds = {number: registry.round(task_id, number) for number in range(1, current + 1)}
    last_finished = max((n for n, state in rounds.items() if state.phase.finished), default=0)
    disputed = {
        int(log["args"]["round"])
        for log in registry.event_logs("AggregateRejected", taskId=task_id)
    }
    for number, state in rounds.items():
        updates = [
            commitment.update_digest
            for commitment in registry.update_commitments(task_id, number, include_excluded=True)
        ]
        digest = state.aggregate_digest
        if digest is None:  # only a cancelled round ends without one: nothing was summed
            verified = state.phase == RoundPhase.CANCELLED
        else:
            verified = federation.verifications.outcome(digest) is True
        prunable = (
            state.phase.finished
            and number + keep_rounds <= last_finished
            and number not in disputed
            and verified
        )
        yield number, updates, state.phase.finished, prunable


def _kept_digests(federation: Federation, task_id: int) -> set[bytes]:
    """Every digest of the task that is not an individual update: always kept."""
    registry = federation.registry
    state = registry.task(task_id)
    params = state.params
    kept = {
        params.model_spec_digest,
        params.public_context_digest,
        params.initial_model_digest,
        state.current_model_digest,
    }
    for number in range(1, state.current_round + 1):
        round_state = registry.round(task_id, number)
        kept.update(
            digest
            for digest in (round_state.aggregate_digest, round_state.model_digest)
            if digest is not None
        )
    return kept


def prune_after_round(federation: Federation, event: LedgerEvent) -> None:
    """The engine's hook: when a round finishes here, prune what the workspace's policy lets
    go, if its policy is ``auto`` and its blobs are its own ``blobs/`` folder. A failure is
    logged and never breaks the round."""
    if event.kind not in ("round_finalized", "round_cancelled"):
        return
    store = federation.store
    if not isinstance(store, LocalBlobStore):
        return
    try:
        if store.root.resolve() != (federation.workspace / "blobs").resolve():
            return  # a folder other workspaces may share: only an explicit gc prunes it
        policy = RetentionPolicy.load(federation.workspace)
        if policy.auto:
            collect_garbage(federation, policy.keep_rounds)
    except Exception:
        _log.exception("pruning old update blobs after a round failed; run gc to retry")


def _megabytes(size_bytes: int) -> str:
    return f"{size_bytes / 1e6:.2f} MB"
