"""The in-process EVM (eth-tester + py-evm) made durable in a ledger directory.

py-evm keeps the whole chain in a key-value database. We give it a dictionary database whose
writes are also appended to a journal file; after every mined block the writes of that block are
appended as one checksummed frame and fsync'ed. Reopening the directory replays the journal, so
the chain comes back with the same head hash and the same state. A process killed while a frame
is being written leaves a torn last frame, which is detected by its checksum and dropped: at most
the block (one transaction) in flight is lost.
"""

from __future__ import annotations

import json
import os
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from eth.db.atomic import AtomicDB
from eth.db.backends.memory import MemoryDB
from eth_tester import EthereumTester, PyEVMBackend
from eth_tester.backends.pyevm.main import (
    generate_genesis_state_for_keys,
    get_default_account_keys,
    get_default_genesis_params,
    setup_tester_chain,
)

from .errors import LedgerCorruptError

JOURNAL_FILENAME = "chain.journal"
GENESIS_FILENAME = "genesis.json"
_FRAME_HEADER = struct.Struct(">II")  # payload length, crc32 of payload
_OP_SET, _OP_DELETE = 1, 2
_NUM_FUNDED_ACCOUNTS = 10


class JournaledMemoryDB(MemoryDB):
    """A dictionary database that records every write until :meth:`flush` makes them durable."""

    def __init__(self, journal_path: Path) -> None:
        super().__init__()
        self._journal_path = journal_path
        self._pending: list[tuple[int, bytes, bytes]] = []
        self._replaying = True
        valid_length = 0
        if journal_path.exists():
            valid_length = self._replay(journal_path)
        self._replaying = False
        # Open for appending only after dropping a torn tail, so new frames follow valid ones.
        self._journal = open(journal_path, "ab")  # noqa: SIM115 - held for the chain's lifetime
        if self._journal.tell() != valid_length:
            self._journal.truncate(valid_length)
            self._journal.seek(valid_length)

    def __setitem__(self, key: bytes, value: bytes) -> None:
        super().__setitem__(key, value)
        if not self._replaying:
            self._pending.append((_OP_SET, bytes(key), bytes(value)))

    def __delitem__(self, key: bytes) -> None:
        super().__delitem__(key)
        if not self._replaying:
            self._pending.append((_OP_DELETE, bytes(key), b""))

    def flush(self) -> None:
        """Append the writes since the last flush as one frame and fsync it."""
        if not self._pending:
            return
        payload = b"".join(
            struct.pack(">BII", op, len(key), len(value)) + key + value
            for op, key, value in self._pending
        )
        frame = _FRAME_HEADER.pack(len(payload), zlib.crc32(payload)) + payload
        self._journal.write(frame)
        self._journal.flush()
        os.fsync(self._journal.fileno())
        self._pending.clear()

    def close(self) -> None:
        if not self._journal.closed:
            self.flush()
            self._journal.close()

    def _replay(self, path: Path) -> int:
        """Apply every complete frame; return the byte length of the valid prefix."""
        data = path.read_bytes()
        offset = 0
        for payload, end in _frames(data):
            for op, key, value in _operations(payload):
                if op == _OP_SET:
                    self.kv_store[key] = value
                else:
                    self.kv_store.pop(key, None)
            offset = end
        return offset


def _frames(data: bytes) -> Iterator[tuple[bytes, int]]:
    offset = 0
    while offset + _FRAME_HEADER.size <= len(data):
        length, checksum = _FRAME_HEADER.unpack_from(data, offset)
        start = offset + _FRAME_HEADER.size
        payload = data[start : start + length]
        if len(payload) != length or zlib.crc32(payload) != checksum:
            return  # a torn or damaged tail: the block in flight when the process died
        offset = start + length
        yield payload, offset


def _operations(payload: bytes) -> Iterator[tuple[int, bytes, bytes]]:
    offset = 0
    while offset < len(payload):
        op, key_length, value_length = struct.unpack_from(">BII", payload, offset)
        offset += 9
        key = payload[offset : offset + key_length]
        offset += key_length
        value = payload[offset : offset + value_length]
        offset += value_length
        yield op, key, value


class DurablePyEVMBackend(PyEVMBackend):
    """eth-tester's py-evm backend whose database lives in ``ledger_dir`` and survives restarts."""

    def __init__(self, ledger_dir: Path) -> None:
        # Deliberately not calling PyEVMBackend.__init__: it would build a throwaway chain
        # in memory. We build the chain over our own journaled database instead.
        self.ledger_dir = Path(ledger_dir)
        self.ledger_dir.mkdir(parents=True, exist_ok=True)
        genesis_path = self.ledger_dir / GENESIS_FILENAME
        journal_path = self.ledger_dir / JOURNAL_FILENAME
        self.account_keys = get_default_account_keys(quantity=_NUM_FUNDED_ACCOUNTS)
        # The chain class (with its VM schedule) comes from eth-tester's own setup helper.
        _, template_chain = setup_tester_chain(num_accounts=_NUM_FUNDED_ACCOUNTS)
        chain_class = type(template_chain)
        if genesis_path.exists() and journal_path.exists() and journal_path.stat().st_size > 0:
            self.database = JournaledMemoryDB(journal_path)
            try:
                self.chain = chain_class(AtomicDB(self.database))
            except Exception as error:  # py-evm raises several kinds for a missing head
                self.database.close()
                raise LedgerCorruptError(
                    f"the ledger in {self.ledger_dir} could not be reopened ({error}); "
                    "move it aside and start a new one"
                ) from error
        else:
            journal_path.unlink(missing_ok=True)
            genesis_params = get_default_genesis_params()
            self.database = JournaledMemoryDB(journal_path)
            genesis_state = generate_genesis_state_for_keys(self.account_keys)
            self.chain = chain_class.from_genesis(
                AtomicDB(self.database), genesis_params, genesis_state
            )
            self.database.flush()
            _write_json_atomically(
                genesis_path,
                {"timestamp": genesis_params["timestamp"], "chain_id": self.chain.chain_id},
            )

    def mine_blocks(self, num_blocks: int = 1, coinbase: Any = None) -> tuple[bytes, ...]:
        kwargs = {} if coinbase is None else {"coinbase": coinbase}
        hashes: tuple[bytes, ...] = super().mine_blocks(num_blocks, **kwargs)
        self.database.flush()
        return hashes

    def close(self) -> None:
        self.database.close()


def open_embedded_chain(ledger_dir: Path) -> tuple[EthereumTester, DurablePyEVMBackend]:
    """Open (or create) the durable in-process chain stored in ``ledger_dir``."""
    backend = DurablePyEVMBackend(ledger_dir)
    return EthereumTester(backend=backend), backend


def _write_json_atomically(path: Path, content: dict[str, Any]) -> None:
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(json.dumps(content, indent=2) + "\n")
    os.replace(temporary, path)
