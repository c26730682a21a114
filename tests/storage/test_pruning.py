"""A local store prunes blobs on purpose: recorded first, removed after, never lost unrecorded."""

from __future__ import annotations

import pytest

from fedchain_magics.storage import (
    BlobNotFoundError,
    BlobPrunedError,
    LocalBlobStore,
    digest_of,
)
from fedchain_magics.storage.blobstore import PRUNED_RECORD


def test_a_pruned_blob_is_recorded_then_removed(tmp_path):
    store = LocalBlobStore(tmp_path)
    kept, old = store.put(b"aggregate"), store.put(b"old update")
    assert store.size(old) == len(b"old update") and store.size(digest_of(b"none")) is None
    assert store.prune([old]) == len(b"old update")
    assert not store.has(old) and store.pruned(old)
    assert store.get(kept) == b"aggregate" and not store.pruned(kept)
    with pytest.raises(BlobPrunedError, match=r"pruned .* retention policy"):
        store.get(old)
    with pytest.raises(BlobNotFoundError, match="no blob"):  # never stored: not "pruned"
        store.get(digest_of(b"never stored"))
    assert (tmp_path / PRUNED_RECORD).read_text() == f"{old.hex()} {len(b'old update')}\n"
    assert store.pruned_size(old) == len(b"old update") and store.pruned_size(kept) is None


def test_pruning_twice_or_a_missing_blob_changes_nothing(tmp_path):
    store = LocalBlobStore(tmp_path)
    old = store.put(b"old update")
    store.prune([old, old])
    record = (tmp_path / PRUNED_RECORD).read_text()
    assert store.prune([old]) == 0
    assert store.prune([digest_of(b"never stored")]) == 0
    assert (tmp_path / PRUNED_RECORD).read_text() == record


def test_another_process_sees_the_record_and_a_torn_line_is_ignored(tmp_path):
    writer, reader = LocalBlobStore(tmp_path), LocalBlobStore(tmp_path)
    first, second = writer.put(b"one"), writer.put(b"two")
    assert not reader.pruned(first)
    writer.prune([first])
    assert reader.pruned(first)
    with open(tmp_path / PRUNED_RECORD, "a") as record:
        record.write(second.hex()[:20])  # a crash while appending: second is still on disk
    assert not reader.pruned(second) and reader.get(second) == b"two"
    writer.prune([second])  # the next prune records it on a line of its own
    assert LocalBlobStore(tmp_path).pruned(second) and not writer.has(second)
