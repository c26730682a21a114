"""The chain journal: reading it back, deciding what a crash can explain, and reporting the rest.

``chain.journal`` is a sequence of frames, one per flush of py-evm's database (after every mined
block): ``[payload length: u32][crc32 of payload: u32][payload]``, the payload being the writes
``[op: u8][key length: u32][value length: u32][key][value]``. Frames are fsync'ed one by one, so
a crash can only ever tear the *last* frame. After each fsync, ``chain.journal.commit`` records
how long the journal is and which block it ends on (written atomically): nothing before that
length may be missing or torn.

The rules follow LevelDB's log reader with ``paranoid_checks`` and SQLite's WAL recovery:

* a torn tail -- the file ends inside the final frame (its header, or a payload whose bytes so
  far are a plausible beginning), past the committed length, with no intact frame after it, or
  a zero-filled tail the filesystem never wrote -- is the block in flight: opening drops it;
* anything else (a checksum mismatch in a complete frame, an impossible header, garbage after
  the last frame, a frame whose head block does not follow the previous one, a journal shorter
  than its commit record) is *damage*: opening refuses and changes nothing on disk;
  ``python -m fedchain_magics repair DIR`` copies the journal aside and keeps the intact prefix.

Besides checksums, every frame's effect on the chain is checked while it is replayed: the head
block after each frame must be the previous head or its descendant, each header must hash to
the key it is stored under, and each parent link must lead back to the previous head.
"""

from __future__ import annotations

import json
import os
import shlex
import struct
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import rlp
from eth_utils import big_endian_to_int, keccak

from .errors import JournalDamagedError
from .lock import describe_holder, is_locked, read_holder

JOURNAL_FILENAME = "chain.journal"
COMMIT_FILENAME = "chain.journal.commit"
OP_SET, OP_DELETE = 1, 2
MAX_FRAME_BYTES = 1 << 30
"""No frame is this large; a header claiming more is damage, not a torn write."""

_FRAME_HEADER = struct.Struct(">II")  # payload length, crc32 of payload
_OPERATION_HEADER = struct.Struct(">BII")  # op, key length, value length
_CANONICAL_HEAD_KEY = b"v1:canonical_head_hash"  # py-evm's SchemaV1 key for the head's hash
_BLANK_ROOT = keccak(rlp.encode(b""))
_ZERO_HASH = b"\x00" * 32


# -- the format ---------------------------------------------------------------------------------


def encode_frame(operations: Iterable[tuple[int, bytes, bytes]]) -> bytes:
    """One frame holding ``operations`` (``(OP_SET, key, value)`` or ``(OP_DELETE, key, b"")``)."""
    payload = b"".join(
        _OPERATION_HEADER.pack(op, len(key), len(value)) + key + value
        for op, key, value in operations
    )
    return _FRAME_HEADER.pack(len(payload), zlib.crc32(payload)) + payload


def _operations(payload: bytes) -> Iterator[tuple[int, bytes, bytes]]:
    """The writes in a complete payload; ``ValueError`` if it does not parse exactly."""
    offset = 0
    while offset < len(payload):
        if offset + _OPERATION_HEADER.size > len(payload):
            raise ValueError("its last write is cut short")
        op, key_length, value_length = _OPERATION_HEADER.unpack_from(payload, offset)
        offset += _OPERATION_HEADER.size
        end = offset + key_length + value_length
        if op not in (OP_SET, OP_DELETE) or end > len(payload):
            raise ValueError(f"it holds an impossible write at payload byte {offset}")
        yield op, payload[offset : offset + key_length], payload[offset + key_length : end]
        offset = end


def _frame_end(data: bytes | memoryview, offset: int) -> int | None:
    """Where the frame at ``offset`` ends, if a complete frame with a matching checksum is there."""
    if offset + _FRAME_HEADER.size > len(data):
        return None
    length, checksum = _FRAME_HEADER.unpack_from(data, offset)
    start = offset + _FRAME_HEADER.size
    if length == 0 or start + length > len(data):
        return None
    if zlib.crc32(data[start : start + length]) != checksum:
        return None
    return start + length


