"""Every refusal is a CryptoError subclass with a one-line, actionable message."""

from __future__ import annotations

import numpy as np
import pytest
from crypto_helpers import Keys, assert_one_line, keys_of, sum_blobs

from fedchain_magics.crypto import (
    BfvFixedPointScheme,
    CkksScheme,
    ContextMismatchError,
    CorruptCiphertextError,
    CryptoError,
    EmptySumError,
    InvalidContextError,
    InvalidUpdateError,
    LengthMismatchError,
    MissingSecretKeyError,
    TooManyPartiesError,
    UpdateOverflowError,
    generate_scheme,
    load_scheme,
)
from fedchain_magics.crypto._container import BlobHeader, pack_blob, unpack_blob


def test_every_error_is_a_crypto_error() -> None:
    for error in (
        ContextMismatchError,
        CorruptCiphertextError,
        EmptySumError,
        InvalidContextError,
        InvalidUpdateError,
        LengthMismatchError,
        MissingSecretKeyError,
        UpdateOverflowError,
    ):
        assert issubclass(error, CryptoError)
    assert issubclass(TooManyPartiesError, UpdateOverflowError)


def test_public_scheme_cannot_decrypt_or_export_a_secret(keys: Keys) -> None:
    blob = keys.public.encrypt(np.ones(3))
    with pytest.raises(MissingSecretKeyError) as caught:
        keys.public.decrypt(blob)
    assert_one_line(caught.value)
    with pytest.raises(MissingSecretKeyError) as caught:
        keys.public.secret_context_bytes()
    assert_one_line(caught.value)


def test_blob_from_another_context_is_refused(keys: Keys) -> None:
    other = generate_scheme(keys.secret.name)  # same parameters, other keys
    blob = other.encrypt(np.ones(3))
    running = keys.public.start_sum()
    with pytest.raises(ContextMismatchError) as caught:
        running.add(blob)
    assert_one_line(caught.value)
    assert running.count == 0
    with pytest.raises(ContextMismatchError):
        keys.secret.decrypt(blob)


def test_blob_from_another_scheme_is_refused(bfv: Keys, ckks: Keys) -> None:
    with pytest.raises(ContextMismatchError) as caught:
        bfv.public.start_sum().add(ckks.public.encrypt(np.ones(3)))
    assert "ckks" in str(caught.value)
    assert_one_line(caught.value)


def test_other_max_parties_is_another_context(bfv: Keys) -> None:
    # max_parties changes each party's bound, so it is part of the context's identity.
    smaller = BfvFixedPointScheme.generate(max_parties=10)
    assert smaller.context_sha256 != bfv.secret.context_sha256


def test_wrong_length_is_refused(keys: Keys) -> None:
    running = keys.public.start_sum()
    running.add(keys.public.encrypt(np.ones(10)))
    with pytest.raises(LengthMismatchError) as caught:
        running.add(keys.public.encrypt(np.ones(11)))
    assert_one_line(caught.value)
    assert running.count == 1
    expecting = keys.public.start_sum(expected_length=11)
    with pytest.raises(LengthMismatchError):
        expecting.add(keys.public.encrypt(np.ones(10)))


