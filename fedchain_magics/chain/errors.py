"""Errors raised by the chain layer. Each message is one line: what failed and what to do."""

from __future__ import annotations

from pathlib import Path
from typing import Any


class ChainError(Exception):
    """Base class for everything the chain layer raises."""


class LedgerCorruptError(ChainError):
    """The ledger directory exists but its chain cannot be reopened."""


class JournalDamagedError(LedgerCorruptError):
    """The chain journal is damaged where no crash could have damaged it; nothing was changed.

    ``frame`` and ``offset_bytes`` locate the first damage; ``intact_block_number`` is the last
    block before it (``None`` when even the first frame is damaged); ``repair_command`` keeps
    those blocks after copying the journal aside.
    """

    def __init__(
        self,
        message: str,
        *,
        journal_path: Path,
        frame: int | None,
        offset_bytes: int | None,
        intact_block_number: int | None,
        repair_command: str,
    ) -> None:
        super().__init__(message)
        self.journal_path = journal_path
        self.frame = frame
        self.offset_bytes = offset_bytes
        self.intact_block_number = intact_block_number
        self.repair_command = repair_command


class LedgerLockedError(ChainError):
    """Another process (or another open ledger in this one) holds the ledger directory."""

    def __init__(
        self, message: str, *, ledger_dir: Path, holder_pid: int | None, holder_host: str | None
    ) -> None:
        super().__init__(message)
        self.ledger_dir = ledger_dir
        self.holder_pid = holder_pid
        self.holder_host = holder_host


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
