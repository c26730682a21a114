"""Helpers shared by the crypto tests (fixtures live in ``conftest``)."""

from __future__ import annotations

from dataclasses import dataclass

from fedchain_magics.crypto import BfvFixedPointScheme, EncryptionScheme, load_scheme


@dataclass(frozen=True)
class Keys:
    """One context seen from both sides of a round."""

    secret: EncryptionScheme  # the key holder's scheme (can decrypt)
    public: EncryptionScheme  # loaded from public_context_bytes() (cannot decrypt)


def keys_of(secret: EncryptionScheme) -> Keys:
    return Keys(secret=secret, public=load_scheme(secret.public_context_bytes()))


def tolerance(scheme: EncryptionScheme, parties: int) -> float:
    """Max abs error per coordinate of a decrypted sum of ``parties`` updates."""
    if isinstance(scheme, BfvFixedPointScheme):
        return parties * 2.0**-25 + 1e-12  # each party's rounding, plus float noise
    return 1e-6


def assert_one_line(error: BaseException) -> None:
    """An actionable message: one line, saying what is wrong, then what to do after a ';'."""
    message = str(error)
    assert message, "empty message"
    assert "\n" not in message, message
    assert ";" in message, message


def sum_blobs(scheme: EncryptionScheme, blobs: list[bytes]) -> bytes:
    running = scheme.start_sum()
    for blob in blobs:
        running.add(blob)
    return running.result()
