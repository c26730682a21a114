"""Live views follow a real round through the engine's events: the widget, the static twin."""

from __future__ import annotations

from types import SimpleNamespace

import IPython.display
import ipywidgets
import pytest
from engine_helpers import logistic_regression
from IPython.core.events import EventManager, available_events
from widget_helpers import PARTIES, FakeDisplay, play_round

from fedchain_magics import Federation, TaskConfig
from fedchain_magics.engine import TOKEN_UNIT, format_token_amount
from fedchain_magics.widgets import LiveBalanceChart, LiveLedgerView, ledger_table


def _widget_html(view) -> str:
    (html,) = view.widget.children
    return html.value


@pytest.fixture(scope="module")
def followed(tmp_path_factory, split):
    """One round played while four views follow it; what they showed after each step."""
    display = FakeDisplay()
    with (
        pytest.MonkeyPatch.context() as patch,
        Federation.open(tmp_path_factory.mktemp("ledger")) as federation,
    ):
        patch.setattr(IPython.display, "display", display)
        task = federation.create_task(
            logistic_regression(split),
            TaskConfig(min_participants=3, reward_per_round=90 * TOKEN_UNIT),
        )
        views = SimpleNamespace(
            ledger=LiveLedgerView(federation, task.task_id, min_interval_s=0),
            chart=LiveBalanceChart(federation, min_interval_s=0),
            lazy_ledger=LiveLedgerView(federation, task.task_id, min_interval_s=3600),
            lazy_chart=LiveBalanceChart(federation, min_interval_s=3600),
        )
        for view in vars(views).values():
            view.display()
        ledger_handle, chart_handle, lazy_ledger_handle, _ = display.handles
        steps: dict[str, SimpleNamespace] = {}

        def record(step: str) -> None:
            steps[step] = SimpleNamespace(
                widget=_widget_html(views.ledger),
                static=ledger_handle.last,
                chart=chart_handle.last,
                lazy_widget=_widget_html(views.lazy_ledger),
                lazy_static=lazy_ledger_handle.last,
            )

        record("created")
        run = play_round(task, split, after_step=record)
        yield SimpleNamespace(
            federation=federation, task=task, run=run, views=views, steps=steps, display=display
        )
        for view in vars(views).values():
            view.close()


def test_display_shows_a_widget_then_a_static_twin_with_a_display_id(followed):
    shown = followed.display.shown
    assert isinstance(shown[0], ipywidgets.VBox)
    assert isinstance(shown[0].children[0], ipywidgets.HTML)
    assert isinstance(shown[1], IPython.display.HTML)
    assert len(followed.display.handles) == 4


def test_the_ledger_view_follows_the_round_step_by_step(followed):
    steps = followed.steps
    assert "no round opened yet" in steps["created"].widget
    assert "commitments 0/3" in steps["opened"].widget
    assert "collecting" in steps["opened"].widget
    assert "commitments 1/3" in steps["committed-1"].widget
    assert "commitments 3/3" in steps["committed-3"].widget
    assert "aggregated" in steps["aggregated"].widget
    assert "validating" in steps["decrypted"].widget
    assert "votes 1/1" in steps["voted"].widget and "accepted" in steps["voted"].widget
    for name in PARTIES:
        assert name in steps["committed-3"].widget
    # each step changed what the widget and its static twin show
    shown = [step.widget for step in steps.values()]
    assert len(set(shown)) == len(shown)
    assert [step.static for step in steps.values()] != [steps["created"].static] * len(steps)


def test_the_static_twin_ends_with_the_final_ledger(followed):
    final = followed.steps["claimed"]
    table = ledger_table(followed.federation, followed.task.task_id)
    for row in table.rows:
        assert f">{row['reward_text']}<" in final.static
        assert row["update_digest"][:12] in final.static
    style, body = final.widget.split("</style>", 1)
    css_class = style.removeprefix("<style>.").split(" ")[0]
    assert css_class.startswith("fedchain-static-")
    assert final.static == f'<div class="{css_class}">{body}</div>'


