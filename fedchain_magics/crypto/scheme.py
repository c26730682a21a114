"""The interface every encryption scheme implements, and the streaming encrypted sum.

Roles: the key holder calls ``XScheme.generate()`` and publishes ``public_context_bytes()``;
participants ``load_scheme()`` those bytes and ``encrypt()`` their (weighted) update; anyone
holding the public context sums blobs with ``start_sum()``; only the key holder can
``decrypt()``. Everything crosses process boundaries as bytes.
"""

from __future__ import annotations

import hashlib
import math
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from ._container import (
    FORMAT_VERSION,
    BlobHeader,
    ContextRecord,
    first_chunk_offset,
    pack_blob,
    pack_context,
    unpack_blob_spans,
)
from ._seal_wire import ALIGNMENT, CiphertextWire
from ._tenseal import WITH_SECRET, one_line
from .errors import (
    ContextMismatchError,
    CorruptCiphertextError,
    EmptySumError,
    InvalidContextError,
    InvalidUpdateError,
    LengthMismatchError,
    MissingSecretKeyError,
    TooManyPartiesError,
    UpdateOverflowError,
)

#: SEAL's default security level, which TenSEAL enforces when it builds a context.
SECURITY_BITS = 128
#: The most coefficient-modulus bits a ring of each degree may hold at 128-bit security (the
#: HomomorphicEncryption.org standard, as SEAL's ``CoeffModulus.MaxBitCount(N, tc128)``):
#: every ring a scheme picks must fit, or TenSEAL refuses to build the context.
MAX_COEFF_MODULUS_BITS = {1024: 27, 2048: 54, 4096: 109, 8192: 218, 16384: 438, 32768: 881}
#: SEAL's largest coefficient prime.
MAX_PRIME_BITS = 60


