"""Pairwise masks that cancel in a sum, so that no single encrypted update can be read.

Each party of a round holds a fresh secp256k1 masking key for that round. Two parties agree on a
seed by ECDH (the x-coordinate of ``own_secret x peer_public``) expanded by HKDF-SHA256 with the
round and both public keys in its ``info``; ChaCha20 (OpenSSL's, through ``cryptography``) turns a
seed into a stream of values uniform modulo the BFV plain modulus t. Of each pair, the party with
the smaller public key adds the stream and the other subtracts it, so the pair's masks cancel in
the sum. Each party also adds a self-mask from a seed of its own, revealed only if its update is
in the sum: a party that was merely late (its pairwise seeds revealed to cancel its absence) is
still hidden by it.

What a party adds to its encoded update is ``mask_for(...)``; what the sum's decryption loses to
masks is ``residual_masks(...)``, computed from the included parties' revealed self seeds and
their pairwise seeds with the parties whose updates are not in the sum.

So that a party going silent after its update is in the sum never stalls the round, each party
deals, before submitting, Feldman-verifiable Shamir shares (``shamir.py``) of its masking secret
and of its self-mask secret to its peers, each share sealed to its recipient (``deal_shares``).
Once the sum is fixed, survivors reveal with their own seeds the shares that set allows: of an
included party's self secret, of an absent party's masking secret, never both for one party; any
``threshold`` valid shares rebuild a silent party's reveal (``recover_reveal``).

A leaf: numpy, eth-keys (keys, signatures), coincurve (ECDH), cryptography (ChaCha20),
pycryptodome (HKDF, AES-GCM) and ``shamir``.
"""

from __future__ import annotations

import hmac
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from hashlib import sha256
from typing import Any

import numpy as np
from coincurve import PublicKey
from Crypto.Cipher import AES
from Crypto.Hash import SHA256
from Crypto.Protocol.KDF import HKDF
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms
from eth_keys import keys

from . import shamir
from .errors import CryptoError

SEED_BYTES = 32
PUBLIC_KEY_BYTES = 64
_NONCE = b"\x00" * 8  # every seed is used for one stream only
# OpenSSL's ChaCha20 takes the 64-bit block counter and the 64-bit nonce as one 16-byte value:
# counter 0 and _NONCE give the original (DJB) ChaCha20 stream, the one pycryptodome's
# ``ChaCha20.new(key=seed, nonce=_NONCE)`` gives (tests/crypto/test_masking.py checks it)
_COUNTER_AND_NONCE = b"\x00" * 8 + _NONCE
_FIELD = 2**256 - 2**32 - 977  # secp256k1's prime: points satisfy y^2 = x^3 + 7


class MaskingError(CryptoError):
    """A masking key, seed or peer set that cannot be used."""


@dataclass(frozen=True)
class MaskingKey:
    """One party's masking key for one round (never its account key)."""

    secret: bytes
    public: bytes
    """64 bytes: x || y on secp256k1 (what the party advertises on the ledger)."""
    self_secret: bytes
    """The scalar its self-mask seed comes from: independent of ``secret``, so rebuilding an
    absent party's masking secret from shares never reveals its self-mask."""

    @classmethod
    def derive(cls, root_secret: bytes, context: bytes) -> MaskingKey:
        """The round's masking key, derived from a party's long-lived secret and the round's
        ``context`` (chain, contract, task, round): the same in every restart, another every
        round, and not the root secret (HKDF is one-way)."""
        private = _private_key(_hkdf(root_secret, b"fedchain masking key|" + context))
        self_private = _private_key(_hkdf(root_secret, b"fedchain self secret|" + context))
        return cls(
            secret=private.to_bytes(),
            public=private.public_key.to_bytes(),
            self_secret=self_private.to_bytes(),
        )

    def prove(self, digest: bytes) -> bytes:
        """This key's signature of ``digest`` (65 bytes r || s || v, v in {27, 28}): the proof
        that whoever advertises the key holds it, so it cannot be replayed by another account."""
        signature = _private_key(self.secret).sign_msg_hash(digest).to_bytes()
        return bytes(signature[:64]) + bytes([signature[64] + 27])

    def self_seed(self, context: bytes) -> bytes:
        """The seed of this party's self-mask in the round (revealed only once it is in a sum)."""
        return self_seed_of(self.self_secret, context)

    def pair_seed(self, peer_public: bytes, context: bytes) -> bytes:
        """The seed this party shares with the peer holding ``peer_public`` (ECDH + HKDF)."""
        return pair_seed(self.secret, self.public, peer_public, context)


