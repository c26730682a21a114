"""The sidebar's event feed read back from the chain's logs, so it survives a kernel restart.

The engine's event bus only tells this kernel what this kernel did since it opened the ledger;
every ledger event also left a log on the chain. :func:`recent_events` turns the newest tasks'
logs into the schema's ``ledger_event`` records, worded like the engine's own events, and
:func:`merge_events` puts the bus's records in their place (the bus words some events more
fully, e.g. the bytes of an update, and has events no log records, e.g. a verified aggregate).

The logs come from ``Federation.registry.event_logs``, which reads each task's logs once and
caches them (settled blocks on disk too), so a state read costs dictionary look-ups here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ..engine.tokens import tokens_text
from .state import MAX_EVENTS, JsonDict

if TYPE_CHECKING:
    from ..engine import Federation

# The contract's CancelReason and ExclusionReason (chain/training.py), as the engine words them;
# tests/sidebar checks these against the enums.
CANCEL_REASONS = ("too few updates", "aggregator silent", "key holder silent")
EXCLUSION_REASONS = ("missing", "altered", "malformed", "wrong shape", "oversized")

Names = Callable[[str], str]
Summary = Callable[[Any, Names, str], str]


def _reason(reasons: tuple[str, ...], value: Any) -> str:
    index = int(value)
    return reasons[index] if 0 <= index < len(reasons) else f"reason {index}"


def _metric(args: Any) -> str:
    return f"{int(args['metricPpm']) / 1_000_000:.3f}"


# log name -> (the schema's event kind, the account argument, the one-line summary)
_KINDS: dict[str, tuple[str, str | None, Summary]] = {
    "TaskCreated": (
        "task_created",
        "coordinator",
        lambda a, name, _: f"task {a['taskId']} created by {name(a['coordinator'])}",
    ),
    "ValidatorAdded": (
        "validator_added",
        "validator",
        lambda a, name, _: f"{name(a['validator'])} validates task {a['taskId']}",
    ),
    "ParticipantJoined": (
        "participant_joined",
        "participant",
        lambda a, name, _: f"{name(a['participant'])} joined",
    ),
    "ParticipantAdmitted": (
        "participant_admitted",
        "account",
        lambda a, name, _: f"{name(a['account'])} admitted",
    ),
    "AdmissionRevoked": (
        "admission_revoked",
        "account",
        lambda a, name, _: f"{name(a['account'])}'s admission revoked",
    ),
    "RoundOpened": ("round_opened", None, lambda a, _n, _s: f"round {a['round']} opened"),
    "UpdateCommitted": (
        "update_committed",
        "participant",
        lambda a, name, _: f"{name(a['participant'])} committed {int(a['samples'])} samples",
    ),
    "UpdateExcluded": (
        "update_excluded",
        "participant",
        lambda a, name, _: (
            f"{name(a['participant'])}'s update excluded "
            f"({_reason(EXCLUSION_REASONS, a['reason'])})"
        ),
    ),
    "AggregateCommitted": (
        "aggregate_committed",
        None,
        lambda a, _n, _s: f"round {a['round']} aggregated",
    ),
    "AggregateRejected": (
        "aggregate_rejected",
        "keyHolder",
        lambda a, _n, _s: (
            f"round {a['round']} aggregate rejected: it is not the sum of the committed updates"
        ),
    ),
    "ModelCommitted": (
        "model_committed",
        None,
        lambda a, _n, _s: f"round {a['round']} model decrypted",
    ),
    "VoteCast": (
        "vote_cast",
        "validator",
        lambda a, name, _: (
            f"{name(a['validator'])} {'accepts' if a['accept'] else 'rejects'} ({_metric(a)})"
        ),
    ),
    "RoundFinalized": (
        "round_finalized",
        None,
        lambda a, _n, _s: f"round {a['round']} {'accepted' if a['accepted'] else 'rejected'}",
    ),
    "RoundCancelled": (
        "round_cancelled",
        None,
        lambda a, _n, _s: f"round {a['round']} cancelled ({_reason(CANCEL_REASONS, a['reason'])})",
    ),
    "RewardClaimed": (
        "reward_claimed",
        "participant",
        lambda a, name, symbol: (
            f"{name(a['participant'])} claimed "
            f"{tokens_text(int(a['amount']), symbol or 'reward tokens')}"
        ),
    ),
    "EscrowReclaimed": (
        "reward_claimed",
        "funder",
        lambda a, _n, symbol: f"{tokens_text(int(a['amount']), symbol or 'tokens')} returned",
    ),
}


def recent_events(federation: Federation, limit: int = MAX_EVENTS) -> list[JsonDict]:
    """The last ``limit`` ledger events of the newest tasks, from their logs, oldest first.

    Tasks are read newest first until ``limit`` events are found, so a long-lived ledger costs
    no more than one with a few tasks.
    """
    registry = federation.registry
    names = federation.names_by_address()
    symbol = federation.token().symbol

    def name(address: Any) -> str:
        return names.get(str(address).lower(), str(address))

    found: list[tuple[tuple[int, int], JsonDict, int]] = []
    for task_id in reversed(federation.task_ids()):
        for log_name, (kind, account_arg, summary) in _KINDS.items():
            for log in registry.event_logs(log_name, taskId=task_id):
                args = log["args"]
                block_number, tx_hash = (
                    int(log["blockNumber"]),
                    "0x" + bytes(log["transactionHash"]).hex(),
                )
                record: JsonDict = {
                    "kind": kind,
                    "block_number": block_number,
                    "task_id": task_id,
                    "round": int(args["round"]) if "round" in args else None,
                    "account": str(args[account_arg]) if account_arg else None,
                    "summary": summary(args, name, symbol),
                    "tx_hash": tx_hash,
                    "gas_used": None,
                }
                found.append(((block_number, int(log["logIndex"])), record, task_id))
        if len(found) >= limit:
            break
    found.sort(key=lambda entry: entry[0])
    recent = found[-limit:]
    for _, record, task_id in recent:
        record["gas_used"] = _gas_used(federation, record["tx_hash"], task_id)
    return [record for _, record, _ in recent]


def _gas_used(federation: Federation, tx_hash: str, task_id: int) -> int | None:
    try:
        return int(federation.registry.gas_used(tx_hash, task_id))
    except Exception:
        return None  # a node that forgot the receipt: the feed goes on without it


def merge_events(
    from_chain: Iterable[JsonDict], from_bus: Iterable[JsonDict], limit: int = MAX_EVENTS
) -> list[JsonDict]:
    """The chain's events with this kernel's bus records in their place, oldest first.

    A bus record replaces the chain's records of its transaction and kind (the bus words one
    transaction once, e.g. several parties admitted together); a bus record no log matches
    (a verified aggregate) follows the chain's records of its block. Bus records are kept as
    the same objects (the bridge finds them in the list by identity).
    """
    bus = list(from_bus)
    by_transaction = {
        (record["tx_hash"], record["kind"]): record for record in bus if record["tx_hash"]
    }
    placed: set[int] = set()
    merged: list[tuple[tuple[int, int, int], JsonDict]] = []
    for position, record in enumerate(from_chain):
        replacement = by_transaction.get((record["tx_hash"], record["kind"]))
        if replacement is None:
            merged.append(((record["block_number"], 0, position), record))
        elif id(replacement) not in placed:
            placed.add(id(replacement))
            merged.append(((record["block_number"], 0, position), replacement))
    for position, record in enumerate(bus):
        if id(record) not in placed:
            merged.append(((record["block_number"], 1, position), record))
    merged.sort(key=lambda entry: entry[0])
    return [record for _, record in merged][-limit:]
