"""Views that follow the ledger as the engine works: an ipywidget plus a static twin.

``display()`` shows two outputs:

* an ipywidgets ``HTML`` (in a ``VBox``) that updates live in JupyterLab, VS Code and Voilà;
* a ``display_id`` HTML output updated with ``update_display_data``, which nbclient records,
  so a notebook executed headless and exported with nbconvert shows the final state without
  JavaScript. While the widget is rendered, a ``<style>`` inside it hides this twin, so a live
  notebook shows one copy; where widgets do not render (offline HTML export, no widget state),
  the style is absent and the twin shows.

Updates are driven by the engine's events: the subscriber re-reads the chain on the thread that
emitted the event (the engine calls subscribers synchronously), at most once per
``min_interval_s``; an update skipped inside that interval is rendered by ``flush()``, by the
next event, after the running cell ends (an IPython ``post_run_cell`` hook), or by ``close()``.
What other kernels do on a shared ledger emits no event here: the federation's head watcher
(:mod:`fedchain_magics.engine.watch`) re-renders the view when the head moves.
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any

from . import _html
from .tables import BalanceTable, LedgerTable, balance_table, ledger_table

if TYPE_CHECKING:
    from ..engine import Federation, LedgerEvent


class _LiveView(ABC):
    """Subscribe to a federation's events and keep a widget and static outputs rendered."""

    def __init__(self, federation: Federation, *, min_interval_s: float = 0.2) -> None:
        self._federation = federation
        self._min_interval_s = min_interval_s
        # unique across kernel restarts, so a new widget never hides an older output
        self._css_class = f"fedchain-static-{uuid.uuid4().hex[:12]}"
        self._lock = threading.RLock()
        self._pending = False
        self._last_render_s = float("-inf")
        self._closed = False
        self._handles: list[Any] = []
        self._widget: Any = None
        self._html_widget: Any = None
        self._shell: Any = None
        self._html = self._render_safely()
        self._last_render_s = time.monotonic()
        self._unsubscribe = federation.events.subscribe(self._on_event)
        self._stop_watching = federation.head.listen(self._on_head)

    # -- what subclasses provide ---------------------------------------------------------------

    @abstractmethod
    def _render(self) -> str:
        """The view's current HTML."""

    def _wants(self, event: LedgerEvent) -> bool:
        return True

    # -- public ----------------------------------------------------------------------------------

    @property
    def widget(self) -> Any:
        """The ipywidgets ``VBox`` holding the live view (built on first use)."""
        with self._lock:
            if self._widget is None:
                import ipywidgets

                self._html_widget = ipywidgets.HTML(value=self._widget_html())
                self._widget = ipywidgets.VBox(
                    [self._html_widget], layout=ipywidgets.Layout(width="100%")
                )
            return self._widget

    def display(self) -> None:
        """Show the live widget and its static twin in the current output area."""
        from IPython.display import HTML, display

        with self._lock:
            widget = self.widget
            display(widget)
            handle = display(HTML(self._static_html()), display_id=True)
            if handle is not None:
                self._handles.append(handle)
            self._hook_cell_end()

    def flush(self) -> None:
        """Render now if an event arrived since the last render."""
        with self._lock:
            if self._pending and not self._closed:
                self._refresh()

    def close(self) -> None:
        """Render the final state and stop following the ledger's events."""
        with self._lock:
            if self._closed:
                return
            if self._pending:
                self._refresh(final=True)
            self._closed = True
            self._unsubscribe()
            self._stop_watching()
            self._unhook_cell_end()

    def _ipython_display_(self) -> None:
        self.display()

    def __enter__(self) -> _LiveView:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- machinery -------------------------------------------------------------------------------

    def _on_event(self, event: LedgerEvent) -> None:
        if not self._wants(event):
            return
        with self._lock:
            if self._closed:
                return
            self._pending = True
            if time.monotonic() - self._last_render_s >= self._min_interval_s:
                self._refresh()

    def _on_head(self, block_number: int) -> None:
        """Another kernel (or this one) moved the shared ledger: show what it did."""
        with self._lock:
            if self._closed:
                return
            self._pending = True
            wait_s = max(self._min_interval_s, self._federation.head.interval_s)
            if time.monotonic() - self._last_render_s >= wait_s:  # else events render it
                self._refresh()

    def _refresh(self, *, final: bool = False) -> None:
        try:
            self._html = self._render()
        except Exception as error:
            if final:  # e.g. the node went away: keep the last good state shown
                return
            self._html = _html.error_html(f"{type(error).__name__}: {error}")
        self._last_render_s = time.monotonic()
        self._pending = False
        if self._html_widget is not None:
            self._html_widget.value = self._widget_html()
        if self._handles:
            from IPython.display import HTML

            for handle in self._handles:
                handle.update(HTML(self._static_html()))

    def _render_safely(self) -> str:
        try:
            return self._render()
        except Exception as error:  # keep following events; say what failed
            return _html.error_html(f"{type(error).__name__}: {error}")

    def _widget_html(self) -> str:
        return f"<style>.{self._css_class} {{ display: none; }}</style>{self._html}"

    def _static_html(self) -> str:
        return f'<div class="{self._css_class}">{self._html}</div>'

    def _hook_cell_end(self) -> None:
        if self._shell is not None:
            return
        from IPython import get_ipython

        shell = get_ipython()
        if shell is not None:
            shell.events.register("post_run_cell", self._after_cell)
            self._shell = shell

    def _unhook_cell_end(self) -> None:
        if self._shell is not None:
            with contextlib.suppress(ValueError):
                self._shell.events.unregister("post_run_cell", self._after_cell)
            self._shell = None

    def _after_cell(self, result: Any = None) -> None:
        self.flush()


class LiveLedgerView(_LiveView):
    """The ledger table of ``task_id`` (every task if None), re-rendered on engine events."""

    def __init__(
        self, federation: Federation, task_id: int | None = None, *, min_interval_s: float = 0.2
    ) -> None:
        self._task_id = task_id
        super().__init__(federation, min_interval_s=min_interval_s)

    def table(self) -> LedgerTable:
        """A fresh ``LedgerTable`` of the ledger's read model."""
        return ledger_table(self._federation, self._task_id)

    def _render(self) -> str:
        return self.table()._repr_html_()

    def _wants(self, event: LedgerEvent) -> bool:
        return self._task_id is None or event.task_id in (None, self._task_id)


class LiveBalanceChart(_LiveView):
    """The reward balances as a bar chart (inline SVG), re-rendered on engine events."""

    def table(self) -> BalanceTable:
        """A fresh ``BalanceTable`` of the ledger's read model."""
        return balance_table(self._federation)

    def _render(self) -> str:
        return self.table().chart_svg()
