"""Errors raised by the homomorphic-encryption layer.

Every error this layer raises on purpose is a :class:`CryptoError`. Each message is one line:
what is wrong, then what to do about it. TenSEAL's own exceptions never escape unwrapped
from parsing or adding blobs.
"""

from __future__ import annotations


class CryptoError(Exception):
    """Base class of every error raised by ``fedchain_magics.crypto``."""


class MissingSecretKeyError(CryptoError):
    """Decryption (or exporting the secret key) was asked of a scheme that holds no secret key."""


class ContextMismatchError(CryptoError):
    """A blob was made under another encryption context (other keys, scheme or parameters)."""


class LengthMismatchError(CryptoError):
    """A blob holds a different number of values than the running sum or the expected length."""


class CorruptCiphertextError(CryptoError):
    """A blob is truncated, bit-flipped, malformed or otherwise unusable."""


class UpdateOverflowError(CryptoError):
    """Encrypting or summing would exceed what the scheme can represent without wrapping."""


class TooManyPartiesError(UpdateOverflowError):
    """A running sum would hold more parties than the context's ``max_parties`` allows."""


class InvalidUpdateError(CryptoError):
    """An update is not a non-empty, finite, one-dimensional vector of numbers."""


class InvalidContextError(CryptoError):
    """Context bytes cannot be loaded, or parameters cannot build a safe context."""


class EmptySumError(CryptoError):
    """An aggregate was asked of a running sum that holds no blob yet."""
