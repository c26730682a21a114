"""BFV sums read ciphertexts in place as numpy coefficients (issue #14, part 5): the same sum
as TenSEAL's, the same refusals as SEAL's, and blobs TenSEAL wrote (compressed) still read."""

from __future__ import annotations

import numpy as np
import pytest

from fedchain_magics.crypto import CorruptCiphertextError, load_scheme
from fedchain_magics.crypto._container import (
    BlobHeader,
    first_chunk_offset,
    pack_blob,
    unpack_blob,
    unpack_blob_spans,
)
from fedchain_magics.crypto._seal_wire import ALIGNMENT

SIZE = 3 * 8192 + 100  # three full ciphertexts (read as one array) and a short last one


def _tenseal_sum(scheme, blobs) -> list:
    """The sum TenSEAL computes: each chunk deserialized and added as TenSEAL vectors."""
    total = None
    for blob in blobs:
        vectors = [scheme._load_chunk(chunk) for chunk in unpack_blob(blob)[1]]
        total = vectors if total is None else [a + b for a, b in zip(total, vectors, strict=True)]
    return total


def _tenseal_blob(scheme, values) -> bytes:
    """A blob as TenSEAL serializes it (zstd-compressed chunks), as earlier versions wrote."""
    encoded = scheme._encode(np.asarray(values, np.float64))
    slots = scheme.slots_per_ciphertext
    chunks = [
        scheme._encrypt_chunk(encoded[start : start + slots]).serialize()
        for start in range(0, encoded.size, slots)
    ]
    header = BlobHeader(scheme.name, scheme.context_sha256, encoded.size, len(chunks), 1)
    return pack_blob(header, chunks)


@pytest.fixture(scope="module")
def updates() -> list[np.ndarray]:
    rng = np.random.default_rng(7)
    return [rng.normal(0, 0.01, SIZE) for _ in range(20)]


def test_the_sum_decrypts_as_tenseals_sum_through_many_reductions(bfv, updates):
    public = bfv.public
    assert public.sums_at_memory_speed
    blobs = [public.encrypt(update) for update in updates]
    blobs.append(_tenseal_blob(public, updates[0]))  # a compressed blob adds as well
    running = public.start_sum(SIZE)
    for blob in blobs[:9]:
        running.add(blob)
    partial = running.result()
    running = public.start_sum(SIZE)
    running.add(partial)  # an aggregate counts as its parties
    for blob in blobs[9:]:
        running.add(blob, check_checksum=False)
    assert running.count == 21  # past the 15 adds a uint64 holds below a 60-bit prime
    residues = bfv.secret.decrypt_residues(running.result())
    assert np.array_equal(residues, bfv.secret._residues(_tenseal_sum(bfv.secret, blobs)))
    total = updates[0] + sum(updates)
    assert np.abs(bfv.secret.decrypt(running.result()) - total).max() < 21 * 2.0**-24


def test_coefficients_lie_aligned_in_every_blob_it_writes(bfv, updates):
    public = bfv.public
    fresh = public.encrypt(updates[0])
    running = public.start_sum()
    running.add(fresh)
    for blob in (fresh, running.result()):
        header, spans = unpack_blob_spans(blob)
        assert spans[0][0] == first_chunk_offset(header.scheme_name)
        wire = public._wire()
        for start, end in spans:
            coefficients = wire.coefficients(memoryview(blob)[start:end])[1]
            assert coefficients.flags.aligned
            offset = start + (end - start) - coefficients.nbytes
            assert offset % ALIGNMENT == 0  # in the blob, and so in memory


def _flip_coefficient(blob: bytes, chunk: int, value: int) -> bytes:
    """``blob`` with its ``chunk``'s first coefficient set to ``value``, checksum rebuilt."""
    header, chunks = unpack_blob(blob)
    data = bytearray(chunks[chunk])
    count = 2 * 8192  # two polynomials over one prime
    at = len(data) - 8 * count
    data[at : at + 8] = value.to_bytes(8, "little")
    chunks[chunk] = bytes(data)
    return pack_blob(header, chunks)


@pytest.mark.parametrize("chunk", [0, 2, 3])  # the first, one of the array, the short last
def test_a_coefficient_at_or_above_its_prime_is_refused_and_the_sum_kept(bfv, updates, chunk):
    public = bfv.public
    good = public.encrypt(updates[1])
    prime = int(public._wire().moduli.max())
    running = public.start_sum(SIZE)
    running.add(good)
    before = running.result()
    for value in (prime, 2**64 - 1):
        with pytest.raises(CorruptCiphertextError, match="not below its prime"):
            running.add(_flip_coefficient(public.encrypt(updates[2]), chunk, value))
    assert running.result() == before
    assert running.count == 1


def test_a_chunk_laid_out_unlike_the_others_is_refused(bfv, updates):
    public = bfv.public
    header, chunks = unpack_blob(public.encrypt(updates[3]))
    data = bytearray(chunks[2])
    data[40] ^= 0x01  # inside the ciphertext's parameters (parms_id), before its coefficients
    chunks[2] = bytes(data)
    with pytest.raises(CorruptCiphertextError, match="ciphertext 2 is not laid out"):
        public.start_sum().add(pack_blob(header, chunks))


def test_a_ciphertext_of_another_context_is_refused(bfv, updates):
    from fedchain_magics.crypto import BfvFixedPointScheme

    other = BfvFixedPointScheme.generate(coeff_mod_bit_sizes=[59, 60])  # another prime
    header, chunks = unpack_blob(bfv.public.encrypt(updates[4]))
    foreign = unpack_blob(other.encrypt(updates[4]))[1]
    with pytest.raises(CorruptCiphertextError, match="ciphertext 0 of the blob cannot be read"):
        bfv.public.start_sum().add(pack_blob(header, [foreign[0], *chunks[1:]]))


def test_skipping_the_checksum_skips_nothing_else(bfv, updates):
    public = bfv.public
    blob = bytearray(public.encrypt(updates[5]))
    blob[-1] ^= 0x01  # the checksum's last byte
    with pytest.raises(CorruptCiphertextError, match="checksum"):
        public.start_sum().add(bytes(blob))
    public.start_sum().add(bytes(blob), check_checksum=False)
    truncated = bytes(blob[:-100])
    with pytest.raises(CorruptCiphertextError):
        public.start_sum().add(truncated, check_checksum=False)


def test_a_small_ring_keeps_tenseals_smaller_compressed_ciphertexts(bfv):
    from fedchain_magics.crypto import BfvFixedPointScheme

    small = load_scheme(BfvFixedPointScheme.generate(parameter_count=100).public_context_bytes())
    assert not small.sums_at_memory_speed  # a 54-bit prime: zstd saves a few percent there
    assert bfv.public.sums_at_memory_speed  # 60-bit primes: nothing to save
