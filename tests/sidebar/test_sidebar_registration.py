"""Registering the comm target from ``%load_ext``, and following the session's ledger."""

from __future__ import annotations

from IPython.core.interactiveshell import InteractiveShell
from sidebar_helpers import checked

from fedchain_magics.sidebar import (
    COMM_TARGET,
    LedgerBridge,
    register_comm_target,
    unregister_comm_target,
)


def test_registering_in_a_kernel_adds_the_target_and_a_post_cell_hook(shell, session):
    bridge = register_comm_target(shell, session)
    manager = shell.kernel.comm_manager
    assert isinstance(bridge, LedgerBridge)
    assert manager.targets[COMM_TARGET] == bridge.open
    assert bridge.after_cell in shell.events.callbacks["post_run_cell"]


def test_registering_twice_replaces_the_first_bridge(shell, session, frontend):
    first = register_comm_target(shell, session)
    sidebar = frontend.open()
    second = register_comm_target(shell, session)
    assert second is not first and shell.kernel.comm_manager.targets[COMM_TARGET] == second.open
    assert sidebar.closed_by_kernel  # the sidebar reopens and reaches the new bridge
    assert shell.events.callbacks["post_run_cell"].count(second.after_cell) == 1
    assert first.after_cell not in shell.events.callbacks["post_run_cell"]


def test_unregistering_closes_the_comms_and_removes_target_and_hook(shell, session, frontend):
    bridge = register_comm_target(shell, session)
    sidebar = frontend.open()
    unregister_comm_target(shell)
    assert sidebar.closed_by_kernel
    assert bridge.comms == []
    assert COMM_TARGET not in shell.kernel.comm_manager.targets
    assert bridge.after_cell not in shell.events.callbacks["post_run_cell"]
    unregister_comm_target(shell)  # a second time is harmless


def test_a_shell_without_a_kernel_registers_nothing(session):
    terminal_like = InteractiveShell.instance()
    assert getattr(terminal_like, "kernel", None) is None
    before = list(terminal_like.events.callbacks["post_run_cell"])
    assert register_comm_target(terminal_like, session) is None
    assert terminal_like.events.callbacks["post_run_cell"] == before
    unregister_comm_target(terminal_like)


def test_a_ledger_started_after_loading_is_followed_after_the_cell(
    shell, session, frontend, tmp_path
):
    bridge = register_comm_target(shell, session)
    sidebar = frontend.open()
    assert checked(sidebar.messages[0])["state"]["network"]["connected"] is False

    federation = session.open(tmp_path / "ledger")  # what `%fedchain start` does
    shell.run_cell("pass")
    snapshot = checked(sidebar.messages[-1])
    assert snapshot["type"] == "snapshot" and snapshot["state"]["network"]["connected"] is True
    assert bridge.federation is federation

    federation.ledger.mine_blocks(2)  # the ledger moves without an engine event
    shell.run_cell("pass")
    assert sidebar.messages[-1]["state"]["network"]["block_number"] == (
        snapshot["state"]["network"]["block_number"] + 2
    )
    count = len(sidebar.messages)
    shell.run_cell("pass")  # nothing changed: nothing sent
    assert len(sidebar.messages) == count

    federation.emit("block", federation.ledger.block_number(), "seen")
    shell.run_cell("pass")  # sent at once or, close to the last read, after the cell
    assert sidebar.messages[-1]["type"] == "event"
    assert sidebar.messages[-1]["event"]["summary"] == "seen"

    other = session.open(tmp_path / "other")  # `%fedchain start --dir other`
    shell.run_cell("pass")
    switched = checked(sidebar.messages[-1])["state"]
    assert switched["network"]["ledger_dir"] == str(other.workspace.resolve())
    assert switched["events"] == [] and bridge.federation is other

    session.close()  # what `%fedchain stop` does
    shell.run_cell("pass")
    assert checked(sidebar.messages[-1])["state"]["network"]["connected"] is False
    count = len(sidebar.messages)
    federation.emit("block", federation.ledger.block_number(), "no longer followed")
    shell.run_cell("pass")
    assert len(sidebar.messages) == count


def test_a_ledger_opened_before_a_sidebar_asks_reaches_every_sidebar(
    shell, session, frontend, tmp_path
):
    register_comm_target(shell, session)
    first = frontend.open()
    session.open(tmp_path / "ledger")  # in a cell, before its post-cell hook runs
    second = frontend.open()
    for sidebar in (first, second):
        assert checked(sidebar.messages[-1])["state"]["network"]["connected"] is True
    assert len(first.messages) == 2 and len(second.messages) == 1
