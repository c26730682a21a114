"""The FedChain ledger sidebar in a real JupyterLab, in headless Chromium."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema

if TYPE_CHECKING:
    from conftest import LabPage

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "fedchain_magics/sidebar/message_schema.json"


def test_sidebar_tells_how_to_load_the_extension(lab: LabPage) -> None:
    lab.open_sidebar()
    assert lab.sidebar_state()["status"] == "no-notebook"

    lab.new_notebook("plain.ipynb")
    lab.wait_for_sidebar_status("not-loaded")

    state = lab.sidebar_state()
    assert state["command"] == "%load_ext fedchain_magics"
    assert "has not loaded FedChain" in state["text"]
    assert "plain.ipynb" in state["text"]
    assert state["rounds"] == [] and state["balances"] == []

    light = lab.screenshot_sidebar("sidebar-not-loaded-light.png")
    lab.set_theme("JupyterLab Dark")
    dark = lab.screenshot_sidebar("sidebar-not-loaded-dark.png")
    lab.set_theme("JupyterLab Light")
    assert light.stat().st_size > 0 and dark.stat().st_size > 0
    assert lab.page_errors == []
    assert [error for error in lab.console_errors if "fedchain" in error.lower()] == []


# A kernel-side stand-in for the `fedchain.ledger` comm target: it answers the sidebar's open
# (a request_snapshot) with a snapshot, and keeps the comm so a later cell can send events.
STAND_IN_TARGET = """
import json
from comm import get_comm_manager

_ledger_comms = []

def _open_ledger(comm, open_msg):
    _ledger_comms.append(comm)

    @comm.on_msg
    def _answer(msg):
        if msg["content"]["data"].get("type") == "request_snapshot":
            comm.send(_ledger_snapshot)

    comm.send(_ledger_snapshot)

_ledger_snapshot = json.loads({snapshot!r})
get_comm_manager().register_target("fedchain.ledger", _open_ledger)
"""

ALICE = "0x" + "11" * 20
BOB = "0x" + "22" * 20
COORDINATOR = "0x" + "c0" * 20


def _digest(byte: str) -> str:
    return "0x" + byte * 32


def _contribution(participant: str, name: str, samples: int, block: int) -> dict[str, Any]:
    return {
        "participant": participant,
        "name": name,
        "samples": samples,
        "update_digest": _digest(f"{block:02x}"),
        "block_number": block,
        "gas_used": 104_936,
        "reward": None,
        "claimed": False,
        "payout": None,
    }


def _state(block_number: int, accept_votes: int) -> dict[str, Any]:
    return {
        "network": {
            "name": "eth-tester",
            "chain_id": 131277322940537,
            "block_number": block_number,
            "embedded": True,
            "ledger_dir": None,
            "url": None,
            "connected": True,
            "reopen_command": None,
        },
        "tasks": [
            {
                "task_id": 1,
                "name": "stand-in",
                "coordinator": COORDINATOR,
                "participant_count": 2,
                "validator_count": 1,
                "min_participants": 2,
                "max_rounds": 2,
                "validator_quorum": 1,
                "reward_per_round": "100000000000000000000",
                "current_round": 1,
                "current_model_digest": _digest("bb"),
                "rounds": [
                    {
                        "round": 1,
                        "phase": "validating",
                        "commit_count": 2,
                        "total_samples": 700,
                        "accept_votes": accept_votes,
                        "reject_votes": 0,
                        "aggregate_digest": _digest("cc"),
                        "model_digest": None,
                        "aggregate_verified": True,
                        "contributions": [
                            _contribution(ALICE, "alice", 300, 8),
                            _contribution(BOB, "bob", 400, 9),
                        ],
                    }
                ],
                "valuation": "off",
                "privacy": "off",
                "stakes": None,
                "governance": None,
            }
        ],
        "balances": [
            {"account": ALICE, "name": "alice", "balance": "0", "balance_tokens": 0},
            {
                "account": BOB,
                "name": "bob",
                "balance": "5000000000000000000",
                "balance_tokens": 5.0,
            },
        ],
        "events": [
            {
                "kind": "update_committed",
                "block_number": 9,
                "task_id": 1,
                "round": 1,
                "account": BOB,
                "summary": "bob committed an update (400 samples)",
                "tx_hash": _digest("a9"),
                "gas_used": 104_936,
            }
        ],
        "token_symbol": "FCT",
        "token_decimals": 18,
    }


def _checked(message: dict[str, Any]) -> dict[str, Any]:
    """The stand-in speaks the real contract: validate what it will send."""
    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator(schema).validate(message)
    return message


def test_sidebar_renders_what_a_kernel_target_sends(lab: LabPage) -> None:
    snapshot = _checked({"schema_version": 4, "type": "snapshot", "state": _state(9, 0)})
    vote = {
        "kind": "vote_cast",
        "block_number": 10,
        "task_id": 1,
        "round": 1,
        "account": COORDINATOR,
        "summary": "validator voted to accept round 1",
        "tx_hash": _digest("aa"),
        "gas_used": 61_000,
    }
    after_vote = _state(10, 1)
    after_vote["events"].append(vote)
    event = _checked({"schema_version": 4, "type": "event", "event": vote, "state": after_vote})

    lab.open_sidebar()
    lab.new_notebook("stand-in.ipynb")
    lab.wait_for_sidebar_status("not-loaded")

    # Registering the target is what %load_ext will do: the sidebar retries after the cell.
    lab.run_cell(STAND_IN_TARGET.format(snapshot=json.dumps(snapshot)))
    lab.wait_for_sidebar_status("connected")
    state = lab.sidebar_state()
    assert state["block_number"] == 9
    assert state["network"] == "eth-tester"
    assert state["rounds"] == [
        {
            "task_id": 1,
            "round": 1,
            "phase": "validating",
            "commit_count": 2,
            "total_samples": 700,
            "accept_votes": 0,
            "reject_votes": 0,
            "verified": "true",
        }
    ]
    assert [(c["participant"], c["samples"]) for c in state["contributions"]] == [
        (BOB, 400),
        (ALICE, 300),
    ]
    assert state["balances"] == [
        {"account": BOB, "balance": "5000000000000000000"},
        {"account": ALICE, "balance": "0"},
    ]
    lab.screenshot_sidebar("sidebar-connected-light.png")

    lab.run_cell(f"_ledger_comms[-1].send(json.loads({json.dumps(event)!r}))")
    lab.page.wait_for_selector('#fedchain-ledger .fc-block-number[data-block-number="10"]')
    state = lab.sidebar_state()
    assert state["rounds"][0]["accept_votes"] == 1
    assert state["events"][0] == {"kind": "vote_cast", "block_number": 10, "latest": True}
    lab.set_theme("JupyterLab Dark")
    # A theme change hides and shows the shell; the sidebar keeps its comm (the stand-in
    # would answer a reopen with its first snapshot, block 9).
    assert lab.sidebar_state()["block_number"] == 10
    lab.screenshot_sidebar("sidebar-connected-dark.png")
    lab.set_theme("JupyterLab Light")

    # A restarted kernel has lost the target: the sidebar says so again.
    lab.restart_kernel()
    lab.wait_for_sidebar_status("not-loaded")
    assert lab.sidebar_state()["command"] == "%load_ext fedchain_magics"
    assert lab.page_errors == []