def _next_intact_frame(data: bytes, start: int, expected: int | None = None) -> int | None:
    """The first offset at or after ``start`` where an intact frame begins (``expected`` first)."""
    if expected is not None and expected >= start and _frame_end(data, expected) is not None:
        return expected
    view = memoryview(data)
    for offset in range(start, len(data) - _FRAME_HEADER.size):
        if _frame_end(view, offset) is not None:
            return offset
    return None


# -- the commit record --------------------------------------------------------------------------


@dataclass(frozen=True)
class CommitRecord:
    """How much of the journal was durable after the last flush, and the block it ends on."""

    journal_bytes: int
    frames: int
    block_number: int
    head_hash: str


def read_commit_record(ledger_dir: Path) -> CommitRecord | None:
    """The commit record, ``None`` if there is none; ``ValueError`` if it cannot be read."""
    path = Path(ledger_dir) / COMMIT_FILENAME
    if not path.exists():
        return None
    content = json.loads(path.read_text())
    return CommitRecord(
        journal_bytes=int(content["journal_bytes"]),
        frames=int(content["frames"]),
        block_number=int(content["block_number"]),
        head_hash=str(content["head_hash"]),
    )


def write_commit_record(ledger_dir: Path, record: CommitRecord) -> None:
    """Replace the commit record atomically (temporary file, fsync, rename)."""
    path = Path(ledger_dir) / COMMIT_FILENAME
    temporary = path.with_name(path.name + ".tmp")
    content = {
        "journal_bytes": record.journal_bytes,
        "frames": record.frames,
        "block_number": record.block_number,
        "head_hash": record.head_hash,
    }
    with open(temporary, "w") as file:
        file.write(json.dumps(content) + "\n")
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)


# -- the report ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """One thing a check found. ``fatal`` findings make the ledger refuse to open.

    ``kind`` is a short tag (``checksum``, ``torn_tail``, ``sequence``, ``truncated``,
    ``commit_record``, ``in_use``, ...); other layers add their own kinds (e.g. blob checks).
    """

    kind: str
    message: str
    fatal: bool = True
    frame: int | None = None
    offset_bytes: int | None = None


@dataclass
class JournalReport:
    """What reading a ledger's journal found; extra checks append to ``findings``."""

    ledger_dir: Path
    journal_bytes: int = 0
    intact_frames: int = 0
    intact_bytes: int = 0
    block_number: int | None = None
    head_hash: str | None = None
    later_intact_frames: int = 0
    """Intact frames after the first damage; unusable without it, kept by repair's copy."""
    findings: list[Finding] = field(default_factory=list)

    @property
    def journal_path(self) -> Path:
        return self.ledger_dir / JOURNAL_FILENAME

    @property
    def ok(self) -> bool:
        """True when nothing fatal was found (a torn tail is not fatal)."""
        return not any(finding.fatal for finding in self.findings)

    @property
    def damage(self) -> Finding | None:
        """The first fatal finding."""
        return next((finding for finding in self.findings if finding.fatal), None)

    @property
    def torn_tail(self) -> Finding | None:
        return next((finding for finding in self.findings if finding.kind == "torn_tail"), None)

    def add(self, finding: Finding) -> None:
        self.findings.append(finding)

    def summary(self) -> str:
        if self.block_number is None:
            chain = "no intact block"
        else:
            chain = f"blocks 0-{self.block_number}, head {self.head_hash}"
        return (
            f"{self.journal_path}: {self.intact_frames} intact frames "
            f"({self.intact_bytes} of {self.journal_bytes} bytes), {chain}"
        )

    def lines(self) -> list[str]:
        """One line per problem (``ERROR``/``NOTE``), after a summary line."""
        return [self.summary()] + [
            f"{'ERROR' if finding.fatal else 'NOTE'} {finding.kind}: {finding.message}"
            for finding in self.findings
        ]


def repair_command(ledger_dir: Path) -> str:
    return f"python -m fedchain_magics repair {shlex.quote(str(ledger_dir))}"


