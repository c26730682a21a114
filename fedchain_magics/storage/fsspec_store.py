"""A blob store on any fsspec filesystem: S3 (through s3fs) is the target, ``memory://`` tests it.

Blobs are objects ``<url>/<first two hex digits>/<hex digest>``. Each is written in one call
(on S3 a single PutObject up to 100 MiB, a multipart upload beyond: neither is visible before it
is complete), its size is read from the object's metadata before its bytes, and every read is
re-hashed. fsspec and s3fs are optional: ``pip install 'fedchain-magics[s3]'``.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from .blobstore import (
    BlobIntegrityError,
    BlobNotFoundError,
    BlobStore,
    BlobTooLargeError,
    StorageError,
    digest_of,
)

INSTALL_HINT = "pip install 'fedchain-magics[s3]'"


class FsspecBlobStore(BlobStore):
    """Content-addressed blobs under an fsspec URL such as ``s3://bucket/prefix``.

    ``storage_options`` go to the filesystem unchanged: for S3, ``key``, ``secret``,
    ``endpoint_url`` (or ``client_kwargs={"endpoint_url": ...}``), ``config_kwargs``. Nothing is
    contacted until the first call; the credentials are never shown in ``repr`` or errors.
    """

    def __init__(self, url: str, **storage_options: Any) -> None:
        fsspec_core = _import_or_explain("fsspec.core", url)
        try:
            filesystem, root = fsspec_core.url_to_fs(url, **storage_options)
        except ImportError as error:  # fsspec knows the protocol, its package is missing
            raise StorageError(
                f"the blob store {url} needs a package that is not installed ({error}); "
                f"for S3 run: {INSTALL_HINT}"
            ) from None
        except ValueError as error:
            raise StorageError(
                f"cannot open the blob store {url}: {_one_line(error)}; "
                "use a URL like s3://my-bucket/fedchain-blobs"
            ) from None
        root = root.rstrip("/")
        if not root.strip("/"):
            raise StorageError(
                f"the blob store {url} names no bucket or folder; "
                "give one, e.g. s3://my-bucket/fedchain-blobs"
            )
        self.url = url
        self.fs = filesystem
        self.root = root

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r})"

    def put(self, blob: bytes) -> bytes:
        digest = digest_of(blob)
        path = self._path(digest)
        if self._size(path, action="look up a blob in") == len(blob):
            return digest  # the same bytes are there (a different size is repaired below)
        with self._remote_errors("write a blob to"):
            try:
                self.fs.pipe_file(path, bytes(blob))
            except FileNotFoundError as error:  # S3: NoSuchBucket
                raise StorageError(
                    f"cannot write to the blob store {self.url}: {_one_line(error)}; "
                    "create the bucket first or fix the URL"
                ) from None
        return digest

    def get(self, digest: bytes, *, max_bytes: int | None = None) -> bytes:
        path = self._path(digest)
        size = self._size(path, action="read a blob from")
        if size is None:
            raise BlobNotFoundError(
                f"no blob 0x{digest.hex()} at {self._where(path)}; the party that committed it "
                "must write it to this store (or copy the object here)"
            )
        if max_bytes is not None and size > max_bytes:
            raise BlobTooLargeError(self._too_large(digest, size, max_bytes))
        # Never more than max_bytes + 1, even if the object grew since its size was read.
        end = None if max_bytes is None else max_bytes + 1
        with self._remote_errors("read a blob from"):
            try:
                blob = self.fs.cat_file(path, start=None if end is None else 0, end=end)
            except FileNotFoundError:
                raise BlobNotFoundError(
                    f"blob 0x{digest.hex()} vanished from {self._where(path)} while it was "
                    "read; check whether another process deletes blobs from this store"
                ) from None
        if max_bytes is not None and len(blob) > max_bytes:  # it grew after its size was read
            raise BlobTooLargeError(self._too_large(digest, len(blob), max_bytes, at_least=True))
        actual = digest_of(blob)
        if actual != digest:
            raise BlobIntegrityError(
                f"blob 0x{digest.hex()} at {self._where(path)} was altered (its sha256 is now "
                f"0x{actual.hex()}); refusing it: fetch it again from the party that committed it"
            )
        return bytes(blob)

    def has(self, digest: bytes) -> bool:
        return self._size(self._path(digest), action="look up a blob in") is not None

    def delete(self, digest: bytes) -> None:
        path = self._path(digest)
        with self._remote_errors("delete a blob from"), suppress(FileNotFoundError):
            self.fs.rm_file(path)

    def _path(self, digest: bytes) -> str:
        if len(digest) != 32:
            raise StorageError(f"a blob digest is 32 bytes, got {len(digest)}")
        text = digest.hex()
        return f"{self.root}/{text[:2]}/{text}"

    def _size(self, path: str, *, action: str) -> int | None:
        """The object's size from its metadata, or None when there is none (nothing is read)."""
        with self._remote_errors(action):
            try:
                info = self.fs.info(path)
            except FileNotFoundError:
                return None
        if info.get("type", "file") != "file" or info.get("size") is None:
            return None
        return int(info["size"])

    def _where(self, path: str) -> str:
        return str(self.fs.unstrip_protocol(path))

    def _too_large(self, digest: bytes, size: int, max_bytes: int, at_least: bool = False) -> str:
        return (
            f"blob 0x{digest.hex()} in {self.url} is {'at least ' if at_least else ''}{size:,} "
            f"bytes, more than the {max_bytes:,} it may be; refusing to read it"
        )

    @contextmanager
    def _remote_errors(self, action: str) -> Iterator[None]:
        """Credential, endpoint and connection failures become one actionable StorageError."""
        try:
            yield
        except (StorageError, FileNotFoundError):
            raise
        except PermissionError as error:
            raise StorageError(
                f"the blob store at {self.url} refused to let us {action} it: "
                f"{_one_line(error)}; check the credentials (key and secret) and the bucket's "
                "permissions"
            ) from error
        except _remote_failures() as error:
            raise StorageError(
                f"cannot reach the blob store at {self.url} to {action} it: "
                f"{_one_line(error)}; check the endpoint URL and credentials"
            ) from error


def _import_or_explain(module: str, url: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError:
        raise StorageError(
            f"the blob store {url} needs fsspec and s3fs, which are not installed: {INSTALL_HINT}"
        ) from None


def _remote_failures() -> tuple[type[BaseException], ...]:
    """OSError (fsspec and s3fs translate most S3 errors into it) and the client libraries'
    own bases for errors they raise untranslated (no credentials, endpoint unreachable)."""
    failures: list[type[BaseException]] = [OSError]
    for module, name in (("botocore.exceptions", "BotoCoreError"), ("aiohttp", "ClientError")):
        try:
            failures.append(getattr(importlib.import_module(module), name))
        except (ImportError, AttributeError):
            continue
    return tuple(failures)


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= 300 else text[:297] + "..."
