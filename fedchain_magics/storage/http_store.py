"""A blob store over HTTP: a served ledger's ``/blobs/`` (see :mod:`fedchain_magics.server`).

``PUT``, ``GET`` and ``HEAD`` on ``<url><64 hex digest>``, with an optional bearer token. Every
read is re-hashed here too, so a blob altered at rest or in transit is refused. A size limit is
checked from ``Content-Length`` before the body is read, and the body is read with a cap, so a
server that lies about the length cannot make the reader hold more than it allowed.
:meth:`HttpBlobStore.delete` does nothing: the shared store keeps what was written (an
unreferenced blob is harmless: nothing on the chain points at it).
"""

from __future__ import annotations

import hashlib
from typing import Any, NoReturn

import requests

from .blobstore import (
    BlobIntegrityError,
    BlobNotFoundError,
    BlobStore,
    BlobTooLargeError,
    StorageError,
    digest_of,
)

CHUNK_BYTES = 2**20
DEFAULT_TIMEOUT_S = 60.0


class HttpBlobStore(BlobStore):
    """Content-addressed blobs at ``url`` (e.g. ``http://127.0.0.1:8545/blobs/``)."""

    def __init__(
        self, url: str, token: str | None = None, *, timeout_s: float = DEFAULT_TIMEOUT_S
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise StorageError(f"an HTTP blob store needs an http(s):// URL, got {url!r}")
        self.url = url if url.endswith("/") else url + "/"
        self.timeout_s = timeout_s
        self._session = requests.Session()
        if token is not None:
            self._session.headers["Authorization"] = f"Bearer {token}"

    def __repr__(self) -> str:  # never shows the token
        return f"{type(self).__name__}({self.url!r})"

    def put(self, blob: bytes) -> bytes:
        digest = digest_of(blob)
        response = self._request("PUT", digest, data=blob)
        with response:
            if response.status_code in (200, 201):
                return digest
            if response.status_code == 413:
                raise BlobTooLargeError(
                    f"the blob store at {self.url} refused a blob of {len(blob):,} bytes as too "
                    f"large: {_reason(response)}"
                )
            if response.status_code == 400:
                raise BlobIntegrityError(
                    f"the blob store at {self.url} received other bytes than were sent "
                    f"({_reason(response)}); nothing was stored"
                )
            self._fail(response, f"store blob 0x{digest.hex()}")

    def get(self, digest: bytes, *, max_bytes: int | None = None) -> bytes:
        response = self._request("GET", digest, stream=True)
        with response:
            if response.status_code == 404:
                raise BlobNotFoundError(
                    f"no blob 0x{digest.hex()} at {self.url}; the party that committed it must "
                    "put it there"
                )
            if response.status_code == 409:
                raise BlobIntegrityError(
                    f"blob 0x{digest.hex()} at {self.url} was altered: {_reason(response)}"
                )
            if response.status_code != 200:
                self._fail(response, f"read blob 0x{digest.hex()}")
            announced = _content_length(response)
            if max_bytes is not None and announced is not None and announced > max_bytes:
                raise BlobTooLargeError(self._too_large(digest, announced, max_bytes))
            blob = self._read_capped(response, digest, max_bytes)
        if announced is not None and len(blob) != announced:
            raise StorageError(
                f"blob 0x{digest.hex()} from {self.url} arrived cut short ({len(blob):,} of "
                f"{announced:,} bytes); try again"
            )
        actual = hashlib.sha256(blob).digest()
        if actual != digest:
            raise BlobIntegrityError(
                f"blob 0x{digest.hex()} from {self.url} was altered at rest or in transit (its "
                f"sha256 is 0x{actual.hex()}); refusing it"
            )
        return blob

    def has(self, digest: bytes) -> bool:
        response = self._request("HEAD", digest)
        with response:
            if response.status_code == 200:
                return True
            if response.status_code == 404:
                return False
            self._fail(response, f"look up blob 0x{digest.hex()}")

    def delete(self, digest: bytes) -> None:
        """Nothing: the shared store keeps every blob written to it (the server refuses
        ``DELETE``), and a blob no commitment points at is harmless."""
        _check_digest(digest)

    # -- transport -----------------------------------------------------------------------------

    def _request(self, method: str, digest: bytes, **kwargs: Any) -> requests.Response:
        _check_digest(digest)
        try:
            return self._session.request(
                method, self.url + digest.hex(), timeout=self.timeout_s, **kwargs
            )
        except requests.RequestException as error:
            raise StorageError(
                f"the blob store at {self.url} did not answer ({type(error).__name__}); "
                "is the ledger still served there?"
            ) from None

    def _read_capped(
        self, response: requests.Response, digest: bytes, max_bytes: int | None
    ) -> bytes:
        chunks: list[bytes] = []
        received = 0
        for chunk in response.iter_content(chunk_size=CHUNK_BYTES):
            received += len(chunk)
            if max_bytes is not None and received > max_bytes:
                raise BlobTooLargeError(self._too_large(digest, received, max_bytes))
            chunks.append(chunk)
        return b"".join(chunks)

    def _too_large(self, digest: bytes, size: int, max_bytes: int) -> str:
        return (
            f"blob 0x{digest.hex()} at {self.url} is {size:,} bytes or more, more than the "
            f"{max_bytes:,} it may be; refusing to read it"
        )

    def _fail(self, response: requests.Response, action: str) -> NoReturn:
        if response.status_code == 401:
            raise StorageError(
                f"the blob store at {self.url} refused to {action} (401): it needs its token; "
                "pass token=..."
            )
        raise StorageError(
            f"the blob store at {self.url} could not {action} "
            f"(HTTP {response.status_code}: {_reason(response)})"
        )


def _check_digest(digest: bytes) -> None:
    if len(digest) != 32:
        raise StorageError(f"a blob digest is 32 bytes, got {len(digest)}")


def _content_length(response: requests.Response) -> int | None:
    try:
        return int(response.headers["Content-Length"])
    except (KeyError, ValueError):
        return None


def _reason(response: requests.Response) -> str:
    """The server's one-line reason (``{"error": ...}``), or the HTTP reason phrase."""
    try:
        return str(response.json()["error"])
    except Exception:
        return response.reason or "no reason given"
