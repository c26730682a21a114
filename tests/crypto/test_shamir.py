"""Feldman-verifiable Shamir sharing over secp256k1, and the masked round's share bundles: any
threshold of valid shares rebuild a secret, fewer do not, a wrong share is caught by its
commitments, and a silent party's reveal rebuilt from shares unmasks the sum exactly."""

from __future__ import annotations

import os
import secrets

import numpy as np
import pytest

from fedchain_magics.crypto import shamir
from fedchain_magics.crypto.masking import (
    MaskingError,
    MaskingKey,
    Reveal,
    ShareBundle,
    deal_shares,
    mask_for,
    open_share,
    recover_reveal,
    recover_secret,
    residual_masks,
    reveal_for,
    round_context,
)

CONTEXT = round_context(1337, "0x" + "cd" * 20, task_id=2, round_number=3)


def test_any_threshold_of_shares_rebuild_the_secret_and_fewer_do_not():
    secret = 1 + secrets.randbelow(shamir.ORDER - 1)
    dealing = shamir.deal(secret, threshold=3, count=5)
    assert dealing.commitments[0] == shamir.public_of(secret)
    shares = dict(enumerate(dealing.shares, start=1))
    assert shamir.combine({x: shares[x] for x in (1, 3, 5)}, dealing.commitments) == secret
    assert shamir.combine({x: shares[x] for x in (2, 4, 5)}, dealing.commitments) == secret
    with pytest.raises(shamir.SharingError, match="2 valid share"):
        shamir.combine({x: shares[x] for x in (1, 2)}, dealing.commitments)


def test_a_wrong_share_is_caught_and_left_out():
    dealing = shamir.deal(12345, threshold=2, count=4)
    shares = dict(enumerate(dealing.shares, start=1))
    assert all(shamir.share_is_valid(x, s, dealing.commitments) for x, s in shares.items())
    forged = {**shares, 2: (shares[2] + 1) % shamir.ORDER}
    assert not shamir.share_is_valid(2, forged[2], dealing.commitments)
    assert shamir.combine(forged, dealing.commitments) == 12345  # the three valid ones
    with pytest.raises(shamir.SharingError, match="1 valid share"):
        shamir.combine({1: shares[1], 2: forged[2]}, dealing.commitments)


@pytest.fixture(scope="module")
def keys():
    return sorted(
        (MaskingKey.derive(os.urandom(32), CONTEXT) for _ in range(4)), key=lambda k: k.public
    )


def test_each_peer_opens_only_its_own_checked_shares(keys):
    dealer, *peers = keys
    bundle = ShareBundle.from_bytes(
        deal_shares(dealer, [p.public for p in peers], 2, CONTEXT).to_bytes()
    )
    bundle.check(dealer.public, [p.public for p in peers], 2)
    opened = [open_share(bundle, peer, CONTEXT) for peer in peers]
    rebuilt = recover_secret(bundle, {x: s for x, s, _ in opened[:2]})
    assert rebuilt == dealer.secret
    with pytest.raises(MaskingError, match="no share"):
        open_share(bundle, dealer, CONTEXT)
    tampered = dict(bundle.sealed)
    first = sorted(tampered)[0]
    tampered[first] = bytes([tampered[first][0] ^ 1]) + tampered[first][1:]
    bad = ShareBundle(bundle.dealer, bundle.secret_commitments, bundle.self_commitments, tampered)
    with pytest.raises(MaskingError, match="does not open"):
        open_share(bad, next(p for p in peers if p.public == first), CONTEXT)


def test_public_checks_refuse_a_bundle_for_another_key_or_peer_set(keys):
    dealer, *peers = keys
    bundle = deal_shares(dealer, [p.public for p in peers], 2, CONTEXT)
    with pytest.raises(MaskingError, match="another masking key"):
        bundle.check(peers[0].public, [p.public for p in peers], 2)
    with pytest.raises(MaskingError, match="not to the dealer's 2 peers"):
        bundle.check(dealer.public, [p.public for p in peers[:2]], 2)
    with pytest.raises(MaskingError, match="3 points"):
        bundle.check(dealer.public, [p.public for p in peers], 3)
    stranger = deal_shares(peers[0], [dealer.public, *[p.public for p in peers[1:]]], 2, CONTEXT)
    swapped = ShareBundle(
        dealer.public, stranger.secret_commitments, stranger.self_commitments, bundle.sealed
    )
    with pytest.raises(MaskingError, match="another secret"):
        swapped.check(dealer.public, [p.public for p in peers], 2)
    with pytest.raises(MaskingError, match="malformed"):
        ShareBundle.from_bytes(bundle.to_bytes()[:-1])


def test_a_silent_partys_rebuilt_reveal_unmasks_the_sum_exactly(keys):
    """Four parties mask with each other; d drops before submitting, s submits then goes
    silent. The two others reveal their own seeds and their shares: s's self secret (it is in
    the sum) and d's masking secret (it is not). The sum unmasks exactly."""
    modulus, length = 2**20 + 7, 256
    rng = np.random.default_rng(1)
    a, b, s, d = keys
    publics = [k.public for k in keys]
    updates = {k.public: rng.integers(0, 1000, length) for k in keys}
    masked = {
        k.public: (
            updates[k.public]
            + mask_for(k, [p for p in publics if p != k.public], length, modulus, CONTEXT)
        )
        % modulus
        for k in keys
    }
    bundles = {
        k.public: deal_shares(k, [p for p in publics if p != k.public], 2, CONTEXT) for k in keys
    }
    included = [a, b, s]
    total = sum(masked[k.public] for k in included) % modulus
    held = {
        k.public: {o: open_share(bundles[o], k, CONTEXT) for o in publics if o != k.public}
        for k in (a, b)
    }
    reveals = [
        reveal_for(
            k,
            [d.public],
            CONTEXT,
            self_shares={s.public: held[k.public][s.public][::2]},
            secret_shares={d.public: held[k.public][d.public][:2]},
        )
        for k in (a, b)
    ]
    reveals = [Reveal.from_bytes(r.to_bytes()) for r in reveals]
    self_shares = {r.self_shares[s.public][0]: r.self_shares[s.public][1] for r in reveals}
    d_secret = recover_secret(bundles[d.public], dict(r.secret_shares[d.public] for r in reveals))
    rebuilt = recover_reveal(bundles[s.public], self_shares, {d.public: d_secret}, CONTEXT)
    assert rebuilt == reveal_for(s, [d.public], CONTEXT)
    residual = residual_masks([*reveals, rebuilt], [d.public], length, modulus)
    expected = sum(updates[k.public] for k in included) % modulus
    assert np.array_equal((total - residual) % modulus, expected)
