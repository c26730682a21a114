"""What the engine tells its subscribers (widgets, the sidebar bridge, logs) as rounds run.

The engine never imports an interface: interfaces subscribe here. Callbacks run on the thread
that caused the event; a failing subscriber is reported and dropped, never allowed to break a
round.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

EventKind = Literal[
    "block",
    "task_created",
    "validator_added",
    "participant_joined",
    "participant_admitted",
    "admission_revoked",
    "round_opened",
    "update_committed",
    "update_excluded",
    "aggregate_committed",
    "aggregate_rejected",
    "model_committed",
    "vote_cast",
    "round_finalized",
    "round_cancelled",
    "reward_claimed",
    "aggregate_verified",
    "scoring_enabled",
    "scores_posted",
]

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LedgerEvent:
    """One change the engine made or saw on the ledger."""

    kind: EventKind
    block_number: int
    summary: str
    task_id: int | None = None
    round: int | None = None
    account: str | None = None
    tx_hash: str | None = None
    gas_used: int | None = None
    data: dict[str, Any] = field(default_factory=dict)


Subscriber = Callable[[LedgerEvent], None]


class EventBus:
    """A list of subscribers, safe to use from several threads."""

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []
        self._lock = threading.Lock()

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Call ``subscriber`` for every event; returns a function that unsubscribes it."""
        with self._lock:
            self._subscribers.append(subscriber)

        def unsubscribe() -> None:
            with self._lock:
                if subscriber in self._subscribers:
                    self._subscribers.remove(subscriber)

        return unsubscribe

    def emit(self, event: LedgerEvent) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for subscriber in subscribers:
            try:
                subscriber(event)
            except Exception:
                _log.exception("an event subscriber failed and was removed: %r", subscriber)
                with self._lock:
                    if subscriber in self._subscribers:
                        self._subscribers.remove(subscriber)
