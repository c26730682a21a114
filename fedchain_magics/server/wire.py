"""The Ethereum JSON-RPC wire format, both ways, for eth-tester's Python values.

Inbound, each parser checks one parameter and turns it into what eth-tester takes (ints, block
tags, checksummed addresses, snake_case transaction keys) or raises :class:`InvalidParams`.
Outbound, eth-tester's results (ints, snake_case keys, tuples) become standard JSON-RPC values:
hex quantities, camelCase fields, 256-byte ``logsBloom``, ``removed`` on logs. The key maps are
web3.py's own (``web3.providers.eth_tester.middleware``), used in the other direction here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from eth_bloom import BloomFilter
from eth_utils import is_checksum_address, to_checksum_address
from web3.providers.eth_tester.middleware import (
    block_result_remapper,
    log_result_remapper,
    receipt_result_remapper,
    transaction_result_formatter,
    transaction_result_remapper,
)

BLOCK_TAGS = ("latest", "earliest", "pending", "safe", "finalized")
MAX_QUANTITY = 2**256 - 1
ZERO_ADDRESS = "0x" + "00" * 20

_QUANTITY = re.compile(r"0x(0|[1-9a-fA-F][0-9a-fA-F]*)")
_DATA = re.compile(r"0x([0-9a-fA-F]{2})*")
_HASH = re.compile(r"0x[0-9a-fA-F]{64}")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


class InvalidParams(Exception):
    """A request's parameters are not what its method takes (JSON-RPC error -32602)."""


# -- inbound -------------------------------------------------------------------------------------


def quantity(value: Any, name: str) -> int:
    """A hex quantity (``0x1a``, no leading zeros) as an int."""
    if not isinstance(value, str) or not _QUANTITY.fullmatch(value):
        raise InvalidParams(f"{name} must be a hex quantity such as 0x1a, got {value!r}")
    number = int(value, 16)
    if number > MAX_QUANTITY:
        raise InvalidParams(f"{name} is larger than 2**256 - 1")
    return number


def data(value: Any, name: str) -> str:
    """Hex bytes (``0x`` followed by an even number of hex digits), returned unchanged."""
    if not isinstance(value, str) or not _DATA.fullmatch(value):
        raise InvalidParams(f"{name} must be hex bytes such as 0x00ff, got {_short(value)}")
    return value


def hash32(value: Any, name: str) -> str:
    """A 32-byte hash in hex, lower-cased."""
    if not isinstance(value, str) or not _HASH.fullmatch(value):
        raise InvalidParams(f"{name} must be a 32-byte hash in hex, got {_short(value)}")
    return value.lower()


def address(value: Any, name: str) -> str:
    """A 20-byte address; mixed case must be a valid checksum. Returned checksummed."""
    if not isinstance(value, str) or not _ADDRESS.fullmatch(value):
        raise InvalidParams(f"{name} must be a 20-byte address in hex, got {_short(value)}")
    if value[2:] not in (value[2:].lower(), value[2:].upper()) and not is_checksum_address(value):
        raise InvalidParams(f"{name} {value} has a wrong checksum (mixed-case letters)")
    return str(to_checksum_address(value))


def storage_slot(value: Any) -> int:
    """A storage position: a quantity, or 32 bytes of hex (ethers.js sends it padded)."""
    if isinstance(value, str) and re.fullmatch(r"0x[0-9a-fA-F]{1,64}", value):
        return int(value, 16)
    raise InvalidParams(f"the storage slot must be at most 32 bytes of hex, got {_short(value)}")


def block_number_or_tag(value: Any, name: str = "block") -> int | str:
    """A block tag (latest, earliest, pending, safe, finalized) or a hex block number."""
    if isinstance(value, str) and value in BLOCK_TAGS:
        return value
    if isinstance(value, str):
        return quantity(value, name)
    raise InvalidParams(
        f"{name} must be a block number in hex or one of {', '.join(BLOCK_TAGS)}, got {value!r}"
    )


_CALL_FIELDS: dict[str, tuple[str, Callable[[Any, str], Any]]] = {
    "from": ("from", address),
    "to": ("to", address),
    "gas": ("gas", quantity),
    "gasPrice": ("gas_price", quantity),
    "maxFeePerGas": ("max_fee_per_gas", quantity),
    "maxPriorityFeePerGas": ("max_priority_fee_per_gas", quantity),
    "value": ("value", quantity),
    "nonce": ("nonce", quantity),
    "data": ("data", data),
    "input": ("data", data),
}


