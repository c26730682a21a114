"""FsspecBlobStore keeps LocalBlobStore's contract on fsspec's memory filesystem and on a real S3
server (SeaweedFS on loopback), and words what only a remote store can get wrong."""

from __future__ import annotations

import importlib
import os
import sys
import tracemalloc

import pytest
from seaweedfs_server import S3Endpoint

from fedchain_magics.storage import (
    BlobIntegrityError,
    BlobNotFoundError,
    BlobTooLargeError,
    StorageError,
    digest_of,
)
from fedchain_magics.storage.fsspec_store import FsspecBlobStore

MiB = 2**20


def _one_line(error: pytest.ExceptionInfo[BaseException]) -> str:
    text = str(error.value)
    assert "\n" not in text
    return text


# The contract, on both backends


def test_a_multi_mib_blob_comes_back_exactly_under_its_sha256(remote):
    blob = os.urandom(5 * MiB + 7)
    digest = remote.store.put(blob)
    assert digest == digest_of(blob)
    assert remote.store.has(digest)
    assert remote.direct.size(remote.object_path(digest)) == len(blob)  # <prefix>/ab/abcd...
    assert remote.store.get(digest) == blob


def test_storing_the_same_bytes_twice_writes_one_object_once(remote, monkeypatch):
    digest = remote.store.put(b"x" * 1000)
    writes = []
    original = remote.store.fs.pipe_file
    monkeypatch.setattr(
        remote.store.fs, "pipe_file", lambda *a, **k: writes.append(a) or original(*a, **k)
    )
    assert remote.store.put(b"x" * 1000) == digest
    assert writes == []
    assert remote.direct.find(remote.store.root) == [remote.object_path(digest)]


def test_a_missing_blob_says_where_it_looked_and_what_to_do(remote):
    digest = digest_of(b"never stored")
    with pytest.raises(BlobNotFoundError) as refused:
        remote.store.get(digest)
    message = _one_line(refused)
    assert f"no blob 0x{digest.hex()} at " in message
    assert remote.object_path(digest) in message
    assert "must write it to this store" in message
    assert not remote.store.has(digest)


def test_a_blob_altered_in_the_bucket_is_refused_on_read(remote):
    digest = remote.store.put(b"honest update")
    remote.direct.pipe_file(remote.object_path(digest), b"forged update")
    with pytest.raises(BlobIntegrityError) as refused:
        remote.store.get(digest)
    message = _one_line(refused)
    assert f"blob 0x{digest.hex()} at " in message
    assert f"was altered (its sha256 is now 0x{digest_of(b'forged update').hex()})" in message


def test_putting_a_blob_again_repairs_a_truncated_object(remote):
    digest = remote.store.put(b"a whole update")
    remote.direct.pipe_file(remote.object_path(digest), b"a whole")
    remote.store.put(b"a whole update")
    assert remote.store.get(digest) == b"a whole update"


def test_a_large_object_is_refused_from_its_metadata_without_reading_it(remote, monkeypatch):
    digest = remote.store.put(bytes(64 * MiB))
    reads = []
    monkeypatch.setattr(remote.store.fs, "cat_file", lambda *a, **k: reads.append(a))
    monkeypatch.setattr(remote.store.fs, "open", lambda *a, **k: reads.append(a))
    tracemalloc.start()
    try:
        with pytest.raises(BlobTooLargeError) as refused:
            remote.store.get(digest, max_bytes=MiB)
        _, peak_bytes = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "67,108,864 bytes, more than the 1,048,576 it may be" in _one_line(refused)
    assert reads == []
    assert peak_bytes < MiB  # a HEAD request's worth (~0.3 MiB on S3), not 64 MiB, nor even 1


