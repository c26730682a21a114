"""The blob container: header fields, and no corruption slips through as a wrong value."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from crypto_helpers import Keys
from hypothesis import given, settings
from hypothesis import strategies as st

from fedchain_magics.crypto import CorruptCiphertextError, read_blob_header
from fedchain_magics.crypto._container import BLOB_MAGIC, FORMAT_VERSION


def test_header_describes_the_blob(keys: Keys) -> None:
    blob = keys.public.encrypt(np.ones(10_000))
    header = read_blob_header(blob)
    assert blob.startswith(BLOB_MAGIC)
    assert int.from_bytes(blob[8:10], "big") == FORMAT_VERSION
    assert header.scheme_name == keys.public.name
    assert header.context_sha256 == keys.public.context_sha256
    assert header.context_sha256 == hashlib.sha256(keys.public.public_context_bytes()).hexdigest()
    assert header.vector_length == 10_000
    assert header.chunk_count == -(-10_000 // keys.public.slots_per_ciphertext)
    assert header.party_count == 1


def test_future_format_version_is_refused_clearly(bfv: Keys) -> None:
    blob = bytearray(bfv.public.encrypt(np.ones(3)))
    blob[8:10] = (FORMAT_VERSION + 1).to_bytes(2, "big")
    with pytest.raises(CorruptCiphertextError, match="upgrade fedchain_magics"):
        read_blob_header(bytes(blob))


@pytest.fixture(scope="module")
def small_blob(bfv: Keys) -> bytes:
    return bfv.public.encrypt(np.arange(5, dtype=np.float64))


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_any_single_bit_flip_or_cut_is_refused(
    bfv: Keys, small_blob: bytes, data: st.DataObject
) -> None:
    if data.draw(st.booleans(), label="flip"):
        position = data.draw(st.integers(0, len(small_blob) - 1), label="position")
        bit = data.draw(st.integers(0, 7), label="bit")
        damaged = bytearray(small_blob)
        damaged[position] ^= 1 << bit
        corrupted = bytes(damaged)
    else:
        corrupted = small_blob[: data.draw(st.integers(0, len(small_blob) - 1), label="cut")]
    with pytest.raises(CorruptCiphertextError):
        bfv.secret.decrypt(corrupted)