def self_seed_of(self_secret: bytes, context: bytes) -> bytes:
    """The self-mask seed of the party whose self secret is ``self_secret``."""
    return _hkdf(self_secret, b"fedchain self mask|" + context)


def pair_seed(secret: bytes, public: bytes, peer_public: bytes, context: bytes) -> bytes:
    """The seed both ends of a pair derive: ECDH's x-coordinate, HKDF'd with both keys."""
    low, high = sorted((public, peer_public))
    info = b"fedchain pair mask|" + context + b"|" + low + high
    return _hkdf(_shared_x(secret, public, peer_public), info)


def _shared_x(secret: bytes, public: bytes, peer_public: bytes) -> bytes:
    """ECDH between ``secret`` (whose public key is ``public``) and ``peer_public``."""
    check_public_key(peer_public)
    if hmac.compare_digest(public, peer_public):
        raise MaskingError("a party cannot pair with its own masking key; a peer replayed it")
    shared = PublicKey(b"\x04" + bytes(peer_public)).multiply(bytes(secret))  # libsecp256k1
    return bytes(shared.format(compressed=False)[1:33])


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
    keystream = Cipher(algorithms.ChaCha20(seed, _COUNTER_AND_NONCE), mode=None).encryptor()
    values = np.empty(0, dtype=np.int64)
    while values.size < length:
        wanted = max(int((length - values.size) * 1.1) + 16, 64)
        words = np.frombuffer(keystream.update(bytes(8 * wanted)), dtype="<u8")
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


ShareMap = Mapping[bytes, tuple[int, int]]
"""Shares held of peers' secrets: the dealer's public key -> (x, share)."""


@dataclass(frozen=True)
class Reveal:
    """What an included party reveals once the sum is fixed: its self seed, its pair seeds with
    the advertisers whose updates are not in the sum (keyed by their public keys), and the
    shares it holds that the sum allows: of its included peers' self secrets
    (``self_shares``) and of its absent peers' masking secrets (``secret_shares``)."""

    public: bytes
    self_seed: bytes
    absent_pair_seeds: Mapping[bytes, bytes]
    self_shares: ShareMap = field(default_factory=dict)
    secret_shares: ShareMap = field(default_factory=dict)

    def to_bytes(self) -> bytes:
        parts = [_REVEAL_MAGIC, self.public, self.self_seed]
        parts.append(len(self.absent_pair_seeds).to_bytes(2, "big"))
        for peer in sorted(self.absent_pair_seeds):
            parts += [peer, self.absent_pair_seeds[peer]]
        for shares in (self.self_shares, self.secret_shares):
            parts.append(len(shares).to_bytes(2, "big"))
            for dealer in sorted(shares):
                x, share = shares[dealer]
                parts += [dealer, x.to_bytes(2, "big"), share.to_bytes(32, "big")]
        return b"".join(parts)

    @classmethod
    def from_bytes(cls, blob: bytes) -> Reveal:
        reader = _Reader(blob, "a mask reveal blob is malformed; ask its party to reveal again")
        reader.expect(_REVEAL_MAGIC)
        public, self_seed = reader.take(PUBLIC_KEY_BYTES), reader.take(SEED_BYTES)
        seeds = {}
        for _ in range(reader.integer(2)):
            peer = reader.take(PUBLIC_KEY_BYTES)
            seeds[peer] = reader.take(SEED_BYTES)
        share_maps: list[dict[bytes, tuple[int, int]]] = []
        for _ in range(2):
            shares = {}
            for _ in range(reader.integer(2)):
                dealer = reader.take(PUBLIC_KEY_BYTES)
                shares[dealer] = (reader.integer(2), reader.integer(32))
            share_maps.append(shares)
        reader.end()
        return cls(public, self_seed, seeds, share_maps[0], share_maps[1])


_REVEAL_MAGIC = b"fedchain-reveal-v2"
_SHARES_MAGIC = b"fedchain-shares-v1"
_SEALED_BYTES = 2 * 32 + 16  # both shares, then AES-GCM's tag