def damaged_error(report: JournalReport) -> JournalDamagedError:
    """The one-line refusal for a report with damage: where, why, and the repair command."""
    damage = report.damage
    assert damage is not None, "only a damaged journal is refused"
    command = repair_command(report.ledger_dir)
    if report.block_number is None:
        keeps = "move the journal aside so the next open starts a new chain"
    else:
        keeps = f"keep blocks 0-{report.block_number}"
    later = (
        f" and sets aside the {report.later_intact_frames} intact frames after the damage"
        if report.later_intact_frames
        else ""
    )
    message = (
        f"the ledger journal {report.journal_path} is damaged: {damage.message}; "
        f"nothing was changed on disk. Run `{command}` to {keeps} "
        f"(it first copies the whole journal aside{later})"
    )
    return JournalDamagedError(
        message,
        journal_path=report.journal_path,
        frame=damage.frame,
        offset_bytes=damage.offset_bytes,
        intact_block_number=report.block_number,
        repair_command=command,
    )


# -- reading ------------------------------------------------------------------------------------


def resolve_ledger_dir(path: Path | str) -> Path:
    """The ledger directory for ``path``: itself, the journal's folder, or a workspace's chain/."""
    path = Path(path)
    if path.name == JOURNAL_FILENAME and path.is_file():
        return path.parent
    if not (path / JOURNAL_FILENAME).exists() and (path / "chain" / JOURNAL_FILENAME).exists():
        return path / "chain"
    return path


def verify_journal(path: Path | str) -> JournalReport:
    """Check a ledger's journal read-only: every checksum, every block hash and parent link.

    ``path`` is a ledger directory (``.fedchain/chain``), its workspace, or the journal itself.
    Works on a ledger another process has open (it says so in a note) and never takes it over.
    """
    ledger_dir = resolve_ledger_dir(path)
    report, _ = load_journal(ledger_dir)
    if not report.journal_path.exists() and report.ok:
        report.add(Finding("missing", f"there is no {JOURNAL_FILENAME} in {ledger_dir}"))
    if is_locked(ledger_dir):
        report.add(
            Finding(
                "in_use",
                f"the ledger is open in {describe_holder(read_holder(ledger_dir))}; "
                "checked the frames written so far",
                fatal=False,
            )
        )
    return report


def load_journal(ledger_dir: Path) -> tuple[JournalReport, dict[bytes, bytes]]:
    """Replay the journal into a dictionary, checking as it goes; never writes anything.

    Returns the report and the database contents after the intact frames. When the report is
    not ``ok`` the contents are incomplete and must not be used to open the chain.
    """
    ledger_dir = Path(ledger_dir)
    report = JournalReport(ledger_dir)
    try:
        committed = read_commit_record(ledger_dir)
    except (OSError, ValueError, KeyError, TypeError) as error:
        committed = None
        report.add(Finding("commit_record", f"{COMMIT_FILENAME} cannot be read ({error})"))
    journal_path = ledger_dir / JOURNAL_FILENAME
    if not journal_path.exists():
        if committed is not None:
            report.add(
                Finding(
                    "missing",
                    f"{JOURNAL_FILENAME} is missing although block {committed.block_number} "
                    "was committed; restore it, or move the directory aside to start anew",
                )
            )
        return report, {}
    data = journal_path.read_bytes()
    report.journal_bytes = len(data)
    contents: dict[bytes, bytes] = {}
    heads = _HeadTracker(contents)
    offset, frame = 0, 0
    while offset < len(data):
        end = _frame_end(data, offset)
        if end is None:
            _report_broken_frame(report, data, offset, frame, heads, committed)
            break
        try:
            operations = list(_operations(data[offset + _FRAME_HEADER.size : end]))
        except ValueError as error:
            report.add(_damage("malformed", f"{error}", frame, offset, heads))
            report.later_intact_frames = _count_intact_frames(data, end)
            break
        for op, key, value in operations:
            if op == OP_SET:
                contents[key] = value
            else:
                contents.pop(key, None)
        problem = heads.advance(frame)
        if problem is not None:
            report.add(_damage("sequence", problem, frame, offset, heads))
            report.later_intact_frames = _count_intact_frames(data, end)
            break
        offset, frame = end, frame + 1
        report.intact_frames, report.intact_bytes = frame, offset
        report.block_number, report.head_hash = heads.number, heads.hash_hex
        if committed is not None and offset == committed.journal_bytes:
            _check_commit_record(report, committed, heads)
    if committed is not None and report.ok and report.intact_bytes < committed.journal_bytes:
        reason = (
            f"the journal ends here but block {committed.block_number} was committed up to "
            f"byte {committed.journal_bytes}: it was cut short"
        )
        report.add(_damage("truncated", reason, report.intact_frames, report.intact_bytes, heads))
    if report.ok and heads.hash is not None and not heads.state_is_present():
        report.add(
            Finding(
                "state",
                f"the state of head block {heads.number} is missing from the journal",
                frame=report.intact_frames - 1,
            )
        )
    return report, contents


