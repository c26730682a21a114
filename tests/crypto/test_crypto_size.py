"""Ciphertext size per parameter: BFV fixed point costs half of NVFlare's CKKS setting."""

from __future__ import annotations

import numpy as np
from crypto_helpers import Keys

from fedchain_magics.crypto import CkksScheme, EncryptionScheme

PARAMETERS = 100_000


def _bytes_per_parameter(scheme: EncryptionScheme, update: np.ndarray) -> float:
    return len(scheme.encrypt(update)) / update.size


def test_bytes_per_parameter_at_100k(bfv: Keys, ckks: Keys) -> None:
    update = np.random.default_rng(6).normal(0, 0.01, PARAMETERS)
    nvflare = CkksScheme.generate(coeff_mod_bit_sizes=(60, 40, 40))
    bfv_size = _bytes_per_parameter(bfv.public, update)
    ckks_size = _bytes_per_parameter(ckks.public, update)
    nvflare_size = _bytes_per_parameter(nvflare, update)
    assert 15 < bfv_size < 18
    assert 30 < ckks_size < 34
    assert 55 < nvflare_size < 61
    assert bfv_size <= 0.5 * nvflare_size
