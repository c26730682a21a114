"""The in-process chain's web3 provider, with one lock around every request.

A kernel that serves its chain over HTTP (:mod:`fedchain_magics.server`) also uses it itself:
the server's threads and the kernel's own calls reach eth-tester/py-evm, which is not
thread-safe, through this one provider. Each request holds :attr:`LockedEthereumTesterProvider.lock`
(re-entrant) for its whole duration, so a block is mined, flushed to the journal and read back
by one caller at a time. Code that needs several requests to happen together (a faucet reading a
nonce and sending) holds the same lock around them.
"""

from __future__ import annotations

import threading
from typing import Any

from eth_tester import EthereumTester
from web3.providers.eth_tester import EthereumTesterProvider
from web3.types import RPCEndpoint, RPCResponse


class LockedEthereumTesterProvider(EthereumTesterProvider):
    """:class:`EthereumTesterProvider` whose requests are serialized by :attr:`lock`."""

    def __init__(
        self, ethereum_tester: EthereumTester, lock: threading.RLock | None = None
    ) -> None:
        super().__init__(ethereum_tester)
        self.lock = lock if lock is not None else threading.RLock()

    @property
    def tester(self) -> EthereumTester:
        """The eth-tester instance behind the provider (call it only while holding :attr:`lock`)."""
        tester = self.ethereum_tester
        assert tester is not None  # set by EthereumTesterProvider.__init__
        return tester

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        with self.lock:
            return super().make_request(method, params)
