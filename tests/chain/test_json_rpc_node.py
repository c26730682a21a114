"""The same engine code against a real JSON-RPC node (Hardhat's, from contracts/node_modules)."""

from __future__ import annotations

import re

import pytest
from engine_helpers import logistic_regression
from hardhat_node import HARDHAT_FAUCET_KEY, hardhat_node

from fedchain_magics import Federation, TaskConfig
from fedchain_magics.chain import ChainConnectionError, ContractRevertError, RoundPhase
from fedchain_magics.data import split_iid


@pytest.fixture(scope="module")
def node_url():
    with hardhat_node() as (url, _stop):
        yield url


@pytest.mark.slow
def test_a_round_on_a_real_node(tmp_path, node_url, breast_cancer):
    split = breast_cancer
    with Federation.open(tmp_path, url=node_url, faucet_key=HARDHAT_FAUCET_KEY) as federation:
        assert not federation.ledger.embedded and federation.ledger.chain_id == 31337
        task = federation.create_task(logistic_regression(split), TaskConfig(min_participants=3))
        shards = split_iid(split.X_train, split.y_train, 3, seed=0)
        parties = [task.participant(f"party-{index}") for index in range(len(shards))]
        for party in parties:
            party.join()
        task.coordinator().open_round()
        for party, shard in zip(parties, shards, strict=True):
            party.submit(party.train(shard.X, shard.y))
        task.aggregator().aggregate()
        task.key_holder().decrypt_and_commit()
        vote = task.validator("validator-1").vote(split.X_test, split.y_test)
        assert vote.accept and vote.aggregate_verified
        assert task.round_state(1).phase == RoundPhase.ACCEPTED

        # A node's revert comes back as JSON-RPC error data: decoded the same way, nothing sent.
        height = federation.ledger.block_number()
        with pytest.raises(ContractRevertError) as caught:
            federation.registry.join(task.participant("party-0").account, task.task_id)
        assert caught.value.error_name == "TrainingRoleConflict"
        assert federation.ledger.block_number() == height

    # The deployment is recorded per chain id: a new session on the same node finds it.
    with Federation.open(tmp_path, url=node_url) as again:
        assert again.registry.task_count() == 1


def test_an_unreachable_node_is_a_clear_error(tmp_path):
    with pytest.raises(
        ChainConnectionError, match=re.escape("no Ethereum node answered at http://127.0.0.1:9 ")
    ):
        Federation.open(tmp_path, url="http://127.0.0.1:9")
