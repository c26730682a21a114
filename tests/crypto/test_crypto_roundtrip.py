"""Encrypt under the public context, sum without keys, decrypt with the secret key."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tenseal as ts
import tenseal.sealapi as sealapi
from crypto_helpers import Keys, sum_blobs, tolerance
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from fedchain_magics.crypto import (
    BfvFixedPointScheme,
    CkksScheme,
    generate_scheme,
    load_scheme,
    read_blob_header,
)
from fedchain_magics.crypto._container import unpack_context


def test_sum_of_public_encryptions_decrypts_to_the_plain_sum(keys: Keys) -> None:
    rng = np.random.default_rng(1)
    updates = [rng.normal(0, 0.01, 300) for _ in range(5)]
    aggregate = sum_blobs(keys.public, [keys.public.encrypt(u) for u in updates])
    summed = keys.secret.decrypt(aggregate)
    assert summed.dtype == np.float64 and summed.shape == (300,)
    assert np.abs(summed - np.sum(updates, axis=0)).max() <= tolerance(keys.secret, 5)
    assert read_blob_header(aggregate).party_count == 5


@settings(max_examples=12, deadline=None)
@given(data=st.data())
def test_encrypted_sum_equals_plain_sum_property(
    bfv: Keys, ckks: Keys, data: st.DataObject
) -> None:
    keys = data.draw(st.sampled_from([bfv, ckks]), label="scheme")
    parties = data.draw(st.integers(1, 5), label="parties")
    length = data.draw(st.integers(1, 40), label="length")
    bound = 100.0 if isinstance(keys.secret, BfvFixedPointScheme) else 1.0
    values = st.floats(-bound, bound, allow_nan=False, allow_infinity=False)
    updates = [
        data.draw(hnp.arrays(np.float64, length, elements=values), label=f"update {i}")
        for i in range(parties)
    ]
    summed = keys.secret.decrypt(sum_blobs(keys.public, [keys.public.encrypt(u) for u in updates]))
    error = np.abs(summed - np.sum(updates, axis=0)).max()
    if isinstance(keys.secret, BfvFixedPointScheme):
        assert error <= tolerance(keys.secret, parties)
    else:  # CKKS error is relative to the magnitude encoded
        assert error <= 1e-6


def test_weighted_fedavg_by_additions_alone(keys: Keys) -> None:
    rng = np.random.default_rng(2)
    samples = np.array([120, 300, 45, 800, 60])
    weights = samples / 1000.0  # what the engine encrypts: samples / sample_scale
    updates = [rng.normal(0, 0.01, 1000) for _ in samples]
    blobs = [keys.public.encrypt(w * u) for w, u in zip(weights, updates, strict=True)]
    average = keys.secret.decrypt(sum_blobs(keys.public, blobs)) / weights.sum()
    expected = np.average(np.stack(updates), axis=0, weights=weights)
    assert np.abs(average - expected).max() <= 1e-6


def test_vector_longer_than_one_ciphertext_round_trips(keys: Keys) -> None:
    rng = np.random.default_rng(3)
    update = rng.normal(0, 0.01, 20_000)
    blob = keys.public.encrypt(update)
    header = read_blob_header(blob)
    slots = keys.public.slots_per_ciphertext
    assert header.vector_length == 20_000
    assert header.chunk_count == -(-20_000 // slots) > 1
    aggregate = sum_blobs(keys.public, [blob, keys.public.encrypt(-2 * update)])
    decrypted = keys.secret.decrypt(aggregate)
    assert np.abs(decrypted + update).max() <= tolerance(keys.secret, 2)


def test_key_holder_can_encrypt_and_sum_too(keys: Keys) -> None:
    update = np.linspace(-1, 1, 50)
    aggregate = sum_blobs(keys.secret, [keys.secret.encrypt(update), keys.public.encrypt(update)])
    assert np.abs(keys.secret.decrypt(aggregate) - 2 * update).max() <= tolerance(keys.secret, 2)


def test_nvflare_ckks_setting_round_trips() -> None:
    scheme = CkksScheme.generate(coeff_mod_bit_sizes=(60, 40, 40))
    public = load_scheme(scheme.public_context_bytes())
    update = np.random.default_rng(4).normal(0, 0.01, 5000)
    aggregate = sum_blobs(public, [public.encrypt(update), public.encrypt(update)])
    assert np.abs(scheme.decrypt(aggregate) - 2 * update).max() <= 1e-6


def test_public_context_reloads_to_identical_bytes(keys: Keys) -> None:
    public_bytes = keys.secret.public_context_bytes()
    assert keys.public.public_context_bytes() == public_bytes
    assert load_scheme(keys.secret.secret_context_bytes()).public_context_bytes() == public_bytes
    assert keys.public.context_sha256 == keys.secret.context_sha256
    assert keys.public.describe() == keys.secret.describe()


def test_public_context_holds_no_secret_galois_or_relin_keys(keys: Keys) -> None:
    record = unpack_context(keys.secret.public_context_bytes())
    assert record.secret_tenseal is None
    context = ts.context_from(record.public_tenseal)
    assert context.has_public_key()
    assert not context.has_secret_key()
    assert not context.has_galois_keys()
    assert not context.has_relin_keys()
    assert not keys.public.has_secret_key and keys.secret.has_secret_key


def test_secret_context_round_trips_and_decrypts(keys: Keys) -> None:
    restored = load_scheme(keys.secret.secret_context_bytes())
    assert restored.has_secret_key
    update = np.arange(10, dtype=np.float64) / 7
    assert np.abs(restored.decrypt(keys.public.encrypt(update)) - update).max() <= tolerance(
        restored, 1
    )


def test_describe_is_json_and_names_the_parameters(bfv: Keys, ckks: Keys) -> None:
    bfv_spec = json.loads(json.dumps(bfv.secret.describe()))
    assert bfv_spec["scheme"] == "bfv-fixed-point"
    assert bfv_spec["poly_modulus_degree"] == 8192
    assert bfv_spec["coeff_mod_bit_sizes"] == [60, 60]
    assert bfv_spec["plain_modulus"] == sealapi.PlainModulus.Batching(8192, 40).value()
    assert bfv_spec["plain_modulus"] == 1099511480321
    assert bfv_spec["resolution_bits"] == 24
    assert bfv_spec["slots_per_ciphertext"] == 8192
    assert bfv_spec["max_abs_value_per_party"] == pytest.approx(32768 / 100, rel=1e-4)
    assert bfv_spec["context_sha256"] == bfv.secret.context_sha256
    ckks_spec = json.loads(json.dumps(ckks.secret.describe()))
    assert ckks_spec["scheme"] == "ckks"
    assert ckks_spec["coeff_mod_bit_sizes"] == [60, 49]
    assert ckks_spec["scale_bits"] == 40
    assert ckks_spec["slots_per_ciphertext"] == 4096
    assert ckks_spec["capacity"] == 2.0**18


def test_generate_scheme_by_name() -> None:
    assert isinstance(generate_scheme("bfv", max_parties=10), BfvFixedPointScheme)
    assert isinstance(generate_scheme("bfv-fixed-point"), BfvFixedPointScheme)
    assert isinstance(generate_scheme("ckks", scale_bits=30), CkksScheme)
