"""Gas of one round of N parties: batched commitments vs one commit per party vs the naive
reference contract of ENVIRONMENT.md, deployed and driven on the same chain in the same run.

Round gas, the same definition for all three: the sum of ``gasUsed`` of every transaction from
the round's first submission to every party holding its reward in its token balance, on chain.
Registration (join / register) and opening the round are not counted, nor is deployment.
- batched (``simulate(..., batched=True)``): the aggregator's ``commitBatch`` (N signed
  updates), ``commitAggregate``, the key holder's ``commitModel``, the validator's ``vote``, and
  one ``payBatch`` (N token transfers);
- one commit per party (``simulate``): N ``commitUpdate``, ``commitAggregate``, ``commitModel``,
  ``vote``, N ``claimReward``;
- naive (``NaiveRoundReference``): N ``submit`` (the same digests and samples) and one
  ``finalize`` (mints N rewards).
``round_gas_n{N}`` is a task's first round: every party starts it with no reward token in all
three (its first reward), so each pays the same fresh balance slot per party. ``*_later_n{N}``
is the second round of the same parties, each already holding its first reward.

Usage: ``python bench/batched_commitments_bench.py [--parties 100] [--url URL --faucet-key KEY]
[--quick]``; the last line is JSON with ``round_gas_n{N}``, ``naive_round_gas_n{N}``,
``round_gas_ratio_n{N}`` (batched over naive; target <= 0.25) and
``unbatched_round_gas_n{N}``. With ``--url`` the chain is that JSON-RPC node (e.g. Hardhat's).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from fedchain_magics import Federation, TaskConfig, simulate
from fedchain_magics.chain.artifacts import load_artifact

REWARD_PER_ROUND = 10**21  # naive contract's minted reward per round (split by samples)
CONTRACTS = Path(__file__).resolve().parents[1] / "contracts"
HARDHAT = CONTRACTS / "node_modules" / "hardhat" / "internal" / "cli" / "bootstrap.js"
# Hardhat's first well-known development account: public knowledge, funded only on that node.
HARDHAT_FAUCET_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"


@contextlib.contextmanager
def hardhat_node() -> Iterator[str]:
    """A Hardhat node on a free loopback port (from contracts/node_modules); yields its URL."""
    if not HARDHAT.exists():
        raise SystemExit("contracts/node_modules has no hardhat: run `cd contracts && npm ci`")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    process = subprocess.Popen(
        ["node", str(HARDHAT), "node", "--hostname", "127.0.0.1", "--port", str(port)],
        cwd=CONTRACTS,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.2)
        else:
            raise SystemExit("the Hardhat node did not start within 60 s")
        yield f"http://127.0.0.1:{port}"
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def _data(parties: int, features: int) -> tuple[Any, Any, Any, Any]:
    rng = np.random.default_rng(0)
    weights = rng.normal(size=(features, 2))
    X = rng.normal(size=(parties * 10 + 100, features)).astype(np.float32)
    y = np.argmax(X @ weights, axis=1)
    return X[100:], y[100:], X[:100], y[:100]


def _model(features: int) -> Any:
    import torch

    torch.set_num_threads(1)
    torch.manual_seed(0)
    return torch.nn.Linear(features, 2)


def _gas_since(
    federation: Federation, after_block: int, up_to_block: int | None = None
) -> tuple[int, int]:
    """Gas of every transaction mined after block ``after_block`` (up to ``up_to_block``, or
    the head), and how many there were."""
    ledger = federation.ledger
    total = count = 0
    last = ledger.block_number() if up_to_block is None else up_to_block
    for number in range(after_block + 1, last + 1):
        for tx_hash in ledger.web3.eth.get_block(number)["transactions"]:
            total += ledger.gas_used("0x" + bytes(tx_hash).hex())
            count += 1
    return total, count


def _opened_block(federation: Federation, task_id: int, round_number: int) -> int:
    (log,) = federation.registry.event_logs("RoundOpened", taskId=task_id, round=round_number)
    return int(log["blockNumber"])


def _engine_round(
    workspace: Path, parties: int, *, batched: bool, url: str | None, faucet_key: str | None
) -> tuple[Federation, int, list[tuple[int, int]]]:
    """Two simulated rounds; returns the federation (open), its task, and each round's gas and
    transactions (round 1 ends where round 2 opens)."""
    features = 10
    X, y, X_test, y_test = _data(parties, features)
    federation = Federation.open(workspace, url=url, faucet_key=faucet_key)
    result = simulate(
        _model(features),
        X,
        y,
        X_test,
        y_test,
        parties=parties,
        rounds=2,
        config=TaskConfig(max_parties=max(100, parties)),
        federation=federation,
        progress=False,
        processes=1,
        train_options={"learning_rate": 0.01},
        batched=batched,
    )
    if not all(record.accepted for record in result.records):
        raise RuntimeError("a benchmark round was not accepted: its gas would mean nothing")
    task_id = result.task.task_id
    first, second = (_opened_block(federation, task_id, number) for number in (1, 2))
    rounds = [_gas_since(federation, first, second - 1), _gas_since(federation, second)]
    return federation, task_id, rounds


def _naive_rounds(federation: Federation, task_id: int) -> list[tuple[int, int]]:
    """The naive reference contract, driven by the same parties with the same digests and
    samples as the engine's rounds; returns each round's gas and transactions."""
    ledger, registry = federation.ledger, federation.registry
    deployer = federation.account("naive-deployer")
    ledger.fund(deployer.address)
    artifact = load_artifact("NaiveRoundReference")
    address = ledger.deploy(deployer, artifact.abi, artifact.bytecode, REWARD_PER_ROUND)
    naive = ledger.web3.eth.contract(address=address, abi=artifact.abi)
    commitments = registry.update_commitments(task_id, 1)
    names = {c.participant: federation.name_of(c.participant) for c in commitments}
    for commitment in commitments:  # registration: not part of the round
        party = federation.account(names[commitment.participant])
        ledger.transact(party, naive.functions.register())
    rounds = []
    for round_number in (1, 2):
        start = ledger.block_number()
        for commitment in registry.update_commitments(task_id, round_number):
            party = federation.account(names[commitment.participant])
            submit = naive.functions.submit(commitment.update_digest, commitment.samples)
            ledger.transact(party, submit)
        ledger.transact(deployer, naive.functions.finalize())
        rounds.append(_gas_since(federation, start))
    if int(ledger.call(naive.functions.balanceOf(commitments[0].participant))) == 0:
        raise RuntimeError("the naive rounds paid nothing: their gas would mean nothing")
    return rounds


def measure(
    parties: int = 100, *, url: str | None = None, faucet_key: str | None = None
) -> dict[str, float]:
    suffix = f"_n{parties}"
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="fedchain-bench-batch-") as directory:
        workdir = Path(directory)
        federation, task_id, batched = _engine_round(
            workdir / "batched", parties, batched=True, url=url, faucet_key=faucet_key
        )
        try:
            naive = _naive_rounds(federation, task_id)
        finally:
            federation.close()
        federation, _, unbatched = _engine_round(
            workdir / "unbatched", parties, batched=False, url=url, faucet_key=faucet_key
        )
        federation.close()
    for index, label in ((0, ""), (1, "_later")):
        (gas, transactions), (naive_gas, naive_transactions) = batched[index], naive[index]
        unbatched_gas, unbatched_transactions = unbatched[index]
        figures[f"round_gas{label}{suffix}"] = gas
        figures[f"naive_round_gas{label}{suffix}"] = naive_gas
        figures[f"round_gas_ratio{label}{suffix}"] = gas / naive_gas
        figures[f"unbatched_round_gas{label}{suffix}"] = unbatched_gas
        figures[f"unbatched_round_gas_ratio{label}{suffix}"] = unbatched_gas / naive_gas
        figures[f"round_transactions{label}{suffix}"] = transactions
        figures[f"naive_round_transactions{label}{suffix}"] = naive_transactions
        figures[f"unbatched_round_transactions{label}{suffix}"] = unbatched_transactions
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--parties", type=int, default=100)
    parser.add_argument("--url", help="a JSON-RPC node (default: the in-process chain)")
    parser.add_argument("--faucet-key", help="a funded key on that node")
    parser.add_argument("--hardhat", action="store_true", help="start a Hardhat node and use it")
    parser.add_argument("--quick", action="store_true", help="5 parties: proves it runs")
    arguments = parser.parse_args()
    parties = 5 if arguments.quick else arguments.parties
    if arguments.hardhat:
        with hardhat_node() as url:
            figures = measure(parties, url=url, faucet_key=HARDHAT_FAUCET_KEY)
        figures = {f"hardhat_{key}": value for key, value in figures.items()}
    else:
        figures = measure(parties, url=arguments.url, faucet_key=arguments.faucet_key)
    print(json.dumps({key: round(value, 4) for key, value in figures.items()}))


if __name__ == "__main__":
    sys.exit(main())
