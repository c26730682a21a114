"""The in-process EVM (eth-tester + py-evm) made durable in a ledger directory.

py-evm keeps the whole chain in a key-value database. We give it a dictionary database whose
writes are also appended to a journal file; after every mined block the writes of that block are
appended as one checksummed frame and fsync'ed (see :mod:`.journal` for the format and the
rules). Reopening the directory replays the journal, so the chain comes back with the same head
hash and the same state. A process killed while a frame is being written leaves a torn last
frame, which is dropped: at most the block (one transaction) in flight is lost. Any other damage
refuses to open and leaves the files untouched, with the repair command in the error.

The directory is locked (:mod:`.lock`) for as long as the chain is open, so two processes never
append to one journal.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from eth.db.atomic import AtomicDB
from eth.db.backends.memory import MemoryDB
from eth.estimators.gas import binary_gas_search_intrinsic_tolerance
from eth.exceptions import TransactionNotFound
from eth.vm.spoof import SpoofTransaction
from eth_abi import decode as abi_decode
from eth_bloom import BloomFilter
from eth_tester import EthereumTester, PyEVMBackend
from eth_tester.backends.pyevm.main import (
    _execute_and_revert_transaction,
    generate_genesis_state_for_keys,
    get_default_account_keys,
    get_default_genesis_params,
    setup_tester_chain,
)
from eth_tester.backends.pyevm.serializers import serialize_log, serialize_transaction_receipt
from eth_tester.exceptions import TransactionFailed
from eth_tester.utils.filters import check_if_log_matches, is_flat_topic_array

from .errors import LedgerCorruptError
from .journal import (
    JOURNAL_FILENAME,
    OP_DELETE,
    OP_SET,
    CommitRecord,
    JournalReport,
    damaged_error,
    encode_frame,
    head_of,
    load_journal,
    write_commit_record,
)
from .lock import LedgerLock

GENESIS_FILENAME = "genesis.json"
_NUM_FUNDED_ACCOUNTS = 10
_log = logging.getLogger(__name__)


class JournaledMemoryDB(MemoryDB):
    """A dictionary database that records every write until :meth:`flush` makes them durable.

    It starts from ``contents`` (a replayed journal) and writes nothing until
    :meth:`start_journal` is called, once the chain over it has loaded.
    """

    def __init__(self, ledger_dir: Path, contents: dict[bytes, bytes] | None = None) -> None:
        super().__init__(contents if contents is not None else {})
        self._ledger_dir = Path(ledger_dir)
        self._pending: list[tuple[int, bytes, bytes]] = []
        self._journal: Any = None
        self._journal_bytes = 0
        self._frames = 0

    def __setitem__(self, key: bytes, value: bytes) -> None:
        super().__setitem__(key, value)
        self._pending.append((OP_SET, bytes(key), bytes(value)))

    def __delitem__(self, key: bytes) -> None:
        super().__delitem__(key)
        self._pending.append((OP_DELETE, bytes(key), b""))

    def start_journal(self, intact_bytes: int, intact_frames: int) -> None:
        """Open the journal for appending after its ``intact_bytes`` (dropping a torn tail)."""
        path = self._ledger_dir / JOURNAL_FILENAME
        self._journal = open(path, "ab")  # noqa: SIM115 - held for the chain's lifetime
        if self._journal.tell() != intact_bytes:
            self._journal.truncate(intact_bytes)
            self._journal.seek(intact_bytes)
            os.fsync(self._journal.fileno())
        self._journal_bytes, self._frames = intact_bytes, intact_frames
        if intact_frames:
            self._write_commit_record()

    def flush(self) -> None:
        """Append the writes since the last flush as one frame, fsync it, record the commit."""
        if not self._pending:
            return
        frame = encode_frame(self._pending)
        try:
            self._journal.write(frame)
            self._journal.flush()
            os.fsync(self._journal.fileno())
        except OSError:
            # A partial frame must not stay in the middle of the journal: cut it off again.
            self._journal.truncate(self._journal_bytes)
            raise
        self._pending.clear()
        self._journal_bytes += len(frame)
        self._frames += 1
        self._write_commit_record()

    def close(self) -> None:
        if self._journal is not None and not self._journal.closed:
            self.flush()
            self._journal.close()

    def _write_commit_record(self) -> None:
        head = head_of(self.kv_store)
        if head is not None:
            record = CommitRecord(self._journal_bytes, self._frames, *head)
            write_commit_record(self._ledger_dir, record)


def estimate_gas_in_two_runs(state: Any, transaction: Any) -> int:
    """The gas limit ``transaction`` needs, usually from two runs instead of a dozen.

    py-evm's default estimator bisects between the intrinsic gas and the block's limit, running
    the transaction about a dozen times: a round's batched payment to 30 parties spent a second
    per estimate. Here one run at the block's limit tells what the transaction consumes before
    refunds; that plus 1/63 (a call forwards at most 63/64 of the gas left, EIP-150) is checked
    by a second run at that limit, with the transaction's own gas price as the bisection's
    checks use. Only if that run fails does the bisection run as before, so the answer is never
    a limit that was not shown to work. A transaction that fails at the block's limit raises the
    EVM's error, as the bisection does.
    """
    snapshot = state.snapshot()
    try:
        computation = state.apply_transaction(
            SpoofTransaction(transaction, gas=state.gas_limit, gas_price=0)
        )
        if computation.is_error:
            raise computation.error
        consumed = transaction.intrinsic_gas + computation.get_gas_used()
    finally:
        state.revert(snapshot)
    limit = min(state.gas_limit, consumed + consumed // 63 + 1)
    snapshot = state.snapshot()
    try:
        if not state.apply_transaction(SpoofTransaction(transaction, gas=limit)).is_error:
            return limit
    finally:
        state.revert(snapshot)
    return int(binary_gas_search_intrinsic_tolerance(state, transaction))


class DurablePyEVMBackend(PyEVMBackend):
    """eth-tester's py-evm backend whose database lives in ``ledger_dir`` and survives restarts."""

    def __init__(self, ledger_dir: Path) -> None:
        # Deliberately not calling PyEVMBackend.__init__: it would build a throwaway chain
        # in memory. We build the chain over our own journaled database instead.
        self.ledger_dir = Path(ledger_dir)
        self.ledger_dir.mkdir(parents=True, exist_ok=True)
        self.account_keys = get_default_account_keys(quantity=_NUM_FUNDED_ACCOUNTS)
        self._lock = LedgerLock.acquire(self.ledger_dir)  # before reading: one writer only
        try:
            self.open_report = self._open()
        except BaseException:
            self._lock.release()
            raise

    def _open(self) -> JournalReport:
        """Load the chain (writing nothing until it has loaded); return what the journal held."""
        report, contents = load_journal(self.ledger_dir)
        if not report.ok:
            raise damaged_error(report)
        # The chain class (with its VM schedule) comes from eth-tester's own setup helper.
        _, template_chain = setup_tester_chain(num_accounts=_NUM_FUNDED_ACCOUNTS)
        chain_class = type(
            "FedchainTesterChain",
            (type(template_chain),),
            {"gas_estimator": staticmethod(estimate_gas_in_two_runs)},
        )
        if report.intact_frames == 0:
            self._create(chain_class)  # a new ledger, or only the genesis frame was in flight
            return report
        self.database = JournaledMemoryDB(self.ledger_dir, contents)
        try:
            self.chain = chain_class(AtomicDB(self.database))
            self.chain.get_canonical_head()
        except Exception as error:  # py-evm raises several kinds for missing state
            raise LedgerCorruptError(
                f"the ledger in {self.ledger_dir} could not be reopened ({error}); "
                f"check it with `python -m fedchain_magics verify {self.ledger_dir}`, "
                "or move the directory aside to start a new chain"
            ) from error
        self.database.start_journal(report.intact_bytes, report.intact_frames)
        torn = report.torn_tail
        if torn is not None:
            _log.warning("ledger %s: %s", self.ledger_dir, torn.message)
        genesis_path = self.ledger_dir / GENESIS_FILENAME
        if not genesis_path.exists():  # the process stopped between the genesis frame and this
            genesis = self.chain.get_canonical_block_header_by_number(0)
            _write_json_atomically(
                genesis_path, {"timestamp": genesis.timestamp, "chain_id": self.chain.chain_id}
            )
        return report

    def _create(self, chain_class: Any) -> None:
        genesis_params = get_default_genesis_params()
        self.database = JournaledMemoryDB(self.ledger_dir)
        self.database.start_journal(0, 0)
        genesis_state = generate_genesis_state_for_keys(self.account_keys)
        self.chain = chain_class.from_genesis(
            AtomicDB(self.database), genesis_params, genesis_state
        )
        self.database.flush()
        _write_json_atomically(
            self.ledger_dir / GENESIS_FILENAME,
            {"timestamp": genesis_params["timestamp"], "chain_id": self.chain.chain_id},
        )

    def mine_blocks(self, num_blocks: int = 1, coinbase: Any = None) -> tuple[bytes, ...]:
        kwargs = {} if coinbase is None else {"coinbase": coinbase}
        hashes: tuple[bytes, ...] = super().mine_blocks(num_blocks, **kwargs)
        self.database.flush()
        return hashes

    def call(self, transaction: Any, block_number: Any = "latest") -> Any:
        """eth-tester's ``call`` (same result, same message on failure), except that the
        ``TransactionFailed`` of a failed call has the EVM's error as its cause.

        eth-tester words a revert as a string, which loses a custom error's bytes; the served
        chain (:mod:`fedchain_magics.server`) sends those bytes to its clients to decode.
        """
        defaulted = dict(transaction)
        defaulted.setdefault("gas", self._max_available_gas())
        unsigned = self._get_normalized_and_unsigned_evm_transaction(defaulted, block_number)
        spoofed = SpoofTransaction(unsigned, from_=transaction["from"])
        computation = _execute_and_revert_transaction(self.chain, spoofed, block_number)
        if computation.is_error:
            error = computation.error
            message = str(error)
            if self.is_eip838_error(error):  # Error(string): eth-tester gives the reason
                with contextlib.suppress(Exception):
                    message = abi_decode(["string"], error.args[0][4:])[0]
            raise TransactionFailed(message) from error
        return computation.output

    def get_transaction_receipt(self, transaction_hash: Any) -> Any:
        """A receipt found through the chain's own transaction index.

        eth-tester finds a receipt by scanning blocks back from the head, and its ``get_logs``
        asks for the receipt of every transaction in the range: reading the logs of a long
        history was quadratic (minutes for a 50-round task in a fresh process).
        """
        try:
            block_number, index = self.chain.chaindb.get_transaction_index(transaction_hash)
        except TransactionNotFound:  # not mined yet: eth-tester's own lookup
            return super().get_transaction_receipt(transaction_hash)
        block = self.chain.get_canonical_block_by_number(block_number)
        return serialize_transaction_receipt(
            block,
            block.get_receipts(self.chain.chaindb),
            block.transactions[index],
            index,
            block.number == self.chain.get_block().number,
            self.chain.get_vm(),
        )

    def logged_receipts(
        self, first: int, last: int, bloom_terms: list[list[bytes]]
    ) -> Iterator[tuple[Any, int, Any, int, int, Any]]:
        """``(block, tx index, transaction, gas used, log index, log)`` for every log of blocks
        ``first`` to ``last``, skipping (from the header alone) each block whose bloom cannot
        hold one term of every list in ``bloom_terms``; no block or receipt is serialized."""
        chain = self.chain
        for number in range(first, last + 1):
            header = chain.get_canonical_block_header_by_number(number)
            bloom = BloomFilter(header.bloom)
            if not all(any(term in bloom for term in terms) for terms in bloom_terms):
                continue
            block = chain.get_canonical_block_by_number(number)
            cumulative = 0
            receipts = block.get_receipts(chain.chaindb)
            for index, (transaction, receipt) in enumerate(
                zip(block.transactions, receipts, strict=True)
            ):
                gas, cumulative = receipt.gas_used - cumulative, receipt.gas_used
                for log_index, log in enumerate(receipt.logs):
                    yield block, index, transaction, gas, log_index, log

    def gas_used(self, transaction_hash: bytes) -> int:
        """The gas a mined transaction used, from its block's receipts."""
        block_number, index = self.chain.chaindb.get_transaction_index(transaction_hash)
        block = self.chain.get_canonical_block_by_number(block_number)
        receipts = block.get_receipts(self.chain.chaindb)
        before = receipts[index - 1].gas_used if index else 0
        return int(receipts[index].gas_used - before)

    def close(self) -> None:
        """Flush the last writes, close the journal and unlock the directory (idempotent)."""
        try:
            self.database.close()
        finally:
            self._lock.release()


