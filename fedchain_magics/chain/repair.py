"""Repairing a damaged journal: copy it aside first, then keep every intact block before the damage.

Nothing is deleted: the whole journal (and its commit record) is copied to
``chain.journal.damaged-<UTC time>`` before the intact prefix replaces it, so the frames set
aside (the damaged one and any intact ones after it) can still be examined or restored.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from .errors import ChainError, LedgerCorruptError
from .journal import (
    COMMIT_FILENAME,
    JOURNAL_FILENAME,
    CommitRecord,
    JournalReport,
    load_journal,
    resolve_ledger_dir,
    write_commit_record,
)
from .lock import LedgerLock


@dataclass(frozen=True)
class RepairResult:
    """What :func:`repair_journal` did; ``damaged_copy`` is ``None`` when nothing needed doing."""

    before: JournalReport
    damaged_copy: Path | None

    @property
    def repaired(self) -> bool:
        return self.damaged_copy is not None

    def summary(self) -> str:
        before = self.before
        if not self.repaired:
            torn = " (a torn tail, which the next open drops)" if before.torn_tail else ""
            return f"nothing to repair in {before.journal_path}{torn}"
        if before.block_number is None:
            kept = "no block was intact: the next open starts a new chain"
        else:
            kept = f"kept blocks 0-{before.block_number} (head {before.head_hash})"
        damage = before.damage
        where = (
            ""
            if damage is None or damage.offset_bytes is None
            else (f" from byte {damage.offset_bytes}")
        )
        later = before.later_intact_frames
        return (
            f"repaired {before.journal_path}: {kept}; set aside the damaged frame{where} "
            f"and {later} intact frame{'s' if later != 1 else ''} after it; "
            f"the whole journal is in {self.damaged_copy}"
        )


def repair_journal(path: Path | str) -> RepairResult:
    """Keep the intact prefix of a damaged journal, after copying the whole journal aside.

    Takes the directory's lock (so it refuses while a kernel has the ledger open) and checks the
    result by reading it back. A clean journal (or one with only a torn tail) is left as it is.
    """
    ledger_dir = resolve_ledger_dir(path)
    if not (ledger_dir / JOURNAL_FILENAME).exists():
        raise ChainError(f"there is no {JOURNAL_FILENAME} in {ledger_dir} to repair")
    lock = LedgerLock.acquire(ledger_dir)
    try:
        report, _ = load_journal(ledger_dir)
        if report.ok:
            return RepairResult(report, None)
        copy = _copy_aside(ledger_dir)
        journal_path = ledger_dir / JOURNAL_FILENAME
        if report.intact_frames == 0:
            journal_path.unlink(missing_ok=True)
            (ledger_dir / COMMIT_FILENAME).unlink(missing_ok=True)
        else:
            with open(journal_path, "rb") as journal:
                intact = journal.read(report.intact_bytes)
            _replace_durably(journal_path, intact)
            assert report.block_number is not None and report.head_hash is not None
            record = CommitRecord(
                report.intact_bytes, report.intact_frames, report.block_number, report.head_hash
            )
            write_commit_record(ledger_dir, record)
        _fsync_directory(ledger_dir)
        after, _ = load_journal(ledger_dir)
        if not after.ok:
            raise LedgerCorruptError(
                f"the repaired journal in {ledger_dir} still fails its checks "
                f"({after.damage.message if after.damage else '?'}); the original is in {copy}"
            )
        return RepairResult(report, copy)
    finally:
        lock.release()


def _copy_aside(ledger_dir: Path) -> Path:
    """Copy the journal (and its commit record) to a new ``.damaged-<time>`` name; fsync it."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    journal_path = ledger_dir / JOURNAL_FILENAME
    copy = journal_path.with_name(f"{JOURNAL_FILENAME}.damaged-{stamp}")
    serial = 1
    while copy.exists():
        serial += 1
        copy = journal_path.with_name(f"{JOURNAL_FILENAME}.damaged-{stamp}-{serial}")
    sources = [(journal_path, copy)]
    commit_path = ledger_dir / COMMIT_FILENAME
    if commit_path.exists():
        sources.append((commit_path, copy.with_name(copy.name + ".commit")))
    for source, target in sources:
        if source.exists():
            shutil.copy2(source, target)
            with open(target, "rb") as file:
                os.fsync(file.fileno())
    _fsync_directory(ledger_dir)
    return copy


def _replace_durably(path: Path, content: bytes) -> None:
    temporary = path.with_name(path.name + ".repair-tmp")
    with open(temporary, "wb") as file:
        file.write(content)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
