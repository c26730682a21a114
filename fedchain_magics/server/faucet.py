"""Gas money on the served development chain: ``fedchain_requestFunds(address)``.

A notebook that connects to a served in-process chain has no funded account of its own. It asks
the server, which sends :data:`DRIP_WEI` (1 ether) from the last of eth-tester's funded default
accounts (the in-process ledger's own faucet is the first one, so the two never race for a
nonce). Bounds, kept simple: an address that already holds half a drip gets nothing (the call
returns null), and one address gets at most :data:`DRIPS_PER_HOUR` drips in any hour
(JSON-RPC error -32005 beyond that). The ether only pays for gas: eth-tester's default accounts
have publicly known keys, so nothing of value belongs on this chain. A real network has no such
method; ``Ledger.connect`` then needs a ``faucet_key``.
"""

from __future__ import annotations

import time
from collections import defaultdict, deque
from collections.abc import Callable

from ..chain.provider import LockedEthereumTesterProvider

DRIP_WEI = 10**18
"""What one request sends: the in-process ledger's own funding amount (1 ether)."""
DRIPS_PER_HOUR = 5
"""How many drips one address may receive in any hour."""
FAUCET_GAS = 21_000


class FaucetLimitError(Exception):
    """The address had its drips for this hour (JSON-RPC error -32005, limit exceeded)."""


class Faucet:
    """Sends gas money from one funded default account of the in-process chain."""

    def __init__(
        self,
        provider: LockedEthereumTesterProvider,
        *,
        drip_wei: int = DRIP_WEI,
        drips_per_hour: int = DRIPS_PER_HOUR,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._provider = provider
        self.drip_wei = drip_wei
        self.drips_per_hour = drips_per_hour
        self._clock = clock
        self._recent: defaultdict[str, deque[float]] = defaultdict(deque)
        with provider.lock:
            self.source = str(provider.tester.get_accounts()[-1])

    def request(self, address: str) -> str | None:
        """Send a drip to ``address`` (checksummed); its transaction hash, or None when the
        address already holds at least half a drip."""
        tester = self._provider.tester
        with self._provider.lock:  # balance, limit and send happen as one step
            if int(tester.get_balance(address)) >= self.drip_wei // 2:
                return None
            now = self._clock()
            recent = self._recent[address]
            while recent and now - recent[0] >= 3600:
                recent.popleft()
            if len(recent) >= self.drips_per_hour:
                raise FaucetLimitError(
                    f"{address} had {self.drips_per_hour} drips of gas money in the last hour; "
                    "this development faucet sends no more to it for now"
                )
            transaction_hash = tester.send_transaction(
                {"from": self.source, "to": address, "value": self.drip_wei, "gas": FAUCET_GAS}
            )
            recent.append(now)
        return str(transaction_hash)
