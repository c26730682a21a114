"""Byte containers for encrypted vectors and encryption contexts (format version 1).

All integers are big-endian and unsigned. Both containers end with the SHA-256 of every byte
before it, so truncation and bit flips are caught here, before TenSEAL sees the payload.

Encrypted vector ("blob")::

    magic            8 bytes   b"FCHE.ENC"
    format_version   u16       1
    scheme_name      u8 length + ASCII ("bfv-fixed-point" or "ckks")
    context_sha256   32 bytes  SHA-256 of the public context bytes the blob was made under
    vector_length    u64       number of plaintext values
    chunk_count      u32       number of ciphertexts (ceil(vector_length / slots))
    party_count      u32       parties summed into this blob (1 for a fresh encryption)
    chunk_count x    u32 length + TenSEAL-serialized vector
    checksum         32 bytes  SHA-256 of everything above

Context::

    magic            8 bytes   b"FCHE.CTX"
    format_version   u16       1
    scheme_name      u8 length + ASCII
    has_secret_key   u8        0 or 1
    parameters       u32 length + UTF-8 JSON (sorted keys, compact)
    public_tenseal   u64 length + TenSEAL context (public key only: no secret/galois/relin keys)
    secret_tenseal   u64 length + TenSEAL context with the secret key (only if has_secret_key)
    checksum         32 bytes  SHA-256 of everything above

The public context bytes are the context container with ``has_secret_key = 0``; a secret
context carries the exact public TenSEAL bytes, so both rebuild the same public bytes and the
same ``context_sha256``.
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .errors import CorruptCiphertextError, InvalidContextError

BLOB_MAGIC = b"FCHE.ENC"
CONTEXT_MAGIC = b"FCHE.CTX"
FORMAT_VERSION = 1

_PREAMBLE = struct.Struct(">8sHB")  # magic, format version, scheme-name length
_BLOB_FIELDS = struct.Struct(">32sQII")  # context sha256, vector length, chunks, parties
_U8 = struct.Struct(">B")
_U32 = struct.Struct(">I")
_U64 = struct.Struct(">Q")
_CHECKSUM_BYTES = 32


@dataclass(frozen=True)
class BlobHeader:
    """What a blob's header says about it (readable without any key)."""

    scheme_name: str
    context_sha256: str  # hex
    vector_length: int
    chunk_count: int
    party_count: int


@dataclass(frozen=True)
class ContextRecord:
    """The parsed content of a context container."""

    scheme_name: str
    parameters: dict[str, Any]
    public_tenseal: bytes
    secret_tenseal: bytes | None


class _Reader:
    """Sequential bounds-checked reader; ``fail`` builds the error to raise."""

    def __init__(self, data: bytes, what: str, error: type[Exception], hint: str) -> None:
        self._data = data
        self._offset = 0
        self._what = what
        self._error = error
        self._hint = hint

    def fail(self, problem: str) -> Exception:
        return self._error(f"{self._what} {problem}; {self._hint}")

    def take(self, size: int) -> bytes:
        start, end = self.skip(size)
        return self._data[start:end]

    def skip(self, size: int) -> tuple[int, int]:
        """As :meth:`take`, returning where the bytes lie instead of a copy of them."""
        start, end = self._offset, self._offset + size
        if end > len(self._data) - _CHECKSUM_BYTES:
            raise self.fail(
                f"is truncated or malformed: {len(self._data)} bytes, but its header needs "
                f"at least {end + _CHECKSUM_BYTES}"
            )
        self._offset = end
        return start, end

    def unpack(self, fmt: struct.Struct) -> tuple[Any, ...]:
        return fmt.unpack(self.take(fmt.size))

    def finish(self, check_checksum: bool = True) -> None:
        """Check that exactly the checksum is left, and (unless told not to) that it
        matches."""
        extra = len(self._data) - _CHECKSUM_BYTES - self._offset
        if extra:
            raise self.fail(f"has {extra} unexpected trailing bytes")
        if not check_checksum:
            return
        body = memoryview(self._data)[: self._offset]
        if hashlib.sha256(body).digest() != self._data[self._offset :]:
            raise self.fail("fails its SHA-256 checksum (bytes corrupted in transit or storage)")


_BLOB_HINT = "re-fetch the blob, or ask its sender to encrypt it again"
_CONTEXT_HINT = "re-fetch the context bytes from the key holder (scheme.public_context_bytes())"


def _open(data: bytes, magic: bytes, what: str, error: type[Exception], hint: str) -> _Reader:
    if not isinstance(data, bytes | bytearray | memoryview):
        raise error(f"{what} must be bytes, got {type(data).__name__}; {hint}")
    reader = _Reader(bytes(data), what, error, hint)
    if len(data) < _PREAMBLE.size + _CHECKSUM_BYTES:
        raise reader.fail(f"is truncated: only {len(data)} bytes")
    found_magic, version, _ = _PREAMBLE.unpack_from(data)
    if found_magic != magic:
        known = {BLOB_MAGIC: "an encrypted blob", CONTEXT_MAGIC: "a context"}
        found = known.get(found_magic)
        problem = f"is {found}" if found else "does not start with a fedchain magic number"
        raise reader.fail(f"{problem}, expected {known[magic]}")
    if version != FORMAT_VERSION:
        raise error(
            f"{what} uses format version {version}, this fedchain_magics reads version "
            f"{FORMAT_VERSION}; upgrade fedchain_magics to the version that wrote it"
        )
    return reader


