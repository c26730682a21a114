"""Verifiable secret sharing (Feldman over secp256k1): how a masked round survives a silent party.

A dealer splits a scalar secret s (mod the curve order n) with a random polynomial
``f(x) = s + a1 x + ... + a_{k-1} x^{k-1}``: the share of the party at ``x`` is ``f(x)``, any
``k`` shares give back ``s`` (Lagrange at 0) and fewer give nothing. The dealer publishes the
commitments ``C_i = a_i G`` (``C_0 = s G``, the secret's public key), so whoever holds a share
checks it against them (``f(x) G == sum C_i x^i``) without learning anything more: a malformed
share is caught by its recipient or by anyone once it is revealed, never used.

A leaf: coincurve (libsecp256k1) for the curve; nothing else of fedchain.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from coincurve import PublicKey

from .errors import CryptoError

ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
"""n: the order of secp256k1's group, the field the shares live in."""
POINT_BYTES = 33  # a compressed point
SCALAR_BYTES = 32


class SharingError(CryptoError):
    """A dealing, share or set of shares that cannot be used."""


@dataclass(frozen=True)
class Dealing:
    """A secret's shares (``shares[i]`` is the share at x = i + 1) and the public commitments
    that let each be checked. ``commitments[0]`` is the secret times G."""

    commitments: tuple[bytes, ...]
    shares: tuple[int, ...]

    @property
    def threshold(self) -> int:
        return len(self.commitments)


def deal(secret: int, threshold: int, count: int) -> Dealing:
    """Splits ``secret`` into ``count`` shares of which any ``threshold`` recover it."""
    if not 0 < secret < ORDER:
        raise SharingError("a shared secret is a nonzero scalar below the curve order")
    if not 1 <= threshold <= count:
        raise SharingError(f"a threshold is between 1 and the {count} shares, not {threshold}")
    coefficients = [secret] + [1 + secrets.randbelow(ORDER - 1) for _ in range(threshold - 1)]
    commitments = tuple(public_of(c) for c in coefficients)
    shares = tuple(_evaluate(coefficients, x) for x in range(1, count + 1))
    return Dealing(commitments, shares)


def share_is_valid(x: int, share: int, commitments: Sequence[bytes]) -> bool:
    """Whether ``share`` is the dealing's value at ``x``: ``share G == sum C_i x^i``."""
    if not (0 < x < ORDER and 0 < share < ORDER and commitments):
        return False
    try:
        terms = [PublicKey(commitments[0])]
        power = 1
        for commitment in commitments[1:]:
            power = power * x % ORDER
            terms.append(PublicKey(commitment).multiply(power.to_bytes(SCALAR_BYTES, "big")))
        expected = PublicKey.combine_keys(terms) if len(terms) > 1 else terms[0]
    except Exception:  # a commitment that is not a point, or a sum at infinity
        return False
    return bool(expected.format() == public_of(share))


def commitments_are_valid(commitments: Sequence[bytes], threshold: int) -> bool:
    """Whether ``commitments`` are ``threshold`` points of secp256k1."""
    if len(commitments) != threshold:
        return False
    try:
        for commitment in commitments:
            if len(commitment) != POINT_BYTES:
                return False
            PublicKey(commitment)
    except Exception:
        return False
    return True


def combine(shares: Mapping[int, int], commitments: Sequence[bytes]) -> int:
    """The secret from shares (x -> value): the valid ones only, any ``len(commitments)`` of
    them; the result is checked against ``commitments[0]``."""
    valid = {x: s for x, s in shares.items() if share_is_valid(x, s, commitments)}
    threshold = len(commitments)
    if len(valid) < threshold:
        raise SharingError(
            f"{len(valid)} valid share(s) of {len(shares)} revealed, {threshold} needed: wait "
            "for more of the dealer's peers to reveal"
        )
    chosen = sorted(valid.items())[:threshold]
    secret = 0
    for x, share in chosen:
        numerator, denominator = 1, 1
        for other, _ in chosen:
            if other != x:
                numerator = numerator * other % ORDER
                denominator = denominator * (other - x) % ORDER
        secret = (secret + share * numerator * pow(denominator, -1, ORDER)) % ORDER
    if public_of(secret) != commitments[0]:  # cannot happen with valid shares: a safety net
        raise SharingError("the recovered secret does not match the dealer's commitment")
    return secret


def public_of(secret: int) -> bytes:
    """``secret`` times G, compressed (33 bytes)."""
    return bytes(PublicKey.from_secret(secret.to_bytes(SCALAR_BYTES, "big")).format())


def _evaluate(coefficients: Sequence[int], x: int) -> int:
    value = 0
    for coefficient in reversed(coefficients):
        value = (value * x + coefficient) % ORDER
    return value
