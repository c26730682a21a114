"""The blob routes of a served ledger: ``GET``/``HEAD``/``PUT /blobs/<64 hex digest>``.

Over a :class:`~fedchain_magics.storage.LocalBlobStore` root. ``PUT`` stores the body only if
its sha256 is the digest in the path (400 otherwise, nothing stored) and refuses a body over the
size limit from its ``Content-Length``, before reading it (413). ``GET`` re-hashes the stored
file before sending it (409 with the reason if it was altered on disk); ``HEAD`` says whether
the blob is stored. ``DELETE`` is refused (405): a shared store keeps what was committed.
The HTTP handling (auth, reading the body) is the server's; these functions only decide.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field

from ..storage import BlobIntegrityError, BlobNotFoundError, LocalBlobStore

BLOB_PATH = re.compile(r"/blobs/([0-9a-f]{64})")
DEFAULT_MAX_BLOB_BYTES = 256 * 2**20
"""The largest blob a ``PUT`` may store (256 MiB)."""


@dataclass(frozen=True)
class BlobReply:
    """What to answer: a status, a body and extra headers."""

    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


def error_reply(status: int, message: str, **headers: str) -> BlobReply:
    body = (json.dumps({"error": message}) + "\n").encode()
    return BlobReply(status, body, headers=headers)


def digest_in(path: str) -> bytes | None:
    """The 32-byte digest a ``/blobs/<hex>`` path names, or None for another path."""
    match = BLOB_PATH.fullmatch(path.split("?", 1)[0])
    return bytes.fromhex(match.group(1)) if match else None


class BlobRoutes:
    """Decides the answer to each blob request over ``store``."""

    def __init__(self, store: LocalBlobStore, *, max_blob_bytes: int = DEFAULT_MAX_BLOB_BYTES):
        self.store = store
        self.max_blob_bytes = max_blob_bytes

    def get(self, digest: bytes) -> BlobReply:
        try:
            blob = self.store.get(digest)  # re-hashes before anything is sent
        except BlobNotFoundError:
            return error_reply(404, f"no blob 0x{digest.hex()} in this store")
        except BlobIntegrityError as error:
            return error_reply(409, f"the stored blob was altered: {error}")
        return BlobReply(200, blob, "application/octet-stream")

    def head(self, digest: bytes) -> BlobReply:
        if self.store.has(digest):
            return BlobReply(200, content_type="application/octet-stream")
        return BlobReply(404)

    def check_put(self, content_length: int) -> BlobReply | None:
        """A refusal from the announced size alone, or None to go on and read the body."""
        if content_length > self.max_blob_bytes:
            return error_reply(
                413,
                f"a blob of {content_length:,} bytes is more than the {self.max_blob_bytes:,} "
                "this store takes",
            )
        return None

    def put(self, digest: bytes, body: bytes) -> BlobReply:
        actual = hashlib.sha256(body).digest()
        if actual != digest:
            return error_reply(
                400,
                f"the body's sha256 is 0x{actual.hex()}, not the 0x{digest.hex()} of the path; "
                "nothing was stored",
            )
        existed = self.store.has(digest)
        self.store.put(body)
        status = 200 if existed else 201
        stored = {"digest": "0x" + digest.hex(), "size": len(body)}
        return BlobReply(status, (json.dumps(stored) + "\n").encode())

    @staticmethod
    def delete() -> BlobReply:
        return error_reply(
            405, "blobs are kept: a served store deletes nothing", Allow="GET, HEAD, PUT"
        )