def test_a_read_never_takes_more_than_max_bytes_plus_one(remote, monkeypatch):
    """Even when the object grows between the size check and the read."""
    digest = remote.store.put(b"small")
    remote.direct.pipe_file(remote.object_path(digest), bytes(3 * MiB))
    sizes = iter([5])  # what the metadata said before the object was replaced
    monkeypatch.setattr(remote.store, "_size", lambda path, action: next(sizes))
    with pytest.raises(BlobTooLargeError, match="1,000,001 bytes, more than the 1,000,000"):
        remote.store.get(digest, max_bytes=1_000_000)


def test_a_blob_exactly_max_bytes_long_is_read(remote):
    digest = remote.store.put(b"y" * 4096)
    assert remote.store.get(digest, max_bytes=4096) == b"y" * 4096


def test_delete_forgets_a_blob_and_is_quiet_when_it_is_gone(remote):
    digest = remote.store.put(b"to undo")
    remote.store.delete(digest)
    assert not remote.store.has(digest)
    remote.store.delete(digest)


def test_a_digest_of_the_wrong_size_is_refused(remote):
    with pytest.raises(StorageError, match="32 bytes"):
        remote.store.get(b"short")


# What only a remote store can get wrong


def test_an_unreachable_endpoint_is_one_line_naming_the_store(s3_endpoint: S3Endpoint):
    closed_port = s3_endpoint.storage_options(
        client_kwargs={"endpoint_url": "http://127.0.0.1:9"},
        config_kwargs={"retries": {"max_attempts": 1}, "connect_timeout": 2},
    )
    store = FsspecBlobStore("s3://fedchain-nowhere/blobs", **closed_port)
    with pytest.raises(StorageError) as refused:
        store.get(digest_of(b"anything"))
    message = _one_line(refused)
    assert message.startswith("cannot reach the blob store at s3://fedchain-nowhere/blobs to read")
    assert "http://127.0.0.1:9" in message
    assert message.endswith("check the endpoint URL and credentials")


def test_a_wrong_secret_is_refused_naming_the_credentials(s3_remote):
    digest = s3_remote.store.put(b"kept")
    wrong = FsspecBlobStore(s3_remote.url, **{**s3_remote.storage_options, "secret": "wrong"})
    for attempt in (
        lambda: wrong.get(digest),
        lambda: wrong.put(b"new"),
        lambda: wrong.has(digest),
    ):
        with pytest.raises(StorageError) as refused:
            attempt()
        message = _one_line(refused)
        assert f"the blob store at {s3_remote.url} refused" in message
        assert "check the credentials (key and secret)" in message
        assert "wrong" not in message  # the secret is never echoed
    assert "secret" not in repr(wrong)


def test_writing_to_a_missing_bucket_says_to_create_it(s3_remote):
    store = FsspecBlobStore("s3://fedchain-no-such-bucket/blobs", **s3_remote.storage_options)
    with pytest.raises(StorageError, match="create the bucket first or fix the URL"):
        store.put(b"orphan")


def test_a_url_without_a_bucket_is_refused_before_any_request():
    with pytest.raises(StorageError, match="names no bucket or folder"):
        FsspecBlobStore("s3://", key="k", secret="s")


def test_an_unknown_protocol_is_refused_with_an_example_url():
    with pytest.raises(StorageError, match="use a URL like s3://my-bucket/fedchain-blobs"):
        FsspecBlobStore("s4://bucket/blobs")


def test_without_s3fs_the_error_is_the_install_line(monkeypatch):
    registry = importlib.import_module("fsspec.registry")  # `fsspec.registry` is its mapping
    monkeypatch.delitem(registry._registry, "s3", raising=False)
    monkeypatch.setitem(sys.modules, "s3fs", None)
    with pytest.raises(StorageError, match=r"pip install 'fedchain-magics\[s3\]'") as refused:
        FsspecBlobStore("s3://bucket/blobs")
    _one_line(refused)


def test_without_fsspec_the_error_is_the_install_line(monkeypatch):
    monkeypatch.setitem(sys.modules, "fsspec.core", None)
    with pytest.raises(StorageError, match=r"pip install 'fedchain-magics\[s3\]'"):
        FsspecBlobStore("s3://bucket/blobs")
