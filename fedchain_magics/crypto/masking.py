"""Pairwise masks that cancel in a sum, so that no single encrypted update can be read.

Each party of a round holds a fresh secp256k1 masking key for that round. Two parties agree on a
seed by ECDH (the x-coordinate of ``own_secret x peer_public``) expanded by HKDF-SHA256 with the
round and both public keys in its ``info``; ChaCha20 turns a seed into a stream of values uniform
modulo the BFV plain modulus t. Of each pair, the party with the smaller public key adds the
stream and the other subtracts it, so the pair's masks cancel in the sum. Each party also adds a
self-mask from a seed of its own, revealed only if its update is in the sum: a party that was
merely late (its pairwise seeds revealed to cancel its absence) is still hidden by it.

What a party adds to its encoded update is ``mask_for(...)``; what the sum's decryption loses to
masks is ``residual_masks(...)``, computed from the included parties' revealed self seeds and
their pairwise seeds with the parties whose updates are not in the sum.

A leaf: numpy, eth-keys (ECDH) and pycryptodome (HKDF, ChaCha20); nothing else of fedchain.
"""

from __future__ import annotations

import hmac
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from hashlib import sha256
from typing import Any

import numpy as np
from Crypto.Cipher import ChaCha20
from Crypto.Hash import SHA256
from Crypto.Protocol.KDF import HKDF
from eth_keys import keys
from eth_keys.backends.native.jacobian import fast_multiply

from .errors import CryptoError

SEED_BYTES = 32
PUBLIC_KEY_BYTES = 64
_NONCE = b"\x00" * 8  # every seed is used for one stream only
_FIELD = 2**256 - 2**32 - 977  # secp256k1's prime: points satisfy y^2 = x^3 + 7


class MaskingError(CryptoError):
    """A masking key, seed or peer set that cannot be used."""


@dataclass(frozen=True)
class MaskingKey:
    """One party's masking key for one round (never its account key)."""

    secret: bytes
    public: bytes
    """64 bytes: x || y on secp256k1 (what the party advertises on the ledger)."""

    @classmethod
    def derive(cls, root_secret: bytes, context: bytes) -> MaskingKey:
        """The round's masking key, derived from a party's long-lived secret and the round's
        ``context`` (chain, contract, task, round): the same in every restart, another every
        round, and not the root secret (HKDF is one-way)."""
        secret = _hkdf(root_secret, b"fedchain masking key|" + context)
        private = _private_key(secret)
        return cls(secret=private.to_bytes(), public=private.public_key.to_bytes())

    def prove(self, digest: bytes) -> bytes:
        """This key's signature of ``digest`` (65 bytes r || s || v, v in {27, 28}): the proof
        that whoever advertises the key holds it, so it cannot be replayed by another account."""
        signature = _private_key(self.secret).sign_msg_hash(digest).to_bytes()
        return bytes(signature[:64]) + bytes([signature[64] + 27])

    def self_seed(self, context: bytes) -> bytes:
        """The seed of this party's self-mask in the round (revealed only once it is in a sum)."""
        return _hkdf(self.secret, b"fedchain self mask|" + context)

    def pair_seed(self, peer_public: bytes, context: bytes) -> bytes:
        """The seed this party shares with the peer holding ``peer_public`` (ECDH + HKDF)."""
        return pair_seed(self.secret, self.public, peer_public, context)


def pair_seed(secret: bytes, public: bytes, peer_public: bytes, context: bytes) -> bytes:
    """The seed both ends of a pair derive: ECDH's x-coordinate, HKDF'd with both keys."""
    check_public_key(peer_public)
    if hmac.compare_digest(public, peer_public):
        raise MaskingError("a party cannot pair with its own masking key; a peer replayed it")
    point = (int.from_bytes(peer_public[:32], "big"), int.from_bytes(peer_public[32:], "big"))
    shared_x, _ = fast_multiply(point, int.from_bytes(secret, "big"))
    low, high = sorted((public, peer_public))
    info = b"fedchain pair mask|" + context + b"|" + low + high
    return _hkdf(shared_x.to_bytes(32, "big"), info)


