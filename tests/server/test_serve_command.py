"""``python -m fedchain_magics serve``: a separate process serves the ledger; killed, it loses
nothing mined; while it runs, whoever opens the directory is told where to connect. And a
server's own lifecycle: stopped, it closes its connections and removes ``served.json``."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from eth_account import Account

from fedchain_magics import cli
from fedchain_magics.chain import Ledger, LedgerLockedError
from fedchain_magics.chain.lock import read_served
from fedchain_magics.server import LedgerServer
from fedchain_magics.storage import HttpBlobStore


class ServeProcess:
    def __init__(self, workspace: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "fedchain_magics", "serve", str(workspace), "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.url = self._line("json-rpc ")
        self.blob_url = self._line("blobs ")
        self._line("serving ")

    def _line(self, prefix: str) -> str:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line.startswith(prefix):
            self.process.kill()
            pytest.fail(f"serve printed {line!r}; stderr: {self.process.communicate()[1]}")
        return line[len(prefix) :].strip()

    def stop(self, signal_number: int) -> tuple[int, str]:
        self.process.send_signal(signal_number)
        out, _ = self.process.communicate(timeout=30)
        return self.process.returncode, out


def test_a_served_ledger_survives_a_kill_and_names_its_endpoint_meanwhile(tmp_path):
    workspace = tmp_path / ".fedchain"
    serving = ServeProcess(workspace)
    try:
        remote = Ledger.connect(serving.url)
        accounts = [Account.create() for _ in range(3)]
        for account in accounts:
            remote.fund(account.address)
        digest = HttpBlobStore(serving.blob_url).put(b"a blob kept by the served store")
        head, height = remote.head_hash(), remote.block_number()
        assert height == 3

        with pytest.raises(LedgerLockedError) as locked:
            Ledger.open_embedded(workspace / "chain")
        message = str(locked.value)
        assert f"pid {serving.process.pid} " in message
        connect = f"connect to it with `%fedchain connect {serving.url}`"
        assert f"is served at {serving.url}: {connect}" in message
        assert cli.main(["serve", str(workspace), "--port", "0"]) == 2  # refused, one line
    finally:
        serving.process.kill()
        serving.process.communicate(timeout=30)

    restarted = ServeProcess(workspace)  # the stale served.json of the killed one is replaced
    try:
        again = Ledger.connect(restarted.url)
        assert (again.head_hash(), again.block_number()) == (head, height)
        assert all(again.balance_wei(account.address) == 10**18 for account in accounts)
        assert HttpBlobStore(restarted.blob_url).get(digest)
    finally:
        returncode, out = restarted.stop(signal.SIGTERM)
    assert returncode == 0 and out.strip().endswith("stopped")
    assert not (workspace / "chain" / "served.json").exists()
    ledger = Ledger.open_embedded(workspace / "chain")  # unlocked, and the same chain
    try:
        assert ledger.head_hash() == head
    finally:
        ledger.close()


def test_a_server_answers_nothing_from_a_closed_ledger_and_cleans_up_on_stop(tmp_path):
    ledger = Ledger.open_embedded(tmp_path / "chain")
    server = LedgerServer(ledger).start()
    url = server.url
    session = requests.Session()  # one kept-alive connection
    block_number = {"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []}
    assert session.post(url, json=block_number, timeout=10).json()["result"] == "0x0"
    assert read_served(tmp_path / "chain")["url"] == url
    ledger.close()  # closed under the server: it refuses rather than touch the chain
    answer = session.post(url, json=block_number, timeout=10).json()
    assert answer["error"] == {"code": -32000, "message": "the ledger was closed"}
    server.stop()
    server.stop()  # idempotent
    assert not (tmp_path / "chain" / "served.json").exists()
    with pytest.raises(requests.ConnectionError):
        session.post(url, json=block_number, timeout=10)