def call_transaction(value: Any, *, default_from: str) -> dict[str, Any]:
    """The transaction object of ``eth_call`` / ``eth_estimateGas`` in eth-tester's form.

    Fields a node ignores for a call (``type``, ``chainId``, ``accessList``...) are dropped; a
    missing ``from`` is ``default_from`` (web3.py's eth-tester middleware does the same).
    """
    if not isinstance(value, dict):
        raise InvalidParams(f"the transaction must be an object, got {_short(value)}")
    if "data" in value and "input" in value and value["data"] != value["input"]:
        raise InvalidParams("the transaction has both data and input, and they differ")
    transaction: dict[str, Any] = {}
    for key, field in value.items():
        if key in _CALL_FIELDS and field is not None:
            target, parse = _CALL_FIELDS[key]
            transaction[target] = parse(field, f"transaction.{key}")
    transaction.setdefault("from", default_from)
    if "gas_price" in transaction and (
        "max_fee_per_gas" in transaction or "max_priority_fee_per_gas" in transaction
    ):
        transaction.pop("gas_price")  # a dynamic-fee client may send both; the node uses these
    return transaction


def topics_filter(value: Any) -> list[Any] | None:
    """``topics`` of a log filter: per position null (any), a topic, or a list of topics."""
    if value is None:
        return None
    if not isinstance(value, list) or len(value) > 4:
        raise InvalidParams("topics must be a list of at most 4 entries")
    topics: list[Any] = []
    for position, entry in enumerate(value):
        if entry is None:
            topics.append(None)
        elif isinstance(entry, list):
            if not entry:
                topics.append(None)  # an empty alternative matches anything, as geth does
            else:
                topics.append([hash32(item, f"topics[{position}]") for item in entry])
        else:
            topics.append(hash32(entry, f"topics[{position}]"))
    return topics


def addresses_filter(value: Any) -> str | list[str] | None:
    if value is None:
        return None
    if isinstance(value, list):
        if not value:
            return None
        return [address(item, "address") for item in value]
    return address(value, "address")


# -- outbound ------------------------------------------------------------------------------------


def to_wire(value: Any) -> Any:
    """Ints as hex quantities, bytes as hex, tuples as lists, recursively; the rest unchanged."""
    if isinstance(value, bool) or value is None or isinstance(value, str | float):
        return value
    if isinstance(value, int):
        return hex(value)
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    if isinstance(value, dict):
        return {str(key): to_wire(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_wire(item) for item in value]
    raise TypeError(f"cannot put a {type(value).__name__} on the wire")


def bloom_hex(bloom: int) -> str:
    """A logs bloom (an int in eth-tester) as the standard 256 bytes of hex."""
    return "0x" + bloom.to_bytes(256, "big").hex()


def log_to_wire(log: dict[str, Any]) -> dict[str, Any]:
    entry = dict(log_result_remapper(dict(log)))
    entry.pop("type", None)  # eth-tester's "mined"; the standard field is `removed`
    entry["removed"] = False
    return dict(to_wire(entry))


def transaction_to_wire(transaction: dict[str, Any]) -> dict[str, Any]:
    remapped = dict(transaction_result_remapper(transaction_result_formatter(dict(transaction))))
    if "y_parity" in remapped:  # web3.py's map leaves this one in snake case
        remapped["yParity"] = remapped.pop("y_parity")
    return dict(to_wire(remapped))


def block_to_wire(block: dict[str, Any]) -> dict[str, Any]:
    remapped = dict(block_result_remapper(dict(block)))
    if isinstance(remapped.get("logsBloom"), int):
        remapped["logsBloom"] = bloom_hex(remapped["logsBloom"])
    transactions = remapped.get("transactions", [])
    remapped["transactions"] = [
        transaction_to_wire(item) if isinstance(item, dict) else item for item in transactions
    ]
    return dict(to_wire(remapped))


def receipt_to_wire(receipt: dict[str, Any]) -> dict[str, Any]:
    remapped = dict(receipt_result_remapper(dict(receipt)))
    remapped.pop("state_root", None)  # a post-Byzantium receipt has `status`, not `root`
    if remapped.get("to") == "":
        remapped["to"] = None
    logs = remapped.get("logs", [])
    remapped["logs"] = [log_to_wire(item) for item in logs]
    remapped["logsBloom"] = bloom_hex(_bloom_of(logs))
    return dict(to_wire(remapped))


def _bloom_of(logs: Any) -> int:
    bloom = BloomFilter()
    for log in logs:
        bloom.add(bytes.fromhex(str(log["address"])[2:]))
        for topic in log["topics"]:
            bloom.add(bytes.fromhex(str(topic)[2:]))
    return int(bloom)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
