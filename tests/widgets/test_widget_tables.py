"""ledger_table and balance_table against the ledger of one real, finished round."""

from __future__ import annotations

import subprocess
import sys
from types import SimpleNamespace

import pytest
from engine_helpers import logistic_regression
from widget_helpers import PARTIES, SAMPLES, play_round

from fedchain_magics import TOKEN_UNIT, Federation, TaskConfig
from fedchain_magics.engine import UnknownTaskError
from fedchain_magics.engine.verifications import VerificationRecord
from fedchain_magics.widgets import BalanceTable, LedgerTable, balance_table, ledger_table


@pytest.fixture(scope="module")
def finished(tmp_path_factory, split):
    with Federation.open(tmp_path_factory.mktemp("ledger")) as federation:
        task = federation.create_task(
            logistic_regression(split),
            TaskConfig(min_participants=3, reward_per_round=90 * TOKEN_UNIT),
        )
        run = play_round(task, split)
        yield SimpleNamespace(federation=federation, task=task, run=run)


def test_one_row_per_contribution_matching_the_commitments_on_chain(finished):
    table = ledger_table(finished.federation, finished.task.task_id)
    assert isinstance(table, LedgerTable)
    assert len(table) == 3
    assert [row["participant"] for row in table.rows] == list(PARTIES)
    for row, samples in zip(table.rows, SAMPLES, strict=True):
        submission = finished.run.submissions[row["participant"]]
        assert (row["task"], row["round"], row["phase"]) == (1, 1, "accepted")
        assert row["samples"] == samples
        assert row["update_digest"] == "0x" + submission.update_digest.hex()
        assert row["gas"] == submission.transaction.gas_used
        assert row["block"] == submission.transaction.block_number
        assert row["address"] == finished.task.participant(row["participant"]).address
        assert row["claimed"] is True
    (summary,) = table.rounds
    assert summary["commitments"] == summary["min_participants"] == 3
    assert summary["total_samples"] == sum(SAMPLES)
    assert (summary["accept_votes"], summary["reject_votes"], summary["validator_quorum"]) == (
        1,
        0,
        1,
    )
    assert summary["model_digest"] == "0x" + finished.task.round_state(1).model_digest.hex()


def test_rewards_are_proportional_to_samples_and_add_up_to_the_balances(finished):
    table = ledger_table(finished.federation, finished.task.task_id)
    rewards = {row["participant"]: row["reward"] for row in table.rows}
    for name in PARTIES:
        assert rewards[name] == pytest.approx(finished.run.rewards[name] / TOKEN_UNIT)
    assert rewards["clinic-a"] == pytest.approx(3 * rewards["clinic-c"], rel=1e-9)
    assert sum(rewards.values()) == pytest.approx(90.0)
    balances = {row["name"]: row["balance"] for row in balance_table(finished.federation).rows}
    assert sum(balances.values()) == pytest.approx(sum(rewards.values()))
    for name in PARTIES:
        assert balances[name] == pytest.approx(rewards[name])


def test_aggregate_verification_is_the_recorded_fact_or_recomputed_on_request(finished):
    federation, task_id = finished.federation, finished.task.task_id
    # the key holder verified the aggregate when it decrypted it: the table reads that record
    assert {row["aggregate_verified"] for row in ledger_table(federation, task_id).rows} == {True}
    record = federation.verifications
    record.path.unlink()
    federation.verifications = VerificationRecord(federation.workspace)  # never verified here
    try:
        # Another kernel's view: no record here, but the key holder committed a model for the
        # sum on-chain (it decrypts only a sum that matched, and rejects on-chain otherwise).
        assert not record.path.exists()
        assert ledger_table(federation, task_id).rounds[0]["aggregate_verified"] is True
        verified = ledger_table(federation, task_id, verify=True)
        assert verified.rounds[0]["aggregate_verified"] is True
        assert {row["aggregate_verified"] for row in verified.rows} == {True}
        assert record.path.exists()  # recomputing recorded it again
    finally:
        federation.verifications = VerificationRecord(federation.workspace)


def test_ledger_html_is_self_contained_and_shows_the_numbers(finished):
    table = ledger_table(finished.federation, finished.task.task_id, verify=True)
    html = table._repr_html_()
    for row in table.rows:
        assert row["participant"] in html
        assert f"{row['samples']:,}" in html
        assert row["update_digest"][:12] in html
        assert f"{row['gas']:,}" in html
        assert row["reward_text"] in html
    assert "commitments 3/3" in html and "votes 1/1" in html and "accepted" in html
    assert "✓" in html
    assert "<script" not in html and "http" not in html.replace("http://www.w3.org", "")
    assert "var(--jp-border-color2," in html  # theme variables always carry a fallback


def test_dataframes_have_the_promised_columns(finished):
    table = ledger_table(finished.federation, finished.task.task_id)
    frame = table.to_dataframe()
    assert list(frame.columns) == [
        "task", "round", "phase", "participant", "address", "samples", "update_digest",
        "gas", "block", "aggregate_verified", "reward", "claimed",
        "group", "group_score", "standing", "share", "why",
    ]  # fmt: skip
    assert frame["why"].isna().all()  # a task paying by samples explains nothing more
    assert frame["samples"].tolist() == list(SAMPLES)
    assert frame["reward"].sum() == pytest.approx(90.0)
    assert len(table.rounds_dataframe()) == 1
    balances = balance_table(finished.federation).to_dataframe()
    assert list(balances.columns) == ["name", "address", "balance"]


def test_balances_are_sorted_largest_first_with_a_bar_each(finished):
    table = balance_table(finished.federation)
    assert isinstance(table, BalanceTable)
    assert len(table) == len(finished.federation.balances())
    values = [row["balance"] for row in table.rows]
    assert values == sorted(values, reverse=True)
    assert [row["name"] for row in table.rows[:3]] == list(PARTIES)
    html = table._repr_html_()
    assert html.count("width: 100.0%") == 1  # the largest balance fills its bar
    assert "width: 0.0%" in html  # the coordinator earned nothing
    svg = table.chart_svg()
    assert svg.startswith("<svg") and all(name in svg for name in PARTIES)


def test_every_task_when_none_is_named_and_a_clear_error_for_an_unknown_one(finished):
    everything = ledger_table(finished.federation)
    assert everything.rows == ledger_table(finished.federation, finished.task.task_id).rows
    with pytest.raises(UnknownTaskError, match="no task 7"):
        ledger_table(finished.federation, 7)


def test_a_fresh_ledger_renders_empty_tables(tmp_path):
    with Federation.open(tmp_path / "empty") as federation:
        ledger = ledger_table(federation)
        assert len(ledger) == 0 and "no round opened yet" in ledger._repr_html_()
        assert ledger.to_dataframe().empty
        assert len(balance_table(federation)) == 0


def test_importing_the_package_or_the_tables_loads_no_notebook_library():
    code = (
        "import sys, fedchain_magics, fedchain_magics.widgets; "
        "print(sorted(m for m in ('IPython', 'ipywidgets', 'pandas') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"
