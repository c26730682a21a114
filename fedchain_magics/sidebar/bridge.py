"""The kernel side of the ledger sidebar: answers its comms and forwards the engine's events.

One :class:`LedgerBridge` per kernel. It follows the session's current ``Federation`` (none
before ``%fedchain start``; another one after ``%fedchain start --dir elsewhere``), subscribes to
its event bus, and keeps every open ``fedchain.ledger`` comm up to date:

- :meth:`LedgerBridge.offer` (``%load_ext``) opens a comm from the kernel, with a snapshot as its
  open data: it travels on IOPub, so a sidebar gets it (and every later message) while cells
  wait in the queue, as in Run All, where a comm the sidebar opens would wait behind them;
- a comm opens from the sidebar (its open data is a ``request_snapshot``): a snapshot;
- the sidebar sends ``request_snapshot``: another snapshot;
- the engine emits an event: ``{"type": "event", "event": ..., "state": ...}`` to every comm
  (during a burst of events, some wait and go out together: see ``throttle``);
- a cell ran and the ledger moved without an event (or the session switched ledgers): a
  snapshot to every comm;
- the session closed its ledger (``%fedchain stop``): the last state read, read-only, with the
  magic that reopens it (``network.reopen_command``).

A comm the kernel offered is *unanswered* until the frontend sends on it. JupyterLab answers
(the sidebar takes it, or closes it when no sidebar shows this kernel), but only once the queue
drains; a client that never answers (nbclient, say) would cost a state read per event for ever.
So while every comm is unanswered, reads are rarer (``UNANSWERED_MIN_READ_INTERVAL_S``), and
an unanswered comm is closed once the kernel runs a request its client sent
``OFFER_EXPIRY_S`` after the one that offered it: an answer would have come first.

Nothing here raises into the engine: the event bus drops a subscriber that raises, and a
sidebar must never break a round.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

import comm as comm_module

from ..engine.ledger_view import read_snapshot
from .history import merge_events, recent_events
from .schema import (
    COMM_TARGET,
    SCHEMA_VERSION,
    MessageSchemaError,
    validate_message,
    validation_requested,
)
from .state import MAX_EVENTS, JsonDict, build_state, closed_state, empty_state, event_json

if TYPE_CHECKING:
    from comm.base_comm import BaseComm

    from ..engine import Federation, LedgerEvent

_log = logging.getLogger(__name__)

MIN_READ_INTERVAL_S = 0.5
"""With ``throttle``, the least time between two reads of the state for events."""
MAX_READ_SHARE = 0.2
"""With ``throttle``, the most of a burst's wall time spent reading the state for events."""
UNANSWERED_MIN_READ_INTERVAL_S = 1.0
"""``MIN_READ_INTERVAL_S`` while every open comm is one the kernel offered and no frontend
answered yet (a hidden sidebar's refusal waits behind queued cells too)."""
UNANSWERED_MAX_READ_SHARE = 0.1
"""``MAX_READ_SHARE`` while every open comm is unanswered."""
OFFER_EXPIRY_S = 2.0
"""An unanswered offered comm is closed when the kernel runs a request sent this long after
the request that offered it (by the client's own clock, so clock skew does not matter)."""

RequestDate = Callable[[], "datetime | None"]
"""When the client sent the request the kernel runs now (its header's date), if known."""


def snapshot_message(state: JsonDict) -> JsonDict:
    return {"schema_version": SCHEMA_VERSION, "type": "snapshot", "state": state}


def event_message(event: JsonDict, state: JsonDict) -> JsonDict:
    return {"schema_version": SCHEMA_VERSION, "type": "event", "event": event, "state": state}


def error_message(message: str) -> JsonDict:
    return {"schema_version": SCHEMA_VERSION, "type": "error", "message": message}


def reopen_command(federation: Federation) -> str:
    """The magic that opens ``federation``'s ledger again in a kernel (as ``%fedchain stop``
    words it)."""
    url = federation.ledger.url
    if url is not None and not federation.ledger.embedded:
        return f"%fedchain connect {url} --dir {federation.workspace}"
    return f"%fedchain start --dir {federation.workspace}"


