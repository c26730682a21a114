"""What every family of fedchain magics shares: the kernel's session, live views, tracebacks."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any, Protocol

from IPython.core.magic import Magics

from ..engine.session import Session


class LiveView(Protocol):
    def display(self) -> None: ...

    def close(self) -> None: ...


class MagicsState:
    """The state the magic families of one shell share."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.show_tracebacks = False
        self._views: dict[Hashable, LiveView] = {}

    @property
    def views(self) -> list[LiveView]:
        """The live views following the ledger, oldest first."""
        return list(self._views.values())

    def show(self, view: LiveView, key: Hashable) -> None:
        """Display a live view. It replaces (closes) the view shown before under the same
        ``key``, e.g. ``("ledger", task_id)``, so re-running a cell does not pile up views that
        all re-render on every event; all are closed when the ledger closes or on unload."""
        previous = self._views.pop(key, None)
        if previous is not None:
            previous.close()
        view.display()
        self._views[key] = view

    def close_views(self) -> None:
        views, self._views = self._views, {}
        for view in views.values():
            view.close()


class MagicsFamily(Magics):
    """Base of the magic families: each method parses, makes one session call, renders."""

    def __init__(self, shell: Any, state: MagicsState) -> None:
        super().__init__(shell)
        self.state = state

    @property
    def ipython(self) -> Any:
        """The shell the magics are registered on."""
        return self.shell

    @property
    def session(self) -> Session:
        return self.state.session


def hex_digest(digest: bytes) -> str:
    return "0x" + digest.hex()