def _check_commit_record(
    report: JournalReport, committed: CommitRecord, heads: _HeadTracker
) -> None:
    if heads.hash_hex != committed.head_hash:
        report.add(
            Finding(
                "commit_record",
                f"at byte {committed.journal_bytes} the head is block {heads.number} "
                f"{heads.hash_hex} but {COMMIT_FILENAME} says block {committed.block_number} "
                f"{committed.head_hash}",
                frame=report.intact_frames - 1,
                offset_bytes=committed.journal_bytes,
            )
        )


def _report_broken_frame(
    report: JournalReport,
    data: bytes,
    offset: int,
    frame: int,
    heads: _HeadTracker,
    committed: CommitRecord | None,
) -> None:
    """Classify the bytes at ``offset``, where no intact frame starts: a torn tail or damage."""
    committed_bytes = 0 if committed is None else committed.journal_bytes
    if offset >= committed_bytes and _is_torn_tail(data, offset):
        report.add(
            Finding(
                "torn_tail",
                f"the last {len(data) - offset} bytes (frame {frame}, from byte {offset}) are "
                "an incomplete frame, the block in flight when the writer stopped; "
                "opening the ledger drops them",
                fatal=False,
                frame=frame,
                offset_bytes=offset,
            )
        )
        return
    report.add(_damage(*_why_broken(data, offset, committed), frame, offset, heads))
    expected = None
    if offset + _FRAME_HEADER.size <= len(data):
        expected = offset + _FRAME_HEADER.size + _FRAME_HEADER.unpack_from(data, offset)[0]
    report.later_intact_frames = _count_intact_frames(data, offset + 1, expected)


def _why_broken(data: bytes, offset: int, committed: CommitRecord | None) -> tuple[str, str]:
    if committed is not None and len(data) < committed.journal_bytes:
        return (
            "truncated",
            f"the journal ends at byte {len(data)}, inside the {committed.journal_bytes} bytes "
            f"committed up to block {committed.block_number}: it was cut short",
        )
    if offset + _FRAME_HEADER.size > len(data):
        return "truncated", "the journal ends inside a frame header"
    length, _ = _FRAME_HEADER.unpack_from(data, offset)
    available = len(data) - offset - _FRAME_HEADER.size
    if length == 0 or length > MAX_FRAME_BYTES:
        return "header", f"the frame header claims an impossible length of {length} bytes"
    if length > available:
        if committed is not None and offset < committed.journal_bytes:
            return "header", f"the frame header claims {length} bytes, more than the journal holds"
        return (
            "garbage",
            f"the frame claims {length} bytes but only {available} follow and they are not "
            "the start of a frame torn in flight",
        )
    return "checksum", "the checksum of its payload does not match"


def _damage(
    kind: str,
    reason: str,
    frame: int,
    offset: int,
    heads: _HeadTracker,
) -> Finding:
    """A fatal finding located by frame, byte offset and the last good block before it."""
    if frame == 0:
        where = "frame 0 (the genesis block)"
    else:
        where = f"frame {frame} (the writes after block {heads.number})"
    return Finding(kind, f"{where} at byte {offset}: {reason}", frame=frame, offset_bytes=offset)


def _is_torn_tail(data: bytes, offset: int) -> bool:
    """Whether the bytes from ``offset`` to the end can be a frame torn while being appended."""
    tail = data[offset:]
    if not tail.strip(b"\x00"):
        return True  # space the filesystem allocated but the crash never let us write
    if len(tail) < _FRAME_HEADER.size:
        return True  # the file ends inside the header
    length, checksum = _FRAME_HEADER.unpack_from(tail, 0)
    payload_so_far = tail[_FRAME_HEADER.size :]
    if length == 0 or length > MAX_FRAME_BYTES or length <= len(payload_so_far):
        return False  # the whole frame is there: its checksum, not a crash, is at fault
    if zlib.crc32(payload_so_far) == checksum:
        return False  # a complete payload behind a damaged length
    if not _is_beginning_of_payload(payload_so_far, length):
        return False
    return _next_intact_frame(data, offset + 1) is None


