import hashlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fedchain_magics.aggregation import sum_encrypted, verify_aggregate, weighted_average
from fedchain_magics.crypto import BfvFixedPointScheme, load_scheme


@given(
    st.lists(
        st.tuples(st.lists(st.floats(-100, 100), min_size=3, max_size=3), st.integers(1, 1000)),
        min_size=1,
        max_size=8,
    )
)
def test_weighted_average_does_not_depend_on_order(pairs):
    vectors = [np.array(vector) for vector, _ in pairs]
    weights = [weight for _, weight in pairs]
    forward = weighted_average(vectors, weights)
    backward = weighted_average(vectors[::-1], weights[::-1])
    assert np.allclose(forward, backward, atol=1e-9)


def test_weighted_average_refuses_mismatched_input():
    with pytest.raises(ValueError, match="2 vectors but 1 weights"):
        weighted_average([np.zeros(2), np.ones(2)], [1])


@pytest.fixture(scope="module")
def public_scheme():
    return load_scheme(BfvFixedPointScheme.generate(max_parties=10).public_context_bytes())


@settings(max_examples=5, deadline=None)
@given(st.permutations(range(4)))
def test_the_encrypted_sum_and_its_verification_ignore_submission_order(public_scheme, order):
    rng = np.random.default_rng(7)
    blobs = [public_scheme.encrypt(rng.normal(0, 1, 50)) for _ in range(4)]
    reference = sum_encrypted(public_scheme, blobs)
    digest = hashlib.sha256(reference).digest()
    shuffled = (blobs[index] for index in order)  # a generator: streamed, not materialised
    verification = verify_aggregate(public_scheme, shuffled, digest)
    assert verification.matches and verification.update_count == 4
