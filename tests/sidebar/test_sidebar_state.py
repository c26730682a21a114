"""The sidebar's state from a read model built by hand (no chain): a valued task's payouts, its
stakes and its governance travel in the schema's shape (checked with jsonschema), amounts as
decimal strings, sentences worded by the engine, numbers JSON can carry."""

from __future__ import annotations

import json

from explained_ledger import UNIT, sample_governance, sample_stakes, valued_snapshot

from fedchain_magics.engine.ledger_view import LedgerSnapshot
from fedchain_magics.sidebar.schema import SCHEMA_VERSION, load_schema, validate_message
from fedchain_magics.sidebar.state import build_state


def _checked(snapshot: LedgerSnapshot) -> dict:
    message = {"schema_version": SCHEMA_VERSION, "type": "snapshot", "state": build_state(snapshot)}
    validate_message(message)
    json.dumps(message, allow_nan=False)  # what the comm sends
    return message["state"]


def test_each_valued_contribution_carries_its_payout_and_why() -> None:
    state = _checked(valued_snapshot())
    (task,) = state["tasks"]
    assert (task["valuation"], task["stakes"], task["governance"]) == ("shapley", None, None)
    paid, unpaid = task["rounds"][0]["contributions"]
    assert paid["payout"] == {
        "group": "g2", "group_number": 2, "group_score": 1.4, "group_value": 0.031,
        "median_value": 0.022, "standing": 0.92, "min_standing": 0.75, "share_ppm": 1_000_000,
        "capped_samples": 120.0, "rounds": 2, "paid": True, "reason": "paid",
        "why": "group 2 scored 0.031 (median 0.022); standing 0.92 ≥ 0.75; 100.0% of the "
        "round by 120 capped samples",
    }  # fmt: skip
    assert paid["reward"] == str(60 * UNIT)
    assert unpaid["payout"]["group_value"] is None
    assert (unpaid["payout"]["reason"], unpaid["payout"]["why"]) == (
        "low standing", "standing 0.41 < 0.75: not paid",
    )  # fmt: skip


def test_stakes_travel_with_their_last_change_and_its_reason() -> None:
    state = _checked(valued_snapshot(stakes=sample_stakes()))
    shown = state["tasks"][0]["stakes"]
    assert (shown["required_stake"], shown["slash"], shown["dispute_bond"]) == (
        str(10 * UNIT), 0.5, str(UNIT),
    )  # fmt: skip
    bob = shown["parties"][1]
    assert (bob["name"], bob["staked"], bob["slashed"], bob["refunded"], bob["change_count"]) == (
        "bob", str(10 * UNIT), str(5 * UNIT), "0", 2,
    )  # fmt: skip
    assert bob["last_change"] == {
        "kind": "slashed", "amount": str(5 * UNIT), "round": 3,
        "reason": "low standing 0.41 < 0.50", "block_number": 33,
    }  # fmt: skip


def test_governed_rules_and_proposals_are_worded_by_the_engine() -> None:
    state = _checked(valued_snapshot(governance=sample_governance()))
    shown = state["tasks"][0]["governance"]
    assert shown["rules"] == [
        {"rule": "k", "value": "6"}, {"rule": "valuation", "value": "shapley"},
        {"rule": "min standing", "value": "0.75"},
        {"rule": "max weight", "value": "2x the median"}, {"rule": "slash", "value": "0.25"},
        {"rule": "stake", "value": "10 FCR"},
    ]  # fmt: skip
    executed, pending = shown["proposals"]
    assert executed == {
        "number": 1, "description": "k 6: groups of 3 are noisy", "state": "executed",
        "changes": [{"rule": "k", "value": "6"}], "votes_for": str(70 * UNIT),
        "votes_against": str(30 * UNIT), "votes_abstain": "0", "quorum": str(25 * UNIT),
        "from_round": 3,
    }  # fmt: skip
    assert pending["changes"] == [
        {"rule": "stake", "value": "20 FCR"}, {"rule": "slash", "value": "0.5"},
    ]  # fmt: skip
    assert (pending["quorum"], pending["from_round"]) == (None, None)


def test_the_schema_names_version_3_and_keeps_the_old_fields() -> None:
    schema = load_schema()
    assert SCHEMA_VERSION == 4 == schema["$defs"]["schema_version"]["const"]
    contribution = schema["$defs"]["contribution"]["required"]
    assert {"participant", "samples", "reward", "claimed", "payout"} <= set(contribution)
    task = schema["$defs"]["task"]["required"]
    assert {"rounds", "reward_per_round", "valuation", "privacy", "stakes", "governance"} <= set(
        task
    )


def test_the_schema_names_every_event_kind_the_engine_emits() -> None:
    """A valued task's engine events (scoring_enabled, scores_posted) once made the whole
    sidebar unreadable: every kind the engine can emit must be one the sidebar reads."""
    from typing import get_args

    from fedchain_magics.engine.events import EventKind

    kinds = load_schema()["$defs"]["ledger_event"]["properties"]["kind"]["enum"]
    assert set(get_args(EventKind)) <= set(kinds)
