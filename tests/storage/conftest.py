"""Blob stores under test: fsspec's in-memory filesystem (fast) and a real S3 server (SeaweedFS,
one per test session, started only when an S3 test runs), each test under a prefix of its own."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from seaweedfs_server import S3Endpoint, seaweedfs_server

from fedchain_magics.storage.fsspec_store import FsspecBlobStore


@dataclass
class RemoteStore:
    """A store, and a second client on the same bucket to alter objects behind its back."""

    store: FsspecBlobStore
    direct: Any  # an fsspec filesystem of its own: reads and writes objects directly
    url: str
    storage_options: dict[str, Any]

    def object_path(self, digest: bytes) -> str:
        return f"{self.store.root}/{digest.hex()[:2]}/{digest.hex()}"


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[S3Endpoint]:
    with seaweedfs_server() as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def s3_direct(s3_endpoint: S3Endpoint) -> tuple[str, Any]:
    """One bucket for the session (SeaweedFS grows volumes for each new bucket, ~0.5 s) and a
    client of its own (a new S3 client costs ~0.2 s on its first call)."""
    import s3fs

    direct = s3fs.S3FileSystem(**s3_endpoint.storage_options(), skip_instance_cache=True)
    bucket = f"fedchain-{uuid.uuid4().hex[:12]}"
    direct.mkdir(bucket)
    return bucket, direct


def _s3_store(endpoint: S3Endpoint, bucket_and_direct: tuple[str, Any]) -> Iterator[RemoteStore]:
    bucket, direct = bucket_and_direct
    options = endpoint.storage_options()
    url = f"s3://{bucket}/{uuid.uuid4().hex[:12]}/blobs"  # a prefix of each test's own
    store = FsspecBlobStore(url, **options)
    yield RemoteStore(store, direct, url, options)
    if direct.exists(store.root):
        direct.rm(store.root, recursive=True)


def _memory_store() -> Iterator[RemoteStore]:
    import fsspec

    url = f"memory://fedchain-{uuid.uuid4().hex[:12]}/blobs"
    store = FsspecBlobStore(url)
    yield RemoteStore(store, fsspec.filesystem("memory"), url, {})
    if store.fs.exists(store.root):
        store.fs.rm(store.root, recursive=True)


@pytest.fixture(params=["memory", "s3"])
def remote(request: pytest.FixtureRequest) -> Iterator[RemoteStore]:
    """The same contract on both backends; SeaweedFS starts on the first S3 test."""
    if request.param == "memory":
        yield from _memory_store()
    else:
        yield from _s3_store(
            request.getfixturevalue("s3_endpoint"), request.getfixturevalue("s3_direct")
        )


@pytest.fixture
def s3_remote(s3_endpoint: S3Endpoint, s3_direct: tuple[str, Any]) -> Iterator[RemoteStore]:
    """An S3 store alone, for what only a real server shows (credentials, endpoints)."""
    yield from _s3_store(s3_endpoint, s3_direct)