def _is_beginning_of_payload(partial: bytes, length: int) -> bool:
    """Whether ``partial`` can be the first bytes of a payload of ``length`` bytes."""
    offset = 0
    while offset + _OPERATION_HEADER.size <= len(partial):
        op, key_length, value_length = _OPERATION_HEADER.unpack_from(partial, offset)
        offset += _OPERATION_HEADER.size + key_length + value_length
        if op not in (OP_SET, OP_DELETE) or offset > length:
            return False
        if op == OP_DELETE and value_length:
            return False
    return True


def _count_intact_frames(data: bytes, start: int, expected: int | None = None) -> int:
    """How many intact frames lie at or after ``start`` (they follow the first damage)."""
    count = 0
    offset = _next_intact_frame(data, start, expected)
    while offset is not None:
        end = _frame_end(data, offset)
        assert end is not None
        count += 1
        offset = _next_intact_frame(data, end, end) if end < len(data) else None
    return count


class _HeadTracker:
    """Follows py-evm's canonical head through the replay and checks each step's links."""

    def __init__(self, contents: dict[bytes, bytes]) -> None:
        self._contents = contents
        self.hash: bytes | None = None
        self.number: int | None = None

    @property
    def hash_hex(self) -> str | None:
        return None if self.hash is None else "0x" + self.hash.hex()

    def advance(self, frame: int) -> str | None:
        """Take the head after ``frame``; return why it does not follow, or ``None``."""
        head = self._contents.get(_CANONICAL_HEAD_KEY)
        if head is None:
            return "it leaves no chain head" if frame else "it holds no genesis block"
        header = self._header(head)
        if header is None:
            return f"its head block 0x{head.hex()} is missing or does not match its hash"
        number, parent = header
        if self.hash is None or self.number is None:
            if number != 0 or parent != _ZERO_HASH:
                return f"its head is block {number}, not a genesis block"
        elif number < self.number or (number == self.number and head != self.hash):
            return (
                f"it replaces block {self.number} {self.hash_hex} with block {number} "
                f"0x{head.hex()} (two writers on one ledger?)"
            )
        elif number > self.number:
            problem = self._links_back(head, number)
            if problem is not None:
                return problem
        self.hash, self.number = head, number
        return None

    def _links_back(self, head: bytes, number: int) -> str | None:
        assert self.number is not None
        cursor, expected_number = head, number
        while expected_number > self.number:
            header = self._header(cursor)
            if header is None:
                return f"block {expected_number} 0x{cursor.hex()} is missing or altered"
            found_number, parent = header
            if found_number != expected_number:
                return f"block 0x{cursor.hex()} is numbered {found_number}, not {expected_number}"
            cursor, expected_number = parent, expected_number - 1
        if cursor != self.hash:
            return f"block {self.number + 1}'s parent is not block {self.number} {self.hash_hex}"
        return None

    def _header(self, block_hash: bytes) -> tuple[int, bytes] | None:
        """(number, parent hash) of the header stored under ``block_hash``, if it is genuine."""
        encoded = self._contents.get(block_hash)
        if encoded is None or keccak(encoded) != block_hash:
            return None
        try:
            fields = rlp.decode(encoded)
            return big_endian_to_int(fields[8]), bytes(fields[0])
        except (rlp.DecodingError, IndexError, TypeError):
            return None

    def state_is_present(self) -> bool:
        if self.hash is None:
            return True
        fields = rlp.decode(self._contents[self.hash])
        state_root = bytes(fields[3])
        return state_root == _BLANK_ROOT or state_root in self._contents


def head_of(contents: dict[bytes, bytes]) -> tuple[int, str] | None:
    """(block number, ``0x`` hash) of the canonical head in a py-evm database, if it has one."""
    head = contents.get(_CANONICAL_HEAD_KEY)
    if head is None or head not in contents:
        return None
    return big_endian_to_int(rlp.decode(contents[head])[8]), "0x" + head.hex()
