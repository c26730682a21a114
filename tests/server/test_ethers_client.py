"""ethers.js 6 reads a served ledger by ABI alone and sees what Python's read model sees, after
a small federated task ran through the server (``Federation.open(url=...)`` + ``simulate``)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import SGDClassifier

from fedchain_magics import Federation, TaskConfig, simulate
from fedchain_magics.chain import RoundPhase
from fedchain_magics.engine import read_snapshot
from fedchain_magics.models import initialize

CONTRACTS = Path(__file__).parents[2] / "contracts"
READ_LEDGER = CONTRACTS / "scripts" / "read-ledger.mjs"


def read_with_ethers(url: str, training: str, accounts: list[str]) -> dict:
    if shutil.which("node") is None or not (CONTRACTS / "node_modules" / "ethers").exists():
        message = "ethers.js is not installed: run `cd contracts && npm ci`"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    done = subprocess.run(
        ["node", str(READ_LEDGER), "--rpc", url, "--training", training,
         "--accounts", ",".join(accounts)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_ethers_reads_the_same_ledger_as_python(served, tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4))
    y = (X[:, 0] > 0).astype(int)
    model = initialize(
        SGDClassifier(loss="log_loss", random_state=0), X[:10], y[:10], classes=[0, 1]
    )
    with Federation.open(tmp_path / "notebook", url=served.url) as federation:
        simulate(
            model, X, y, X, y, parties=2, rounds=1, federation=federation,
            config=TaskConfig(rounds=1, min_participants=2), progress=False,
        )  # fmt: skip
        snapshot = read_snapshot(federation)
        registry = federation.registry
        accounts = [balance.address for balance in snapshot.balances]
        seen = read_with_ethers(served.url, registry.deployment.training, accounts)
        python_balances = {address.lower(): registry.token_balance(address) for address in accounts}

    assert seen["chainId"] == str(federation.ledger.chain_id)
    assert seen["blockNumber"] == served.ledger.block_number()
    assert seen["token"]["address"].lower() == registry.deployment.token.lower()
    ethers_balances = {key.lower(): int(value) for key, value in seen["token"]["balances"].items()}
    assert ethers_balances == python_balances
    assert ethers_balances == {b.address.lower(): b.balance for b in snapshot.balances}
    assert sum(ethers_balances.values()) > 0

    (round_one,) = snapshot.tasks[0].rounds
    assert round_one.phase == RoundPhase.ACCEPTED
    events: dict[str, list[dict]] = {}
    for event in seen["events"]:
        events.setdefault(event["name"], []).append(event["args"])
    assert {
        (e["participant"].lower(), "0x" + e["updateDigest"][2:], int(e["samples"]))
        for e in events["UpdateCommitted"]
    } == {
        (c.participant.lower(), "0x" + c.update_digest.hex(), c.samples)
        for c in round_one.contributions
    }
    (finalized,) = events["RoundFinalized"]
    assert finalized["accepted"] is True
    assert (int(finalized["acceptVotes"]), int(finalized["rejectVotes"])) == (
        round_one.accept_votes, round_one.reject_votes,
    )  # fmt: skip
    assert finalized["modelDigest"] == "0x" + round_one.model_digest.hex()
    assert sorted(int(e["amount"]) for e in events["RewardClaimed"]) == sorted(
        c.reward for c in round_one.contributions if c.claimed
    )
