"""A whole round run with the magics in a real notebook, followed by the sidebar."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from conftest import LabPage

SIDEBAR = "#fedchain-ledger"
LEDGER_DIR = "round-ledger"

DATA = """
import warnings
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from fedchain_magics.data import load_dataset, split_iid, standardize, train_test_split_stratified
from fedchain_magics.models import initialize

warnings.simplefilter("ignore", ConvergenceWarning)
X, y = load_dataset("breast_cancer")
X_train, X_test, y_train, y_test = train_test_split_stratified(X, y, 0.25, seed=0)
X_train, X_test = standardize(X_train, X_test)
(X_a, y_a), (X_b, y_b), (X_c, y_c) = [(s.X, s.y) for s in split_iid(X_train, y_train, 3, seed=0)]
model = initialize(LogisticRegression(max_iter=5), X_train[:20], y_train[:20], classes=[0, 1])
"""

PARTIES = {"alice": "X_a,y_a", "bob": "X_b,y_b", "carol": "X_c,y_c"}

# What the ledger holds, read in the kernel: every balance, and round 1 of task 1.
LEDGER_AS_JSON = """
import json
from fedchain_magics.engine.ledger_view import task_history
from fedchain_magics.magics import loaded_state

_federation = loaded_state(get_ipython()).session.federation
_round = task_history(_federation.task(1))[0]
print(json.dumps({
    "balances": {row.address.lower(): str(row.balance) for row in _federation.balances()},
    "phase": _round.phase.label,
    "commit_count": _round.commit_count,
    "total_samples": _round.total_samples,
    "block_number": _federation.ledger.block_number(),
}))
"""


def _printed_json(outputs: list[dict[str, Any]]) -> dict[str, Any]:
    text = "".join(
        output.get("text", "") for output in outputs if output.get("output_type") == "stream"
    )
    return json.loads(text.strip().splitlines()[-1])


def _balances(state: dict[str, Any]) -> dict[str, str]:
    return {row["account"].lower(): row["balance"] for row in state["balances"]}


def _start_ledger(lab: LabPage, screenshot: str | None = None) -> None:
    """Load the extension and start the ledger, checking what the sidebar says on the way."""
    lab.run_cell("%load_ext fedchain_magics")
    lab.wait_for_sidebar_status("connected")
    state = lab.sidebar_state()
    assert state["command"] == "%fedchain start", state["text"]
    assert "No ledger is open" in state["text"] and state["rounds"] == []
    if screenshot:
        lab.screenshot_sidebar(screenshot)
    lab.run_cell(f"%fedchain start --dir {LEDGER_DIR}")
    lab.page.wait_for_selector(f"{SIDEBAR} .fc-block-number")


def test_a_round_run_with_the_magics_shows_in_the_sidebar(lab: LabPage) -> None:
    lab.open_sidebar()
    lab.new_notebook("round.ipynb")
    lab.wait_for_sidebar_status("not-loaded")
    _start_ledger(lab, screenshot="sidebar-no-ledger-light.png")

    lab.run_cell(DATA)
    lab.run_cell("%fedtask create model --name breast-cancer --rounds 2 --min-participants 3")
    for name, data in PARTIES.items():
        lab.run_cell(f"%fedjoin 1 --as {name} --data {data}")
    lab.run_cell("%fedjoin 1 --as validator-1 --validator --data X_test,y_test")
    for index, name in enumerate(PARTIES):
        lab.run_cell(f"%%fedtrain 1 --as {name}\nglobal_model.fit(X_{name[0]}, y_{name[0]})")
        if index == 0:  # the first party's training opened round 1
            lab.page.wait_for_selector(f'{SIDEBAR} .fc-round[data-phase="collecting"]')
    for name in PARTIES:
        lab.run_cell(f"%fedsubmit 1 --as {name}")
    lab.page.wait_for_selector(f'{SIDEBAR} .fc-round[data-commit-count="3"]')
    lab.run_cell("%fedaggregate 1")
    lab.run_cell("%fedvalidate 1 --as validator-1")
    lab.run_cell("%fedrewards --claim-all")
    ledger = _printed_json(lab.run_cell(LEDGER_AS_JSON))

    lab.page.wait_for_selector(
        f'{SIDEBAR} .fc-block-number[data-block-number="{ledger["block_number"]}"]'
    )
    state = lab.sidebar_state()
    assert state["status"] == "connected" and not state["stale"]
    [round_] = state["rounds"]
    assert ledger["phase"] == "accepted"
    assert round_ == {
        "task_id": 1,
        "round": 1,
        "phase": "accepted",
        "commit_count": 3,
        "total_samples": ledger["total_samples"],
        "accept_votes": 1,
        "reject_votes": 0,
        "verified": "true",
    }
    assert sorted(c["samples"] for c in state["contributions"]) == sorted(_party_samples(lab))
    assert _balances(state) == ledger["balances"]
    paid = [int(balance) for balance in ledger["balances"].values() if int(balance) > 0]
    assert len(paid) == 3
    assert state["events"][0]["kind"] == "reward_claimed"
    assert state["events"][0]["block_number"] == ledger["block_number"]

    lab.resize_sidebar(340, window_height_px=1400)  # room for every section in the pictures
    light = lab.screenshot_sidebar("sidebar-round-light.png")
    lab.set_theme("JupyterLab Dark")
    dark = lab.screenshot_sidebar("sidebar-round-dark.png")
    lab.set_theme("JupyterLab Light")
    assert light.stat().st_size > 0 and dark.stat().st_size > 0

    # A restart loses the comm target and the session; the ledger stays in its directory.
    lab.restart_kernel()
    lab.wait_for_sidebar_status("not-loaded")
    assert lab.sidebar_state()["command"] == "%load_ext fedchain_magics"
    _start_ledger(lab)
    lab.page.wait_for_selector(f'{SIDEBAR} .fc-round[data-phase="accepted"]')
    restored = lab.sidebar_state()
    assert restored["status"] == "connected"
    assert restored["rounds"][0] == {**round_, "verified": restored["rounds"][0]["verified"]}
    assert _balances(restored) == ledger["balances"]
    assert lab.page_errors == []
    assert [error for error in lab.console_errors if "fedchain" in error.lower()] == []


def _party_samples(lab: LabPage) -> list[int]:
    outputs = lab.run_cell("print(json.dumps([len(y_a), len(y_b), len(y_c)]))")
    return list(_printed_json(outputs))
