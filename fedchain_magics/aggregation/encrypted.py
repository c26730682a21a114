"""Summing encrypted updates one at a time, and checking someone else's sum."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol


class _RunningSum(Protocol):
    def add(self, blob: bytes) -> None: ...

    def result(self) -> bytes: ...


class _SummingScheme(Protocol):
    def start_sum(self) -> _RunningSum: ...


def sum_encrypted(scheme: _SummingScheme, blobs: Iterable[bytes]) -> bytes:
    """Add the encrypted ``blobs`` into one aggregate blob.

    ``blobs`` may be a generator: each ciphertext is read, added to the running sum and
    dropped, so memory stays at one model's worth whatever the number of parties. A scheme
    with ``sum_blobs`` (every fedchain scheme) sums a large round in several processes, with
    the same bytes.
    """
    summing = getattr(scheme, "sum_blobs", None)
    if summing is not None:
        return bytes(summing(blobs))
    running = scheme.start_sum()
    for blob in blobs:
        running.add(blob)
    return running.result()


@dataclass(frozen=True)
class AggregateVerification:
    """The outcome of recomputing an aggregate from the committed updates."""

    expected_digest: bytes
    recomputed_digest: bytes
    update_count: int

    @property
    def matches(self) -> bool:
        return self.expected_digest == self.recomputed_digest


def verify_aggregate(
    scheme: _SummingScheme, blobs: Iterable[bytes], expected_digest: bytes
) -> AggregateVerification:
    """Recompute the sum of ``blobs`` with a public context and compare its sha256.

    Homomorphic addition of the same serialized inputs is deterministic for the schemes we ship
    (tested), so anyone holding the public context can check an aggregator's work.
    """
    count = 0

    def counted() -> Iterable[bytes]:
        nonlocal count
        for blob in blobs:
            count += 1
            yield blob

    aggregate = sum_encrypted(scheme, counted())
    return AggregateVerification(
        expected_digest=expected_digest,
        recomputed_digest=hashlib.sha256(aggregate).digest(),
        update_count=count,
    )
