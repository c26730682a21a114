"""Turning a magic's line into checked values: parsing, sub-commands, variable pairs, numbers.

Everything here raises IPython's ``UsageError`` with a one-line message that names the magic
and what to type instead; nothing here touches the ledger.
"""

from __future__ import annotations

import argparse
import difflib
import os
from collections.abc import Callable, Collection, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from IPython.core.error import UsageError
from IPython.core.magic_arguments import parse_argstring, real_name

from ..engine import TOKEN_UNIT
from ..engine.session import DataRef

Handler = TypeVar("Handler")


def parse(magic: Callable[..., Any], line: str) -> argparse.Namespace:
    """Parse ``line`` with ``magic``'s ``@argument`` declarations."""
    name = real_name(magic)
    try:
        return parse_argstring(magic, line)
    except (UsageError, ValueError) as error:  # ValueError: unbalanced quotes
        raise UsageError(f"fedchain: %{name}: {error}; see %{name}? for its arguments") from None


def route(magic: str, command: str | None, handlers: Mapping[str, Handler]) -> Handler:
    """The handler of sub-command ``command``, or a "did you mean" error."""
    if command is None:
        raise UsageError(f"fedchain: %{magic} needs a sub-command: {_one_of(handlers)}")
    handler = handlers.get(command)
    if handler is None:
        close = difflib.get_close_matches(command, list(handlers), n=1)
        hint = f"did you mean `{close[0]}`?" if close else f"use {_one_of(handlers)}"
        raise UsageError(f"fedchain: %{magic} has no sub-command `{command}`; {hint}")
    return handler


def expect(magic: str, values: list[str], names: Collection[str]) -> list[str]:
    """Check that a sub-command got exactly the positional values ``names`` describe."""
    if len(values) < len(names):
        missing = " ".join(list(names)[len(values) :])
        raise UsageError(f"fedchain: %{magic} needs {missing}; see %{real_magic(magic)}?")
    if len(values) > len(names):
        extra = " ".join(values[len(names) :])
        raise UsageError(f"fedchain: %{magic} does not take `{extra}`; see %{real_magic(magic)}?")
    return values


def refuse(magic: str, arguments: argparse.Namespace, options: Collection[str]) -> None:
    """Refuse options (default None) that ``magic`` (e.g. "fedtask list") does not take."""
    for dest in options:
        if getattr(arguments, dest) is not None:
            option = "--" + dest.replace("_", "-")
            raise UsageError(
                f"fedchain: %{magic} does not take {option}; see %{real_magic(magic)}?"
            )


def real_magic(magic: str) -> str:
    return magic.split()[0]


def task_id(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise UsageError(
            f"fedchain: TASK is a task number such as 1, not `{text}`; see them with %fedtask list"
        )
    return value


def data_ref(text: str, option: str = "--data") -> DataRef:
    """``"X_train,y_train"`` as a :class:`DataRef`."""
    parts = [part.strip() for part in text.split(",")]
    if len(parts) != 2 or not all(part.isidentifier() for part in parts):
        raise UsageError(
            f"fedchain: {option} takes two variable names, X_VAR,y_VAR (e.g. X_train,y_train), "
            f"not `{text}`"
        )
    return DataRef(parts[0], parts[1])


def optional_data_ref(text: str | None, option: str = "--data") -> DataRef | None:
    return None if text is None else data_ref(text, option)


def names(text: str, option: str) -> list[str]:
    """``"v1,v2"`` as a list of names."""
    values = [part.strip() for part in text.split(",") if part.strip()]
    if not values:
        raise UsageError(f"fedchain: {option} takes comma-separated names, e.g. validator-1,bob")
    return values


def labels(text: str) -> list[Any]:
    """``"0,1,2"`` as ``[0, 1, 2]``; labels that are not all whole numbers stay strings."""
    values = [part.strip() for part in text.split(",") if part.strip()]
    if len(values) < 2:
        raise UsageError(f"fedchain: --classes takes at least two labels, e.g. 0,1,2, not `{text}`")
    try:
        return [int(value) for value in values]
    except ValueError:
        return values


def token_units(text: str, option: str = "--reward") -> int:
    """A token amount such as ``100`` or ``2.5`` in base units (18 decimals)."""
    try:
        amount = Decimal(text)
    except InvalidOperation:
        amount = Decimal(-1)
    if not amount.is_finite() or amount < 0:
        raise UsageError(f"fedchain: {option} takes a token amount such as 100, not `{text}`")
    return int(amount * TOKEN_UNIT)


def _one_of(handlers: Mapping[str, Any]) -> str:
    commands = list(handlers)
    return ", ".join(commands[:-1]) + f" or {commands[-1]}" if len(commands) > 1 else commands[0]


def digest_argument(text: str, option: str) -> bytes:
    """A 32-byte digest written as 0x and 64 hex digits."""
    try:
        digest = bytes.fromhex(text.removeprefix("0x"))
    except ValueError:
        digest = b""
    if len(digest) != 32:
        raise UsageError(f"fedchain: {option} takes a digest, 0x and 64 hex digits, not `{text}`")
    return digest


TOKEN = "the served ledger's token"
FAUCET_KEY = "the faucet's private key"


def env_value(variable: str | None, what: str, option: str) -> str | None:
    """A secret (a token, a key) from the environment variable named by ``option``, never typed
    into a cell; ``what`` says what belongs in it."""
    if variable is None:
        return None
    value = os.environ.get(variable)
    if not value:
        raise UsageError(
            f"fedchain: the environment variable {variable} is not set; put {what} in it, or "
            f"leave out {option}"
        )
    return value
