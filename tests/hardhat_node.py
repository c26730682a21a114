"""A real JSON-RPC node for tests: Hardhat's, from contracts/node_modules (offline)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CONTRACTS = Path(__file__).parents[1] / "contracts"
HARDHAT = CONTRACTS / "node_modules" / "hardhat" / "internal" / "cli" / "bootstrap.js"
# Hardhat's first well-known development account: public knowledge, funded only on that node.
HARDHAT_FAUCET_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"


@contextmanager
def hardhat_node() -> Iterator[tuple[str, Callable[[], None]]]:
    """Start a Hardhat node on a free loopback port; yield ``(url, stop)`` and stop it after.

    Missing hardhat skips the test, except under ``CI=true`` where it fails it.
    """
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

    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.2)
        else:
            pytest.fail("the Hardhat node did not start within 60 s")
        yield f"http://127.0.0.1:{port}", stop
    finally:
        stop()
