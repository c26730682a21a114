"""A served in-process ledger per test module: the kernel side (``ledger``) and its HTTP server."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from fedchain_magics.chain import Ledger
from fedchain_magics.server import LedgerServer


@dataclass
class Served:
    root: Path
    ledger: Ledger
    """The serving kernel's own handle on the chain."""
    server: LedgerServer

    @property
    def url(self) -> str:
        return self.server.url

    def rpc(self, method: str, *params: object, headers: dict[str, str] | None = None) -> dict:
        """One JSON-RPC call; the whole response object."""
        body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
        response = requests.post(self.url, json=body, headers=headers, timeout=30)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("served")
    ledger = Ledger.open_embedded(root / "chain")
    server = LedgerServer(ledger, blob_root=root / "blobs").start()
    try:
        yield Served(root, ledger, server)
    finally:
        server.stop()
        ledger.close()
