"""The bridge on a JSON-RPC node (Hardhat's, from contracts/node_modules) that later stops."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
from sidebar_helpers import REQUEST_SNAPSHOT, checked

from fedchain_magics.sidebar import register_comm_target

pytestmark = pytest.mark.slow

CONTRACTS = Path(__file__).parents[2] / "contracts"
HARDHAT = CONTRACTS / "node_modules" / "hardhat" / "internal" / "cli" / "bootstrap.js"
# Hardhat's first well-known development account: public knowledge, funded only on that node.
HARDHAT_FAUCET_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"


@pytest.fixture
def hardhat_node():
    """A Hardhat node on a free port: ``(url, stop)``."""
    if not HARDHAT.exists():
        message = "contracts/node_modules has no hardhat: run `cd contracts && npm ci`"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    process = subprocess.Popen(
        ["node", str(HARDHAT), "node", "--hostname", "127.0.0.1", "--port", str(port)],
        cwd=CONTRACTS,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group, so the whole node stops with it
    )

    def stop() -> None:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.2)
    else:
        stop()
        pytest.fail("the Hardhat node did not start within 60 s")
    yield f"http://127.0.0.1:{port}", stop
    stop()


def test_a_node_that_stops_answering_turns_into_an_error_message(
    shell, session, frontend, tmp_path, hardhat_node
):
    url, stop = hardhat_node
    session.open(tmp_path / "workspace", url=url, faucet_key=HARDHAT_FAUCET_KEY)
    register_comm_target(shell, session)
    sidebar = frontend.open()
    network = checked(sidebar.messages[0])["state"]["network"]
    assert network["url"] == url and network["chain_id"] == 31337
    assert network["embedded"] is False and network["ledger_dir"] is None
    assert network["connected"] is True

    stop()
    frontend.send(sidebar, REQUEST_SNAPSHOT)
    reply = checked(sidebar.messages[-1])
    assert reply["type"] == "error", reply
    assert reply["message"].startswith(f"the ledger node at {url} does not answer")
