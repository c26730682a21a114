"""Schemes shared by the crypto tests: one context per scheme for the whole session,
seen by the key holder (secret) and by participants and aggregators (public)."""

from __future__ import annotations

import pytest
from crypto_helpers import Keys, keys_of

from fedchain_magics.crypto import BfvFixedPointScheme, CkksScheme


@pytest.fixture(scope="session")
def bfv() -> Keys:
    return keys_of(BfvFixedPointScheme.generate())


@pytest.fixture(scope="session")
def ckks() -> Keys:
    return keys_of(CkksScheme.generate())


@pytest.fixture(scope="session", params=["bfv", "ckks"])
def keys(request: pytest.FixtureRequest, bfv: Keys, ckks: Keys) -> Keys:
    """Each scheme in turn."""
    return {"bfv": bfv, "ckks": ckks}[request.param]
