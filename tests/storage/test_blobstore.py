from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fedchain_magics.storage import (
    BlobIntegrityError,
    BlobNotFoundError,
    BlobTooLargeError,
    LocalBlobStore,
    StorageError,
    digest_of,
)


def test_put_returns_the_sha256_and_get_verifies_it(tmp_path):
    store = LocalBlobStore(tmp_path)
    digest = store.put(b"ciphertext bytes")
    assert digest == digest_of(b"ciphertext bytes")
    assert store.has(digest)
    assert store.get(digest) == b"ciphertext bytes"


def test_storing_the_same_bytes_twice_keeps_one_file(tmp_path):
    store = LocalBlobStore(tmp_path)
    assert store.put(b"x") == store.put(b"x")
    assert len([p for p in tmp_path.rglob("*") if p.is_file()]) == 1


def test_a_tampered_blob_is_refused(tmp_path):
    store = LocalBlobStore(tmp_path)
    digest = store.put(b"honest update")
    path = tmp_path / digest.hex()[:2] / digest.hex()
    path.write_bytes(b"forged update")
    with pytest.raises(BlobIntegrityError, match="was altered"):
        store.get(digest)


def test_a_missing_blob_says_who_has_it(tmp_path):
    store = LocalBlobStore(tmp_path)
    with pytest.raises(BlobNotFoundError, match="no blob 0x"):
        store.get(digest_of(b"never stored"))


def test_a_digest_of_the_wrong_size_is_refused(tmp_path):
    with pytest.raises(StorageError, match="32 bytes"):
        LocalBlobStore(tmp_path).get(b"short")


def test_delete_forgets_a_blob(tmp_path):
    store = LocalBlobStore(tmp_path)
    digest = store.put(b"to undo")
    store.delete(digest)
    assert not store.has(digest)


def test_no_partial_files_are_left_behind(tmp_path):
    store = LocalBlobStore(tmp_path)
    store.put(b"a" * 100_000)
    assert not [p for p in tmp_path.rglob(".partial-*")]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.binary(max_size=200), max_size=10))
def test_every_blob_comes_back_exactly(tmp_path_factory, blobs):
    store = LocalBlobStore(tmp_path_factory.mktemp("blobs"))
    digests = [store.put(blob) for blob in blobs]
    assert [store.get(digest) for digest in digests] == blobs


def test_a_blob_larger_than_allowed_is_refused_before_it_is_read(tmp_path, monkeypatch):
    store = LocalBlobStore(tmp_path)
    digest = store.put(b"x" * 1000)
    read = []
    original = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: read.append(self) or original(self))
    with pytest.raises(BlobTooLargeError, match="1,000 bytes, more than the 999"):
        store.get(digest, max_bytes=999)
    assert read == []
    assert store.get(digest, max_bytes=1000) == b"x" * 1000