def reveal_for(
    key: MaskingKey,
    absent: Iterable[bytes],
    context: bytes,
    self_shares: ShareMap | None = None,
    secret_shares: ShareMap | None = None,
) -> Reveal:
    """The reveal of an included party, given the public keys of the absent advertisers (and
    the shares of its peers' secrets it holds that the sum allows it to reveal)."""
    seeds = {peer: key.pair_seed(peer, context) for peer in absent}
    return Reveal(
        key.public,
        key.self_seed(context),
        seeds,
        dict(self_shares or {}),
        dict(secret_shares or {}),
    )


@dataclass(frozen=True)
class ShareBundle:
    """A dealer's Shamir shares for the round: for each peer (its ``x`` is its rank among the
    recipients' sorted keys, from 1) the shares of the dealer's masking secret and self secret,
    sealed to that peer; and the Feldman commitments of both sharings, the masking secret's
    first commitment being the dealer's advertised key."""

    dealer: bytes
    secret_commitments: tuple[bytes, ...]
    self_commitments: tuple[bytes, ...]
    sealed: Mapping[bytes, bytes]

    @property
    def threshold(self) -> int:
        return len(self.secret_commitments)

    def x_of(self, recipient: bytes) -> int:
        """The recipient's share index (1-based rank among the sorted recipient keys)."""
        return sorted(self.sealed).index(recipient) + 1

    def to_bytes(self) -> bytes:
        parts = [_SHARES_MAGIC, self.dealer, self.threshold.to_bytes(2, "big")]
        parts += [*self.secret_commitments, *self.self_commitments]
        parts.append(len(self.sealed).to_bytes(2, "big"))
        for recipient in sorted(self.sealed):
            parts += [recipient, self.sealed[recipient]]
        return b"".join(parts)

    @classmethod
    def from_bytes(cls, blob: bytes) -> ShareBundle:
        reader = _Reader(blob, "a share bundle is malformed: its dealer is left out of the round")
        reader.expect(_SHARES_MAGIC)
        dealer = reader.take(PUBLIC_KEY_BYTES)
        threshold = reader.integer(2)
        commitments = [reader.take(shamir.POINT_BYTES) for _ in range(2 * threshold)]
        sealed = {}
        for _ in range(reader.integer(2)):
            recipient = reader.take(PUBLIC_KEY_BYTES)
            sealed[recipient] = reader.take(_SEALED_BYTES)
        reader.end()
        return cls(dealer, tuple(commitments[:threshold]), tuple(commitments[threshold:]), sealed)

    def check(self, dealer: bytes, peers: Iterable[bytes], threshold: int) -> None:
        """Everything anyone can check without a recipient's key; raises MaskingError naming
        what is wrong (the dealer is then left out of the round)."""
        wanted = set(peers)
        if self.dealer != dealer:
            raise MaskingError("the share bundle is for another masking key than its dealer's")
        if set(self.sealed) != wanted:
            raise MaskingError(
                f"the share bundle seals shares to {len(self.sealed)} keys, not to the dealer's "
                f"{len(wanted)} peers of the round"
            )
        if not (
            shamir.commitments_are_valid(self.secret_commitments, threshold)
            and shamir.commitments_are_valid(self.self_commitments, threshold)
        ):
            raise MaskingError(
                f"the share bundle's commitments are not {threshold} points of secp256k1 each"
            )
        if self.secret_commitments[0] != compressed(dealer):
            raise MaskingError("the share bundle shares another secret than the dealer's key's")


def deal_shares(
    key: MaskingKey, peers: Iterable[bytes], threshold: int, context: bytes
) -> ShareBundle:
    """The party's shares of its masking secret and self secret for ``peers``, any
    ``threshold`` of which rebuild either, each pair of shares sealed to its peer."""
    recipients = sorted(set(peers))
    if not recipients:
        return ShareBundle(key.public, (), (), {})
    secret = shamir.deal(int.from_bytes(key.secret, "big"), threshold, len(recipients))
    own = shamir.deal(int.from_bytes(key.self_secret, "big"), threshold, len(recipients))
    sealed = {}
    for index, recipient in enumerate(recipients):
        plain = secret.shares[index].to_bytes(32, "big") + own.shares[index].to_bytes(32, "big")
        cipher = _share_cipher(key.secret, key.public, key.public, recipient, context)
        body, tag = cipher.encrypt_and_digest(plain)
        sealed[recipient] = body + tag
    return ShareBundle(key.public, secret.commitments, own.commitments, sealed)


