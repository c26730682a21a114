import pytest
from hypothesis import given
from hypothesis import strategies as st

from fedchain_magics.rewards import proportional_shares


@given(
    reward=st.integers(min_value=0, max_value=10**24),
    samples=st.dictionaries(st.text(min_size=1, max_size=5), st.integers(1, 10**6), max_size=30),
)
def test_payouts_never_exceed_the_pool_and_lose_less_than_one_unit_each(reward, samples):
    shares = proportional_shares(reward, samples)
    assert sum(shares.values()) <= reward
    if not samples:
        assert shares == {}
        return
    assert reward - sum(shares.values()) < len(samples)
    total = sum(samples.values())
    for who, count in samples.items():
        assert shares[who] == reward * count // total


def test_equal_samples_share_equally():
    assert proportional_shares(90, {"a": 10, "b": 10, "c": 10}) == {"a": 30, "b": 30, "c": 30}


def test_a_contributor_without_samples_is_refused():
    with pytest.raises(ValueError, match="at least one sample"):
        proportional_shares(10, {"a": 0})
