"""Standard Ethereum JSON-RPC 2.0 over the in-process chain (no HTTP here: bytes in, bytes out).

:class:`RpcDispatcher` parses a request body (one call or a batch), checks each call's method
and parameters, runs it on eth-tester while holding the provider's lock, and answers in the
standard wire format (:mod:`.wire`). A malformed call gets its JSON-RPC error and changes nothing.

Only the methods of :data:`METHODS` exist: the reads and the writes that ethers.js 6 and web3.py
use, with ``eth_sendRawTransaction`` as the only way in for a transaction (the server holds no
user keys: ``eth_accounts`` is empty, ``eth_sendTransaction`` and eth-tester's ``evm_*``
controls, which could rewrite history, are not offered). ``fedchain_requestFunds`` is this
development chain's faucet (:mod:`.faucet`). A call that reverts answers geth's way: code 3,
``data`` the revert bytes in hex, so clients decode custom errors from it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
from collections.abc import Callable
from typing import Any

from eth.exceptions import Revert, UnrecognizedTransactionType
from eth_abi import decode as abi_decode
from eth_tester.exceptions import BlockNotFound, TransactionFailed, TransactionNotFound
from eth_tester.exceptions import ValidationError as TesterValidationError
from eth_utils import ValidationError as EvmValidationError
from rlp.exceptions import RLPException

from ..chain.provider import LockedEthereumTesterProvider
from . import wire
from .faucet import Faucet, FaucetLimitError

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
SERVER_ERROR = -32000
LIMIT_EXCEEDED = -32005
EXECUTION_REVERTED = 3

MAX_BATCH_LENGTH = 100
"""The most calls one batch may hold (geth's default is 1000; ours answers them one by one)."""
MAX_FEE_HISTORY_BLOCKS = 1024
DEFAULT_PRIORITY_FEE_WEI = 10**9
ERROR_STRING_SELECTOR = bytes.fromhex("08c379a0")
CLIENT_VERSION = "fedchain/eth-tester/py-evm"

_log = logging.getLogger(__name__)


class RpcError(Exception):
    """A JSON-RPC error object: ``code``, ``message`` and optional ``data``."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def as_object(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error


def error_response(error: RpcError, request_id: Any = None) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "error": error.as_object()}


def encode(response: Any) -> bytes:
    return json.dumps(response, separators=(",", ":")).encode()


class RpcDispatcher:
    """Answers JSON-RPC request bodies from the chain behind ``provider``."""

    def __init__(
        self,
        provider: LockedEthereumTesterProvider,
        *,
        faucet: Faucet | None = None,
        max_batch_length: int = MAX_BATCH_LENGTH,
    ) -> None:
        self._provider = provider
        self._tester = provider.tester
        self._faucet = faucet
        self.max_batch_length = max_batch_length
        with provider.lock:
            self.chain_id = int(self._tester.backend.chain.chain_id)
            self._funded_account = str(self._tester.get_accounts()[0])
        self.deployment: dict[str, Any] | None = None
        """The fedchain contracts' addresses on this chain, told to clients that ask
        (``fedchain_deployment``), so a new workspace finds them instead of deploying anew."""
        self._methods: dict[str, Callable[[list[Any]], Any]] = {
            "web3_clientVersion": self._client_version,
            "net_version": lambda params: str(self.chain_id),
            "net_listening": lambda params: True,
            "net_peerCount": lambda params: "0x0",
            "eth_chainId": lambda params: hex(self.chain_id),
            "eth_syncing": lambda params: False,
            "eth_accounts": lambda params: [],
            "eth_gasPrice": self._gas_price,
            "eth_maxPriorityFeePerGas": lambda params: hex(DEFAULT_PRIORITY_FEE_WEI),
            "eth_feeHistory": self._fee_history,
            "eth_blockNumber": self._block_number,
            "eth_getBlockByNumber": self._block_by_number,
            "eth_getBlockByHash": self._block_by_hash,
            "eth_getBlockTransactionCountByNumber": self._transaction_count_by_number,
            "eth_getBlockTransactionCountByHash": self._transaction_count_by_hash,
            "eth_getBalance": self._account_read("get_balance"),
            "eth_getTransactionCount": self._account_read("get_nonce"),
            "eth_getCode": self._account_read("get_code"),
            "eth_getStorageAt": self._storage_at,
            "eth_call": self._call,
            "eth_estimateGas": self._estimate_gas,
            "eth_sendRawTransaction": self._send_raw_transaction,
            "eth_getTransactionByHash": self._transaction_by_hash,
            "eth_getTransactionReceipt": self._transaction_receipt,
            "eth_getLogs": self._logs,
            "fedchain_requestFunds": self._request_funds,
            "fedchain_deployment": lambda params: self.deployment,
        }

    @property
    def methods(self) -> list[str]:
        return sorted(self._methods)

    # -- requests ----------------------------------------------------------------------------

    def handle(self, body: bytes) -> bytes | None:
        """The response body for a request body; None when every call was a notification."""
        try:
            request = json.loads(body)
        except (UnicodeDecodeError, ValueError) as error:
            return encode(error_response(RpcError(PARSE_ERROR, f"parse error: {error}")))
        if isinstance(request, list):
            if not request:
                return encode(error_response(RpcError(INVALID_REQUEST, "empty batch")))
            if len(request) > self.max_batch_length:
                message = (
                    f"a batch of {len(request)} calls is more than the "
                    f"{self.max_batch_length} this server takes; split it"
                )
                return encode(error_response(RpcError(INVALID_REQUEST, message)))
            responses = [response for call in request if (response := self.call(call)) is not None]
            return encode(responses) if responses else None
        response = self.call(request)
        return None if response is None else encode(response)

    def call(self, request: Any) -> dict[str, Any] | None:
        """Answer one call object (None for a valid notification: a call without ``id``)."""
        if not isinstance(request, dict):
            return error_response(RpcError(INVALID_REQUEST, "a call must be a JSON object"))
        request_id = request.get("id")
        if not _valid_id(request_id):
            return error_response(RpcError(INVALID_REQUEST, "id must be a string or an integer"))
        method, params = request.get("method"), request.get("params", [])
        if request.get("jsonrpc") != "2.0" or not isinstance(method, str):
            error = RpcError(INVALID_REQUEST, 'a call needs "jsonrpc": "2.0" and a method name')
            return error_response(error, request_id)
        try:
            if not isinstance(params, list):
                raise RpcError(INVALID_PARAMS, "params must be a list (by position)")
            result = self.run(method, params)
        except RpcError as error:
            response = error_response(error, request_id)
        else:
            response = {"jsonrpc": "2.0", "id": request_id, "result": result}
        return response if "id" in request else None

    def run(self, method: str, params: list[Any]) -> Any:
        """The wire result of ``method(*params)``; raises :class:`RpcError`."""
        handler = self._methods.get(method)
        if handler is None:
            raise RpcError(METHOD_NOT_FOUND, f"the method {method} does not exist on this node")
        try:
            return handler(params)
        except RpcError:
            raise
        except wire.InvalidParams as error:
            raise RpcError(INVALID_PARAMS, f"invalid params: {error}") from None
        except TransactionFailed as error:
            raise _reverted(error) from None
        except TesterValidationError as error:
            raise RpcError(INVALID_PARAMS, f"invalid params: {error}") from None
        except EvmValidationError as error:
            raise RpcError(SERVER_ERROR, _worded_like_a_node(str(error))) from None
        except FaucetLimitError as error:
            raise RpcError(LIMIT_EXCEEDED, str(error)) from None
        except Exception as error:
            _log.exception("JSON-RPC %s failed", method)
            raise RpcError(INTERNAL_ERROR, f"internal error: {type(error).__name__}") from None

    # -- the methods ---------------------------------------------------------------------------

    def _client_version(self, params: list[Any]) -> str:
        _arity(params, 0)
        return CLIENT_VERSION

    def _gas_price(self, params: list[Any]) -> str:
        _arity(params, 0)
        with self._provider.lock:
            base_fee = int(self._tester.get_block_by_number("pending")["base_fee_per_gas"])
        return hex(base_fee + DEFAULT_PRIORITY_FEE_WEI)

    def _block_number(self, params: list[Any]) -> str:
        _arity(params, 0)
        with self._provider.lock:  # the head's header only: no block is serialized
            return hex(int(self._tester.backend.chain.get_canonical_head().block_number))

    def _block_by_number(self, params: list[Any]) -> Any:
        _arity(params, 2)
        block = wire.block_number_or_tag(params[0])
        full = _boolean(params[1], "full transactions")
        with self._provider.lock:
            try:
                found = self._tester.get_block_by_number(block, full_transactions=full)
            except BlockNotFound:
                return None
        return wire.block_to_wire(found)

    def _block_by_hash(self, params: list[Any]) -> Any:
        _arity(params, 2)
        block_hash = wire.hash32(params[0], "block hash")
        full = _boolean(params[1], "full transactions")
        with self._provider.lock:
            try:
                found = self._tester.get_block_by_hash(block_hash, full_transactions=full)
            except BlockNotFound:
                return None
        return wire.block_to_wire(found)

    def _transaction_count_by_number(self, params: list[Any]) -> Any:
        block = self._block_by_number([*_arity(params, 1), False])
        return None if block is None else hex(len(block["transactions"]))

    def _transaction_count_by_hash(self, params: list[Any]) -> Any:
        block = self._block_by_hash([*_arity(params, 1), False])
        return None if block is None else hex(len(block["transactions"]))

    def _account_read(self, getter: str) -> Callable[[list[Any]], Any]:
        def read(params: list[Any]) -> Any:
            account, block = _arity(params, 2, optional=1)
            arguments = (wire.address(account, "address"), self._block(block))
            with self._provider.lock:
                return wire.to_wire(getattr(self._tester, getter)(*arguments))

        return read

    def _storage_at(self, params: list[Any]) -> Any:
        account, slot, block = _arity(params, 3, optional=1)
        arguments = (wire.address(account, "address"), hex(wire.storage_slot(slot)))
        with self._provider.lock:
            value = self._tester.get_storage_at(*arguments, self._block(block))
        return "0x" + int(str(value), 16).to_bytes(32, "big").hex()

    def _call(self, params: list[Any]) -> Any:
        transaction, block = _arity(params, 2, optional=1)
        call = wire.call_transaction(transaction, default_from=self._funded_account)
        with self._provider.lock:
            return wire.to_wire(self._tester.call(call, self._block(block)))

    def _estimate_gas(self, params: list[Any]) -> Any:
        transaction, block = _arity(params, 2, optional=1)
        call = wire.call_transaction(transaction, default_from=self._funded_account)
        tag = "latest" if block in (None, "pending") else self._block(block)
        with self._provider.lock:  # eth-tester estimates "latest" against the pending block
            return hex(int(self._tester.estimate_gas(call, tag)))

    def _send_raw_transaction(self, params: list[Any]) -> Any:
        (raw,) = _arity(params, 1)
        raw = wire.data(raw, "signed transaction")
        with self._provider.lock:  # eth-tester mines it now; the journal flushes the block
            try:
                return str(self._tester.send_raw_transaction(raw))
            except (RLPException, UnrecognizedTransactionType) as error:
                raise wire.InvalidParams(
                    f"the signed transaction cannot be decoded ({type(error).__name__})"
                ) from None

    def _transaction_by_hash(self, params: list[Any]) -> Any:
        (transaction_hash,) = _arity(params, 1)
        with self._provider.lock:
            try:
                found = self._tester.get_transaction_by_hash(
                    wire.hash32(transaction_hash, "transaction hash")
                )
            except TransactionNotFound:
                return None
        return wire.transaction_to_wire(found)

    def _transaction_receipt(self, params: list[Any]) -> Any:
        (transaction_hash,) = _arity(params, 1)
        with self._provider.lock:
            try:
                receipt = self._tester.get_transaction_receipt(
                    wire.hash32(transaction_hash, "transaction hash")
                )
            except TransactionNotFound:
                return None
        if receipt.get("block_number") is None:
            return None
        return wire.receipt_to_wire(receipt)

    def _logs(self, params: list[Any]) -> Any:
        (query,) = _arity(params, 1)
        if not isinstance(query, dict):
            raise wire.InvalidParams("the filter must be an object")
        address = wire.addresses_filter(query.get("address"))
        topics = wire.topics_filter(query.get("topics"))
        with self._provider.lock:
            if query.get("blockHash") is not None:
                if query.get("fromBlock") is not None or query.get("toBlock") is not None:
                    raise wire.InvalidParams("give blockHash or fromBlock/toBlock, not both")
                block_hash = wire.hash32(query["blockHash"], "blockHash")
                try:
                    number = self._tester.get_block_by_hash(block_hash)["number"]
                except BlockNotFound:
                    raise RpcError(SERVER_ERROR, f"unknown block {block_hash}") from None
                first = last = int(number)
            else:  # as numbers: eth-tester's log filter reads "earliest" as "pending"
                first = self._number_of(self._block(query.get("fromBlock")))
                last = self._number_of(self._block(query.get("toBlock")))
            logs = self._tester.get_logs(
                from_block=first, to_block=last, address=address, topics=topics
            )
        return [wire.log_to_wire(log) for log in logs]

    def _fee_history(self, params: list[Any]) -> Any:
        count, newest, percentiles = _arity(params, 3, optional=1)
        block_count = wire.quantity(count, "block count") if isinstance(count, str) else count
        if not isinstance(block_count, int) or not 1 <= block_count <= MAX_FEE_HISTORY_BLOCKS:
            raise wire.InvalidParams(f"block count must be 1 to {MAX_FEE_HISTORY_BLOCKS}")
        percentiles = _percentiles(percentiles)
        with self._provider.lock:
            head = self._tester.get_block_by_number(self._block(newest))
            newest_number = int(head["number"])
            oldest = max(0, newest_number - block_count + 1)
            blocks = [
                self._tester.get_block_by_number(number, full_transactions=True)
                for number in range(oldest, newest_number)
            ] + [self._tester.get_block_by_number(newest_number, full_transactions=True)]
            latest = int(self._tester.get_block_by_number("latest")["number"])
            following = self._tester.get_block_by_number(
                "pending" if newest_number >= latest else newest_number + 1
            )
        base_fees = [int(block["base_fee_per_gas"]) for block in [*blocks, following]]
        history: dict[str, Any] = {
            "oldestBlock": hex(oldest),
            "baseFeePerGas": [hex(fee) for fee in base_fees],
            "gasUsedRatio": [int(b["gas_used"]) / int(b["gas_limit"]) for b in blocks],
        }
        if percentiles is not None:
            history["reward"] = [
                [hex(fee) for fee in _priority_fees_at(block, percentiles)] for block in blocks
            ]
        return history

    def _request_funds(self, params: list[Any]) -> Any:
        (account,) = _arity(params, 1)
        recipient = wire.address(account, "address")
        if self._faucet is None:
            raise RpcError(METHOD_NOT_FOUND, "this server runs no faucet")
        return self._faucet.request(recipient)

    def _block(self, value: Any) -> int | str:
        return "latest" if value is None else wire.block_number_or_tag(value)

    def _number_of(self, block: int | str) -> int:
        if isinstance(block, int):
            return block
        return int(self._tester.get_block_by_number(block)["number"])


# -- helpers ---------------------------------------------------------------------------------


def _arity(params: list[Any], count: int, *, optional: int = 0) -> list[Any]:
    """``params`` padded with None up to ``count``, if it has ``count - optional`` or more."""
    if not count - optional <= len(params) <= count:
        wanted = str(count) if not optional else f"{count - optional} to {count}"
        raise wire.InvalidParams(f"expected {wanted} parameters, got {len(params)}")
    return [*params, *([None] * (count - len(params)))]


def _boolean(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise wire.InvalidParams(f"{name} must be true or false, got {value!r}")
    return value


def _valid_id(value: Any) -> bool:
    return value is None or isinstance(value, str) or type(value) is int


def _percentiles(value: Any) -> list[float] | None:
    if value is None:
        return None
    if (
        not isinstance(value, list)
        or len(value) > 100
        or not all(isinstance(p, int | float) and not isinstance(p, bool) for p in value)
        or any(not 0 <= p <= 100 for p in value)
        or value != sorted(value)
    ):
        raise wire.InvalidParams("reward percentiles must be increasing numbers from 0 to 100")
    return [float(p) for p in value]


def _priority_fees_at(block: dict[str, Any], percentiles: list[float]) -> list[int]:
    """Each percentile of the block's effective priority fees (by transaction, not weighted
    by gas); 0 for an empty block."""
    base_fee = int(block["base_fee_per_gas"])
    fees = sorted(int(tx["gas_price"]) - base_fee for tx in block["transactions"])
    if not fees:
        return [0 for _ in percentiles]
    return [
        fees[min(len(fees) - 1, max(0, math.ceil(p * len(fees) / 100) - 1))] for p in percentiles
    ]


def _reverted(error: TransactionFailed) -> RpcError:
    """geth's answer for a reverted call: code 3, the revert bytes as ``data``; another failure
    (out of gas, an invalid opcode) is a plain server error."""
    revert = _revert_in(error)
    if revert is None:
        return RpcError(SERVER_ERROR, f"execution failed: {error}")
    raw = bytes(revert.args[0]) if revert.args and isinstance(revert.args[0], bytes) else b""
    message = "execution reverted"
    if raw[:4] == ERROR_STRING_SELECTOR:
        with contextlib.suppress(Exception):  # malformed Error(string): the data still goes out
            message += f": {abi_decode(['string'], raw[4:])[0]}"
    return RpcError(EXECUTION_REVERTED, message, "0x" + raw.hex())


def _revert_in(error: BaseException) -> Revert | None:
    """The EVM's :class:`Revert` behind eth-tester's ``TransactionFailed``, if it was one."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, Revert):
            return current
        if current.args and isinstance(current.args[0], Revert):
            return current.args[0]
        current = current.__cause__ or current.__context__
    return None


def _worded_like_a_node(message: str) -> str:
    """py-evm's refusals, prefixed the way geth words them (clients match on these words)."""
    lowered = message.lower()
    if "cannot afford" in lowered or "balance" in lowered:
        return f"insufficient funds for gas * price + value: {message}"
    if "nonce" in lowered:
        return f"invalid nonce: {message}"
    return message
