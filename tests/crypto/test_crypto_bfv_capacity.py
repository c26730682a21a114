"""BFV sums are exact modulo t: the per-party bound and max_parties keep them from wrapping."""

from __future__ import annotations

import numpy as np
import pytest
from crypto_helpers import Keys, assert_one_line, keys_of, sum_blobs

from fedchain_magics.crypto import BfvFixedPointScheme, CkksScheme, InvalidContextError


def test_capacity_matches_the_plain_modulus(bfv: Keys) -> None:
    scheme = bfv.secret
    assert isinstance(scheme, BfvFixedPointScheme)
    half = (scheme.plain_modulus - 1) // 2
    assert scheme.capacity == half / 2**24
    assert 32767 < scheme.capacity < 32768
    assert scheme.max_abs_value_per_party() == (half // 100) / 2**24
    assert scheme.max_abs_value_per_party(1000) == (half // 1000) / 2**24


def test_max_parties_at_the_bound_sum_exactly_without_wrapping() -> None:
    keys = keys_of(BfvFixedPointScheme.generate(max_parties=7))
    bound = keys.public.max_abs_value_per_party()
    update = np.array([bound, -bound, 0.0, bound / 3])
    aggregate = sum_blobs(keys.public, [keys.public.encrypt(update) for _ in range(7)])
    quantized = np.rint(update * 2**24)
    assert np.array_equal(keys.secret.decrypt(aggregate), 7 * quantized / 2**24)
    assert abs(7 * bound) <= keys.secret.capacity


def test_worst_case_noise_at_max_parties_still_decrypts_exactly() -> None:
    # The same ciphertext added max_parties times grows the noise the most (fully correlated).
    keys = keys_of(BfvFixedPointScheme.generate(max_parties=1024))
    bound = keys.public.max_abs_value_per_party()
    update = np.resize([bound, -bound, 1.5, -(2.0**-24)], 8192)
    blob = keys.public.encrypt(update)
    running = keys.public.start_sum()
    for _ in range(1024):
        running.add(blob)
    decrypted = keys.secret.decrypt(running.result())
    assert np.array_equal(decrypted, 1024 * np.rint(update * 2**24) / 2**24)


def test_max_parties_beyond_the_noise_budget_is_refused() -> None:
    with pytest.raises(InvalidContextError, match="max_parties <= 1024") as caught:
        BfvFixedPointScheme.generate(max_parties=2048)
    assert_one_line(caught.value)


def test_ckks_parties_at_the_bound_decrypt_within_relative_precision() -> None:
    keys = keys_of(CkksScheme.generate(max_parties=4))
    bound = keys.public.max_abs_value_per_party()
    assert keys.public.capacity == 2.0**18 and bound == 2.0**16
    update = np.resize([bound, -bound, 0.5, -bound / 2], 4096)
    aggregate = sum_blobs(keys.public, [keys.public.encrypt(update) for _ in range(4)])
    assert np.abs(keys.secret.decrypt(aggregate) - 4 * update).max() <= 1e-6 * 2**18