class EncryptionScheme(ABC):
    """Additively homomorphic encryption of float vectors, chunked into ciphertexts.

    Build one with ``BfvFixedPointScheme.generate()``, ``CkksScheme.generate()`` or
    ``load_scheme(context_bytes)``; the constructor is for those functions only.
    """

    name: ClassVar[str]
    #: The end of an overflow message: which parameters buy more headroom.
    _overflow_remedy: ClassVar[str]

    def __init__(self, tenseal_context: Any, public_tenseal: bytes, *, max_parties: int) -> None:
        if not isinstance(max_parties, int) or max_parties < 1:
            raise InvalidContextError(
                f"max_parties must be a positive integer, got {max_parties!r}; pass e.g. 100"
            )
        self._context = tenseal_context
        self._public_tenseal = public_tenseal
        self._max_parties = max_parties
        record = ContextRecord(self.name, self._parameters(), public_tenseal, None)
        self._public_context_bytes = pack_context(record)
        self._context_sha256 = hashlib.sha256(self._public_context_bytes).hexdigest()

    # ----- what a scheme must provide -------------------------------------------------------

    @property
    @abstractmethod
    def slots_per_ciphertext(self) -> int:
        """How many values one ciphertext holds; longer vectors are chunked."""

    @property
    @abstractmethod
    def capacity(self) -> float:
        """The largest |value| an aggregate (a sum over parties) can hold per coordinate."""

    @abstractmethod
    def max_abs_value_per_party(self, max_parties: int | None = None) -> float:
        """The largest |value| one party may encrypt so that ``max_parties`` of them still fit.

        ``max_parties`` defaults to this context's own; ``encrypt()`` enforces that default.
        """

    @abstractmethod
    def _parameters(self) -> dict[str, Any]:
        """JSON-able parameters that, with the TenSEAL context, define this scheme."""

    @abstractmethod
    def _encode(self, values: np.ndarray) -> np.ndarray:
        """Map checked float64 values to what ``_encrypt_chunk`` takes."""

    @abstractmethod
    def _encrypt_chunk(self, encoded: np.ndarray) -> Any:
        """Encrypt at most ``slots_per_ciphertext`` encoded values into one TenSEAL vector."""

    @abstractmethod
    def _load_chunk(self, data: bytes) -> Any:
        """Deserialize one TenSEAL vector under this context."""

    def _wire(self) -> CiphertextWire | None:
        """Reads this scheme's serialized ciphertexts as numpy coefficients, so a running sum
        adds them at numpy speed (``_seal_wire.py``); None: sums go through TenSEAL."""
        return None

    def _serialize_chunk(self, vector: Any) -> bytes:
        """One encrypted TenSEAL vector as a blob's chunk."""
        wire = self._wire()
        serialized: bytes = vector.serialize()
        return serialized if wire is None else wire.uncompressed(serialized)

    @abstractmethod
    def _decrypt_chunks(self, vectors: Sequence[Any]) -> np.ndarray:
        """Decrypt and decode TenSEAL vectors into one float64 array."""

    # ----- keys and context -----------------------------------------------------------------

    @property
    def has_secret_key(self) -> bool:
        """Whether this scheme can decrypt (only the key holder's can)."""
        return bool(self._context.has_secret_key())

    @property
    def max_parties(self) -> int:
        """The most parties a sum may hold; sets each party's bound, capacity / max_parties."""
        return self._max_parties

    @property
    def context_sha256(self) -> str:
        """Hex SHA-256 of ``public_context_bytes()``: names this context in every blob."""
        return self._context_sha256

    def public_context_bytes(self) -> bytes:
        """The context participants and aggregators load: public key, no secret/galois/relin."""
        return self._public_context_bytes

    def secret_context_bytes(self) -> bytes:
        """The key holder's context, secret key included: store it privately, never publish it."""
        if not self.has_secret_key:
            raise MissingSecretKeyError(
                "this scheme was loaded from a public context and holds no secret key; "
                "only the key holder's scheme (from generate() or its secret bytes) can export it"
            )
        secret = self._context.serialize(**WITH_SECRET)
        return pack_context(
            ContextRecord(self.name, self._parameters(), self._public_tenseal, secret)
        )

    def describe(self) -> dict[str, Any]:
        """JSON-able parameters and capacity, for the README and the chain's model spec."""
        return {
            "scheme": self.name,
            "format_version": FORMAT_VERSION,
            "context_sha256": self.context_sha256,
            **self._parameters(),
            "slots_per_ciphertext": self.slots_per_ciphertext,
            "capacity": self.capacity,
            "max_abs_value_per_party": self.max_abs_value_per_party(),
            "coeff_modulus_bits": sum(self._parameters()["coeff_mod_bit_sizes"]),
            "security_bits": SECURITY_BITS,
        }

    # ----- encrypt, sum, decrypt ------------------------------------------------------------

    def encrypt(self, values: npt.ArrayLike) -> bytes:
        """Encrypt a 1-D float vector of any length into one blob (ceil(n / slots) ciphertexts).

        Raises ``InvalidUpdateError`` for non-finite or non-1-D input, and
        ``UpdateOverflowError`` if any |value| exceeds ``max_abs_value_per_party()``.
        """
        update = _as_update(values)
        self._check_bound(update)
        return self._encrypt_encoded(self._encode(update))

    def _encrypt_encoded(self, encoded: np.ndarray) -> bytes:
        """One blob of ``encoded`` (already in the scheme's plaintext encoding)."""
        chunks = self._encrypt_chunks(encoded)
        header = BlobHeader(self.name, self.context_sha256, encoded.size, len(chunks), 1)
        return self._pack(header, chunks)

    def _pack(self, header: BlobHeader, chunks: list[bytes]) -> bytes:
        """A blob of these chunks; when a wire reads them, their coefficients 8-byte aligned
        in it (chunks come padded for any place but the first: see ``CiphertextWire.chunk``)."""
        wire = self._wire()
        if wire is not None:
            residue = -first_chunk_offset(header.scheme_name) % ALIGNMENT
            chunks = [wire.uncompressed(chunks[0], residue), *chunks[1:]]
        return pack_blob(header, chunks)

    def _encrypt_chunks(self, encoded: np.ndarray) -> list[bytes]:
        """The serialized ciphertexts of ``encoded``, ``slots_per_ciphertext`` values each (the
        parallel path, ``crypto/parallel.py``, encrypts runs of them in other processes)."""
        slots = self.slots_per_ciphertext
        return [
            self._serialize_chunk(self._encrypt_chunk(encoded[start : start + slots]))
            for start in range(0, encoded.size, slots)
        ]

    def start_sum(self, expected_length: int | None = None) -> RunningSum:
        """Start a streaming sum of blobs (memory: one aggregate, whatever the party count)."""
        return RunningSum(self, expected_length)

    def sum_blobs(self, blobs: Iterable[bytes], expected_length: int | None = None) -> bytes:
        """The sum of ``blobs`` (byte-identical to a ``start_sum()`` fed one by one): in one
        process when it sums at memory speed, else in several when the work is large enough to
        gain (``crypto/parallel.py``)."""
        from .parallel import sum_blobs

        return sum_blobs(self, blobs, expected_length)

    @property
    def sums_at_memory_speed(self) -> bool:
        """Whether a running sum adds this scheme's ciphertexts as numpy arrays, as fast as
        their bytes are read (BFV): then one process sums fastest, and worker processes would
        only move bytes. Otherwise (CKKS) each add goes through TenSEAL."""
        return self._wire() is not None

    def decrypt(self, blob: bytes) -> np.ndarray:
        """Decrypt a blob (usually an aggregate) into a float64 vector: the sum, not the mean."""
        return self._decrypt_chunks(self._chunks_to_decrypt(blob))

    def _chunks_to_decrypt(self, blob: bytes) -> list[Any]:
        """The blob's TenSEAL vectors, once this scheme is known to hold the secret key."""
        if not self.has_secret_key:
            raise MissingSecretKeyError(
                "this scheme holds only the public context and cannot decrypt; "
                "send the aggregate to the key holder, who loads secret_context_bytes()"
            )
        header, spans = self._read_blob(blob)
        return self._load_chunks(header, blob, spans)

    def _check_bound(self, update: np.ndarray) -> None:
        bound = self.max_abs_value_per_party()
        index = int(np.argmax(np.abs(update)))
        if abs(update[index]) > bound:
            raise UpdateOverflowError(
                f"update value {update[index]:.6g} at index {index} exceeds the per-party bound "
                f"{bound:.6g} (capacity {self.capacity:.6g} / max_parties {self.max_parties}); "
                f"clip the update to [-{bound:.6g}, {bound:.6g}] or use smaller weights, "
                f"{self._overflow_remedy}"
            )

    def _read_blob(
        self, blob: bytes, check_checksum: bool = True
    ) -> tuple[BlobHeader, list[tuple[int, int]]]:
        """Parse a blob and check it belongs to this context (no TenSEAL work yet): its
        header and where each chunk lies in it."""
        header, spans = unpack_blob_spans(blob, check_checksum=check_checksum)
        if header.scheme_name != self.name:
            raise ContextMismatchError(
                f"blob was made with scheme {header.scheme_name!r}, this context is {self.name!r}; "
                "encrypt the update again with this round's public context"
            )
        if header.context_sha256 != self.context_sha256:
            raise ContextMismatchError(
                f"blob was made under context {header.context_sha256[:12]}..., this one is "
                f"{self.context_sha256[:12]}...; encrypt the update again with this round's "
                "public context"
            )
        expected_chunks = math.ceil(header.vector_length / self.slots_per_ciphertext)
        if header.chunk_count != expected_chunks:
            raise CorruptCiphertextError(
                f"blob declares {header.chunk_count} ciphertexts for {header.vector_length} "
                f"values, expected {expected_chunks}; re-fetch the blob or ask its sender to "
                "encrypt it again"
            )
        return header, spans

    def _load_chunks(
        self, header: BlobHeader, blob: bytes, spans: Sequence[tuple[int, int]]
    ) -> list[Any]:
        """Deserialize every chunk, wrapping TenSEAL's errors and checking each chunk's size."""
        slots = self.slots_per_ciphertext
        vectors = []
        for index, (start, end) in enumerate(spans):
            expected_size = min(slots, header.vector_length - index * slots)
            try:
                vector = self._load_chunk(blob[start:end])
                size = vector.size()
            except Exception as error:  # TenSEAL raises ValueError, RuntimeError, TypeError
                raise CorruptCiphertextError(
                    f"ciphertext {index} of the blob cannot be read ({one_line(error)}); "
                    "re-fetch the blob or ask its sender to encrypt again"
                ) from error
            self._check_chunk_size(index, size, expected_size)
            vectors.append(vector)
        return vectors

    def _chunk_coefficients(
        self,
        wire: CiphertextWire,
        header: BlobHeader,
        blob: bytes,
        spans: Sequence[tuple[int, int]],
    ) -> list[np.ndarray]:
        """As :meth:`_load_chunks`, the chunks read as their coefficients where they lie in
        ``blob``: arrays of consecutive chunks that stack to ``(chunk_count, *wire.shape)``.
        The full chunks, laid out alike, are read as one array (one numpy call checks them
        all); a last, shorter chunk, or compressed ones, one at a time."""
        slots = self.slots_per_ciphertext
        arrays = [self._one_chunk_coefficients(wire, header, blob, spans[0], 0)]
        read = 1
        full = header.vector_length // slots  # the chunks holding ``slots`` values each
        if full > 2:  # the first is padded apart from the rest: see ``_pack``
            (start, end), stride = spans[1], spans[2][0] - spans[1][0]
            alike = all(
                span == (start + index * stride, end + index * stride)
                for index, span in enumerate(spans[1:full])
            )
            try:
                rows = (
                    wire.coefficient_rows(blob, start, end - start, stride, full - 1, 1)
                    if alike
                    else None
                )
            except CorruptCiphertextError as error:
                raise CorruptCiphertextError(
                    f"the blob cannot be read: {error}; re-fetch the blob or ask its sender "
                    "to encrypt it again"
                ) from error
            if rows is not None:
                self._check_chunk_size(1, rows[0], slots)
                arrays.append(rows[1])
                read = full
        arrays += [
            self._one_chunk_coefficients(wire, header, blob, spans[index], index)
            for index in range(read, len(spans))
        ]
        return arrays

    def _one_chunk_coefficients(
        self,
        wire: CiphertextWire,
        header: BlobHeader,
        blob: bytes,
        span: tuple[int, int],
        index: int,
    ) -> np.ndarray:
        """Chunk ``index``'s coefficients, as one row."""
        start, end = span
        try:
            size, coefficients = wire.coefficients(memoryview(blob)[start:end])
        except CorruptCiphertextError as error:
            raise CorruptCiphertextError(
                f"ciphertext {index} of the blob cannot be read: {error}; "
                "re-fetch the blob or ask its sender to encrypt again"
            ) from error
        slots = self.slots_per_ciphertext
        self._check_chunk_size(index, size, min(slots, header.vector_length - index * slots))
        return coefficients[np.newaxis]

    @staticmethod
    def _check_chunk_size(index: int, size: int, expected: int) -> None:
        if size != expected:
            raise CorruptCiphertextError(
                f"ciphertext {index} holds {size} values, its header says {expected}; "
                "re-fetch the blob or ask its sender to encrypt again"
            )


