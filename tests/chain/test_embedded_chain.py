"""The in-process chain survives its process: same head, same balances, torn tails dropped."""

import pytest

from fedchain_magics.chain import Keystore, Ledger, LedgerCorruptError
from fedchain_magics.chain.journal import COMMIT_FILENAME, JOURNAL_FILENAME


def test_a_reopened_ledger_has_the_same_head_and_balances(tmp_path):
    ledger = Ledger.open_embedded(tmp_path)
    address = Keystore(tmp_path / "keys").load_or_create("alice").address
    ledger.fund(address, amount_wei=3 * 10**18)
    head, height, balance = ledger.head_hash(), ledger.block_number(), ledger.balance_wei(address)
    ledger.close()

    reopened = Ledger.open_embedded(tmp_path)
    assert reopened.head_hash() == head
    assert reopened.block_number() == height
    assert reopened.balance_wei(address) == balance == 3 * 10**18
    # and it keeps going from there
    bob = Keystore(tmp_path / "keys").load_or_create("bob").address
    reopened.fund(bob)
    assert reopened.block_number() == height + 1
    reopened.close()


def test_a_torn_last_frame_loses_only_the_block_in_flight(tmp_path):
    ledger = Ledger.open_embedded(tmp_path)
    keystore = Keystore(tmp_path / "keys")
    ledger.fund(keystore.load_or_create("alice").address)
    head, height = ledger.head_hash(), ledger.block_number()
    commit_before = (tmp_path / COMMIT_FILENAME).read_bytes()
    ledger.fund(keystore.load_or_create("bob").address)
    ledger.close()
    journal = tmp_path / JOURNAL_FILENAME
    content = journal.read_bytes()
    # A process killed while appending the last block's frame leaves part of it behind, and
    # its commit record still names the block before (it is written after the frame's fsync).
    journal.write_bytes(content[: len(content) - 25])
    (tmp_path / COMMIT_FILENAME).write_bytes(commit_before)

    reopened = Ledger.open_embedded(tmp_path)
    assert reopened.block_number() == height
    assert reopened.head_hash() == head
    reopened.fund(keystore.load("bob").address)  # the journal accepts new frames after the cut
    reopened.close()
    final = Ledger.open_embedded(tmp_path)
    assert final.block_number() == height + 1
    final.close()


def test_a_journal_without_a_chain_is_refused_untouched(tmp_path):
    Ledger.open_embedded(tmp_path).close()
    junk = b"\x00\x00\x00\x04\x00\x00\x00\x00junk"
    (tmp_path / JOURNAL_FILENAME).write_bytes(junk)
    with pytest.raises(LedgerCorruptError, match=r"frame 0 .* repair"):
        Ledger.open_embedded(tmp_path)
    assert (tmp_path / JOURNAL_FILENAME).read_bytes() == junk


def test_event_logs_are_read_incrementally_and_filtered(tmp_path):
    from fedchain_magics.chain import TaskParams, TrainingContract

    ledger = Ledger.open_embedded(tmp_path)
    keystore = Keystore(tmp_path / "keys", passphrase="p")
    deployer = keystore.create("deployer")
    ledger.fund(deployer.address)
    registry = TrainingContract.deploy(ledger, deployer)
    aggregator, key_holder = keystore.create("aggregator"), keystore.create("key-holder")
    roles = (aggregator.address, key_holder.address)  # each role a different account
    params = TaskParams(b"\x01" * 32, b"\x02" * 32, b"\x03" * 32, 1, 3, 1, 100, 100, 10)
    for _ in range(2):
        registry.create_task(deployer, params, *roles)
    assert [log["args"]["taskId"] for log in registry.event_logs("TaskCreated")] == [1, 2]
    registry.create_task(deployer, params, *roles)
    # Only the new block is read, and filters apply to the cached and the new logs alike.
    assert [log["args"]["taskId"] for log in registry.event_logs("TaskCreated")] == [1, 2, 3]
    assert [log["args"]["taskId"] for log in registry.event_logs("TaskCreated", taskId=2)] == [2]
    ledger.close()


def test_receipts_come_from_the_chain_index_and_match_eth_testers_own(tmp_path):
    from eth_tester import PyEVMBackend

    from fedchain_magics.chain import Keystore, Ledger

    ledger = Ledger.open_embedded(tmp_path / "chain")
    account = Keystore(tmp_path / "keystore", passphrase="p").create("alice")
    results = [ledger.fund(account.address) for _ in range(3)]
    backend = ledger._backend
    for result in results:
        if result is None:
            continue
        tx_hash = bytes.fromhex(result.tx_hash.removeprefix("0x"))
        indexed = backend.get_transaction_receipt(tx_hash)
        scanned = PyEVMBackend.get_transaction_receipt(backend, tx_hash)
        assert indexed == scanned
    ledger.close()