def _read_name(reader: _Reader) -> str:
    _, _, name_length = reader.unpack(_PREAMBLE)
    try:
        return reader.take(name_length).decode("ascii")
    except UnicodeDecodeError:
        raise reader.fail("has a scheme name that is not ASCII") from None


def _preamble(magic: bytes, scheme_name: str) -> bytes:
    name = scheme_name.encode("ascii")
    return _PREAMBLE.pack(magic, FORMAT_VERSION, len(name)) + name


def pack_blob(header: BlobHeader, chunks: Sequence[bytes]) -> bytes:
    """Serialize an encrypted vector: header, length-prefixed chunks, checksum."""
    if len(chunks) != header.chunk_count:
        raise ValueError(f"header declares {header.chunk_count} chunks, got {len(chunks)}")
    parts = [
        _preamble(BLOB_MAGIC, header.scheme_name),
        _BLOB_FIELDS.pack(
            bytes.fromhex(header.context_sha256),
            header.vector_length,
            header.chunk_count,
            header.party_count,
        ),
    ]
    for chunk in chunks:
        parts += [_U32.pack(len(chunk)), chunk]
    body = b"".join(parts)
    return body + hashlib.sha256(body).digest()


def first_chunk_offset(scheme_name: str) -> int:
    """Where a blob's first chunk starts: after its header and the chunk's length."""
    return _PREAMBLE.size + len(scheme_name.encode("ascii")) + _BLOB_FIELDS.size + _U32.size


def unpack_blob(blob: bytes) -> tuple[BlobHeader, list[bytes]]:
    """Parse and integrity-check a blob; raise CorruptCiphertextError on any defect."""
    header, spans = unpack_blob_spans(blob)
    return header, [bytes(blob[start:end]) for start, end in spans]


def unpack_blob_spans(
    blob: bytes, *, check_checksum: bool = True
) -> tuple[BlobHeader, list[tuple[int, int]]]:
    """As :func:`unpack_blob`, each chunk as its ``(start, end)`` offsets in ``blob``.
    ``check_checksum=False`` skips the SHA-256 checksum, for bytes already checked against a
    digest (a blob store checks every blob it returns)."""
    reader = _open(blob, BLOB_MAGIC, "encrypted blob", CorruptCiphertextError, _BLOB_HINT)
    name = _read_name(reader)
    context_sha256, vector_length, chunk_count, party_count = reader.unpack(_BLOB_FIELDS)
    if vector_length < 1 or chunk_count < 1 or party_count < 1:
        raise reader.fail(
            f"has an impossible header (length {vector_length}, {chunk_count} chunks, "
            f"{party_count} parties)"
        )
    spans = []
    for _ in range(chunk_count):
        (chunk_length,) = reader.unpack(_U32)
        spans.append(reader.skip(chunk_length))
    reader.finish(check_checksum)
    header = BlobHeader(name, context_sha256.hex(), vector_length, chunk_count, party_count)
    return header, spans


def read_blob_header(blob: bytes) -> BlobHeader:
    """Return a blob's header (scheme, context, length, parties) after checking its integrity.

    Needs no key: lets anyone see how many parties an aggregate claims to hold.
    """
    return unpack_blob(blob)[0]


def pack_context(record: ContextRecord) -> bytes:
    """Serialize a context record (deterministic: same record, same bytes)."""
    parameters = json.dumps(record.parameters, sort_keys=True, separators=(",", ":")).encode()
    has_secret = record.secret_tenseal is not None
    parts = [
        _preamble(CONTEXT_MAGIC, record.scheme_name),
        _U8.pack(int(has_secret)),
        _U32.pack(len(parameters)),
        parameters,
        _U64.pack(len(record.public_tenseal)),
        record.public_tenseal,
    ]
    if record.secret_tenseal is not None:
        parts += [_U64.pack(len(record.secret_tenseal)), record.secret_tenseal]
    body = b"".join(parts)
    return body + hashlib.sha256(body).digest()


def unpack_context(data: bytes) -> ContextRecord:
    """Parse and integrity-check a context; raise InvalidContextError on any defect."""
    reader = _open(data, CONTEXT_MAGIC, "context", InvalidContextError, _CONTEXT_HINT)
    name = _read_name(reader)
    (has_secret,) = reader.unpack(_U8)
    if has_secret not in (0, 1):
        raise reader.fail(f"has an invalid secret-key flag {has_secret}")
    (parameters_length,) = reader.unpack(_U32)
    try:
        parameters = json.loads(reader.take(parameters_length))
    except ValueError:
        raise reader.fail("has unreadable parameters") from None
    if not isinstance(parameters, dict):
        raise reader.fail("has parameters that are not a JSON object")
    (public_length,) = reader.unpack(_U64)
    public_tenseal = reader.take(public_length)
    secret_tenseal = None
    if has_secret:
        (secret_length,) = reader.unpack(_U64)
        secret_tenseal = reader.take(secret_length)
    reader.finish()
    return ContextRecord(name, parameters, public_tenseal, secret_tenseal)
