"""The kernel side of the JupyterLab ledger sidebar (the ``fedchain.ledger`` comm target).

``%load_ext fedchain_magics`` calls :func:`register_comm_target`, which registers the comm
target (for a sidebar opened later) and opens a comm from the kernel (so a sidebar already
showing this kernel follows it at once, even while cells wait in the queue). The sidebar (the
separate ``fedchain-labextension`` package) gets a snapshot of the ledger, then an event message
after every change the engine makes. Every message follows
``message_schema.json`` in this folder.
"""

from __future__ import annotations

import contextlib
import weakref
from datetime import datetime
from functools import partial
from typing import Any

from .bridge import LedgerBridge
from .schema import COMM_TARGET, SCHEMA_VERSION, load_schema, validate_message

__all__ = [
    "COMM_TARGET",
    "SCHEMA_VERSION",
    "LedgerBridge",
    "load_schema",
    "register_comm_target",
    "unregister_comm_target",
    "validate_message",
]

_bridges: weakref.WeakKeyDictionary[Any, tuple[Any, LedgerBridge]] = weakref.WeakKeyDictionary()


def register_comm_target(shell: Any, session: Any) -> LedgerBridge | None:
    """Let the sidebar talk to this kernel: register the ``fedchain.ledger`` comm target and
    offer a comm from the kernel (:meth:`LedgerBridge.offer`).

    ``session`` holds the kernel's ``Federation`` as ``session.federation`` (None until
    ``%fedchain start``). A shell without a kernel (plain IPython in a terminal) has no comms:
    nothing is registered and None is returned. Registering again replaces the previous bridge.
    """
    manager = _comm_manager(shell)
    if manager is None:
        return None
    unregister_comm_target(shell)
    bridge = LedgerBridge(session, request_date=partial(_request_date, shell))
    manager.register_target(COMM_TARGET, bridge.open)
    shell.events.register("post_run_cell", bridge.after_cell)
    _bridges[shell] = (manager, bridge)
    bridge.offer()
    return bridge


def unregister_comm_target(shell: Any) -> None:
    """Undo :func:`register_comm_target`: close the sidebar's comms, drop the target."""
    registered = _bridges.pop(shell, None)
    if registered is None:
        return
    manager, bridge = registered
    with contextlib.suppress(ValueError):  # someone else removed it
        shell.events.unregister("post_run_cell", bridge.after_cell)
    if manager.targets.get(COMM_TARGET) == bridge.open:
        manager.unregister_target(COMM_TARGET, bridge.open)
    bridge.close()


def _request_date(shell: Any) -> datetime | None:
    """When the client sent the request the kernel runs now (its header's ``date``)."""
    get_parent = getattr(getattr(shell, "kernel", None), "get_parent", None)
    try:
        date = get_parent()["header"]["date"] if get_parent is not None else None
        if isinstance(date, str):
            date = datetime.fromisoformat(date.replace("Z", "+00:00"))
    except (KeyError, TypeError, ValueError):
        return None
    return date if isinstance(date, datetime) else None


def _comm_manager(shell: Any) -> Any:
    """The kernel's comm manager (ipykernel: ``shell.kernel.comm_manager``), or None."""
    kernel = getattr(shell, "kernel", None)
    return getattr(kernel, "comm_manager", None)