def check_public_key(public: bytes) -> None:
    """A masking public key is 64 bytes and a point of secp256k1."""
    if not isinstance(public, bytes | bytearray) or len(public) != PUBLIC_KEY_BYTES:
        raise MaskingError(f"a masking public key is {PUBLIC_KEY_BYTES} bytes (x || y)")
    x, y = int.from_bytes(public[:32], "big"), int.from_bytes(public[32:], "big")
    if not (0 < x < _FIELD and 0 < y < _FIELD and (y * y - x * x * x - 7) % _FIELD == 0):
        raise MaskingError("a masking public key is not a point of secp256k1")


def stream(seed: bytes, length: int, modulus: int) -> np.ndarray:
    """``length`` values uniform in ``[0, modulus)`` from ``seed`` (ChaCha20, rejection sampling
    on the smallest power of two above ``modulus``: no bias)."""
    if len(seed) != SEED_BYTES:
        raise MaskingError(f"a mask seed is {SEED_BYTES} bytes, not {len(seed)}")
    bits = int(modulus - 1).bit_length()
    if not 2 <= modulus <= 2**62:
        raise MaskingError(f"the modulus must be between 2 and 2**62, not {modulus}")
    cipher = ChaCha20.new(key=seed, nonce=_NONCE)
    values = np.empty(0, dtype=np.int64)
    while values.size < length:
        wanted = max(int((length - values.size) * 1.1) + 16, 64)
        words = np.frombuffer(cipher.encrypt(b"\x00" * (8 * wanted)), dtype="<u8")
        candidates = (words >> np.uint64(64 - bits)).astype(np.int64)
        values = np.concatenate([values, candidates[candidates < modulus]])
    return values[:length]


def mask_for(
    key: MaskingKey,
    peers: Iterable[bytes],
    length: int,
    modulus: int,
    context: bytes,
) -> np.ndarray:
    """What a party adds (mod ``modulus``) to its encoded update: its self-mask, plus for each
    peer the pair's stream, added by the smaller public key and subtracted by the other."""
    total = stream(key.self_seed(context), length, modulus)
    for peer in peers:
        pair = stream(key.pair_seed(peer, context), length, modulus)
        total = (total + pair if key.public < peer else total - pair) % modulus
    return total


@dataclass(frozen=True)
class Reveal:
    """What an included party reveals once the sum is fixed: its self seed, and its pair seeds
    with the advertisers whose updates are not in the sum (keyed by their public keys)."""

    public: bytes
    self_seed: bytes
    absent_pair_seeds: Mapping[bytes, bytes]

    def to_bytes(self) -> bytes:
        parts = [b"fedchain-reveal-v1", self.public, self.self_seed]
        for peer in sorted(self.absent_pair_seeds):
            parts += [peer, self.absent_pair_seeds[peer]]
        return b"".join(parts)

    @classmethod
    def from_bytes(cls, blob: bytes) -> Reveal:
        magic = b"fedchain-reveal-v1"
        head = len(magic) + PUBLIC_KEY_BYTES + SEED_BYTES
        pair = PUBLIC_KEY_BYTES + SEED_BYTES
        if not blob.startswith(magic) or len(blob) < head or (len(blob) - head) % pair:
            raise MaskingError("a mask reveal blob is malformed; ask its party to reveal again")
        public = blob[len(magic) : len(magic) + PUBLIC_KEY_BYTES]
        seeds = {
            blob[offset : offset + PUBLIC_KEY_BYTES]: blob[
                offset + PUBLIC_KEY_BYTES : offset + pair
            ]
            for offset in range(head, len(blob), pair)
        }
        return cls(public, blob[len(magic) + PUBLIC_KEY_BYTES : head], seeds)


