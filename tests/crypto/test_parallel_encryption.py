"""Encrypting and summing across processes gives what one process gives (issue #14, part 2):
blobs with the same header decrypting to the same values (BFV exactly; CKKS within its noise,
as two serial encryptions do), sums byte for byte."""

from __future__ import annotations

import numpy as np
import pytest

from fedchain_magics.crypto import (
    CorruptCiphertextError,
    EmptySumError,
    LengthMismatchError,
    UpdateOverflowError,
    load_scheme,
    parallel,
    read_blob_header,
)


@pytest.fixture(scope="module")
def pools(bfv, ckks):
    made = {
        name: parallel.EncryptionPool(keys.public.public_context_bytes(), processes=2)
        for name, keys in (("bfv", bfv), ("ckks", ckks))
    }
    yield made
    for pool in made.values():
        pool.close()


def _updates(count: int, size: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.normal(0, 0.01, size) for _ in range(count)]


def _serial_sum(scheme, blobs, expected_length=None) -> bytes:
    running = scheme.start_sum(expected_length)
    for blob in blobs:
        running.add(blob)
    return running.result()


@pytest.mark.parametrize("size", [10, 20_000])  # one ciphertext; a model sharded over several
def test_parallel_encryption_decrypts_as_the_serial_one(keys, pools, size):
    name = "bfv" if keys.secret.name.startswith("bfv") else "ckks"
    updates = _updates(3, size)
    serial = [keys.public.encrypt(update) for update in updates]
    spread = pools[name].encrypt_many(updates)
    for one, other in zip(serial, spread, strict=True):
        assert read_blob_header(one) == read_blob_header(other)
        if name == "bfv":  # exact: the same quantized values
            assert np.array_equal(keys.secret.decrypt(one), keys.secret.decrypt(other))
        else:  # CKKS decrypts with fresh noise each time, serial or not
            assert np.allclose(keys.secret.decrypt(other), keys.secret.decrypt(one), atol=1e-6)


def test_parallel_sum_is_byte_identical_to_the_serial_sum(keys, pools):
    name = "bfv" if keys.secret.name.startswith("bfv") else "ckks"
    blobs = [keys.public.encrypt(update) for update in _updates(19, 20_000, seed=1)]
    expected = _serial_sum(keys.public, blobs, 20_000)
    assert pools[name].sum(blobs, 20_000) == expected
    assert pools[name].sum(iter(blobs[::-1])) == expected  # any order, a generator
    assert read_blob_header(expected).party_count == 19


def test_errors_are_those_of_the_serial_path(bfv, pools):
    pool = pools["bfv"]
    with pytest.raises(UpdateOverflowError):
        pool.encrypt_many([np.zeros(5), np.full(5, 1e9)])
    blobs = [bfv.public.encrypt(update) for update in _updates(9, 100)]
    with pytest.raises(LengthMismatchError):
        pool.sum(blobs, 99)
    damaged = bytearray(blobs[4])
    damaged[-40] ^= 1
    with pytest.raises(CorruptCiphertextError):
        pool.sum([*blobs[:4], bytes(damaged), *blobs[5:]])
    with pytest.raises(EmptySumError):
        pool.sum([])
    assert pool.partial_sum([], None) is None


def test_the_scheme_sums_in_processes_only_when_it_gains(bfv, ckks, monkeypatch):
    assert parallel.worth_processes(100_000, 2) == 1  # small: a pool's start costs more
    assert parallel.worth_processes(10**8, 1) == 1
    assert parallel.worth_processes(10**8, 2) == 2
    assert parallel.worth_summing(10**7, 2) == 1  # adding is cheap next to moving the bytes
    started = []
    monkeypatch.setattr(parallel, "MIN_PARALLEL_VALUES", 20_000)
    monkeypatch.setattr(parallel, "MIN_PARALLEL_SUM_VALUES", 20_000)
    original = parallel.EncryptionPool.__init__

    def counted(self, *args, **kwargs):
        started.append(1)
        original(self, *args, **kwargs)

    monkeypatch.setattr(parallel.EncryptionPool, "__init__", counted)
    monkeypatch.setattr(parallel, "available_processes", lambda: 2)
    try:
        for keys in (bfv, ckks):
            blobs = [keys.public.encrypt(update) for update in _updates(12, 3_000, seed=2)]
            expected = _serial_sum(keys.public, blobs, 3_000)
            scheme = load_scheme(keys.public.public_context_bytes())
            assert scheme.sum_blobs(iter(blobs), 3_000) == expected  # switches after 7 blobs
            assert scheme.sum_blobs(blobs[:2], 3_000) == _serial_sum(keys.public, blobs[:2])
        # BFV adds at memory speed in one process (no pool); CKKS once, for the large sum.
        assert (bfv.public.sums_at_memory_speed, ckks.public.sums_at_memory_speed) == (True, False)
        assert started == [1]
    finally:
        parallel.release_shared_pools()


def test_a_batch_of_blobs_in_flight_is_bounded_by_bytes_as_well_as_count():
    from fedchain_magics.crypto.parallel import _batches

    sizes = [len(batch) for batch in _batches([b"x" * 10] * 7, 16, 25)]
    assert sizes == [3, 3, 1]  # 30 bytes reach the 25-byte bound: a batch is cut there
    assert [len(batch) for batch in _batches([b"x"] * 5, 2, 1 << 20)] == [2, 2, 1]
