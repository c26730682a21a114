"""Content-addressed storage for ciphertexts, contexts and models."""

from .blobstore import (
    BlobIntegrityError,
    BlobNotFoundError,
    BlobStore,
    BlobTooLargeError,
    LocalBlobStore,
    StorageError,
    digest_of,
)

__all__ = [
    "BlobIntegrityError",
    "BlobNotFoundError",
    "BlobStore",
    "BlobTooLargeError",
    "LocalBlobStore",
    "StorageError",
    "digest_of",
]
