"""The ledger bridge on a real ledger: snapshots, events, comms coming and going."""

from __future__ import annotations

from typing import Any

import pytest
from sidebar_helpers import REQUEST_SNAPSHOT, Frontend, checked, run_round

from fedchain_magics import LedgerEvent
from fedchain_magics.engine.ledger_view import task_history
from fedchain_magics.engine.session import Session
from fedchain_magics.sidebar import LedgerBridge, register_comm_target
from fedchain_magics.sidebar import bridge as bridge_module
from fedchain_magics.sidebar.state import MAX_EVENTS


@pytest.fixture(autouse=True)
def _no_head_snapshots(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tests below count messages. The head watcher's thread may see a block mined before
    the engine emits that block's event (more often on a loaded machine) and send a snapshot of
    its own, one message more. The module's observed round, set up before this, keeps its
    watcher (its test allows those snapshots); the head watcher itself is tested with the
    widgets (tests/widgets/test_widget_follows_other_kernels.py)."""
    monkeypatch.setattr(LedgerBridge, "_on_head", lambda self, block_number: None)


@pytest.fixture(scope="module")
def observed_round(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """One real 3-party round, watched by a bridge with one open comm, as the sidebar sees it.

    Module-scoped (a round costs seconds): the tests below only read what it recorded.
    """
    import comm
    from comm.base_comm import CommManager
    from sidebar_helpers import RecordingComm

    with pytest.MonkeyPatch.context() as patch:
        manager = CommManager()
        patch.setattr(comm, "get_comm_manager", lambda: manager)
        patch.setattr(comm, "create_comm", RecordingComm)
        session = Session()
        federation = session.open(tmp_path_factory.mktemp("observed") / "ledger")
        bridge = LedgerBridge(session, validate=True, throttle=False)
        manager.register_target("fedchain.ledger", bridge.open)
        engine_events: list[LedgerEvent] = []
        federation.events.subscribe(engine_events.append)
        sidebar = Frontend(manager).open()
        result = run_round(federation)
        yield {
            "federation": federation,
            "result": result,
            "bridge": bridge,
            "messages": list(sidebar.messages),
            "engine_events": engine_events,
            "final_snapshot": bridge.snapshot(),
        }
        bridge.close()
        session.close()


def test_every_message_of_a_real_round_follows_the_schema(observed_round):
    messages = observed_round["messages"]
    assert messages[0]["type"] == "snapshot"
    # Events, and a snapshot when the head watcher saw blocks mined without an event.
    assert {message["type"] for message in messages[1:]} <= {"event", "snapshot"}
    for message in messages:
        checked(message)


def test_one_event_message_per_engine_event_carrying_the_state_after_it(observed_round):
    events = [message for message in observed_round["messages"] if message["type"] == "event"]
    engine_events = observed_round["engine_events"]
    assert [message["event"]["kind"] for message in events] == [e.kind for e in engine_events]
    assert {e.kind for e in engine_events} >= {
        "task_created",
        "participant_joined",
        "round_opened",
        "update_committed",
        "aggregate_committed",
        "aggregate_verified",
        "model_committed",
        "vote_cast",
        "round_finalized",
        "reward_claimed",
    }
    for message, engine_event in zip(events, engine_events, strict=True):
        assert message["event"]["summary"] == engine_event.summary
        assert message["event"]["tx_hash"] == engine_event.tx_hash
        # The state is read after the event: it lists the event last and has its block.
        assert message["state"]["events"][-1] == message["event"]
        assert message["state"]["network"]["block_number"] >= engine_event.block_number
    blocks = [message["state"]["network"]["block_number"] for message in events]
    assert blocks == sorted(blocks)


def test_the_state_after_a_round_is_what_the_ledger_holds(observed_round):
    federation = observed_round["federation"]
    snapshot = checked(observed_round["final_snapshot"])
    state = snapshot["state"]
    assert state["network"] == {
        "name": federation.ledger.network_name,
        "chain_id": federation.ledger.chain_id,
        "block_number": federation.ledger.block_number(),
        "embedded": True,
        "ledger_dir": str(federation.workspace.resolve()),
        "url": None,
        "connected": True,
        "reopen_command": None,
    }
    assert (state["token_symbol"], state["token_decimals"]) == ("FCR", 18)

    [task] = state["tasks"]
    assert (task["task_id"], task["name"], task["current_round"]) == (1, "breast-cancer", 1)
    assert task["participant_count"] == 3 and task["min_participants"] == 3
    [round_] = task["rounds"]
    [summary] = task_history(observed_round["result"].task)
    assert round_["phase"] == "accepted" == summary.phase.label
    assert round_["commit_count"] == 3 and round_["accept_votes"] == 1
    assert round_["aggregate_verified"] is True  # the verification record
    assert round_["model_digest"] == "0x" + summary.model_digest.hex()
    assert [c["name"] for c in round_["contributions"]] == ["party-1", "party-2", "party-3"]
    assert sum(c["samples"] for c in round_["contributions"]) == round_["total_samples"]
    assert all(c["claimed"] and int(c["reward"]) > 0 for c in round_["contributions"])

    ledger_balances = {row.address: row.balance for row in federation.balances()}
    shown = {row["account"]: int(row["balance"]) for row in state["balances"]}
    assert shown == ledger_balances
    assert sum(shown.values()) == sum(int(c["reward"]) for c in round_["contributions"])
    for row in state["balances"]:
        assert row["balance_tokens"] == pytest.approx(int(row["balance"]) / 10**18)

    assert state["events"][-1]["kind"] == "reward_claimed"
    assert len(state["events"]) == len(observed_round["engine_events"])


def test_a_kernel_without_a_ledger_says_it_is_not_connected(shell, session, frontend):
    register_comm_target(shell, session)
    sidebar = frontend.open()
    [snapshot] = sidebar.messages
    state = checked(snapshot)["state"]
    assert state["network"]["connected"] is False
    assert state["network"]["chain_id"] == 0
    assert state["tasks"] == state["balances"] == state["events"] == []


def test_request_snapshot_answers_with_a_fresh_snapshot(shell, session, federation, frontend):
    register_comm_target(shell, session)
    sidebar = frontend.open()
    federation.ledger.mine_blocks(3)
    frontend.send(sidebar, REQUEST_SNAPSHOT)
    first, second = (checked(message) for message in sidebar.messages)
    assert second["type"] == "snapshot"
    assert second["state"]["network"]["block_number"] == (
        first["state"]["network"]["block_number"] + 3
    )


def test_an_unknown_request_gets_an_error_message(shell, session, frontend):
    register_comm_target(shell, session)
    sidebar = frontend.open()
    frontend.send(sidebar, {"schema_version": 1, "type": "reset_ledger"})
    reply = checked(sidebar.messages[-1])
    assert reply["type"] == "error" and "reset_ledger" in reply["message"]


def test_closed_comms_are_dropped_and_open_ones_keep_receiving(session, federation, frontend):
    bridge = LedgerBridge(session, throttle=False)
    frontend.manager.register_target("fedchain.ledger", bridge.open)
    kept, closed, broken = frontend.open(), frontend.open(), frontend.open()
    assert bridge.comms == [kept, closed, broken]

    frontend.close(closed)
    broken.fail_sends = True
    task = federation.create_task(_tiny_model(), _tiny_config())

    assert bridge.comms == [kept]
    assert len(closed.messages) == 1  # only its snapshot
    kinds = [message["event"]["kind"] for message in kept.messages[1:]]
    assert kinds == ["task_created", "validator_added"]
    assert all(checked(message) for message in kept.messages)

    task.coordinator().open_round()
    assert kept.messages[-1]["event"]["kind"] == "round_opened"
    assert kept.messages[-1]["state"]["tasks"][0]["rounds"][0]["phase"] == "collecting"
    bridge.close()


def test_events_close_together_wait_for_the_end_of_the_cell(
    shell, session, federation, frontend, monkeypatch
):
    monkeypatch.setattr(bridge_module, "MIN_READ_INTERVAL_S", 3600.0)  # a burst that lasts
    bridge = register_comm_target(shell, session)
    sidebar = frontend.open()  # its snapshot is a read: the next events wait
    federation.create_task(_tiny_model(), _tiny_config(), validators=("v-1", "v-2"))
    assert [message["type"] for message in sidebar.messages] == ["snapshot"]

    shell.run_cell("pass")
    events = [checked(message) for message in sidebar.messages[1:]]
    assert [message["event"]["kind"] for message in events] == [
        "task_created",
        "validator_added",
        "validator_added",
    ]
    # One read for the three; each message's event list ends at its own event.
    assert all(message["state"]["tasks"] == events[-1]["state"]["tasks"] for message in events)
    assert [message["state"]["events"][-1] for message in events] == [
        message["event"] for message in events
    ]
    assert len(events[-1]["state"]["events"]) == 3
    shell.run_cell("pass")  # nothing new: nothing sent
    assert len(sidebar.messages) == 4
    assert bridge.comms[1:] == [sidebar]  # after the comm the kernel offered


def test_the_state_keeps_the_last_fifty_events(session, federation, frontend, shell):
    register_comm_target(shell, session)
    block = federation.ledger.block_number()
    for index in range(MAX_EVENTS + 10):
        federation.emit("block", block, f"tick {index}")
    state = checked(frontend.open().messages[0])["state"]
    assert len(state["events"]) == MAX_EVENTS
    assert state["events"][0]["summary"] == "tick 10"
    assert state["events"][-1]["summary"] == f"tick {MAX_EVENTS + 9}"


def test_with_validation_on_a_message_that_breaks_the_schema_becomes_an_error(
    session, federation, frontend
):
    bridge = LedgerBridge(session, validate=True, throttle=False)
    frontend.manager.register_target("fedchain.ledger", bridge.open)
    sidebar = frontend.open()
    federation.emit("epoch_ended", federation.ledger.block_number(), "not a kind the schema has")
    reply = checked(sidebar.messages[-1])
    assert reply["type"] == "error"
    assert "message_schema.json" in reply["message"] and "kind" in reply["message"]
    bridge.close()


def _tiny_model() -> Any:
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    from fedchain_magics.models import initialize

    X = np.array([[0.0, 1.0], [1.0, 0.0], [0.5, 0.5], [1.0, 1.0]])
    return initialize(LogisticRegression(max_iter=5), X, np.array([0, 1, 0, 1]), classes=[0, 1])


def _tiny_config() -> Any:
    from fedchain_magics import TaskConfig

    return TaskConfig(rounds=1, min_participants=1, name="tiny")
