"""The ring follows the model's size: small models get N=4096 ciphertexts at the same 128-bit
security, the same plain modulus (capacity) and enough noise budget for max_parties."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import tenseal.sealapi as sealapi
from crypto_helpers import assert_one_line, keys_of, sum_blobs
from hypothesis import given
from hypothesis import strategies as st

from fedchain_magics.crypto import (
    BfvFixedPointScheme,
    CkksScheme,
    InvalidContextError,
    generate_scheme,
    load_scheme,
)
from fedchain_magics.crypto.bfv import FRESH_NOISE_LOSS_BITS, noise_bits_needed
from fedchain_magics.crypto.scheme import MAX_COEFF_MODULUS_BITS

#: A public context written by the release before the ring followed the model (N=8192,
#: q=[60, 60], t of 40 bits, 2^-24 steps, max_parties 100), with its SHA-256.
OLD_CONTEXT = Path(__file__).parent / "data" / "bfv-8192-public-context-v1.bin"
OLD_CONTEXT_SHA256 = "3409b2460a96e922c6d9bda46a69bf8cb69540a4d699bf7c01829776878be76f"
SMALL_MODEL = 42  # a logistic regression of 3 classes x 13 features + 3 intercepts


def _blob_bytes(scheme: BfvFixedPointScheme | CkksScheme, parameters: int) -> int:
    return len(scheme.encrypt(np.random.default_rng(1).normal(0, 0.01, parameters)))


# ----- which ring -------------------------------------------------------------------------------


def test_ring_follows_the_model_size_and_party_count() -> None:
    ring_for = BfvFixedPointScheme.ring_for
    assert ring_for(None, 100) == (8192, (60, 60))  # size unknown: today's ring
    assert ring_for(4097, 100) == (8192, (60, 60))  # more than one small ciphertext
    assert ring_for(100_000, 100) == (8192, (60, 60))
    assert ring_for(SMALL_MODEL, 100) == (4096, (57, 52))
    assert ring_for(4096, 100) == (4096, (57, 52))
    assert ring_for(SMALL_MODEL, 10) == (4096, (54, 55))
    assert ring_for(SMALL_MODEL, 1024) == (4096, (60, 49))
    assert ring_for(SMALL_MODEL, 2048) == (8192, (60, 60))  # refused there too, as before
    assert CkksScheme.ring_for(None) == (8192, (60, 49))
    assert CkksScheme.ring_for(2048) == (4096, (60, 49))
    assert CkksScheme.ring_for(2049) == (8192, (60, 49))


def test_no_parameter_count_keeps_todays_parameters() -> None:
    bfv = generate_scheme("bfv").describe()
    assert (bfv["poly_modulus_degree"], bfv["coeff_mod_bit_sizes"]) == (8192, [60, 60])
    ckks = generate_scheme("ckks").describe()
    assert (ckks["poly_modulus_degree"], ckks["coeff_mod_bit_sizes"]) == (8192, [60, 49])


def test_explicit_ring_parameters_win_over_the_model_size() -> None:
    scheme = BfvFixedPointScheme.generate(
        poly_modulus_degree=8192, coeff_mod_bit_sizes=(60, 60), parameter_count=SMALL_MODEL
    )
    assert scheme.slots_per_ciphertext == 8192


@pytest.mark.parametrize("count", [0, -3, 1.5, True, "42"])
def test_a_parameter_count_that_is_not_a_positive_integer_is_refused(count: object) -> None:
    with pytest.raises(InvalidContextError, match="parameter_count") as caught:
        generate_scheme("bfv", parameter_count=count)  # type: ignore[arg-type]
    assert_one_line(caught.value)


def test_a_numpy_parameter_count_is_accepted() -> None:
    assert generate_scheme("bfv", parameter_count=np.int64(42)).slots_per_ciphertext == 4096


# ----- security ---------------------------------------------------------------------------------


def test_the_modulus_bit_budget_is_seals_128_bit_bound() -> None:
    for degree, bits in MAX_COEFF_MODULUS_BITS.items():
        assert sealapi.CoeffModulus.MaxBitCount(degree, sealapi.SEC_LEVEL_TYPE.TC128) == bits


@given(st.integers(1, 5000), st.integers(1, 4096))
def test_every_chosen_ring_stays_within_128_bit_security(parameters: int, parties: int) -> None:
    degree, primes = BfvFixedPointScheme.ring_for(parameters, parties)
    assert sum(primes) <= MAX_COEFF_MODULUS_BITS[degree]
    assert max(primes) <= 60
    if degree == 4096:
        assert sum(primes) == 109  # the whole budget: the special prime takes what is left
        assert primes[0] >= noise_bits_needed(parties) + FRESH_NOISE_LOSS_BITS
        assert primes[0] >= 54  # 14 bits above the 40-bit plain modulus
    degree, primes = CkksScheme.ring_for(parameters)
    assert sum(primes) <= MAX_COEFF_MODULUS_BITS[degree]


def test_tenseal_refuses_one_bit_past_the_small_rings_budget() -> None:
    with pytest.raises(InvalidContextError, match="TenSEAL refused") as caught:
        BfvFixedPointScheme.generate(poly_modulus_degree=4096, coeff_mod_bit_sizes=(60, 50))
    assert_one_line(caught.value)
    with pytest.raises(InvalidContextError, match="TenSEAL refused"):
        CkksScheme.generate(poly_modulus_degree=4096, coeff_mod_bit_sizes=(60, 50))


def test_describe_records_the_ring_every_party_loads() -> None:
    secret = generate_scheme("bfv", parameter_count=SMALL_MODEL)
    public = load_scheme(secret.public_context_bytes())
    spec = public.describe()
    assert spec == secret.describe()
    assert spec["poly_modulus_degree"] == 4096 and spec["slots_per_ciphertext"] == 4096
    assert spec["coeff_mod_bit_sizes"] == [57, 52]
    assert spec["coeff_modulus_bits"] == 109
    assert spec["security_bits"] == 128


# ----- sizes per ring ---------------------------------------------------------------------------


def test_a_small_models_update_is_at_most_half_of_todays() -> None:
    large = generate_scheme("bfv", max_parties=100)
    small = generate_scheme("bfv", max_parties=100, parameter_count=SMALL_MODEL)
    large_bytes = _blob_bytes(large, SMALL_MODEL)
    small_bytes = _blob_bytes(small, SMALL_MODEL)
    assert 130_000 < large_bytes < 132_000  # one N=8192 ciphertext, the size of any model
    assert small_bytes <= 0.5 * large_bytes
    assert 60_000 < small_bytes < 66_000
    # With the most parties the small ring holds (a 60-bit data prime), still under 66 KB.
    most = generate_scheme("bfv", max_parties=1024, parameter_count=SMALL_MODEL)
    assert _blob_bytes(most, SMALL_MODEL) < 66_000


def test_a_small_models_ckks_update_is_about_half_of_todays() -> None:
    large = _blob_bytes(generate_scheme("ckks"), SMALL_MODEL)
    small = _blob_bytes(generate_scheme("ckks", parameter_count=SMALL_MODEL), SMALL_MODEL)
    assert small < 66_000 and small <= 0.51 * large


def test_a_large_model_costs_the_same_per_parameter_as_before() -> None:
    scheme = generate_scheme("bfv", parameter_count=100_000)
    assert scheme.slots_per_ciphertext == 8192
    assert 15 < _blob_bytes(scheme, 100_000) / 100_000 < 18


# ----- exact sums and noise at max_parties ------------------------------------------------------


def test_small_ring_keeps_the_plain_modulus_capacity_and_bound() -> None:
    large = BfvFixedPointScheme.generate(max_parties=100)
    small = BfvFixedPointScheme.generate(max_parties=100, parameter_count=SMALL_MODEL)
    assert small.plain_modulus == large.plain_modulus == 1099511480321
    assert small.capacity == large.capacity
    assert small.max_abs_value_per_party() == large.max_abs_value_per_party()


def test_small_ring_sums_max_parties_at_the_bound_exactly() -> None:
    keys = keys_of(BfvFixedPointScheme.generate(max_parties=100, parameter_count=SMALL_MODEL))
    bound = keys.public.max_abs_value_per_party()
    update = np.resize([bound, -bound, 0.0, bound / 3, -(2.0**-24)], SMALL_MODEL)
    aggregate = sum_blobs(keys.public, [keys.public.encrypt(update) for _ in range(100)])
    assert np.array_equal(keys.secret.decrypt(aggregate), 100 * np.rint(update * 2**24) / 2**24)
    assert 100 * bound <= keys.secret.capacity


@pytest.mark.parametrize("max_parties", [16, 100, 1024])
def test_small_ring_worst_case_noise_at_max_parties_decrypts_exactly(max_parties: int) -> None:
    # The same ciphertext added max_parties times grows the noise the most (fully correlated).
    scheme = BfvFixedPointScheme.generate(max_parties=max_parties, parameter_count=4096)
    assert scheme.slots_per_ciphertext == 4096
    assert scheme._fresh_noise_budget_bits() >= noise_bits_needed(max_parties)
    keys = keys_of(scheme)
    bound = keys.public.max_abs_value_per_party()
    update = np.resize([bound, -bound, 1.5, -(2.0**-24)], 4096)
    blob = keys.public.encrypt(update)
    running = keys.public.start_sum()
    for _ in range(max_parties):
        running.add(blob)
    decrypted = keys.secret.decrypt(running.result())
    assert np.array_equal(decrypted, max_parties * np.rint(update * 2**24) / 2**24)


def test_small_ckks_ring_keeps_capacity_and_precision() -> None:
    keys = keys_of(CkksScheme.generate(max_parties=4, parameter_count=SMALL_MODEL))
    assert keys.public.slots_per_ciphertext == 2048
    bound = keys.public.max_abs_value_per_party()
    assert keys.public.capacity == 2.0**18 and bound == 2.0**16
    update = np.resize([bound, -bound, 0.5, -bound / 2], 2048)
    aggregate = sum_blobs(keys.public, [keys.public.encrypt(update) for _ in range(4)])
    assert np.abs(keys.secret.decrypt(aggregate) - 4 * update).max() <= 1e-6 * 2**18
    updates = [np.random.default_rng(seed).normal(0, 0.01, SMALL_MODEL) for seed in range(4)]
    aggregate = sum_blobs(keys.public, [keys.public.encrypt(u) for u in updates])
    assert np.abs(keys.secret.decrypt(aggregate) - np.sum(updates, axis=0)).max() <= 1e-6


# ----- contexts made before the ring followed the model ----------------------------------------


def test_a_context_made_with_the_old_parameters_still_loads_and_works() -> None:
    data = OLD_CONTEXT.read_bytes()
    assert hashlib.sha256(data).hexdigest() == OLD_CONTEXT_SHA256
    scheme = load_scheme(data)
    assert scheme.public_context_bytes() == data  # same canonical form, so the same digest
    assert scheme.context_sha256 == OLD_CONTEXT_SHA256
    spec = scheme.describe()
    assert (spec["poly_modulus_degree"], spec["coeff_mod_bit_sizes"]) == (8192, [60, 60])
    assert spec["max_parties"] == 100 and spec["plain_modulus"] == 1099511480321
    blobs = [scheme.encrypt(np.full(SMALL_MODEL, 0.25)) for _ in range(2)]
    assert 130_000 < len(blobs[0]) < 132_000
    assert sum_blobs(scheme, blobs)  # summable by anyone holding the old public context


def test_old_parameters_given_explicitly_decrypt_after_a_reload() -> None:
    secret = BfvFixedPointScheme.generate(poly_modulus_degree=8192, coeff_mod_bit_sizes=(60, 60))
    restored = load_scheme(secret.secret_context_bytes())
    update = np.arange(SMALL_MODEL, dtype=np.float64) / 7
    decrypted = restored.decrypt(load_scheme(secret.public_context_bytes()).encrypt(update))
    assert np.abs(decrypted - update).max() <= 2.0**-25
