"""The sidebar's ``State`` (see ``message_schema.json``), read from a :class:`Federation`.

Plain functions from engine objects to JSON-ready dicts: amounts in token base units travel as
decimal strings (they exceed 2**53), digests and hashes as ``0x`` hex, everything else as
ints, strings, booleans or null.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from ..chain import RoundPhase, TaskState
from ..engine import FederatedTask
from ..engine.ledger_view import ContributionRecord, RoundSummary, task_history
from ..storage import StorageError

if TYPE_CHECKING:
    from ..engine import Federation, LedgerEvent

MAX_EVENTS = 50
"""The schema's ``maxItems`` for ``state.events``."""

_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_DIGEST = re.compile(r"^0x[0-9a-fA-F]{64}$")

JsonDict = dict[str, Any]


@dataclass(frozen=True)
class TokenInfo:
    symbol: str
    decimals: int


def read_token(federation: Federation) -> TokenInfo:
    """The reward token's symbol and decimals (constant for a deployment: read them once)."""
    registry = federation.registry
    decimals = federation.ledger.call(registry.token.functions.decimals())
    return TokenInfo(symbol=registry.token_symbol(), decimals=int(decimals))


def empty_state() -> JsonDict:
    """The state of a kernel with no ledger open yet (before ``%fedchain start``).

    ``connected`` is false and ``chain_id`` is 0 (no real chain has id 0), which the sidebar
    reads as "no ledger open" rather than "the node does not answer".
    """
    return {
        "network": {
            "name": "",
            "chain_id": 0,
            "block_number": 0,
            "embedded": False,
            "ledger_dir": None,
            "url": None,
            "connected": False,
        },
        "tasks": [],
        "balances": [],
        "events": [],
        "token_symbol": "",
        "token_decimals": 0,
    }


def build_state(
    federation: Federation,
    token: TokenInfo,
    events: Iterable[JsonDict] = (),
    verified: Mapping[tuple[int, int], bool] | None = None,
) -> JsonDict:
    """Everything the sidebar shows about ``federation``'s ledger, read now.

    ``events`` are already-converted ledger events (oldest first; the last ``MAX_EVENTS`` are
    kept); ``verified`` maps ``(task_id, round)`` to the outcome of an aggregate verification
    this kernel saw (task_history does not recompute them: that costs a homomorphic sum).
    """
    ledger = federation.ledger
    verified = verified or {}
    return {
        "network": {
            "name": ledger.network_name,
            "chain_id": ledger.chain_id,
            "block_number": ledger.block_number(),
            "embedded": ledger.embedded,
            "ledger_dir": None if ledger.ledger_dir is None else str(ledger.ledger_dir),
            "url": ledger.url,
            "connected": True,
        },
        "tasks": [
            _task(_task_handle(federation, task_id), verified)
            for task_id in range(1, federation.registry.task_count() + 1)
        ],
        "balances": [
            {
                "account": row.address,
                "name": row.name,
                "balance": str(row.balance),
                "balance_tokens": row.balance / 10**token.decimals,
            }
            for row in federation.balances()
        ],
        "events": list(events)[-MAX_EVENTS:],
        "token_symbol": token.symbol,
        "token_decimals": token.decimals,
    }


def event_json(event: LedgerEvent) -> JsonDict:
    """A :class:`LedgerEvent` as the schema's ``ledger_event`` (its ``data`` stays behind)."""
    return {
        "kind": event.kind,
        "block_number": int(event.block_number),
        "task_id": _optional_int(event.task_id),
        "round": _optional_int(event.round),
        "account": event.account if event.account and _ADDRESS.match(event.account) else None,
        "summary": event.summary,
        "tx_hash": event.tx_hash if event.tx_hash and _DIGEST.match(event.tx_hash) else None,
        "gas_used": _optional_int(event.gas_used),
    }


@dataclass(frozen=True)
class _ForeignTask:
    """A task whose manifest this workspace's blob store lacks (created elsewhere on a shared
    node): enough of a handle for ``task_history``, with no name."""

    federation: Federation
    task_id: int

    def state(self) -> TaskState:
        return self.federation.registry.task(self.task_id)


def _task_handle(federation: Federation, task_id: int) -> FederatedTask | _ForeignTask:
    try:
        return federation.task(task_id)
    except StorageError:
        return _ForeignTask(federation, task_id)


def _task(task: FederatedTask | _ForeignTask, verified: Mapping[tuple[int, int], bool]) -> JsonDict:
    state = task.state()
    params = state.params
    return {
        "task_id": task.task_id,
        "name": task.config.name if isinstance(task, FederatedTask) else None,
        "coordinator": state.coordinator,
        "participant_count": state.participant_count,
        "validator_count": state.validator_count,
        "min_participants": params.min_participants,
        "max_rounds": params.max_rounds,
        "validator_quorum": params.validator_quorum,
        "reward_per_round": str(params.reward_per_round),
        "current_round": state.current_round,
        "current_model_digest": _hex(state.current_model_digest),
        "rounds": [
            _round(summary, verified.get((task.task_id, summary.round)))
            for summary in task_history(cast("FederatedTask", task))
            if summary.phase != RoundPhase.NONE
        ],
    }


def _round(summary: RoundSummary, verified: bool | None) -> JsonDict:
    return {
        "round": summary.round,
        "phase": summary.phase.label,
        "commit_count": summary.commit_count,
        "total_samples": summary.total_samples,
        "accept_votes": summary.accept_votes,
        "reject_votes": summary.reject_votes,
        "aggregate_digest": _optional_hex(summary.aggregate_digest),
        "model_digest": _optional_hex(summary.model_digest),
        "aggregate_verified": verified,
        "contributions": [_contribution(record) for record in summary.contributions],
    }


def _contribution(record: ContributionRecord) -> JsonDict:
    return {
        "participant": record.participant,
        "name": record.name,
        "samples": record.samples,
        "update_digest": _hex(record.update_digest),
        "block_number": record.block_number,
        "gas_used": _optional_int(record.gas_used),
        "reward": None if record.reward is None else str(record.reward),
        "claimed": record.claimed,
    }


def _hex(digest: bytes) -> str:
    return "0x" + bytes(digest).hex()


def _optional_hex(digest: bytes | None) -> str | None:
    return None if digest is None else _hex(digest)


def _optional_int(value: int | None) -> int | None:
    return None if value is None else int(value)
