"""One code path to an EVM ledger: the durable in-process chain by default, or any JSON-RPC node.

Everything goes through a web3 provider, and every transaction is signed locally with an
eth-account key, so the in-process chain and a real node behave the same way. A transaction is
checked before it is sent: a call that would revert raises :class:`ContractRevertError`
(decoded into the custom error's name and arguments) and nothing reaches the chain.

On the in-process chain, where every estimate is a binary search of about a dozen EVM runs,
a function's gas limit is learned from its first estimate and later calls of it are checked
by one run at that limit in the next block's context (``eth_call`` on ``pending``); only a
call that fails that run is estimated again, so a refusal is decoded exactly as before. View
calls there are answered once per head block (the state of a block never changes).
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_tester.exceptions import TransactionFailed
from eth_utils import to_checksum_address
from web3 import Web3
from web3.contract.contract import ContractFunction
from web3.exceptions import ContractLogicError, MethodUnavailable, Web3RPCError
from web3.types import RPCEndpoint

from .artifacts import RevertDecoder
from .embedded import DurablePyEVMBackend, open_embedded_chain
from .errors import ChainConnectionError, ContractRevertError, InsufficientFundsError
from .log_cache import RawLog
from .provider import LockedEthereumTesterProvider

GAS_HEADROOM = 1.2
"""Multiplier on the estimated gas, so a slightly changed state between estimate and send fits."""

DEFAULT_FUNDING_WEI = 10**18
NODE_FAUCET_METHOD = "fedchain_requestFunds"
"""The faucet a served in-process chain offers (:mod:`fedchain_magics.server.faucet`)."""


@dataclass(frozen=True)
class TransactionResult:
    """What a mined transaction cost and where it landed."""

    function: str
    tx_hash: str
    block_number: int
    gas_used: int
    receipt: Any


class Ledger:
    """A connection to one EVM chain plus the means to sign and send transactions on it.

    Use :meth:`open_embedded` for the in-process chain in a ledger directory, or
    :meth:`connect` for a JSON-RPC node.
    """

    def __init__(
        self,
        web3: Web3,
        *,
        backend: DurablePyEVMBackend | None = None,
        url: str | None = None,
        faucet: LocalAccount | None = None,
    ) -> None:
        self.web3 = web3
        self.url = url
        self._backend = backend
        self._faucet = faucet
        self._lock = threading.RLock()
        self._closed = False
        provider = web3.provider
        # The in-process chain's one lock: reads that bypass the provider (logs, headers, gas)
        # take it too, since a server of this ledger may be mining on another thread.
        self._chain_lock = (
            provider.lock
            if isinstance(provider, LockedEthereumTesterProvider)
            else threading.RLock()
        )
        self._revert_decoder = RevertDecoder.from_artifacts()
        # The in-process chain only (see the module's docstring): the gas limit learned per
        # (contract, function selector), and the view results of the current head block.
        self._gas_limits: dict[tuple[str, str], int] = {}
        self._view_head: bytes | None = None
        self._views: dict[tuple[str, str, str, str | None], Any] = {}
        self._chain_id: int | None = None
        self._default_caller: str | None = None

    # -- construction -------------------------------------------------------------------------

    @classmethod
    def open_embedded(cls, ledger_dir: Path | str) -> Ledger:
        """Open (or create) the in-process chain persisted in ``ledger_dir``.

        Every request to it holds one lock (:attr:`embedded_provider`'s), so the kernel can
        serve it to other notebooks (:class:`fedchain_magics.server.LedgerServer`) meanwhile.
        """
        tester, backend = open_embedded_chain(Path(ledger_dir))
        web3 = Web3(LockedEthereumTesterProvider(tester))
        faucet = Account.from_key(backend.account_keys[0].to_bytes())
        return cls(web3, backend=backend, faucet=faucet)

    @classmethod
    def connect(
        cls,
        url: str,
        *,
        faucet_key: str | None = None,
        timeout_s: float = 10.0,
        token: str | None = None,
    ) -> Ledger:
        """Connect to a JSON-RPC node (``http://...``).

        ``faucet_key`` funds new accounts (a Hardhat node's development key, say); without it,
        :meth:`fund` asks the node's ``fedchain_requestFunds`` (a served fedchain ledger offers
        it). ``token``: sent as ``Authorization: Bearer <token>`` (a served ledger may need it).
        """
        request_kwargs: dict[str, Any] = {"timeout": timeout_s}
        if token is not None:
            request_kwargs["headers"] = {"Authorization": f"Bearer {token}"}
        web3 = Web3(Web3.HTTPProvider(url, request_kwargs=request_kwargs))
        try:
            web3.eth.chain_id  # noqa: B018 - a cheap request that proves the node answers
        except Exception as error:
            if getattr(getattr(error, "response", None), "status_code", None) == 401:
                raise ChainConnectionError(
                    f"the node at {url} refused this connection (401): it needs its token; "
                    "pass token=... (its server reads FEDCHAIN_SERVE_TOKEN or --token-file)"
                ) from None
            raise ChainConnectionError(
                f"no Ethereum node answered at {url} ({type(error).__name__}); "
                "start one (e.g. `npx hardhat node`) or drop the URL to use the in-process chain"
            ) from error
        faucet = Account.from_key(faucet_key) if faucet_key else None
        return cls(web3, url=url, faucet=faucet)

    def close(self) -> None:
        if self._backend is not None:
            with self._chain_lock:
                self._backend.close()
                self._closed = True

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` released the in-process chain (always False for a node)."""
        return self._closed

    # -- facts about the chain ------------------------------------------------------------------

    @property
    def embedded(self) -> bool:
        return self._backend is not None

    @property
    def embedded_provider(self) -> LockedEthereumTesterProvider:
        """The in-process chain's provider; its ``lock`` serializes every request to the chain
        (a server of this ledger calls through it). Refused for a JSON-RPC node."""
        provider = self.web3.provider
        if self._backend is None or not isinstance(provider, LockedEthereumTesterProvider):
            raise ChainConnectionError(
                f"{self.network_name} is a JSON-RPC node, not the in-process chain"
            )
        return provider

    @property
    def chain_dir(self) -> Path | None:
        """The in-process chain's folder (``<workspace>/chain``); None for a node."""
        return self._backend.ledger_dir if self._backend is not None else None

    @property
    def chain_id(self) -> int:
        """The chain's id, asked once: seeds, digests and signatures all bind to it."""
        if self._chain_id is None:
            self._chain_id = int(self.web3.eth.chain_id)
        return self._chain_id

    @property
    def network_name(self) -> str:
        return "in-process (eth-tester/py-evm)" if self.embedded else (self.url or "json-rpc")

    def block_number(self) -> int:
        return int(self.web3.eth.block_number)

    def head_hash(self) -> str:
        return "0x" + bytes(self.web3.eth.get_block("latest")["hash"]).hex()

    def raw_logs(
        self, address: str, topics: list[bytes | None], first: int, last: int
    ) -> list[RawLog]:
        """The logs of ``address`` in blocks ``first`` to ``last`` whose topics match
        (``None``: any), in chain order; the in-process chain also gives each log's gas."""
        if self._backend is not None:
            wanted = bytes.fromhex(address.removeprefix("0x"))
            terms = [[wanted]] + [[topic] for topic in topics if topic is not None]
            found = []
            with self._chain_lock:
                for block, _, transaction, gas, log_index, log in self._backend.logged_receipts(
                    first, last, terms
                ):
                    log_topics = tuple(topic.to_bytes(32, "big") for topic in log.topics)
                    if log.address == wanted and all(
                        want is None or (i < len(log_topics) and log_topics[i] == want)
                        for i, want in enumerate(topics)
                    ):
                        found.append(
                            RawLog(block.number, log_index, "0x" + transaction.hash.hex(),
                                   log_topics, bytes(log.data), gas)
                        )  # fmt: skip
            return found
        entries = self.web3.eth.get_logs(
            {
                "address": to_checksum_address(address),
                "topics": [None if t is None else "0x" + t.hex() for t in topics],
                "fromBlock": first,
                "toBlock": last,
            }
        )
        return sorted(
            (
                RawLog(
                    int(entry["blockNumber"]),
                    int(entry["logIndex"]),
                    "0x" + bytes(entry["transactionHash"]).hex(),
                    tuple(bytes(topic) for topic in entry["topics"]),
                    bytes(entry["data"]),
                )
                for entry in entries
            ),
            key=lambda log: (log.block_number, log.log_index),
        )

    def block_hash(self, number: int) -> str | None:
        """The hash of the chain's block ``number`` now (``None`` past the head)."""
        if self._backend is not None:
            try:
                with self._chain_lock:
                    header = self._backend.chain.get_canonical_block_header_by_number(number)
            except Exception:  # py-evm raises HeaderNotFound past the head
                return None
            return "0x" + header.hash.hex()
        try:
            return "0x" + bytes(self.web3.eth.get_block(number)["hash"]).hex()
        except Exception:  # web3 raises BlockNotFound
            return None

    def gas_used(self, tx_hash: str) -> int:
        """The gas a mined transaction used: through the in-process chain's transaction index
        (no block or receipt serialized), or the node's receipt."""
        if self._backend is not None:
            with self._chain_lock:
                return self._backend.gas_used(bytes.fromhex(tx_hash.removeprefix("0x")))
        receipt = self.web3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
        return int(receipt["gasUsed"])

    def balance_wei(self, address: str) -> int:
        return int(self.web3.eth.get_balance(to_checksum_address(address)))

    def mine_blocks(self, count: int) -> int:
        """Advance the in-process chain by ``count`` empty blocks (to let windows pass)."""
        if self._backend is None:
            raise ChainConnectionError(
                "only the in-process chain can be told to mine; a real node makes its own blocks"
            )
        with self._chain_lock:
            self.embedded_provider.tester.mine_blocks(count)
        return self.block_number()

    # -- accounts -----------------------------------------------------------------------------

    def fund(self, address: str, amount_wei: int = DEFAULT_FUNDING_WEI) -> TransactionResult | None:
        """Send gas money to ``address`` from the faucet, if it has less than half of it.

        Without a faucet key, a node that offers ``fedchain_requestFunds`` (a served fedchain
        ledger) sends its own fixed drip instead of ``amount_wei``.
        """
        if self.balance_wei(address) >= amount_wei // 2:
            return None
        if self._faucet is None:
            return self._fund_from_node(address)
        transaction = {"to": to_checksum_address(address), "value": amount_wei, "gas": 21_000}
        return self._sign_and_send(self._faucet, transaction, "fund")

    def _fund_from_node(self, address: str) -> TransactionResult | None:
        no_faucet = (
            f"account {address} has no ether for gas and this ledger has no faucet; "
            "fund it from your node's wallet, or connect with a funded key as faucet "
            "(%fedchain connect URL --faucet-key-env VAR, or Federation.open(..., faucet_key=))"
        )
        if self._backend is not None:
            raise InsufficientFundsError(no_faucet)
        try:
            tx_hash = self.web3.manager.request_blocking(
                RPCEndpoint(NODE_FAUCET_METHOD), [to_checksum_address(address)]
            )
        except MethodUnavailable:
            raise InsufficientFundsError(no_faucet) from None
        except Web3RPCError as error:
            raise InsufficientFundsError(
                f"the node's faucet refused to fund {address}: {error.message}"
            ) from None
        if tx_hash is None:  # the node found it funded already
            return None
        receipt = self.web3.eth.wait_for_transaction_receipt(tx_hash, timeout=120)
        return TransactionResult(
            function="fund",
            tx_hash="0x" + bytes(receipt["transactionHash"]).hex(),
            block_number=int(receipt["blockNumber"]),
            gas_used=int(receipt["gasUsed"]),
            receipt=receipt,
        )

    # -- transactions ---------------------------------------------------------------------------

    def deploy(self, account: LocalAccount, abi: list[Any], bytecode: str, *args: Any) -> str:
        """Deploy a contract; return its checksummed address."""
        factory = self.web3.eth.contract(abi=abi, bytecode=bytecode)
        transaction = factory.constructor(*args).build_transaction({"from": account.address})
        result = self._sign_and_send(account, dict(transaction), "deploy")
        address = result.receipt["contractAddress"]
        return str(to_checksum_address(address))

    def transact(self, account: LocalAccount, function: ContractFunction) -> TransactionResult:
        """Check, sign and send ``function`` from ``account``; wait for its receipt.

        Raises :class:`ContractRevertError` (and sends nothing) when the call would revert.
        """
        label = function.fn_name
        with self._lock:
            gas = self._gas_limit(account, function, label)
            transaction = function.build_transaction({"from": account.address, "gas": gas})
            return self._sign_and_send(account, dict(transaction), label)

    def _gas_limit(self, account: LocalAccount, function: ContractFunction, label: str) -> int:
        """The gas limit to send ``function`` with, once it is known not to revert.

        On the in-process chain a limit learned from an earlier estimate of the same function is
        checked by one run at that limit in the next block's context; a call that fails the run
        (a refusal, or one that needs more gas than before) is estimated as always.
        """
        key = (str(function.address), str(function.selector))
        learned = self._gas_limits.get(key) if self._backend is not None else None
        if learned is not None:
            try:
                with self._chain_lock:
                    function.call({"from": account.address, "gas": learned}, "pending")
                return learned
            except Exception:  # a revert, out of gas, below intrinsic gas: any failure
                pass  # the estimate below decides as always: a decoded refusal, or a new limit
        try:
            # eth-tester and JSON-RPC nodes estimate in the context of the next block, the
            # one the transaction will land in, so deadline checks agree with the real send.
            gas = int(function.estimate_gas({"from": account.address}) * GAS_HEADROOM)
        except (ContractLogicError, Web3RPCError, TransactionFailed) as error:
            raise self._decoded(error, label) from None
        if self._backend is not None:
            self._gas_limits[key] = max(gas, learned or 0)
        return gas

    def call(self, function: ContractFunction, sender: str | None = None) -> Any:
        """Run a view function (or what a transaction from ``sender`` would return, sending
        nothing), decoding a revert into :class:`ContractRevertError`.

        On the in-process chain the result is kept until the head block changes.
        """
        if self._backend is None:
            return self._call(function, sender)
        key = (
            str(function.address),
            str(function._encode_transaction_data()),
            "latest",
            None if sender is None else sender.lower(),
        )
        with self._chain_lock:
            head = self._backend.chain.header.parent_hash
            if head != self._view_head:
                self._view_head, self._views = head, {}
            if key not in self._views:
                self._views[key] = self._call(function, sender)
            return copy.deepcopy(self._views[key])

    def _call(self, function: ContractFunction, sender: str | None = None) -> Any:
        if sender is None and self._backend is not None:
            # the sender eth-tester's middleware would pick (its first account), named here so
            # that each view does not ask the chain for its accounts twice first (a third of
            # its time)
            if self._default_caller is None:
                self._default_caller = str(self.web3.eth.accounts[0])
            sender = self._default_caller
        try:
            if sender is None:
                return function.call()
            return function.call({"from": to_checksum_address(sender)})
        except (ContractLogicError, Web3RPCError, TransactionFailed) as error:
            raise self._decoded(error, function.fn_name) from None

    def _sign_and_send(
        self, account: LocalAccount, transaction: dict[str, Any], label: str
    ) -> TransactionResult:
        with self._lock:
            transaction.setdefault("chainId", self.chain_id)
            transaction["nonce"] = self.web3.eth.get_transaction_count(account.address, "pending")
            transaction.pop("gasPrice", None)
            base_fee = int(self.web3.eth.get_block("latest").get("baseFeePerGas", 0) or 0)
            transaction.setdefault("maxPriorityFeePerGas", 10**9)
            transaction.setdefault("maxFeePerGas", 2 * base_fee + 10**9)
            transaction.setdefault("from", account.address)
            if "gas" not in transaction:
                estimate = self.web3.eth.estimate_gas(transaction)  # type: ignore[arg-type]
                transaction["gas"] = int(estimate * GAS_HEADROOM)
            signed = account.sign_transaction(transaction)
            try:
                tx_hash = self.web3.eth.send_raw_transaction(signed.raw_transaction)
            except (ContractLogicError, Web3RPCError, ValueError) as error:
                message = str(error)
                if "insufficient" in message.lower() or "balance" in message.lower():
                    raise InsufficientFundsError(
                        f"account {account.address} cannot pay for {label}: {message}; "
                        "fund it first"
                    ) from None
                raise
            receipt = self.web3.eth.wait_for_transaction_receipt(tx_hash, timeout=120)
            result = TransactionResult(
                function=label,
                tx_hash="0x" + bytes(tx_hash).hex(),
                block_number=int(receipt["blockNumber"]),
                gas_used=int(receipt["gasUsed"]),
                receipt=receipt,
            )
        if int(receipt["status"]) != 1:
            raise ContractRevertError("Reverted", {"tx": result.tx_hash}, label)
        return result

    def _decoded(self, error: Exception, label: str) -> ContractRevertError:
        return self._revert_decoder.decode(_revert_data(error), label, fallback=str(error))


def _revert_data(error: BaseException) -> str | bytes | None:
    """The raw revert data behind ``error``.

    A JSON-RPC node's error carries it as hex in ``data``; eth-tester raises
    ``TransactionFailed`` whose original (chained) exception holds the raw bytes.
    """
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        data = getattr(current, "data", None)
        if isinstance(data, dict):
            data = data.get("data")
        if isinstance(data, str | bytes) and data:
            return data
        if current.args and isinstance(current.args[0], bytes):
            return current.args[0]
        current = current.__cause__ or current.__context__
    return None
