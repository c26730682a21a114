"""Pairwise masks under BFV: one party's ciphertext decrypts to values uniform modulo t, the sum
of the parties' ciphertexts decrypts exactly to the unmasked sum once the reveals are applied,
and a party that was merely late stays hidden even after its pair seeds are revealed."""

from __future__ import annotations

import os

import numpy as np
import pytest
from scipy import stats

from fedchain_magics.crypto import BfvFixedPointScheme
from fedchain_magics.crypto.masking import (
    MaskingError,
    MaskingKey,
    Reveal,
    mask_for,
    pair_seed,
    residual_masks,
    reveal_for,
    round_context,
    stream,
)

LENGTH = 4096
CONTEXT = round_context(1337, "0x" + "ab" * 20, task_id=1, round_number=1)


@pytest.fixture(scope="module")
def scheme():
    return BfvFixedPointScheme.generate(max_parties=10, parameter_count=LENGTH)


@pytest.fixture(scope="module")
def parties(scheme):
    """Four parties' keys and small updates (a few hundredths, like weighted deltas)."""
    rng = np.random.default_rng(0)
    keys = [MaskingKey.derive(os.urandom(32), CONTEXT) for _ in range(4)]
    updates = [rng.normal(0, 0.01, LENGTH) for _ in keys]
    return keys, updates


def _masked_blobs(scheme, keys, updates, advertisers):
    t = scheme.plain_modulus
    publics = [key.public for key in advertisers]
    return [
        scheme.encrypt_masked(
            update,
            mask_for(key, [p for p in publics if p != key.public], LENGTH, t, CONTEXT),
        )
        for key, update in zip(keys, updates, strict=True)
    ]


def _sum(scheme, blobs):
    running = scheme.start_sum()
    for blob in blobs:
        running.add(blob)
    return running.result()


def test_one_masked_ciphertext_decrypts_to_uniform_residues(scheme, parties):
    keys, updates = parties
    blob = _masked_blobs(scheme, keys[:1], updates[:1], keys)[0]
    t = scheme.plain_modulus

    residues = scheme.decrypt_residues(blob)

    assert stats.kstest(residues / t, "uniform").pvalue > 1e-3
    counts, _ = np.histogram(residues, bins=16, range=(0, t))
    assert stats.chisquare(counts).pvalue > 1e-3
    # the same statistics tell an unmasked ciphertext apart at once: the test can fail
    plain = scheme.decrypt_residues(scheme.encrypt(updates[0]))
    assert stats.kstest(plain / t, "uniform").pvalue < 1e-10


def test_the_masked_sum_is_exactly_the_unmasked_sum(scheme, parties):
    keys, updates = parties
    blobs = _masked_blobs(scheme, keys, updates, keys)
    t = scheme.plain_modulus

    residues = scheme.decrypt_residues(_sum(scheme, blobs))
    reveals = [reveal_for(key, [], CONTEXT) for key in keys]
    unmasked = (residues - residual_masks(reveals, [], LENGTH, t)) % t

    expected = scheme.decrypt(_sum(scheme, [scheme.encrypt(u) for u in updates]))
    np.testing.assert_array_equal(scheme.values_of(unmasked), expected)


def test_an_absent_advertiser_is_cancelled_and_a_late_one_stays_hidden(scheme, parties):
    """Party 3 advertised, then sent nothing in time: the three others reveal their pair seeds
    with it and the sum of the three is exact. When party 3's ciphertext turns up later, even
    with every revealed seed its decryption is still uniform: its self seed was never revealed."""
    keys, updates = parties
    t = scheme.plain_modulus
    blobs = _masked_blobs(scheme, keys, updates, keys)
    present, late = keys[:3], keys[3]

    reveals = [reveal_for(key, [late.public], CONTEXT) for key in present]
    residues = scheme.decrypt_residues(_sum(scheme, blobs[:3]))
    unmasked = (residues - residual_masks(reveals, [late.public], LENGTH, t)) % t
    expected = scheme.decrypt(_sum(scheme, [scheme.encrypt(u) for u in updates[:3]]))
    np.testing.assert_array_equal(scheme.values_of(unmasked), expected)

    late_residues = scheme.decrypt_residues(blobs[3])
    for reveal in reveals:  # strip every pair mask of the late party that was revealed
        pair = stream(reveal.absent_pair_seeds[late.public], LENGTH, t)
        late_residues = (
            late_residues + pair if late.public < reveal.public else late_residues - pair
        ) % t
    assert stats.kstest(late_residues / t, "uniform").pvalue > 1e-3
    own = scheme.decrypt_residues(scheme.encrypt(updates[3]))
    assert not np.array_equal(late_residues, own)


def test_both_ends_of_a_pair_derive_one_seed_bound_to_the_round(parties):
    keys, _ = parties
    a, b = keys[:2]
    assert a.pair_seed(b.public, CONTEXT) == b.pair_seed(a.public, CONTEXT)
    other_round = round_context(1337, "0x" + "ab" * 20, task_id=1, round_number=2)
    assert a.pair_seed(b.public, other_round) != a.pair_seed(b.public, CONTEXT)
    root = os.urandom(32)
    assert MaskingKey.derive(root, CONTEXT) == MaskingKey.derive(root, CONTEXT)
    assert MaskingKey.derive(root, CONTEXT).public != MaskingKey.derive(root, other_round).public


