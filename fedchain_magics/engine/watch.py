"""Following what other kernels do: a thread that watches the ledger's head.

A kernel's own steps emit engine events; what another kernel does on a shared ledger (a served
chain, a node) emits nothing here. :class:`HeadWatcher` polls the head block number every
``interval_s`` while anyone listens, and calls each listener with the new number when it moved.
Listeners (live views, the sidebar) re-read the ledger then, so every kernel shows the same
facts within a few seconds. One thread per federation, started on the first listener and
stopped with the last.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

_log = logging.getLogger(__name__)
DEFAULT_INTERVAL_S = 2.0

HeadListener = Callable[[int], None]


class HeadWatcher:
    def __init__(self, read_head: Callable[[], int], interval_s: float = DEFAULT_INTERVAL_S):
        self._read_head = read_head
        self.interval_s = interval_s
        self._listeners: list[HeadListener] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._head: int | None = None

    def listen(self, listener: HeadListener) -> Callable[[], None]:
        """Call ``listener(block_number)`` whenever the head moves; returns the unsubscriber."""
        with self._lock:
            self._listeners.append(listener)
            if self._thread is None:
                self._stop.clear()
                self._thread = threading.Thread(
                    target=self._run, name="fedchain-head-watcher", daemon=True
                )
                self._thread.start()

        def stop_listening() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)
                if not self._listeners and self._thread is not None:
                    self._stop.set()
                    self._thread = None

        return stop_listening

    def close(self) -> None:
        with self._lock:
            self._listeners.clear()
            self._stop.set()
            self._thread = None

    def _run(self) -> None:
        stop = self._stop
        while not stop.wait(self.interval_s):
            try:
                head = self._read_head()
            except Exception:  # the ledger closed or the node went away: try again later
                continue
            if head == self._head:
                continue
            self._head = head
            with self._lock:
                listeners = list(self._listeners)
            for listener in listeners:
                if stop.is_set():
                    return
                try:
                    listener(head)
                except Exception:
                    _log.exception("a head listener failed: %r", listener)