def test_truncated_blob_is_refused(keys: Keys) -> None:
    blob = keys.public.encrypt(np.ones(10))
    for cut in (0, 5, 12, 60, len(blob) // 2, len(blob) - 33, len(blob) - 1):
        with pytest.raises(CorruptCiphertextError) as caught:
            keys.public.start_sum().add(blob[:cut])
        assert_one_line(caught.value)
    with pytest.raises(CorruptCiphertextError):
        keys.secret.decrypt(blob[:-1])
    with pytest.raises(CorruptCiphertextError):
        keys.secret.decrypt(blob + b"\x00")


def test_bit_flipped_blob_is_refused(keys: Keys) -> None:
    blob = keys.public.encrypt(np.ones(10))
    for position in (0, 9, 11, 40, 60, 70, 100, len(blob) // 2, len(blob) - 40, len(blob) - 1):
        flipped = bytearray(blob)
        flipped[position] ^= 0x04
        with pytest.raises(CorruptCiphertextError) as caught:
            keys.secret.decrypt(bytes(flipped))
        assert_one_line(caught.value)


def test_well_framed_garbage_is_refused_by_tenseal_wrapped(keys: Keys) -> None:
    header, chunks = unpack_blob(keys.public.encrypt(np.ones(10)))
    for payload in (b"", b"\x00" * 100, chunks[0][: len(chunks[0]) // 2], chunks[0][:40] * 10):
        forged = pack_blob(header, [payload])
        with pytest.raises(CorruptCiphertextError) as caught:
            keys.public.start_sum().add(forged)
        assert_one_line(caught.value)


def test_chunk_size_must_match_the_header(keys: Keys) -> None:
    header, chunks = unpack_blob(keys.public.encrypt(np.ones(10)))
    longer = BlobHeader(header.scheme_name, header.context_sha256, 11, 1, 1)
    with pytest.raises(CorruptCiphertextError) as caught:
        keys.secret.decrypt(pack_blob(longer, chunks))
    assert_one_line(caught.value)
    two_chunks = BlobHeader(header.scheme_name, header.context_sha256, 10, 2, 1)
    with pytest.raises(CorruptCiphertextError):
        keys.secret.decrypt(pack_blob(two_chunks, chunks * 2))


def test_a_context_is_not_a_blob_and_a_blob_is_not_a_context(keys: Keys) -> None:
    with pytest.raises(CorruptCiphertextError) as caught:
        keys.secret.decrypt(keys.secret.public_context_bytes())
    assert "context" in str(caught.value)
    assert_one_line(caught.value)
    with pytest.raises(InvalidContextError) as context_error:
        load_scheme(keys.public.encrypt(np.ones(3)))
    assert "encrypted blob" in str(context_error.value)
    assert_one_line(context_error.value)


def test_corrupt_context_is_refused(keys: Keys) -> None:
    public = keys.secret.public_context_bytes()
    flipped = bytearray(public)
    flipped[len(public) // 2] ^= 1
    for bad in (b"", b"not a context at all", public[:-1], bytes(flipped)):
        with pytest.raises(InvalidContextError) as caught:
            load_scheme(bad)
        assert_one_line(caught.value)


def test_non_finite_or_misshapen_updates_are_refused(keys: Keys) -> None:
    for bad in ([1.0, float("nan")], [float("inf")], [-float("inf"), 0.0]):
        with pytest.raises(InvalidUpdateError) as caught:
            keys.public.encrypt(np.array(bad))
        assert_one_line(caught.value)
    with pytest.raises(InvalidUpdateError, match="index 1"):
        keys.public.encrypt(np.array([0.0, np.nan]))
    for shape_error in (np.ones((2, 3)), np.array([]), np.float64(1.0), ["a", "b"]):
        with pytest.raises(InvalidUpdateError) as caught:
            keys.public.encrypt(shape_error)
        assert_one_line(caught.value)


def test_overflowing_update_is_refused_with_index_and_bound(keys: Keys) -> None:
    bound = keys.public.max_abs_value_per_party()
    update = np.zeros(20)
    update[7] = -np.nextafter(bound, np.inf)
    with pytest.raises(UpdateOverflowError) as caught:
        keys.public.encrypt(update)
    message = str(caught.value)
    assert "index 7" in message and f"{bound:.6g}" in message and "clip" in message
    assert_one_line(caught.value)
    update[7] = -bound  # exactly at the bound is fine
    keys.public.encrypt(update)


def test_huge_values_are_refused_without_warnings(keys: Keys) -> None:
    with pytest.raises(UpdateOverflowError):
        keys.public.encrypt(np.array([1e308, -1e308]))


def test_more_than_max_parties_is_refused_and_the_sum_is_kept(keys: Keys) -> None:
    small = keys_of(generate_scheme(keys.secret.name, max_parties=3))
    blob = small.public.encrypt(np.ones(4))
    running = small.public.start_sum()
    for _ in range(3):
        running.add(blob)
    before = running.result()
    with pytest.raises(TooManyPartiesError) as caught:
        running.add(blob)
    assert_one_line(caught.value)
    assert running.count == 3 and running.result() == before
    pair = sum_blobs(small.public, [blob, blob])
    also = small.public.start_sum()
    also.add(blob)
    with pytest.raises(TooManyPartiesError):
        also.add(sum_blobs(small.public, [pair, blob]))  # an aggregate counts its parties


def test_empty_sum_has_no_result(keys: Keys) -> None:
    with pytest.raises(EmptySumError) as caught:
        keys.public.start_sum().result()
    assert_one_line(caught.value)


def test_invalid_parameters_are_refused() -> None:
    attempts = [
        lambda: generate_scheme("paillier"),
        lambda: BfvFixedPointScheme.generate(max_parties=0),
        lambda: BfvFixedPointScheme.generate(resolution_bits=-1),
        lambda: BfvFixedPointScheme.generate(plain_modulus_bits=1),
        lambda: BfvFixedPointScheme.generate(
            poly_modulus_degree=4096, coeff_mod_bit_sizes=[60, 60, 60]
        ),
        lambda: CkksScheme.generate(scale_bits=59),
        lambda: CkksScheme.generate(max_parties=-5),
    ]
    for attempt in attempts:
        with pytest.raises(InvalidContextError) as caught:
            attempt()
        assert_one_line(caught.value)
