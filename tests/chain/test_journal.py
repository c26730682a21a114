"""The journal refuses damage without touching the disk; repair keeps the intact blocks before."""

from __future__ import annotations

import shutil
import struct
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from fedchain_magics import cli
from fedchain_magics.chain import JournalDamagedError, Keystore, Ledger, verify_journal
from fedchain_magics.chain.journal import COMMIT_FILENAME, JOURNAL_FILENAME

BLOCKS_AFTER_GENESIS = 6


@dataclass(frozen=True)
class Pristine:
    """A small ledger: ``heads[n]`` is block n's hash, ``frame_offsets[n]`` where frame n starts."""

    directory: Path
    heads: list[str]
    frame_offsets: list[int]


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Pristine:
    directory = tmp_path_factory.mktemp("pristine")
    ledger = Ledger.open_embedded(directory)
    heads, offsets = [ledger.head_hash()], [0]
    keystore = Keystore(directory / "keys")
    for index in range(BLOCKS_AFTER_GENESIS):
        offsets.append((directory / JOURNAL_FILENAME).stat().st_size)
        if index % 2:
            ledger.mine_blocks(1)
        else:
            ledger.fund(keystore.load_or_create(f"party-{index}").address)
        heads.append(ledger.head_hash())
    ledger.close()
    assert len(heads) == BLOCKS_AFTER_GENESIS + 1 == len(offsets)
    return Pristine(directory, heads, offsets)


@pytest.fixture
def ledger_dir(pristine, tmp_path) -> Path:
    copy = tmp_path / "chain"
    shutil.copytree(pristine.directory, copy)
    return copy


def _damage(ledger_dir: Path, change) -> tuple[bytes, int]:
    """Apply ``change`` to the journal's bytes; return the new bytes and their mtime."""
    journal = ledger_dir / JOURNAL_FILENAME
    journal.write_bytes(change(journal.read_bytes()))
    return journal.read_bytes(), journal.stat().st_mtime_ns


def _refuses_untouched(ledger_dir: Path, damaged: bytes, mtime_ns: int, match: str):
    commit = (ledger_dir / COMMIT_FILENAME).read_bytes()
    with pytest.raises(JournalDamagedError, match=match) as raised:
        Ledger.open_embedded(ledger_dir)
    journal = ledger_dir / JOURNAL_FILENAME
    assert journal.read_bytes() == damaged
    assert journal.stat().st_mtime_ns == mtime_ns
    assert (ledger_dir / COMMIT_FILENAME).read_bytes() == commit
    message = str(raised.value)
    assert "\n" not in message
    assert f"python -m fedchain_magics repair {ledger_dir}" in message
    return raised.value


def _repair_keeps(ledger_dir: Path, pristine: Pristine, block: int, damaged: bytes, capsys):
    assert cli.main(["repair", str(ledger_dir)]) == 0
    summary = capsys.readouterr().out
    copies = list(ledger_dir.glob(f"{JOURNAL_FILENAME}.damaged-*[0-9Z]"))
    assert len(copies) == 1 and copies[0].read_bytes() == damaged
    assert str(copies[0]) in summary
    ledger = Ledger.open_embedded(ledger_dir)
    try:
        assert ledger.block_number() == block
        assert ledger.head_hash() == pristine.heads[block]
    finally:
        ledger.close()
    return summary


def _flip(offset: int):
    return lambda data: data[:offset] + bytes([data[offset] ^ 0x40]) + data[offset + 1 :]


def test_a_byte_flipped_in_a_middle_frame_refuses_then_repair_keeps_the_blocks_before(
    ledger_dir, pristine, capsys
):
    offset = pristine.frame_offsets[3] + 200
    damaged, mtime = _damage(ledger_dir, _flip(offset))
    error = _refuses_untouched(
        ledger_dir,
        damaged,
        mtime,
        rf"frame 3 \(the writes after block 2\) at byte "
        rf"{pristine.frame_offsets[3]}: the checksum .* keep blocks 0-2 .* 3 intact frames",
    )
    assert (error.frame, error.offset_bytes, error.intact_block_number) == (
        3,
        pristine.frame_offsets[3],
        2,
    )
    # a second open is refused the same way: the refusal released the directory's lock
    with pytest.raises(JournalDamagedError):
        Ledger.open_embedded(ledger_dir)
    summary = _repair_keeps(ledger_dir, pristine, 2, damaged, capsys)
    assert "and 3 intact frames after it" in summary


def test_a_flipped_length_in_a_middle_frame_is_damage_not_a_torn_tail(ledger_dir, pristine):
    # the length's top byte makes the frame reach past the end, like a torn frame would
    damaged, mtime = _damage(ledger_dir, _flip(pristine.frame_offsets[2]))
    _refuses_untouched(ledger_dir, damaged, mtime, "frame 2 .* 4 intact frames")


def test_a_frame_cut_short_and_followed_by_more_frames_refuses(ledger_dir, pristine, capsys):
    start = pristine.frame_offsets[4] + 40
    damaged, mtime = _damage(ledger_dir, lambda data: data[:start] + data[start + 100 :])
    _refuses_untouched(ledger_dir, damaged, mtime, "frame 4 .* keep blocks 0-3")
    _repair_keeps(ledger_dir, pristine, 3, damaged, capsys)