def reveal_for(key: MaskingKey, absent: Iterable[bytes], context: bytes) -> Reveal:
    """The reveal of an included party, given the public keys of the absent advertisers."""
    seeds = {peer: key.pair_seed(peer, context) for peer in absent}
    return Reveal(key.public, key.self_seed(context), seeds)


def residual_masks(
    reveals: Iterable[Reveal],
    absent: Iterable[bytes] | Mapping[bytes, Iterable[bytes]],
    length: int,
    modulus: int,
) -> np.ndarray:
    """What the masks leave in the sum of the included updates: every included self-mask, plus
    each included party's pair streams with absent advertisers (those pairs do not cancel).
    Subtract it (mod ``modulus``) from the decrypted sum to get the exact unmasked sum.

    ``absent`` is the absent advertisers' keys (every party paired with every other), or, with
    a sparse peer graph, each included party's absent peers keyed by its public key."""
    per_party = absent if isinstance(absent, Mapping) else None
    everyone = set() if per_party is not None else set(absent)
    total = np.zeros(length, dtype=np.int64)
    for reveal in reveals:
        total = (total + stream(reveal.self_seed, length, modulus)) % modulus
        absent_keys = set(per_party.get(reveal.public, ())) if per_party else everyone
        missing = absent_keys - set(reveal.absent_pair_seeds)
        if missing:
            raise MaskingError(
                f"a reveal lacks the seeds of {len(missing)} absent advertiser(s); its party "
                "must reveal again"
            )
        for peer in absent_keys:
            pair = stream(reveal.absent_pair_seeds[peer], length, modulus)
            total = (total + pair if reveal.public < peer else total - pair) % modulus
    return total


def sparse_degree(parties: int) -> int:
    """How many peers each party masks with among ``parties``: about 2 log2 n, or everyone when
    that is not fewer (so a graph is sparse only where it saves work)."""
    return min(parties - 1, 2 * math.ceil(math.log2(max(parties, 2))))


def peer_graph(publics: Iterable[bytes], seed: bytes) -> dict[bytes, set[bytes]]:
    """Who masks with whom: every party with every other when the round is small, else a random
    graph where each party picks ``sparse_degree(n) / 2`` others (so it has about that many to
    twice that many peers), the same for everyone who knows ``seed`` (on-chain randomness) and
    the round's advertisers. Pairs are symmetric: a peer's peer is the party itself."""
    keys = sorted(set(publics))
    graph: dict[bytes, set[bytes]] = {key: set() for key in keys}
    degree = sparse_degree(len(keys)) if len(keys) > 1 else 0
    if degree >= len(keys) - 1:
        for key in keys:
            graph[key] = {other for other in keys if other != key}
        return graph
    rng = np.random.default_rng(int.from_bytes(sha256(b"fedchain peers|" + seed).digest(), "big"))
    picks = math.ceil(degree / 2)
    for index, key in enumerate(keys):
        others = [other for other in range(len(keys)) if other != index]
        for chosen in rng.choice(others, size=picks, replace=False):
            graph[key].add(keys[int(chosen)])
            graph[keys[int(chosen)]].add(key)
    return graph


def round_context(chain_id: int, contract: str, task_id: int, round_number: int) -> bytes:
    """The bytes that tie seeds to one round of one task on one deployment."""
    text = f"{chain_id}|{contract.lower()}|{task_id}|{round_number}"
    return sha256(text.encode()).digest()


def _hkdf(secret: bytes, info: bytes) -> bytes:
    derived = HKDF(secret, SEED_BYTES, b"fedchain", SHA256, context=info)
    assert isinstance(derived, bytes)
    return derived


def _private_key(material: bytes) -> Any:
    """A valid secp256k1 private key from 32 bytes of key material (rehashed if out of range)."""
    candidate = material
    while True:
        try:
            return keys.PrivateKey(candidate)
        except Exception:  # 0 or >= the curve order: astronomically rare
            candidate = sha256(candidate).digest()
