"""A content-addressed blob store: the sha256 digest committed on-chain is the key.

Every read recomputes the digest, so a blob altered at rest or in transit is refused rather
than decrypted or loaded. :class:`LocalBlobStore` keeps blobs in a directory; a remote store
(S3 through fsspec, say) implements the same three methods.

A local store can also *prune* blobs (:meth:`LocalBlobStore.prune`, used by the workspace's
retention policy): each digest is first appended to the store's record of pruned blobs
(``pruned.log``, fsync'ed), then its file is removed. So a blob is never gone without a record
saying it was pruned on purpose, whatever point a crash interrupts, and a later read of it
raises :class:`BlobPrunedError` (a kind of :class:`BlobNotFoundError`) rather than looking lost.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterable
from pathlib import Path


class StorageError(Exception):
    """Base class for blob store errors."""


class BlobNotFoundError(StorageError):
    """No blob is stored under the digest."""


class BlobPrunedError(BlobNotFoundError):
    """The blob was removed on purpose under the workspace's retention policy (``gc``)."""


class BlobIntegrityError(StorageError):
    """A stored blob no longer matches its digest."""


class BlobTooLargeError(StorageError):
    """A stored blob is larger than the reader allows (refused before it is read)."""


def digest_of(blob: bytes) -> bytes:
    """The 32-byte sha256 digest that addresses ``blob`` (and fits a ``bytes32``)."""
    return hashlib.sha256(blob).digest()


class BlobStore(ABC):
    """Put bytes, get them back by digest, verified."""

    @abstractmethod
    def put(self, blob: bytes) -> bytes:
        """Store ``blob``; return its digest. Storing the same bytes twice is a no-op."""

    @abstractmethod
    def get(self, digest: bytes, *, max_bytes: int | None = None) -> bytes:
        """Return the blob whose sha256 is ``digest``; raise if missing, tampered with, or
        (checked before reading it) larger than ``max_bytes``."""

    @abstractmethod
    def has(self, digest: bytes) -> bool:
        """Whether a blob is stored under ``digest``."""

    @abstractmethod
    def delete(self, digest: bytes) -> None:
        """Forget a blob (used to undo a write whose on-chain commitment failed)."""

    def pruned(self, digest: bytes) -> bool:
        """Whether the blob was pruned on purpose (only a local store prunes: see
        :meth:`LocalBlobStore.prune`)."""
        return False


PRUNED_RECORD = "pruned.log"
"""The local store's record of pruned blobs: one line each (64 hex digits, a space, the
size), appended."""


class LocalBlobStore(BlobStore):
    """Blobs as files ``<root>/<first two hex digits>/<hex digest>``, written atomically."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self._pruned: dict[bytes, int | None] = {}
        self._pruned_stamp: tuple[int, int] | None = None

    def put(self, blob: bytes) -> bytes:
        digest = digest_of(blob)
        path = self._path(digest)
        if path.exists():
            return digest
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".partial-")
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(blob)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return digest

    def get(self, digest: bytes, *, max_bytes: int | None = None) -> bytes:
        path = self._path(digest)
        try:
            if max_bytes is not None and (size := path.stat().st_size) > max_bytes:
                raise BlobTooLargeError(
                    f"blob 0x{digest.hex()} in {self.root} is {size:,} bytes, more than the "
                    f"{max_bytes:,} it may be; refusing to read it"
                )
            blob = path.read_bytes()
        except FileNotFoundError:
            if self.pruned(digest):
                raise BlobPrunedError(
                    f"blob 0x{digest.hex()} was pruned from {self.root} under the workspace's "
                    "retention policy (python -m fedchain_magics gc); a store that kept it "
                    "still has it"
                ) from None
            raise BlobNotFoundError(
                f"no blob 0x{digest.hex()} in {self.root}; the party that committed it must "
                "share its blob store (or copy the file into it)"
            ) from None
        actual = digest_of(blob)
        if actual != digest:
            raise BlobIntegrityError(
                f"blob 0x{digest.hex()} in {self.root} was altered (its sha256 is now "
                f"0x{actual.hex()}); refusing it: fetch it again from the party that committed it"
            )
        return blob

    def has(self, digest: bytes) -> bool:
        return self._path(digest).exists()

    def delete(self, digest: bytes) -> None:
        path = self._path(digest)
        path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):  # keep the fan-out folder if other blobs share it
            path.parent.rmdir()

    def size(self, digest: bytes) -> int | None:
        """The blob's size in bytes, or None when it is not stored (nothing is read)."""
        try:
            return self._path(digest).stat().st_size
        except FileNotFoundError:
            return None

    def pruned_size(self, digest: bytes) -> int | None:
        """The size a pruned blob had, as recorded when it was pruned (None if it was not)."""
        return self._pruned.get(digest) if self.pruned(digest) else None

    def prune(self, digests: Iterable[bytes]) -> int:
        """Remove these blobs on purpose; return the bytes freed.

        Every digest is first appended to the record of pruned blobs (fsync'ed); only then are
        the files removed, one by one. A crash part-way leaves some recorded blobs still on
        disk (readable, and removed by the next prune): never a blob gone without its record.
        Pruning a blob already gone, or twice, changes nothing.
        """
        wanted = [digest for digest in dict.fromkeys(digests) if self._path(digest).exists()]
        fresh = {digest: self.size(digest) for digest in wanted if not self.pruned(digest)}
        if fresh:
            self.root.mkdir(parents=True, exist_ok=True)
            lines = "".join(f"{digest.hex()} {size}\n" for digest, size in fresh.items())
            with open(self.root / PRUNED_RECORD, "a+b") as record:
                if record.seek(0, os.SEEK_END):
                    record.seek(-1, os.SEEK_END)
                    if record.read(1) != b"\n":  # a line a crash tore: start a fresh one
                        lines = "\n" + lines
                record.write(lines.encode("ascii"))
                record.flush()
                os.fsync(record.fileno())
            self._pruned.update(fresh)
        freed = 0
        for digest in wanted:
            freed += self.size(digest) or 0
            self.delete(digest)
        return freed

    def pruned(self, digest: bytes) -> bool:
        record = self.root / PRUNED_RECORD
        try:
            status = record.stat()
        except FileNotFoundError:
            return digest in self._pruned
        stamp = (status.st_size, status.st_mtime_ns)
        if stamp != self._pruned_stamp:  # another process (a gc command) may have pruned
            self._pruned = _read_pruned_record(record)
            self._pruned_stamp = stamp
        return digest in self._pruned

    def _path(self, digest: bytes) -> Path:
        if len(digest) != 32:
            raise StorageError(f"a blob digest is 32 bytes, got {len(digest)}")
        text = digest.hex()
        return self.root / text[:2] / text


def _read_pruned_record(path: Path) -> dict[bytes, int | None]:
    """The digests a pruned-blob record names, with the size each blob had (a line is the
    digest's 64 hex digits, then its size); a line torn by a crash (never acted on: the files
    are removed only after the record is on disk) is skipped."""
    pruned: dict[bytes, int | None] = {}
    for line in path.read_text(encoding="ascii", errors="replace").splitlines():
        text, _, size = line.strip().partition(" ")
        if len(text) == 64:
            try:
                pruned[bytes.fromhex(text)] = int(size) if size.isdigit() else None
            except ValueError:
                continue
    return pruned
