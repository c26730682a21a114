"""The compiled contracts shipped inside the package, and decoding of their custom errors.

Artifacts are produced by ``make contracts`` (npm solc, pinned) and committed, so neither users
nor tests need a Solidity compiler.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from eth_abi import decode as abi_decode
from eth_utils import keccak

from .errors import ContractRevertError

CONTRACT_NAMES = (
    "FedToken",
    "ProportionalRewardPolicy",
    "FederatedTraining",
    "RoundReports",
    "NaiveRoundReference",
    "ContributionRewardPolicy",
    "TaskStakes",
    "RoundKeys",
    "TaskRules",
    "FedGovernor",
    "FedTimelock",
)

_SOLIDITY_ERROR_SELECTOR = keccak(text="Error(string)")[:4]
_SOLIDITY_PANIC_SELECTOR = keccak(text="Panic(uint256)")[:4]


@dataclass(frozen=True)
class ContractArtifact:
    name: str
    abi: list[dict[str, Any]]
    bytecode: str


@cache
def load_artifact(name: str) -> ContractArtifact:
    """Read the committed ABI and bytecode of contract ``name``."""
    text = resources.files(__package__).joinpath("artifacts", f"{name}.json").read_text()
    content = json.loads(text)
    return ContractArtifact(name=name, abi=content["abi"], bytecode=content["bytecode"])


def _canonical_type(entry: dict[str, Any]) -> str:
    """The ABI type string used in signatures (tuples expanded)."""
    kind = str(entry["type"])
    if kind.startswith("tuple"):
        inner = ",".join(_canonical_type(component) for component in entry["components"])
        return f"({inner}){kind[len('tuple') :]}"
    return kind


@dataclass(frozen=True)
class _ErrorSignature:
    name: str
    types: list[str]
    names: list[str]


class RevertDecoder:
    """Turns revert data into a :class:`ContractRevertError` naming the custom error."""

    def __init__(self, abis: list[list[dict[str, Any]]]) -> None:
        self._errors: dict[bytes, _ErrorSignature] = {}
        for abi in abis:
            for entry in abi:
                if entry.get("type") != "error":
                    continue
                types = [_canonical_type(item) for item in entry["inputs"]]
                selector = keccak(text=f"{entry['name']}({','.join(types)})")[:4]
                names = [item["name"] or f"arg{i}" for i, item in enumerate(entry["inputs"])]
                self._errors[selector] = _ErrorSignature(entry["name"], types, names)

    @classmethod
    @cache
    def from_artifacts(cls) -> RevertDecoder:
        return cls([load_artifact(name).abi for name in CONTRACT_NAMES])

    def decode(self, data: str | bytes | None, function: str, fallback: str) -> ContractRevertError:
        raw = _as_bytes(data)
        if raw is None or len(raw) < 4:
            return ContractRevertError("Reverted", {"reason": fallback}, function)
        selector, body = raw[:4], raw[4:]
        if selector == _SOLIDITY_ERROR_SELECTOR:
            (reason,) = abi_decode(["string"], body)
            return ContractRevertError("Error", {"reason": reason}, function)
        if selector == _SOLIDITY_PANIC_SELECTOR:
            (code,) = abi_decode(["uint256"], body)
            return ContractRevertError("Panic", {"code": hex(code)}, function)
        signature = self._errors.get(selector)
        if signature is None:
            return ContractRevertError("UnknownError", {"data": "0x" + raw.hex()}, function)
        values = abi_decode(signature.types, body)
        return ContractRevertError(
            signature.name, dict(zip(signature.names, values, strict=True)), function
        )


def _as_bytes(data: str | bytes | None) -> bytes | None:
    if data is None:
        return None
    if isinstance(data, bytes):
        return data
    text = data[2:] if data.startswith("0x") else data
    try:
        return bytes.fromhex(text)
    except ValueError:
        return None