class RunningSum:
    """An encrypted sum built one blob at a time; needs only the public context.

    Memory stays at one aggregate (O(model size)) however many blobs are added. Addition is
    exact modular arithmetic, so ``result()`` is byte-identical whatever the order of ``add``.
    An aggregate blob may be added too: it counts as its ``party_count`` parties.
    """

    def __init__(self, scheme: EncryptionScheme, expected_length: int | None = None) -> None:
        self._scheme = scheme
        self._vector_length = expected_length
        self._vectors: list[Any] = []  # the TenSEAL path's sum
        self._wire = scheme._wire()
        self._coefficients: np.ndarray | None = None  # the numpy path's: chunk x ciphertext
        self._adds_since_reduction = 0  # coefficients below (this + 1) x the largest prime
        self._count = 0

    @property
    def count(self) -> int:
        """How many parties the sum holds so far."""
        return self._count

    @property
    def vector_length(self) -> int | None:
        """The expected length, or the first blob's; None while unknown."""
        return self._vector_length

    def add(self, blob: bytes, *, check_checksum: bool = True) -> None:
        """Add one blob; on any error the sum is left as it was.

        ``check_checksum=False`` skips the blob's SHA-256 checksum, for bytes already checked
        against their digest (``BlobStore.get`` checks every blob it returns): everything
        else about the blob is still checked.
        """
        header, spans = self._scheme._read_blob(blob, check_checksum)
        if self._vector_length is not None and header.vector_length != self._vector_length:
            raise LengthMismatchError(
                f"blob holds {header.vector_length} values but this sum holds "
                f"{self._vector_length}; every party must encrypt the same model's flattened "
                "parameters"
            )
        total = self._count + header.party_count
        if total > self._scheme.max_parties:
            raise TooManyPartiesError(
                f"adding this blob would make {total} parties, above this context's max_parties "
                f"{self._scheme.max_parties}; split the parties over rounds or generate a context "
                "with a larger max_parties"
            )
        if self._wire is not None:
            arrays = self._scheme._chunk_coefficients(self._wire, header, blob, spans)
            self._add_coefficients(arrays)
        else:
            self._add_vectors(self._scheme._load_chunks(header, blob, spans))
        self._count = total
        self._vector_length = header.vector_length

    def _add_vectors(self, vectors: list[Any]) -> None:
        if self._vectors:
            try:
                vectors = [a + b for a, b in zip(self._vectors, vectors, strict=True)]
            except Exception as error:  # TenSEAL: scale or parameter mismatch
                raise CorruptCiphertextError(
                    f"blob cannot be added to the sum ({one_line(error)}); "
                    "ask its sender to encrypt again with this round's public context"
                ) from error
        self._vectors = vectors

    def _add_coefficients(self, arrays: list[np.ndarray]) -> None:
        """Add checked coefficients (each below its prime) without reducing, until another
        add could overflow a uint64: then reduce modulo the primes, as SEAL's add does."""
        assert self._wire is not None
        if self._coefficients is None:
            self._coefficients = np.concatenate(arrays)
            return
        if self._adds_since_reduction == self._wire.adds_before_reduction:
            self._reduce()
        row = 0
        for values in arrays:
            total = self._coefficients[row : row + len(values)]
            np.add(total, values, out=total)
            row += len(values)
        self._adds_since_reduction += 1

    def _reduce(self) -> None:
        assert self._wire is not None and self._coefficients is not None
        if self._adds_since_reduction:
            np.remainder(self._coefficients, self._wire.moduli, out=self._coefficients)
            self._adds_since_reduction = 0

    def _chunks(self) -> list[bytes]:
        """The sum's serialized vectors."""
        if self._wire is None:
            return [vector.serialize() for vector in self._vectors]
        assert self._coefficients is not None and self._vector_length is not None
        self._reduce()
        slots = self._scheme.slots_per_ciphertext
        return [
            self._wire.chunk(min(slots, self._vector_length - index * slots), values)
            for index, values in enumerate(self._coefficients)
        ]

    def result(self) -> bytes:
        """The aggregate as a blob (same container; ``party_count`` = ``count``)."""
        if not self._count or self._vector_length is None:
            raise EmptySumError(
                "this sum holds no blob yet; add() at least one encrypted update first"
            )
        chunks = self._chunks()
        scheme = self._scheme
        header = BlobHeader(
            scheme.name, scheme.context_sha256, self._vector_length, len(chunks), self._count
        )
        return scheme._pack(header, chunks)


