"""Registering the comm target from ``%load_ext``, and following the session's ledger."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from IPython.core.interactiveshell import InteractiveShell
from sidebar_helpers import REQUEST_SNAPSHOT, checked, run_round

from fedchain_magics.engine.session import Session
from fedchain_magics.sidebar import (
    COMM_TARGET,
    SCHEMA_VERSION,
    LedgerBridge,
    register_comm_target,
    unregister_comm_target,
)
from fedchain_magics.sidebar.bridge import OFFER_EXPIRY_S
from fedchain_magics.sidebar.history import CANCEL_REASONS, EXCLUSION_REASONS, merge_events


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


def test_loading_offers_a_comm_from_the_kernel_with_a_snapshot(shell, session, comm_manager):
    bridge = register_comm_target(shell, session)
    [offered] = bridge.comms
    opened = [data for kind, data in offered.published if kind == "comm_open"]
    assert [checked(data)["type"] for data in opened] == ["snapshot"]
    assert comm_manager.comms[offered.comm_id] is offered
    assert offered.target_name == COMM_TARGET


def test_a_stopped_ledger_stays_on_show_with_the_command_that_reopens_it(
    shell, session, frontend, tmp_path
):
    register_comm_target(shell, session)
    sidebar = frontend.open()
    federation = session.open(tmp_path / "ledger")
    shell.run_cell("pass")
    federation.ledger.mine_blocks(2)
    shell.run_cell("pass")
    last = checked(sidebar.messages[-1])["state"]

    session.close()  # what `%fedchain stop` does
    shell.run_cell("pass")
    closed = checked(sidebar.messages[-1])["state"]
    assert closed["network"]["reopen_command"] == f"%fedchain start --dir {tmp_path / 'ledger'}"
    assert closed["network"]["connected"] is False
    assert closed["network"]["chain_id"] == last["network"]["chain_id"] != 0
    assert closed["network"]["block_number"] == last["network"]["block_number"]
    assert {key: value for key, value in closed.items() if key != "network"} == {
        key: value for key, value in last.items() if key != "network"
    }
    frontend.send(sidebar, REQUEST_SNAPSHOT)  # a sidebar opened later sees the same
    assert sidebar.messages[-1]["state"] == closed

    session.open(tmp_path / "ledger")  # reopened: live again
    shell.run_cell("pass")
    assert checked(sidebar.messages[-1])["state"]["network"]["reopen_command"] is None


def test_an_offered_comm_is_kept_once_answered_and_closed_when_its_answer_is_overdue(
    session, frontend
):
    sent_at = [datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)]
    bridge = LedgerBridge(session, request_date=lambda: sent_at[0])
    answered, ignored = bridge.offer(), bridge.offer()
    assert answered is not None and ignored is not None
    frontend.send(answered, REQUEST_SNAPSHOT)
    sent_at[0] += timedelta(seconds=OFFER_EXPIRY_S / 2)  # Run All: sent before the offer
    bridge.after_cell()
    assert bridge.comms == [answered, ignored]

    sent_at[0] += timedelta(seconds=OFFER_EXPIRY_S)  # a later cell: an answer came first
    bridge.after_cell()
    assert bridge.comms == [answered]
    assert ignored.closed_by_kernel and not answered.closed_by_kernel
    bridge.close()


def test_the_event_feed_is_read_back_from_the_chain_after_a_restart(tmp_path):
    first = Session()
    run_round(first.open(tmp_path / "ledger"))
    first.close()

    restarted = Session()  # a new kernel: an empty event bus
    restarted.open(tmp_path / "ledger")
    try:
        state = checked(
            {
                "schema_version": SCHEMA_VERSION,
                "type": "snapshot",
                "state": LedgerBridge(restarted).state(),
            }
        )["state"]
    finally:
        restarted.close()
    kinds = [record["kind"] for record in state["events"]]
    assert kinds[0] == "task_created" and kinds[-1] == "reward_claimed"
    assert kinds.count("update_committed") == 3 and "round_finalized" in kinds
    assert all(record["tx_hash"] and record["gas_used"] for record in state["events"])
    # Worded as the kernel that ran the round worded them.
    from_chain = {record["summary"] for record in state["events"]}
    assert {"round 1 aggregated", "round 1 model decrypted"} <= from_chain
    assert any(summary.startswith("party-1 claimed") for summary in from_chain)


def test_the_reason_words_follow_the_contract_enums():
    from fedchain_magics.chain.training import CancelReason, ExclusionReason

    assert tuple(r.name.lower().replace("_", " ") for r in CancelReason) == CANCEL_REASONS
    assert tuple(r.name.lower().replace("_", " ") for r in ExclusionReason) == EXCLUSION_REASONS


def test_bus_records_take_the_place_of_the_chain_records_of_their_transaction():
    def record(kind, block, tx, summary):
        return {
            "kind": kind,
            "block_number": block,
            "task_id": 1,
            "round": None,
            "account": None,
            "summary": summary,
            "tx_hash": tx,
            "gas_used": None,
        }

    tx_a, tx_b = "0x" + "aa" * 32, "0x" + "bb" * 32
    chain = [
        record("participant_admitted", 5, tx_a, "a admitted"),
        record("participant_admitted", 5, tx_a, "b admitted"),
        record("round_opened", 6, tx_b, "round 1 opened"),
    ]
    admitted = record("participant_admitted", 5, tx_a, "a, b admitted")
    verified = record("aggregate_verified", 5, None, "round 1 aggregate verified")
    merged = merge_events(chain, [admitted, verified])
    assert [r["summary"] for r in merged] == [
        "a, b admitted",
        "round 1 aggregate verified",
        "round 1 opened",
    ]
    assert merged[0] is admitted
    assert merge_events(chain, [], limit=2) == chain[1:]