def test_bad_keys_and_reveals_are_refused_in_one_line(parties):
    keys, _ = parties
    a = keys[0]
    with pytest.raises(MaskingError, match="its own masking key"):
        pair_seed(a.secret, a.public, a.public, CONTEXT)  # a replayed key
    with pytest.raises(MaskingError, match="64 bytes"):
        a.pair_seed(b"\x01" * 33, CONTEXT)
    with pytest.raises(MaskingError, match="not a point"):
        a.pair_seed(b"\x01" * 64, CONTEXT)
    with pytest.raises(MaskingError, match="malformed"):
        Reveal.from_bytes(b"fedchain-reveal-v1" + b"\x00" * 10)
    reveal = reveal_for(a, [keys[1].public], CONTEXT)
    assert Reveal.from_bytes(reveal.to_bytes()) == reveal
    with pytest.raises(MaskingError, match="lacks the seeds"):
        residual_masks([reveal], [keys[1].public, keys[2].public], 8, 97)


def test_a_mask_stream_is_uniform_and_reproducible():
    seed = os.urandom(32)
    t = 1099511480321
    values = stream(seed, 20_000, t)
    assert values.min() >= 0 and values.max() < t
    assert np.array_equal(values, stream(seed, 20_000, t))
    assert stats.kstest(values / t, "uniform").pvalue > 1e-3


def test_a_mask_stream_is_the_original_chacha20_keystream():
    """Every party of a round must draw the same stream from a pair seed, whatever library
    version it runs: the stream is DJB's ChaCha20 (64-bit nonce and counter), pinned here by its
    published all-zero-key vector, and it is pycryptodome's ChaCha20 stream (the one masks were
    drawn with before OpenSSL's)."""
    from Crypto.Cipher import ChaCha20

    known = bytes.fromhex("76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7")
    words = np.frombuffer(known, dtype="<u8")
    assert np.array_equal(stream(bytes(32), 4, 2**62), (words >> np.uint64(2)).astype(np.int64))
    seed, t = os.urandom(32), 1099511480321
    reference = ChaCha20.new(key=seed, nonce=bytes(8)).encrypt(bytes(8 * 50_000))
    candidates = (np.frombuffer(reference, dtype="<u8") >> np.uint64(64 - 40)).astype(np.int64)
    assert np.array_equal(stream(seed, 40_000, t), candidates[candidates < t][:40_000])


def test_a_sparse_peer_graph_is_symmetric_small_and_still_cancels():
    """40 parties mask with about 2 log2 n = 12 peers each, not 39: the graph is the same for
    everyone with the seed, symmetric, and the masks of 38 present parties (2 advertised, then
    dropped) still leave exactly their sum once the reveals are applied."""
    from fedchain_magics.crypto.masking import peer_graph, sparse_degree

    t, length, parties = 1099511480321, 64, 40
    keys = [MaskingKey.derive(bytes([index + 1]) * 32, CONTEXT) for index in range(parties)]
    publics = [key.public for key in keys]
    graph = peer_graph(publics, b"block hash")

    assert graph == peer_graph(reversed(publics), b"block hash")
    assert graph != peer_graph(publics, b"another block")
    assert sparse_degree(parties) == 12
    assert all(public not in peers for public, peers in graph.items())
    assert all(a in graph[b] for a in graph for b in graph[a])
    assert all(6 <= len(peers) <= 24 for peers in graph.values())
    assert peer_graph(publics[:5], b"x")[publics[0]] == set(publics[1:5])  # small: everyone

    rng = np.random.default_rng(1)
    values = [rng.integers(-1000, 1000, length) for _ in keys]
    masked = [
        (value + mask_for(key, graph[key.public], length, t, CONTEXT)) % t
        for key, value in zip(keys, values, strict=True)
    ]
    present, gone = keys[:-2], {key.public for key in keys[-2:]}
    reveals = [reveal_for(key, graph[key.public] & gone, CONTEXT) for key in present]
    absent_peers = {key.public: graph[key.public] & gone for key in present}
    total = sum(masked[: len(present)]) % t
    unmasked = (total - residual_masks(reveals, absent_peers, length, t)) % t
    centred = np.where(unmasked > t // 2, unmasked - t, unmasked)
    assert np.array_equal(centred, sum(values[: len(present)]))


def test_a_party_with_no_mask_peer_in_the_sum_leaves_it_and_so_may_its_last_peer():
    from fedchain_magics.crypto.masking import lone_parties

    a, b, c, d, e = (bytes([n]) * 64 for n in range(1, 6))
    graph = {a: {c}, b: {a, c}, c: {a, b}, d: {e}, e: {d}}
    assert lone_parties(graph, [a, b, c, d, e]) == set()
    # c and e dropped: a's only peer is gone, and once a leaves, b has no peer left either
    assert lone_parties(graph, [a, b, d]) == {a, b, d}
    assert lone_parties(graph, [a, b, c]) == set()
