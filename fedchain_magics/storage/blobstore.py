"""A content-addressed blob store: the sha256 digest committed on-chain is the key.

Every read recomputes the digest, so a blob altered at rest or in transit is refused rather
than decrypted or loaded. :class:`LocalBlobStore` keeps blobs in a directory; a remote store
(S3 through fsspec, say) implements the same three methods.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from abc import ABC, abstractmethod
from pathlib import Path


class StorageError(Exception):
    """Base class for blob store errors."""


class BlobNotFoundError(StorageError):
    """No blob is stored under the digest."""


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


class LocalBlobStore(BlobStore):
    """Blobs as files ``<root>/<first two hex digits>/<hex digest>``, written atomically."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

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

    def _path(self, digest: bytes) -> Path:
        if len(digest) != 32:
            raise StorageError(f"a blob digest is 32 bytes, got {len(digest)}")
        text = digest.hex()
        return self.root / text[:2] / text
