"""Errors raised by the chain layer. Each message is one line: what failed and what to do."""

from __future__ import annotations

from typing import Any


class ChainError(Exception):
    """Base class for everything the chain layer raises."""


class LedgerCorruptError(ChainError):
    """The ledger directory exists but its chain cannot be reopened."""


class ChainConnectionError(ChainError):
    """No Ethereum node answered at the given URL, or it is not the expected chain."""


class DeploymentNotFoundError(ChainError):
    """The ledger has no fedchain contracts deployed (or they are not at the recorded address)."""


class InsufficientFundsError(ChainError):
    """An account cannot pay for the gas of a transaction."""


class ContractRevertError(ChainError):
    """A contract refused a call; ``name`` and ``args`` are the decoded custom error."""

    def __init__(self, name: str, args: dict[str, Any], function: str) -> None:
        self.error_name = name
        self.error_args = args
        self.function = function
        rendered = ", ".join(f"{key}={_render(value)}" for key, value in args.items())
        super().__init__(f"{function} reverted with {name}({rendered})")


def _render(value: Any) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return str(value)