def open_share(
    bundle: ShareBundle, recipient: MaskingKey, context: bytes, *, check: bool = True
) -> tuple[int, int, int]:
    """(x, share of the dealer's masking secret, share of its self secret): the recipient's
    shares, unsealed and (``check``) checked against the dealer's commitments; a reveal skips
    the check, since whoever rebuilds a secret checks every share it uses."""
    sealed = bundle.sealed.get(recipient.public)
    if sealed is None:
        raise MaskingError("the dealer sealed no share to this party")
    cipher = _share_cipher(
        recipient.secret, recipient.public, bundle.dealer, recipient.public, context
    )
    try:
        plain = cipher.decrypt_and_verify(sealed[:64], sealed[64:])
    except ValueError:
        raise MaskingError(
            "a share sealed to this party does not open (malformed or sealed to another key)"
        ) from None
    x = bundle.x_of(recipient.public)
    secret_share = int.from_bytes(plain[:32], "big")
    self_share = int.from_bytes(plain[32:], "big")
    if check and not (
        shamir.share_is_valid(x, secret_share, bundle.secret_commitments)
        and shamir.share_is_valid(x, self_share, bundle.self_commitments)
    ):
        raise MaskingError("a share sealed to this party does not match its dealer's commitments")
    return x, secret_share, self_share


def recover_secret(bundle: ShareBundle, shares: Mapping[int, int]) -> bytes:
    """An absent dealer's masking secret from its peers' revealed shares (x -> share)."""
    try:
        return shamir.combine(shares, bundle.secret_commitments).to_bytes(32, "big")
    except shamir.SharingError as error:
        raise MaskingError(f"cannot rebuild an absent party's masking key: {error}") from None


def recover_reveal(
    bundle: ShareBundle,
    self_shares: Mapping[int, int],
    absent_secrets: Mapping[bytes, bytes],
    context: bytes,
) -> Reveal:
    """The reveal of a silent included dealer: its self seed from its peers' shares, and its
    pair seeds with its absent peers from those peers' rebuilt masking secrets."""
    try:
        self_secret = shamir.combine(self_shares, bundle.self_commitments)
    except shamir.SharingError as error:
        raise MaskingError(f"cannot rebuild a silent party's self-mask: {error}") from None
    seeds = {
        peer: pair_seed(secret, peer, bundle.dealer, context)
        for peer, secret in absent_secrets.items()
    }
    return Reveal(bundle.dealer, self_seed_of(self_secret.to_bytes(32, "big"), context), seeds)


def compressed(public: bytes) -> bytes:
    """A 64-byte x || y public key in its 33-byte compressed form."""
    check_public_key(public)
    return bytes([2 + (public[-1] & 1)]) + public[:32]


def _share_cipher(
    secret: bytes, public: bytes, dealer: bytes, recipient: bytes, context: bytes
) -> Any:
    """AES-256-GCM keyed by the dealer-to-recipient share key (ECDH + HKDF, with another info
    than the pair's mask seed, so opening shares reveals nothing of the masks); one message per
    key, so a fixed nonce."""
    peer = recipient if public == dealer else dealer
    info = b"fedchain share key|" + context + b"|" + dealer + recipient
    key = _hkdf(_shared_x(secret, public, peer), info)
    return AES.new(key, AES.MODE_GCM, nonce=b"\x00" * 12)


class _Reader:
    """Reads a length-prefixed blob, raising one MaskingError on any inconsistency."""

    def __init__(self, blob: bytes, message: str) -> None:
        self.blob, self.offset, self.message = bytes(blob), 0, message

    def take(self, size: int) -> bytes:
        if self.offset + size > len(self.blob):
            raise MaskingError(self.message)
        chunk = self.blob[self.offset : self.offset + size]
        self.offset += size
        return chunk

    def integer(self, size: int) -> int:
        return int.from_bytes(self.take(size), "big")

    def expect(self, magic: bytes) -> None:
        if self.take(len(magic)) != magic:
            raise MaskingError(self.message)

    def end(self) -> None:
        if self.offset != len(self.blob):
            raise MaskingError(self.message)


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


def lone_parties(graph: Mapping[bytes, set[bytes]], summed: Iterable[bytes]) -> set[bytes]:
    """The parties of ``summed`` that must leave the sum so that each one left has a mask peer
    in it: a party whose peers are all absent would reveal every seed of its masks. Leaving
    one out can leave another alone, so this repeats until none is."""
    left = set(summed)
    lone: set[bytes] = set()
    while True:
        newly = {party for party in left if not graph.get(party, set()) & left}
        if not newly:
            return lone
        lone |= newly
        left -= newly


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
