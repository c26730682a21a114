"""`make demo` (python -m fedchain_magics.demo): the quickstart notebook executed headless, its
summary read from the notebook's own output, the HTML written; and the Python-API fallback."""

from __future__ import annotations

import json

import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output
from notebook_helpers import PYTHON, REPO, run

from fedchain_magics.demo import DemoError, format_summary, notebook_summary

QUICKSTART_SHARES = {"st-marys": 200, "riverside": 140, "lakeside": 86}


def summary_notebook(*lines: str, tags=("summary",)):
    cell = new_code_cell("print(json.dumps(summary))", metadata={"tags": list(tags)})
    cell.outputs = [new_output("stream", name="stdout", text="".join(f"{x}\n" for x in lines))]
    return new_notebook(cells=[cell])


def test_the_summary_is_the_last_json_line_of_the_tagged_cell():
    notebook = summary_notebook('{"rounds": 1}', "ledger closed", '{"rounds": 2}', "bye")
    assert notebook_summary(notebook) == {"rounds": 2}


@pytest.mark.parametrize(
    ("notebook", "message"),
    [
        (summary_notebook('{"rounds": 1}', tags=()), "no code cell is tagged"),
        (summary_notebook("nothing here"), "printed no JSON object"),
        (summary_notebook("{not json"), "not valid JSON"),
    ],
)
def test_a_missing_or_broken_summary_says_what_to_do(notebook, message):
    with pytest.raises(DemoError, match=message):
        notebook_summary(notebook)


def test_the_printed_summary_has_rounds_baseline_ledger_and_balances():
    text = format_summary(
        {
            "task": 1,
            "parties": 3,
            "rounds": 2,
            "scheme": "bfv",
            "accuracy_per_round": [0.9, 0.95],
            "final_accuracy": 0.95,
            "centralized_accuracy": 0.96,
            "ledger": {"network": "in-process", "block": 40, "commitments": 6,
                       "gas_used": 341_000, "ciphertext_bytes": 787_902,
                       "aggregates_verified": 2},
            "token": "FCR",
            "balances": {"a": 100.0, "b": 100.0},
        }
    )  # fmt: skip
    assert "    2              0.9500       0.9600" in text
    assert "6 update commitments (341,000 gas), 787,902 ciphertext bytes" in text
    assert "2 of 2 aggregates verified" in text
    assert "total paid: 200.0000 FCR" in text
    assert text.endswith("federated accuracy 0.9500 vs centralized 0.9600")


@pytest.mark.slow
def test_make_demo_executes_the_quickstart_and_summarizes_its_results(tmp_path):
    completed = run(
        [PYTHON, "-m", "fedchain_magics.demo", "--output-dir", str(tmp_path)],
        cwd=REPO,
        timeout_s=900,
    )
    summary = json.loads((tmp_path / "01-quickstart.summary.json").read_text())

    # The key result: federated within 2 points of the centralized baseline.
    assert abs(summary["final_accuracy"] - summary["centralized_accuracy"]) <= 0.02
    assert summary["rounds"] == 5 and len(summary["accuracy_per_round"]) == 5
    # The validator's on-chain metric of the last round is the final model's accuracy.
    assert summary["accuracy_per_round"][-1] == pytest.approx(summary["final_accuracy"], abs=1e-5)
    ledger = summary["ledger"]
    assert ledger["commitments"] == 15 and ledger["aggregates_verified"] == 5
    assert ledger["gas_used"] > 0 and ledger["ciphertext_bytes"] > 0
    # 100 tokens per accepted round, shared in proportion to the hospitals' samples.
    balances = summary["balances"]
    assert set(balances) == set(QUICKSTART_SHARES)
    assert sum(balances.values()) == pytest.approx(500)
    total = sum(QUICKSTART_SHARES.values())
    for name, samples in QUICKSTART_SHARES.items():
        assert balances[name] == pytest.approx(500 * samples / total, abs=1e-3)

    printed = completed.stdout
    assert "round  federated accuracy  centralized" in printed
    assert "15 update commitments" in printed and "total paid: 500.0000" in printed
    html = (tmp_path / "01-quickstart.html").read_text()
    assert "data:image/png" in html  # the accuracy plot
    assert "st-marys" in html and "Reward balances" in html  # the ledger and balance tables
    assert (tmp_path / "01-quickstart" / "quickstart-ledger").is_dir()  # kept for inspection


@pytest.mark.slow
def test_headless_fallback_runs_the_python_api_round(tmp_path):
    completed = run(
        [PYTHON, "-m", "fedchain_magics.demo", "--headless", "--rounds", "2",
         "--workspace", str(tmp_path / "ledger")],
        cwd=tmp_path,
        timeout_s=300,
    )  # fmt: skip
    printed = completed.stdout
    assert "round 2: accepted" in printed
    assert "6 update commitments" in printed
    assert "2 of 2 aggregates verified" in printed
    assert "total paid: 200.0000 FCR" in printed
