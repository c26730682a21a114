"""The notebook's ledger view of a valued task (a read model built by hand): each payout with
its why, the stakes and the governance proposals, as rows, DataFrames and self-contained HTML."""

from __future__ import annotations

import pytest
from explained_ledger import ALICE, BOB, sample_governance, sample_stakes, valued_snapshot

from fedchain_magics.widgets import ledger_table


@pytest.fixture
def table():
    snapshot = valued_snapshot(stakes=sample_stakes(), governance=sample_governance())
    return ledger_table(snapshot)


def test_each_valued_contribution_says_why_it_was_paid_what_it_was_paid(table) -> None:
    alice, bob = table.rows
    assert (alice["group"], alice["group_score"], alice["standing"], alice["share"]) == (
        "g2", 1.4, 0.92, 1.0,
    )  # fmt: skip
    assert alice["why"] == (
        "group 2 scored 0.031 (median 0.022); standing 0.92 ≥ 0.75; 100.0% of the round by "
        "120 capped samples"
    )
    assert bob["why"] == "standing 0.41 < 0.75: not paid"
    frame = table.to_dataframe()
    assert list(frame.columns)[-5:] == ["group", "group_score", "standing", "share", "why"]
    assert frame["why"].tolist() == [alice["why"], bob["why"]]
    html = table._repr_html_()
    assert "why: standing 0.41 &lt; 0.75: not paid" in html
    assert 'title="group 2 scored 0.031' in html


def test_stakes_show_what_each_party_lost_and_why(table) -> None:
    assert [(row["name"], row["staked"], row["slashed"]) for row in table.stakes] == [
        ("alice", 10.0, 0.0), ("bob", 10.0, 5.0),
    ]  # fmt: skip
    assert table.stakes[1]["last_change"] == "round 3: slashed 5 FCR (low standing 0.41 < 0.50)"
    assert table.stakes[1]["address"] == BOB and table.stakes[0]["address"] == ALICE
    assert table.stakes_dataframe()["refunded"].tolist() == [0.0, 0.0]
    html = table._repr_html_()
    assert "Stakes · task 1" in html
    assert "10 FCR a party; an offence takes 50% of what is left; slashed below standing 0.50" in (
        html
    )
    assert "round 3: slashed 5 FCR (low standing 0.41 &lt; 0.50)" in html


def test_proposals_show_their_state_votes_and_the_round_they_apply_from(table) -> None:
    executed, pending = table.proposals
    assert (executed["state"], executed["changes"], executed["from_round"]) == (
        "executed", "k 6", 3,
    )  # fmt: skip
    assert (executed["votes_for"], executed["quorum"], executed["quorum_met"]) == (70.0, 25.0, True)
    assert pending["changes"] == "stake 20 FCR, slash 0.5"
    assert (pending["quorum"], pending["from_round"]) == (None, None)
    assert table.proposals_dataframe()["number"].tolist() == [1, 2]
    html = table._repr_html_()
    assert "Governance · task 1" in html
    assert "rules from round 3: k 6 · valuation shapley · min standing 0.75" in html
    assert "70 for, 30 against, 0 abstain; quorum 25 (met)" in html
    assert "(vote not open yet)" in html
    assert "<script" not in html


def test_a_task_paying_by_samples_shows_no_incentive_tables() -> None:
    table = ledger_table(valued_snapshot())
    assert table.stakes == [] and table.proposals == []
    assert "Stakes ·" not in table._repr_html_() and "Governance ·" not in table._repr_html_()
