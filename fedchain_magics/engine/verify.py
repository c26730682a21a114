"""``verify``: is a workspace's ledger whole? Its journal (every frame, block hash and parent
link, checked by the chain layer) and every blob the ledger commits to (each task's manifest,
public context and initial model; each round's updates, aggregate and model), each present and
matching its digest. An update blob pruned under the retention policy (``gc``: its round
finished and its aggregate was verified here) is not damage: one note counts them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ..chain import Finding, JournalReport, LedgerLockedError, verify_journal
from ..storage import BlobPrunedError, StorageError
from .federation import Federation


def verify_workspace(workspace: Path | str, federation: Federation | None = None) -> JournalReport:
    """The journal's report with one finding per missing or altered blob.

    ``federation``: the workspace's federation when this process has it open; otherwise the
    workspace is opened (read, nothing written) if no other process holds it.
    """
    root = Path(workspace)
    report = verify_journal(root)
    if not report.ok:
        return report
    if federation is not None:
        _check_blobs(federation, report)
        return report
    try:
        with Federation.open(root) as opened:
            _check_blobs(opened, report)
    except LedgerLockedError:
        report.add(
            Finding(
                "blobs_unchecked",
                "another process holds this ledger, so its blobs were not checked; run "
                "%fedchain verify in the kernel that holds it",
                fatal=False,
            )
        )
    return report


def _check_blobs(federation: Federation, report: JournalReport) -> None:
    pruned = 0
    for label, digest, is_update in _committed_digests(federation):
        try:
            federation.store.get(digest)
        except StorageError as error:
            if is_update and isinstance(error, BlobPrunedError):
                pruned += 1
                continue
            kind = "missing_blob" if not federation.store.has(digest) else "altered_blob"
            report.add(Finding(kind, f"{label} 0x{digest.hex()[:16]}...: {error}"))
    if pruned:
        report.add(
            Finding(
                "pruned_updates",
                f"{pruned} update blob(s) of finished rounds were pruned under the retention "
                "policy (their aggregates were verified here first)",
                fatal=False,
            )
        )


def _committed_digests(federation: Federation) -> Iterator[tuple[str, bytes, bool]]:
    """Each committed digest with its label, and whether it is an individual update."""
    registry = federation.registry
    for task_id in federation.task_ids():
        params = registry.task(task_id).params
        yield f"task {task_id} manifest", params.model_spec_digest, False
        yield f"task {task_id} public context", params.public_context_digest, False
        yield f"task {task_id} initial model", params.initial_model_digest, False
        for number in range(1, registry.task(task_id).current_round + 1):
            where = f"task {task_id} round {number}"
            for commitment in registry.update_commitments(task_id, number):
                name = federation.name_of(commitment.participant) or commitment.participant
                yield f"{where} update of {name}", commitment.update_digest, True
            state = registry.round(task_id, number)
            if state.aggregate_digest is not None:
                yield f"{where} aggregate", state.aggregate_digest, False
            if state.model_digest is not None:
                yield f"{where} model", state.model_digest, False
