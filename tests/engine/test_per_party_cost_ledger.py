"""A party's ledger work in a round, near its floor (issue #14): on the in-process chain a
function's gas limit is learned once, later calls are checked by one EVM run instead of an
estimate's binary search, and views are read once per head block. Refusals are unchanged."""

from __future__ import annotations

import pytest

from fedchain_magics.chain import (
    ContractRevertError,
    Keystore,
    Ledger,
    TaskParams,
    TrainingContract,
)


@pytest.fixture
def chain(tmp_path):
    ledger = Ledger.open_embedded(tmp_path / "chain")
    try:
        yield (ledger, *_open_round(ledger, Keystore(tmp_path / "keystore", passphrase="test")))
    finally:
        ledger.close()


def _open_round(ledger, keys):
    deployer = keys.create("deployer")
    ledger.fund(deployer.address)
    registry = TrainingContract.deploy(ledger, deployer)
    coordinator, aggregator, key_holder, validator = (keys.create(n) for n in "cakv")
    parties = [keys.create(f"p{index}") for index in range(3)]
    for account in (coordinator, aggregator, key_holder, validator, *parties):
        ledger.fund(account.address)
    params = TaskParams(b"\x01" * 32, b"\x02" * 32, b"\x03" * 32, 3, 2, 1, 1000, 1000, 10**20)
    registry.transfer_tokens(deployer, coordinator.address, params.reward_pool)
    task_id, _ = registry.create_task(coordinator, params, aggregator.address, key_holder.address)
    registry.add_validator(coordinator, task_id, validator.address)
    for party in parties:
        registry.join(party, task_id)
    round_number, _ = registry.open_round(coordinator, task_id)
    return registry, task_id, round_number, parties


def _counting(monkeypatch, cls, name):
    calls = []
    original = getattr(cls, name)

    def counted(self, *args, **kwargs):
        calls.append(name)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(cls, name, counted)
    return calls


def test_a_known_function_is_sent_without_a_new_estimate(chain, monkeypatch):
    from web3.contract.contract import ContractFunction

    _, registry, task_id, round_number, parties = chain
    registry.commit_update(parties[0], task_id, round_number, b"\x10" * 32, 10)
    estimates = _counting(monkeypatch, ContractFunction, "estimate_gas")
    for index, party in enumerate(parties[1:], start=1):
        result = registry.commit_update(party, task_id, round_number, bytes([index]) * 32, 10)
        assert result.gas_used > 0
    assert estimates == []
    assert registry.round(task_id, round_number).commit_count == 3


def test_a_refusal_after_learning_is_decoded_as_before_and_sends_nothing(chain):
    ledger, registry, task_id, round_number, parties = chain
    registry.commit_update(parties[0], task_id, round_number, b"\x10" * 32, 10)
    head = ledger.block_number()
    with pytest.raises(ContractRevertError) as learned:  # committing twice in a round
        registry.commit_update(parties[0], task_id, round_number, b"\x11" * 32, 10)
    assert ledger.block_number() == head
    ledger._gas_limits.clear()  # as a ledger that never sent the function
    with pytest.raises(ContractRevertError) as estimated:
        registry.commit_update(parties[0], task_id, round_number, b"\x11" * 32, 10)
    assert ledger.block_number() == head
    assert (learned.value.error_name, learned.value.error_args, str(learned.value)) == (
        estimated.value.error_name,
        estimated.value.error_args,
        str(estimated.value),
    )


def test_a_call_needing_more_gas_than_learned_is_estimated_again(chain):
    ledger, registry, task_id, round_number, parties = chain
    registry.commit_update(parties[0], task_id, round_number, b"\x10" * 32, 10)
    for known in list(ledger._gas_limits):
        ledger._gas_limits[known] = 21_500  # far too little for any contract call
    result = registry.commit_update(parties[1], task_id, round_number, b"\x12" * 32, 10)
    assert result.receipt["status"] == 1
    assert max(ledger._gas_limits.values()) > result.gas_used > 21_500


def test_views_are_read_once_per_head_block(chain, monkeypatch):
    from web3.contract.contract import ContractFunction

    _, registry, task_id, round_number, parties = chain
    calls = _counting(monkeypatch, ContractFunction, "call")
    first = registry.task(task_id)
    assert registry.task(task_id) == first
    assert len(calls) == 1
    registry.commit_update(parties[0], task_id, round_number, b"\x10" * 32, 10)
    calls.clear()
    assert registry.round(task_id, round_number).commit_count == 1  # a new head: read again
    assert len(calls) == 1