def test_the_widget_hides_its_static_twin_where_widgets_render(followed):
    widget = followed.steps["claimed"].widget
    static = followed.steps["claimed"].static
    css_class = static.split('"')[1]
    assert widget.startswith(f"<style>.{css_class} {{ display: none; }}</style>")


def test_the_live_view_shows_the_verifications_the_engine_reported(followed):
    # the key holder verified the aggregate when it decrypted: one fact, in every view after
    assert "aggregate verified" in followed.steps["decrypted"].widget
    assert "aggregate verified" not in followed.steps["aggregated"].widget
    assert "aggregate verified" in ledger_table(followed.federation)._repr_html_()


def test_the_balance_chart_grows_when_rewards_are_claimed(followed):
    before = followed.steps["voted"].chart
    after = followed.steps["claimed"].chart
    assert "<svg" in before and "<svg" in after
    for name in PARTIES:
        reward = f"{format_token_amount(followed.run.rewards[name])} FCR</text>"
        assert reward not in before and reward in after


def test_bursts_wait_for_a_flush_and_close_renders_the_final_state(followed):
    steps = followed.steps
    assert {step.lazy_widget for step in steps.values()} == {steps["created"].lazy_widget}
    assert {step.lazy_static for step in steps.values()} == {steps["created"].lazy_static}
    views = followed.views
    views.lazy_ledger.flush()
    flushed = _widget_html(views.lazy_ledger)
    assert "votes 1/1" in flushed and "aggregate verified" in flushed
    assert followed.display.handles[2].last != steps["created"].lazy_static
    chart_before_close = followed.display.handles[3].last
    views.lazy_chart.close()
    assert followed.display.handles[3].last != chart_before_close
    assert "clinic-a" in followed.display.handles[3].last


def test_close_unsubscribes_so_later_events_change_nothing(followed, monkeypatch):
    display = FakeDisplay()
    monkeypatch.setattr(IPython.display, "display", display)
    closed = LiveLedgerView(followed.federation, min_interval_s=0)
    still_open = LiveLedgerView(followed.federation, min_interval_s=0)
    closed.display()
    still_open.display()
    closed.close()
    widget_before, static_before = _widget_html(closed), display.handles[0].last
    open_before = display.handles[1].last

    followed.task.participant("late-joiner").join()  # a real transaction, a real event

    assert _widget_html(closed) == widget_before and display.handles[0].last == static_before
    assert display.handles[1].last != open_before  # the event did fire
    still_open.close()


def test_the_end_of_a_cell_flushes_a_pending_update(followed, monkeypatch):
    shell = SimpleNamespace(events=EventManager(None, available_events))
    monkeypatch.setattr(IPython, "get_ipython", lambda: shell)
    monkeypatch.setattr(IPython.display, "display", FakeDisplay())
    view = LiveLedgerView(followed.federation, followed.task.task_id, min_interval_s=3600)
    view.display()
    before = _widget_html(view)
    followed.task.participant("late-joiner-2").join()
    assert _widget_html(view) == before  # inside the interval: nothing rendered yet
    shell.events.trigger("post_run_cell", None)
    assert _widget_html(view) != before
    view.close()
    assert shell.events.callbacks["post_run_cell"] == []


def test_a_failed_read_is_shown_while_following_but_never_replaces_the_final_state(
    tmp_path, split, monkeypatch
):
    display = FakeDisplay()
    monkeypatch.setattr(IPython.display, "display", display)
    with Federation.open(tmp_path / "ledger") as federation:
        eager = LiveLedgerView(federation, min_interval_s=0)
        lazy = LiveLedgerView(federation, min_interval_s=3600)
        eager.display()
        lazy.display()
        lazy_shown = display.handles[1].last

        def unreachable():
            raise ConnectionError("node went away")

        with monkeypatch.context() as broken:
            broken.setattr(federation, "task_ids", unreachable)
            federation.create_task(logistic_regression(split), TaskConfig(min_participants=1))
            assert "could not read the ledger: ConnectionError: node went away" in (
                display.handles[0].last
            )
            lazy.close()  # its pending render fails: the last good state stays
            assert display.handles[1].last == lazy_shown
        federation.task(1).coordinator().open_round()  # still subscribed after the failure
        assert "commitments 0/1" in display.handles[0].last
        eager.close()
