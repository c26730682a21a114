"""Content-addressed storage for ciphertexts, contexts and models."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .blobstore import (
    BlobIntegrityError,
    BlobNotFoundError,
    BlobPrunedError,
    BlobStore,
    BlobTooLargeError,
    LocalBlobStore,
    StorageError,
    digest_of,
)
from .http_store import HttpBlobStore


def open_blob_store(
    location: str | Path, *, token: str | None = None, **storage_options: Any
) -> BlobStore:
    """The blob store at ``location``.

    A folder (a path, or ``file://...``) is a :class:`LocalBlobStore`; ``http(s)://...`` is a
    served ledger's blob store (:class:`HttpBlobStore`, with ``token`` as its bearer token);
    any other URL (``s3://bucket/prefix``, ``memory://...``) goes to fsspec
    (``FsspecBlobStore``, given ``storage_options``). ``token`` matters only over HTTP.
    """
    if isinstance(location, Path):
        return LocalBlobStore(location)
    text = str(location)
    scheme, separator, rest = text.partition("://")
    if not separator:
        return LocalBlobStore(Path(text))
    scheme = scheme.lower()
    if scheme == "file":
        return LocalBlobStore(Path(rest))
    if scheme in ("http", "https"):
        return HttpBlobStore(text, token=token)
    from .fsspec_store import FsspecBlobStore  # fsspec is optional: imported only when asked

    return FsspecBlobStore(text, **storage_options)


__all__ = [
    "BlobIntegrityError",
    "BlobNotFoundError",
    "BlobPrunedError",
    "BlobStore",
    "BlobTooLargeError",
    "HttpBlobStore",
    "LocalBlobStore",
    "StorageError",
    "digest_of",
    "open_blob_store",
]