def test_a_damaged_first_frame_refuses_and_repair_starts_a_new_chain(ledger_dir, pristine, capsys):
    damaged, mtime = _damage(ledger_dir, _flip(100))
    error = _refuses_untouched(ledger_dir, damaged, mtime, r"frame 0 \(the genesis block\)")
    assert error.intact_block_number is None
    assert cli.main(["repair", str(ledger_dir)]) == 0
    assert "the next open starts a new chain" in capsys.readouterr().out
    (copy,) = ledger_dir.glob(f"{JOURNAL_FILENAME}.damaged-*[0-9Z]")
    assert copy.read_bytes() == damaged
    ledger = Ledger.open_embedded(ledger_dir)
    assert ledger.block_number() == 0
    ledger.close()


def test_a_journal_cut_at_a_frame_boundary_is_refused_by_its_commit_record(ledger_dir, pristine):
    end = pristine.frame_offsets[5]
    damaged, mtime = _damage(ledger_dir, lambda data: data[:end])
    _refuses_untouched(ledger_dir, damaged, mtime, "it was cut short")


def test_garbage_after_the_last_frame_is_refused(ledger_dir):
    garbage = struct.pack(">II", 0x7FFF, 0) + b"\x07" * 20
    damaged, mtime = _damage(ledger_dir, lambda data: data + garbage)
    _refuses_untouched(ledger_dir, damaged, mtime, f"frame {BLOCKS_AFTER_GENESIS + 1}")


def test_two_writers_appending_different_blocks_are_caught(ledger_dir, tmp_path):
    # What two kernels without the lock did: each mined the same next block differently.
    other = tmp_path / "other"
    shutil.copytree(ledger_dir, other)
    for directory, name in [(ledger_dir, "alice"), (other, "bob")]:
        ledger = Ledger.open_embedded(directory)
        ledger.fund(Keystore(tmp_path / "keys").load_or_create(name).address)
        ledger.close()
    size = len((other / JOURNAL_FILENAME).read_bytes())
    frame_of_bob = (other / JOURNAL_FILENAME).read_bytes()[size - _last_frame_length(other) :]
    damaged, mtime = _damage(ledger_dir, lambda data: data + frame_of_bob)
    _refuses_untouched(
        ledger_dir, damaged, mtime, f"replaces block {BLOCKS_AFTER_GENESIS + 1} .*two writers"
    )


def _last_frame_length(ledger_dir: Path) -> int:
    data = (ledger_dir / JOURNAL_FILENAME).read_bytes()
    offset = 0
    while True:
        (length,) = struct.unpack_from(">I", data, offset)
        if offset + 8 + length == len(data):
            return 8 + length
        offset += 8 + length


def test_a_legacy_journal_without_commit_record_opens_and_gets_one(ledger_dir, pristine):
    (ledger_dir / COMMIT_FILENAME).unlink()
    ledger = Ledger.open_embedded(ledger_dir)
    assert ledger.head_hash() == pristine.heads[-1]
    ledger.close()
    assert (ledger_dir / COMMIT_FILENAME).exists()


def test_verify_reports_clean_and_damaged_journals(ledger_dir, pristine, capsys):
    report = verify_journal(ledger_dir)
    assert report.ok and report.block_number == BLOCKS_AFTER_GENESIS
    assert report.head_hash == pristine.heads[-1]
    assert cli.main(["verify", str(ledger_dir)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "OK"

    _damage(ledger_dir, _flip(pristine.frame_offsets[2] + 300))
    assert cli.main(["verify", str(ledger_dir.parent)]) == 1  # a workspace finds its chain/
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith(f"blocks 0-1, head {pristine.heads[1]}")
    assert lines[1].startswith("ERROR checksum: frame 2 (the writes after block 1) at byte")
    report = verify_journal(ledger_dir / JOURNAL_FILENAME)
    assert not report.ok and report.later_intact_frames == BLOCKS_AFTER_GENESIS - 2


def test_verify_notes_a_torn_tail_without_failing(ledger_dir, pristine, capsys):
    (ledger_dir / COMMIT_FILENAME).unlink()  # as if the crash came before the record's update
    _damage(ledger_dir, lambda data: data[:-30])
    assert cli.main(["verify", str(ledger_dir)]) == 0
    out = capsys.readouterr().out
    start = pristine.frame_offsets[-1]
    size = (ledger_dir / JOURNAL_FILENAME).stat().st_size
    expected = f"NOTE torn_tail: the last {size - start} bytes (frame {BLOCKS_AFTER_GENESIS}, "
    assert f"{expected}from byte {start})" in out
    assert "NOTE torn_tail:" in out and "the block in flight" in out


def test_the_command_line_lists_its_commands_and_verifies(ledger_dir, pristine):
    def run(*arguments: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "fedchain_magics", *arguments]
        return subprocess.run(command, capture_output=True, text=True, timeout=120)

    helped = run("--help")
    assert helped.returncode == 0
    assert "verify" in helped.stdout and "repair" in helped.stdout
    _damage(ledger_dir, _flip(pristine.frame_offsets[4] + 50))
    verified = run("verify", str(ledger_dir))
    assert verified.returncode == 1, verified.stderr
    assert verified.stdout.splitlines()[1].startswith("ERROR checksum: frame 4 ")