def checked_parameter_count(parameter_count: object) -> int | None:
    """``parameter_count`` as an int, None for "size unknown"; refuses anything else."""
    if parameter_count is None:
        return None
    if isinstance(parameter_count, int | np.integer) and not isinstance(parameter_count, bool):
        count = int(parameter_count)
        if count >= 1:
            return count
    raise InvalidContextError(
        f"parameter_count must be the model's parameter count (a positive integer) or None, "
        f"got {parameter_count!r}; pass e.g. adapter.get_parameters(model).size"
    )


def _as_update(values: npt.ArrayLike) -> np.ndarray:
    """Return ``values`` as a non-empty, finite, 1-D float64 array, or raise InvalidUpdateError."""
    try:
        update = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise InvalidUpdateError(
            f"update cannot be read as float64 numbers ({one_line(error)}); "
            "pass a 1-D numpy array of the flattened parameters"
        ) from error
    if update.ndim != 1 or update.size == 0:
        raise InvalidUpdateError(
            f"update must be a non-empty 1-D vector, got shape {update.shape}; flatten the "
            "parameters first, e.g. np.concatenate([p.ravel() for p in params])"
        )
    finite = np.isfinite(update)
    if not finite.all():
        index = int(np.argmin(finite))
        raise InvalidUpdateError(
            f"update has a non-finite value ({update[index]}) at index {index}; "
            "fix the training step or drop this update (nan/inf cannot be encrypted)"
        )
    return update
