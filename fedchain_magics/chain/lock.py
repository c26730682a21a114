"""One writer per ledger directory: an exclusive, non-blocking ``flock`` on ``ledger.lock``.

The lock is taken before the journal is read and held until the ledger is closed. The kernel
drops it when the process dies (or when the lock's file is garbage collected), so a killed
kernel never leaves a stale lock behind. The file itself stays; what it holds (pid, host, start
time of the holder) is only there to word the error the next opener sees.

A holder that serves the ledger over HTTP (:mod:`fedchain_magics.server`) also writes
``served.json`` (its endpoints and pid) and removes it when it stops; the error then names the
endpoint to connect to instead. A ``served.json`` left by a killed server is ignored, since its
pid no longer holds the lock.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from pathlib import Path
from typing import IO, Any

from .errors import LedgerLockedError

LOCK_FILENAME = "ledger.lock"
SERVED_FILENAME = "served.json"


class LedgerLock:
    """An exclusive lock on ``ledger_dir``; :meth:`acquire` it, :meth:`release` it when done."""

    def __init__(self, ledger_dir: Path, file: IO[str]) -> None:
        self.ledger_dir = ledger_dir
        self._file: IO[str] | None = file

    @classmethod
    def acquire(cls, ledger_dir: Path) -> LedgerLock:
        """Lock ``ledger_dir`` or raise :class:`LedgerLockedError` naming the holder."""
        path = Path(ledger_dir) / LOCK_FILENAME
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        file = os.fdopen(descriptor, "r+")
        try:
            fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            file.close()
            raise _locked_error(Path(ledger_dir), read_holder(ledger_dir)) from None
        except BaseException:
            file.close()
            raise
        holder = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started_at": time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime()),
        }
        file.seek(0)
        file.truncate()
        file.write(json.dumps(holder) + "\n")
        file.flush()
        return cls(Path(ledger_dir), file)

    @property
    def held(self) -> bool:
        return self._file is not None

    def release(self) -> None:
        """Give the directory back (idempotent). The holder's details stay until the next lock."""
        if self._file is not None:
            file, self._file = self._file, None
            fcntl.flock(file.fileno(), fcntl.LOCK_UN)
            file.close()


def read_holder(ledger_dir: Path) -> dict[str, Any] | None:
    """What the current (or last) holder wrote into the lock file, if it is readable."""
    try:
        holder = json.loads((Path(ledger_dir) / LOCK_FILENAME).read_text())
    except (OSError, ValueError):
        return None
    return holder if isinstance(holder, dict) else None


def is_locked(ledger_dir: Path) -> bool:
    """Whether some process holds ``ledger_dir`` right now (probing never takes the lock over)."""
    path = Path(ledger_dir) / LOCK_FILENAME
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(descriptor)  # closing drops the shared lock, if we got it
    return False


def describe_holder(holder: dict[str, Any] | None) -> str:
    """``pid 123 on host h since 2026-11-28 10:00:00 UTC``, or a fallback when unknown."""
    if holder is None:
        return "another process (it has not written its details yet)"
    this_process = holder.get("pid") == os.getpid() and holder.get("host") == socket.gethostname()
    where = "this process, " if this_process else ""
    return (
        f"{where}pid {holder.get('pid', '?')} on host {holder.get('host', '?')} "
        f"since {holder.get('started_at', '?')}"
    )


def write_served(ledger_dir: Path, *, url: str, blob_url: str | None) -> None:
    """Record that this process serves ``ledger_dir`` at ``url`` (atomically replaced)."""
    content = {
        "url": url,
        "blob_url": blob_url,
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started_at": time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime()),
    }
    path = Path(ledger_dir) / SERVED_FILENAME
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(content, indent=2) + "\n")
    os.replace(temporary, path)


def clear_served(ledger_dir: Path) -> None:
    """Remove ``served.json`` if this process wrote it."""
    served = read_served(ledger_dir)
    if served is not None and served.get("pid") == os.getpid():
        (Path(ledger_dir) / SERVED_FILENAME).unlink(missing_ok=True)


def read_served(ledger_dir: Path) -> dict[str, Any] | None:
    """What the serving process wrote into ``served.json``, if it is there and readable."""
    try:
        served = json.loads((Path(ledger_dir) / SERVED_FILENAME).read_text())
    except (OSError, ValueError):
        return None
    return served if isinstance(served, dict) and isinstance(served.get("url"), str) else None


def _locked_error(ledger_dir: Path, holder: dict[str, Any] | None) -> LedgerLockedError:
    served = read_served(ledger_dir)
    if served is not None and holder is not None and served.get("pid") == holder.get("pid"):
        url = served["url"]
        message = (
            f"the ledger in {ledger_dir} is in use by {describe_holder(holder)}, "
            f"and is served at {url}: connect to it with `%fedchain connect {url}` "
            f"(or Ledger.connect({url!r}))"
        )
    else:
        message = (
            f"the ledger in {ledger_dir} is in use by {describe_holder(holder)}; "
            "close it there (%fedchain stop, or Ledger.close()), or serve it there "
            "(`python -m fedchain_magics serve DIR`, or LedgerServer) and connect to the "
            "served endpoint"
        )
    return LedgerLockedError(
        message,
        ledger_dir=ledger_dir,
        holder_pid=None if holder is None else holder.get("pid"),
        holder_host=None if holder is None else holder.get("host"),
    )
