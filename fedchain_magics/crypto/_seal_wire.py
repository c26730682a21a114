"""TenSEAL's serialized BFV vectors read and written as numpy arrays (private).

Adding BFV ciphertexts is adding their coefficients modulo the coefficient primes. TenSEAL
does it by deserializing each ciphertext (a zstd frame inside a protobuf message), adding, and
compressing again: about 15x the time numpy takes over as many bytes. Reading the coefficients
in place lets a running sum add a whole blob at numpy speed (``scheme.RunningSum``).

One chunk of a blob, as ``BFVVector.serialize()`` writes it (TenSEAL 0.3, SEAL 4)::

    protobuf  field 1 (packed varint): sizes, the values each ciphertext holds (one here)
              field 2 (bytes): a SEAL-serialized Ciphertext
    Ciphertext  SEALHeader: magic 0xA15E (u16), header size 16 (u8), SEAL version (u8, u8),
                compression (u8: 0 none, 2 zstd), reserved (u16), total bytes (u64); then the
                members, compressed as the header says:
    members     parms_id (4 x u64), is_ntt_form (u8), size (u64), poly_modulus_degree (u64),
                coeff_modulus_size (u64), scale (f64), correction_factor (u64), then the
                coefficients as a SEAL DynArray: its own uncompressed SEALHeader, a count
                (u64), count x u64 little-endian, laid out [polynomial][prime][coefficient].

Everything but the coefficients must equal what this context's own fresh ciphertext carries
(same parameters, level, size, no seed), and every coefficient must lie below its prime, as
SEAL itself checks when it loads one; anything else is refused. Chunks are written without
compression: the coefficients are uniform modulo ~60-bit primes, which zstd cannot shrink (a
compressed chunk is 31 bytes larger), and TenSEAL reads either.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence

import numpy as np
import zstandard

from .errors import CorruptCiphertextError

_SEAL_HEADER = struct.Struct("<HBBBBHQ")  # magic, header size, version, compression, size
_SEAL_MAGIC = 0xA15E
_COMPRESSION_NONE = 0
_COMPRESSION_ZSTD = 2
#: parms_id (32), is_ntt_form (1), size, poly_modulus_degree, coeff_modulus_size (8 each),
#: scale (8), correction_factor (8): the members before the coefficients.
_METADATA_BYTES = 32 + 1 + 5 * 8
_METADATA_SHAPE = struct.Struct("<QQQ")  # size, poly_modulus_degree, coeff_modulus_size
_SIZES_TAG, _CIPHERTEXT_TAG = 0x0A, 0x12  # protobuf field 1 and 2, length-delimited
#: Protobuf field 15, length-delimited: padding this module writes before the ciphertext so
#: its coefficients start where the caller asks (8-byte aligned in a blob: numpy adds aligned
#: uint64 twice as fast). TenSEAL's parser skips a field it does not know.
_PADDING_TAG = 0x7A
#: Coefficients are uint64: their alignment in a blob is their offset modulo this.
ALIGNMENT = 8


class CiphertextWire:
    """Reads and writes one context's serialized BFV vectors; built from one of them."""

    def __init__(self, reference: bytes, moduli: Sequence[int]) -> None:
        """``reference``: a vector this context serialized; ``moduli``: the primes at its
        level, in order."""
        _, ciphertext = _fields(reference)
        header = _SEAL_HEADER.unpack_from(ciphertext)
        members = _members(ciphertext, header, None)
        self._version = header[2:4]
        self._metadata = bytes(members[:_METADATA_BYTES])
        polynomials, degree, primes = _METADATA_SHAPE.unpack_from(members, 33)
        if primes != len(moduli):
            raise ValueError(f"the reference ciphertext has {primes} primes, not {len(moduli)}")
        self.shape = (polynomials, primes, degree)
        count = polynomials * primes * degree
        self._coefficients_at = _METADATA_BYTES + 24  # after the array's header and count
        self._array_prefix = bytes(members[_METADATA_BYTES : self._coefficients_at])
        self._members_bytes = self._coefficients_at + 8 * count
        if len(members) != self._members_bytes or _count(self._array_prefix) != count:
            raise ValueError("the reference ciphertext is not laid out as this module reads")
        self.moduli = np.asarray(moduli, dtype=np.uint64).reshape(1, primes, 1)
        #: How many values below the largest prime a uint64 holds: the adds a running sum may
        #: make before it must reduce modulo the primes.
        self.adds_before_reduction = int((2**64 - 1) // (max(moduli) - 1)) - 1

    def coefficients(self, chunk: bytes | memoryview) -> tuple[int, np.ndarray]:
        """The values a chunk holds and its coefficients (read-only, ``shape``), or
        ``CorruptCiphertextError`` saying what is wrong with it."""
        size, members, _ = self._checked(chunk)
        values = np.frombuffer(members, dtype="<u8", offset=self._coefficients_at)
        values = values.reshape(self.shape)
        self._check_range(values[np.newaxis], "a coefficient")
        return size, values

    def coefficient_rows(
        self, blob: bytes, start: int, length: int, stride: int, rows: int, first_index: int = 0
    ) -> tuple[int, np.ndarray] | None:
        """``rows`` chunks of ``length`` bytes, the first at ``start`` in ``blob`` and each
        next one ``stride`` bytes on, read in place as one array ``(rows, *shape)``, with the
        values each holds. The first is checked as :meth:`coefficients` checks a chunk, and
        every other must carry the same bytes but for its coefficients. None if the chunks are
        compressed: read them one by one. Errors name a chunk by its row plus
        ``first_index``."""
        size, _, in_place = self._checked(memoryview(blob)[start : start + length])
        if not in_place:
            return None
        prefix = length - 8 * math.prod(self.shape)
        headers = np.ndarray(
            (rows, prefix), np.uint8, buffer=blob, offset=start, strides=(stride, 1)
        )
        differs = (headers[1:] != headers[0]).any(axis=1)
        if differs.any():
            raise CorruptCiphertextError(
                f"ciphertext {int(np.argmax(differs)) + 1 + first_index} is not laid out as "
                f"ciphertext {first_index}"
            )
        element = np.dtype("<u8").itemsize
        _, primes, degree = self.shape
        values = np.ndarray(
            (rows, *self.shape),
            "<u8",
            buffer=blob,
            offset=start + prefix,
            strides=(stride, primes * degree * element, degree * element, element),
        )
        self._check_range(values, "a coefficient of ciphertext {}", first_index)
        return size, values

    def _checked(self, chunk: bytes | memoryview) -> tuple[int, memoryview, bool]:
        """A chunk's values and members, every byte but the coefficients checked; whether
        the members lie in ``chunk`` itself (not compressed)."""
        sizes, ciphertext = _fields(chunk)
        if len(sizes) != 1:
            raise CorruptCiphertextError(f"it holds {len(sizes)} ciphertexts, not 1")
        header = _SEAL_HEADER.unpack_from(ciphertext) if len(ciphertext) >= 16 else None
        if header is None or header[0] != _SEAL_MAGIC or header[1] != _SEAL_HEADER.size:
            raise CorruptCiphertextError("its ciphertext has no SEAL header")
        if header[6] != len(ciphertext):
            raise CorruptCiphertextError(
                f"its ciphertext declares {header[6]} bytes but holds {len(ciphertext)}"
            )
        members = _members(ciphertext, header, self._members_bytes)
        if len(members) != self._members_bytes:
            raise CorruptCiphertextError(
                f"its ciphertext holds {len(members)} bytes, this context's hold "
                f"{self._members_bytes}"
            )
        if members[:_METADATA_BYTES] != self._metadata:
            raise CorruptCiphertextError(
                "its ciphertext was not made under this context (parameters, level or size differ)"
            )
        if members[_METADATA_BYTES : self._coefficients_at] != self._array_prefix:
            raise CorruptCiphertextError("its ciphertext's coefficients are not laid out as SEAL's")
        return sizes[0], members, header[4] == _COMPRESSION_NONE

    def _check_range(self, rows: np.ndarray, what: str, first_index: int = 0) -> None:
        """Refuse coefficients at or above their prime (SEAL refuses such a ciphertext);
        ``what`` names the offender, ``{}`` standing for its row."""
        if (rows.max(axis=(0, 1, 3)) >= self.moduli.ravel()).any():
            bad = (rows >= self.moduli).any(axis=(1, 2, 3))
            raise CorruptCiphertextError(
                f"{what.format(int(np.argmax(bad)) + first_index)} is not below its prime"
            )

    def chunk(self, size: int, coefficients: np.ndarray, prefix_residue: int = 4) -> bytes:
        """A serialized vector of ``size`` values with these (reduced) coefficients, the bytes
        before its coefficients ``prefix_residue`` modulo ``ALIGNMENT`` in number (padded).

        In a blob every chunk follows a 4-byte length, so chunks whose prefixes are 4 modulo
        8 keep their coefficients aligned if the first chunk's are (see ``scheme._pack``).
        """
        data = np.ascontiguousarray(coefficients, dtype="<u8").tobytes()
        members_bytes = len(self._metadata) + len(self._array_prefix) + len(data)
        header = _SEAL_HEADER.pack(
            _SEAL_MAGIC,
            _SEAL_HEADER.size,
            *self._version,
            _COMPRESSION_NONE,
            0,
            _SEAL_HEADER.size + members_bytes,
        )
        ciphertext_prefix = header + self._metadata + self._array_prefix
        ciphertext_length = len(ciphertext_prefix) + len(data)
        sizes = _varint(size)
        fields = bytes([_SIZES_TAG]) + _varint(len(sizes)) + sizes
        tail = bytes([_CIPHERTEXT_TAG]) + _varint(ciphertext_length) + ciphertext_prefix
        padding = (prefix_residue - len(fields) - 2 - len(tail)) % ALIGNMENT
        return b"".join((fields, bytes([_PADDING_TAG, padding]), bytes(padding), tail, data))

    def uncompressed(self, chunk: bytes | memoryview, prefix_residue: int = 4) -> bytes:
        """The same vector, its ciphertext written without compression, its coefficients
        after ``prefix_residue`` bytes modulo ``ALIGNMENT`` (see :meth:`chunk`)."""
        size, values = self.coefficients(chunk)
        return self.chunk(size, values, prefix_residue)


def _fields(message: bytes | memoryview) -> tuple[list[int], memoryview]:
    """A serialized vector's sizes and its one ciphertext."""
    view = memoryview(message)
    sizes: list[int] | None = None
    ciphertext: memoryview | None = None
    offset = 0
    while offset < len(view):
        tag = view[offset]
        length, offset = _read_varint(view, offset + 1)
        if tag not in (_SIZES_TAG, _CIPHERTEXT_TAG, _PADDING_TAG) or offset + length > len(view):
            raise CorruptCiphertextError("it is not a serialized BFV vector")
        field = view[offset : offset + length]
        offset += length
        if tag == _PADDING_TAG:
            continue
        if tag == _SIZES_TAG and sizes is None:
            sizes = _packed_varints(field)
        elif tag == _CIPHERTEXT_TAG and ciphertext is None:
            ciphertext = field
        else:
            raise CorruptCiphertextError("it holds more than one ciphertext")
    if sizes is None or ciphertext is None:
        raise CorruptCiphertextError("it lacks its sizes or its ciphertext")
    return sizes, ciphertext


def _members(ciphertext: memoryview, header: tuple[int, ...], expected: int | None) -> memoryview:
    """A SEAL ciphertext's members, decompressed if they are compressed."""
    body = ciphertext[_SEAL_HEADER.size :]
    if header[4] == _COMPRESSION_NONE:
        return body
    if header[4] != _COMPRESSION_ZSTD:
        raise CorruptCiphertextError(f"its ciphertext uses unknown compression {header[4]}")
    try:
        return memoryview(
            zstandard.ZstdDecompressor().decompress(body, max_output_size=expected or 1 << 24)
        )
    except zstandard.ZstdError as error:
        raise CorruptCiphertextError(f"its ciphertext does not decompress ({error})") from None


def _count(array_prefix: bytes | memoryview) -> int:
    return int.from_bytes(array_prefix[16:24], "little")


def _read_varint(view: memoryview, offset: int) -> tuple[int, int]:
    value = shift = 0
    while offset < len(view) and shift < 64:
        byte = view[offset]
        offset += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, offset
        shift += 7
    raise CorruptCiphertextError("it is not a serialized BFV vector (bad varint)")


def _packed_varints(field: memoryview) -> list[int]:
    values, offset = [], 0
    while offset < len(field):
        value, offset = _read_varint(field, offset)
        values.append(value)
    return values


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)