class IndexedEthereumTester(EthereumTester):
    """eth-tester whose ``get_logs`` reads py-evm's blocks and receipts directly.

    eth-tester's own ``get_logs`` serializes and validates every block in the range and every
    receipt in it (about 20 ms a block): reading a long task's logs in a fresh process took
    about 25 s per event type after 50 rounds. Here a block whose header bloom cannot hold the
    filter's address and topics is skipped from its header alone, and the others' receipts are
    decoded without serializing the block. The entries and their order are eth-tester's.
    """

    backend: DurablePyEVMBackend

    def get_logs(
        self, from_block: Any = None, to_block: Any = None, address: Any = None, topics: Any = None
    ) -> tuple[Any, ...]:
        self.validator.validate_inbound_filter_params(
            from_block=from_block, to_block=to_block, address=address, topics=topics
        )
        raw_from, raw_to, raw_addresses, raw_topics = (
            self.normalizer.normalize_inbound_filter_params(
                from_block=from_block, to_block=to_block, address=address, topics=topics
            )
        )
        lower = self._block_number_of("latest" if raw_from is None else raw_from)
        upper = self._block_number_of("latest" if raw_to is None else raw_to)
        entries = []
        for block, index, transaction, _, log_index, log in self.backend.logged_receipts(
            lower, upper, _bloom_terms(raw_addresses, raw_topics)
        ):
            entry = serialize_log(block, transaction, index, log, log_index, False)
            if check_if_log_matches(
                entry, from_block=raw_from, to_block=raw_to, addresses=raw_addresses,
                topics=raw_topics,
            ):  # fmt: skip
                entries.append(self.normalizer.normalize_outbound_log_entry(entry))
        return tuple(entries)

    def _block_number_of(self, block: Any) -> int:
        if isinstance(block, int):
            return block
        return int(self.get_block_by_number(block)["number"])


def _bloom_terms(addresses: Any, topics: Any) -> list[list[bytes]]:
    """What a block's bloom must hold for a log to match: one of the addresses, and each
    single topic given (topic alternatives and nested topic lists are left to the full check)."""
    terms: list[list[bytes]] = []
    if isinstance(addresses, bytes):
        terms.append([addresses])
    elif addresses:
        terms.append([bytes(item) for item in addresses])
    if topics and is_flat_topic_array(topics):
        terms.extend([bytes(topic)] for topic in topics if topic is not None)
    return terms


def open_embedded_chain(ledger_dir: Path) -> tuple[EthereumTester, DurablePyEVMBackend]:
    """Open (or create) the durable in-process chain stored in ``ledger_dir``."""
    backend = DurablePyEVMBackend(ledger_dir)
    return IndexedEthereumTester(backend=backend), backend


def _write_json_atomically(path: Path, content: dict[str, Any]) -> None:
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(json.dumps(content, indent=2) + "\n")
    os.replace(temporary, path)