def current_federation(session: Any) -> Federation | None:
    """The ``Federation`` the magics' session holds now, or None (no ledger open yet)."""
    return getattr(session, "federation", None) if session is not None else None


class LedgerBridge:
    """Keeps every open ``fedchain.ledger`` comm showing the session's ledger.

    ``session`` is the magics' per-kernel session: anything with a ``federation`` attribute
    (a ``Federation`` or None). ``validate=True`` checks each outgoing message against
    ``message_schema.json`` (default: the ``FEDCHAIN_SIDEBAR_VALIDATE`` environment variable).

    Reading the state costs chain reads (~0.1 s for a task with one round on the in-process
    chain, growing with the ledger), so with ``throttle`` (the default) an event that comes
    less than ``MIN_READ_INTERVAL_S``, or less than the last read's cost scaled to
    ``MAX_READ_SHARE``, after the last read waits for a later event or the end of the cell;
    waiting events then go out together, one event message each, with one state read.
    ``throttle=False`` reads the state for every event.
    """

    def __init__(
        self,
        session: Any,
        *,
        validate: bool | None = None,
        throttle: bool = True,
        request_date: RequestDate | None = None,
    ) -> None:
        self._session = session
        self._request_date = request_date or (lambda: None)
        self._unanswered: dict[BaseComm, datetime | None] = {}
        self._last_state: JsonDict | None = None
        self._reopen_command: str | None = None
        self._closed_state: JsonDict | None = None
        self._validate = validation_requested() if validate is None else validate
        self._lock = threading.RLock()
        self._comms: list[BaseComm] = []
        self._federation: Federation | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._events: deque[JsonDict] = deque(maxlen=MAX_EVENTS)
        self._sent_block_number: int | None = None
        self._last_event_s = float("-inf")
        self._throttle = throttle
        self._next_read_s = -math.inf
        self._pending: list[JsonDict] = []
        self._closed = False
        self.follow()

    # -- what the bridge holds ------------------------------------------------------------------

    @property
    def comms(self) -> list[BaseComm]:
        """The open comms (a copy)."""
        with self._lock:
            return list(self._comms)

    @property
    def federation(self) -> Federation | None:
        """The federation the bridge is subscribed to."""
        return self._federation

    # -- the comm side --------------------------------------------------------------------------

    def open(self, comm: BaseComm, open_msg: dict[str, Any]) -> None:
        """The ``fedchain.ledger`` comm target: keep ``comm`` and answer it with a snapshot."""
        comm.on_msg(partial(self._on_msg, comm))
        comm.on_close(partial(self._on_close, comm))
        with self._lock:
            self._comms.append(comm)
        self._answer(comm)

    def offer(self) -> BaseComm | None:
        """Open a comm from the kernel, its open data a snapshot (what ``%load_ext`` does).

        A frontend that registered the ``fedchain.ledger`` target takes it; the others close
        it. None if the comm could not be opened (no kernel to publish on).
        """
        try:
            offered: BaseComm = comm_module.create_comm(
                target_name=COMM_TARGET, data=self._checked(self.snapshot())
            )
        except Exception:
            _log.warning("the FedChain sidebar could not open a comm", exc_info=True)
            return None
        offered.on_msg(partial(self._on_msg, offered))
        offered.on_close(partial(self._on_close, offered))
        with self._lock:
            self._comms.append(offered)
            self._unanswered[offered] = self._request_date()
        return offered

    def _expire_offers(self) -> None:
        """Close the unanswered offered comms whose answer would have come by now."""
        if not self._unanswered:
            return
        now = self._request_date()
        if now is None:
            return
        with self._lock:
            expired = [
                comm
                for comm, offered_at in self._unanswered.items()
                if offered_at is not None and _seconds_between(offered_at, now) > OFFER_EXPIRY_S
            ]
        for comm in expired:
            self._drop(comm)
            try:
                comm.close()
            except Exception:
                _log.debug("an unanswered FedChain sidebar comm failed to close", exc_info=True)

    def _on_msg(self, comm: BaseComm, msg: dict[str, Any]) -> None:
        with self._lock:
            self._unanswered.pop(comm, None)  # a frontend holds it
        data = msg.get("content", {}).get("data") or {}
        if isinstance(data, dict) and data.get("type") == "request_snapshot":
            self._answer(comm)
            return
        kind = data.get("type") if isinstance(data, dict) else type(data).__name__
        self._send(
            comm,
            error_message(
                f"the kernel does not understand the sidebar's {kind!r} message; "
                "pip install -U fedchain-magics fedchain-labextension"
            ),
        )

    def _answer(self, comm: BaseComm) -> None:
        """A snapshot for ``comm``; for every comm if the session switched ledgers meanwhile."""
        if self.follow():
            self.broadcast(self.snapshot())
        else:
            self._send(comm, self.snapshot())

    def _on_close(self, comm: BaseComm, msg: dict[str, Any] | None = None) -> None:
        self._drop(comm)

    def _drop(self, comm: BaseComm) -> None:
        with self._lock:
            self._unanswered.pop(comm, None)
            if comm in self._comms:
                self._comms.remove(comm)

    # -- the federation side --------------------------------------------------------------------

    def follow(self) -> bool:
        """Subscribe to the session's current federation if it changed; True if it did."""
        federation = None if self._closed else current_federation(self._session)
        with self._lock:
            if federation is self._federation:
                return False
            if self._unsubscribe is not None:
                self._unsubscribe()
            self._unsubscribe = None
            if federation is None and self._reopen_command is not None and not self._closed:
                self._closed_state = closed_state(self._last_state, self._reopen_command)
            else:
                self._closed_state = None
            self._last_state = None
            self._reopen_command = reopen_command(federation) if federation is not None else None
            self._federation = federation
            self._events.clear()
            self._sent_block_number = None
            self._pending = []
            if federation is not None:
                unsubscribe = federation.events.subscribe(self._on_event)
                stop_watching = federation.head.listen(self._on_head)

                def stop_following() -> None:
                    unsubscribe()
                    stop_watching()

                self._unsubscribe = stop_following
        return True

    def _on_head(self, block_number: int) -> None:
        """The head moved (another kernel's step, say): refresh an open sidebar."""
        try:
            federation = self._federation
            interval_s = federation.head.interval_s if federation is not None else 0.0
            if time.monotonic() - self._last_event_s < 2 * interval_s:
                return  # this kernel is acting: its own events refresh the sidebar
            if self.comms and block_number != self._sent_block_number:
                self.broadcast(self.snapshot())
        except Exception:
            _log.exception("the FedChain sidebar could not follow the ledger's head")

    def after_cell(self, result: object = None) -> None:
        """IPython's ``post_run_cell`` hook: follow a new federation, refresh a moved ledger."""
        try:
            self._expire_offers()
            if self.follow():
                if self.comms:
                    self.broadcast(self.snapshot())
                return
            self.flush()
            if self.comms and self._ledger_moved():
                self.broadcast(self.snapshot())
        except Exception:
            _log.exception("the FedChain sidebar could not refresh after a cell")

    def _ledger_moved(self) -> bool:
        federation = self._federation
        if federation is None:
            return False
        try:
            return federation.ledger.block_number() != self._sent_block_number
        except Exception:
            return True  # the snapshot will say what failed

    def _on_event(self, event: LedgerEvent) -> None:
        try:
            record = event_json(event)
            self._last_event_s = time.monotonic()
            self._expire_offers()
            with self._lock:
                self._events.append(record)
                if not self._comms:
                    return  # nobody is looking: read nothing from the chain
                self._pending.append(record)
                if self._throttle and time.monotonic() < self._next_read_s:
                    return  # sent with a later event, or after the cell
            self.flush()
        except Exception:
            _log.exception("the FedChain sidebar could not forward a ledger event")

    def flush(self) -> None:
        """Send an event message for every event not sent yet, with the state read now."""
        with self._lock:
            pending, self._pending = self._pending, []
        if not pending:
            return
        try:
            state = self.state()
        except Exception as error:
            self.broadcast(_read_failure(error, self._federation))
            return
        for record in pending:
            self.broadcast(event_message(record, _state_as_of(state, record)))

    # -- messages -------------------------------------------------------------------------------

    def state(self) -> JsonDict:
        """The schema's ``State`` for the current federation (an empty one when none is open)."""
        federation = self._federation
        if federation is None:
            return self._closed_state if self._closed_state is not None else empty_state()
        with self._lock:
            events = list(self._events)
        started = time.monotonic()
        snapshot = read_snapshot(federation)
        state = build_state(snapshot, merge_events(recent_events(federation), events))
        finished = time.monotonic()
        self._sent_block_number = state["network"]["block_number"]
        self._last_state = state
        with self._lock:
            unanswered = bool(self._comms) and all(c in self._unanswered for c in self._comms)
        share, interval_s = (
            (UNANSWERED_MAX_READ_SHARE, UNANSWERED_MIN_READ_INTERVAL_S)
            if unanswered
            else (MAX_READ_SHARE, MIN_READ_INTERVAL_S)
        )
        wait_s = (finished - started) * (1 / share - 1)
        self._next_read_s = finished + max(interval_s, wait_s)
        return state

    def snapshot(self) -> JsonDict:
        """A snapshot message, or an error message saying why the ledger could not be read."""
        try:
            return snapshot_message(self.state())
        except Exception as error:
            return _read_failure(error, self._federation)

    def broadcast(self, message: JsonDict) -> None:
        for comm in self.comms:
            self._send(comm, message)

    def _checked(self, message: JsonDict) -> JsonDict:
        """``message``, or with validation on, an error message if it breaks the schema."""
        if self._validate:
            try:
                validate_message(message)
            except MessageSchemaError as error:
                _log.error("%s", error)
                return error_message(str(error))
        return message

    def _send(self, comm: BaseComm, message: JsonDict) -> None:
        message = self._checked(message)
        try:
            comm.send(message)
        except Exception:
            _log.warning("dropping a FedChain sidebar comm that failed to send", exc_info=True)
            self._drop(comm)

    # -- teardown -------------------------------------------------------------------------------

    def close(self) -> None:
        """Unsubscribe from the federation and close every comm (the sidebar then says that
        the kernel has not loaded the extension)."""
        with self._lock:
            self._closed = True
            if self._unsubscribe is not None:
                self._unsubscribe()
            self._unsubscribe = None
            self._federation = None
            self._unanswered.clear()
            comms, self._comms = self._comms, []
        for comm in comms:
            try:
                comm.close()
            except Exception:
                _log.debug("a FedChain sidebar comm failed to close", exc_info=True)


def _seconds_between(earlier: datetime, later: datetime) -> float:
    try:
        return (later - earlier).total_seconds()
    except TypeError:  # one with a time zone, one without: no comparison
        return 0.0


def _state_as_of(state: JsonDict, record: JsonDict) -> JsonDict:
    """``state`` with its event list ending at ``record`` (a later event may be in a batch)."""
    events: list[JsonDict] = state["events"]
    for index in range(len(events) - 1, -1, -1):
        if events[index] is record:
            return {**state, "events": events[: index + 1]}
    return state


def _read_failure(error: Exception, federation: Federation | None) -> JsonDict:
    """An error message for a failed read of the ledger, worded for the notebook user."""
    url = federation.ledger.url if federation is not None else None
    if url is not None and isinstance(error, OSError):
        return error_message(
            f"the ledger node at {url} does not answer ({type(error).__name__}); start it "
            "again and click Retry, or run %fedchain stop"
        )
    detail = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return error_message(
        f"the kernel could not read the ledger ({type(error).__name__}"
        + (f": {detail}" if detail else "")
        + "); run %fedchain status in the notebook"
    )
