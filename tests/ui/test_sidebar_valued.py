"""A valued, masked task run with the magics in a real notebook: the sidebar explains each
payout (group, score, standing, why), lists the stakes (one slashed, with its reason) and the
governance proposal (its state, what it changes and from which round), legibly at 250 and
400 px in the light and dark themes."""

from __future__ import annotations

import json
from collections import Counter
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from conftest import LabPage

SIDEBAR = "#fedchain-ledger"
PARTIES = [f"p{index}" for index in range(1, 7)]
SILENT = "p7"  # advertises its masking key for round 1, then never submits

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
for _index, _shard in enumerate(split_iid(X_train, y_train, 7, seed=0), start=1):
    globals()[f"X_{_index}"], globals()[f"y_{_index}"] = _shard.X, _shard.y
model = initialize(LogisticRegression(max_iter=5), X_train[:20], y_train[:20], classes=[0, 1])
"""

# The treasury sends each party what it stakes (no magic moves tokens: a notebook does it so).
FUND = """
from fedchain_magics.magics import loaded_state
_session = loaded_state(get_ipython()).session
_federation = _session.federation
for _name in {parties!r}:
    _federation.registry.transfer_tokens(
        _federation.account("deployer"), _federation.account(_name).address, 10 * 10**18
    )
"""

# The round's submission window passes (the in-process chain mines its blocks), so the round
# is aggregated without the silent party.
LET_THE_WINDOW_PASS = "_federation.ledger.mine_blocks(60)"

# The coordinator's notebook slashes the party that advertised a masking key and committed
# nothing (a standing is slashable only after three informative rounds: this one-round task
# has no low standing to slash).
SLASH_SILENT = """
import json
_session.slash(1, 1, "missed round", {silent!r}, by="coordinator")
print(json.dumps(_federation.account({silent!r}).address))
"""

READ_MODEL = """
import json
from fedchain_magics.engine.ledger_view import read_snapshot
_task = read_snapshot(_federation, [1]).tasks[0]
print(json.dumps({
    "payouts": {r.participant: {"why": r.payout.why, "group": r.payout.group,
                                "standing": r.payout.standing}
                for r in _task.rounds[0].contributions},
    "slashed": {p.party: str(p.slashed) for p in _task.stakes.parties},
    "block_number": _federation.ledger.block_number(),
}))
"""


def _printed_json(outputs: list[dict[str, Any]]) -> Any:
    text = "".join(
        output.get("text", "") for output in outputs if output.get("output_type") == "stream"
    )
    return json.loads(text.strip().splitlines()[-1])


def _nothing_clipped(lab: LabPage) -> list[str]:
    """Every payout, stake and proposal row fits the sidebar: nothing wider than the view."""
    return lab.page.evaluate(
        """(selector) => {
          const view = document.querySelector(selector + ' .fc-view');
          const right = view.getBoundingClientRect().right;
          const problems = [];
          if (view.scrollWidth > view.clientWidth + 1) {
            problems.push(`view scrolls sideways: ${view.scrollWidth} > ${view.clientWidth}`);
          }
          const rows = view.querySelectorAll(
            '.fc-payout-summary > span, .fc-stakes-table td, .fc-proposal > *');
          for (const element of rows) {
            const box = element.getBoundingClientRect();
            if (box.width > 0 && box.right > right + 1) {
              problems.push(`${element.className}: ${box.right} > ${right}`);
            }
          }
          return problems;
        }""",
        SIDEBAR,
    )


def test_a_valued_round_explains_each_payout_stake_and_proposal(lab: LabPage) -> None:
    lab.open_sidebar()
    lab.new_notebook("valued.ipynb")
    lab.wait_for_sidebar_status("not-loaded")
    lab.run_cell("%load_ext fedchain_magics")
    lab.wait_for_sidebar_status("connected")
    lab.run_cell("%fedchain start --dir valued-ledger")
    lab.run_cell(DATA)
    lab.run_cell(
        "%fedtask create model --name valued --rounds 2 --min-participants 6 "
        "--valuation shapley --k 3 --privacy masked --submission-window 60"
    )
    lab.run_cell(
        "\n".join(
            f"%fedjoin 1 --as {name} --data X_{name[1]},y_{name[1]}" for name in [*PARTIES, SILENT]
        )
        + "\n%fedjoin 1 --as validator-1 --validator --data X_test,y_test"
    )
    lab.run_cell("%fedstake rules 1 --required 2 --slash 0.25 --min-standing 0.5")
    lab.run_cell("%fedgov rules 1")
    lab.run_cell(FUND.format(parties=[*PARTIES, SILENT]))
    lab.run_cell("\n".join(f"%fedstake 1 --as {name}" for name in [*PARTIES, SILENT]))
    for name in [*PARTIES, SILENT]:
        lab.run_cell(f"%%fedtrain 1 --as {name}\nglobal_model.fit(X_{name[1]}, y_{name[1]})")
    lab.run_cell("\n".join(f"%fedsubmit 1 --as {name}" for name in PARTIES))
    lab.run_cell(LET_THE_WINDOW_PASS)
    lab.run_cell("%fedaggregate 1")
    lab.run_cell("%fedvalidate 1 --as validator-1")  # the coordinator posts the score table
    lab.run_cell("%fedrewards --claim-all")  # each party's tokens now vote
    slashed = _printed_json(lab.run_cell(SLASH_SILENT.format(silent=SILENT)))
    lab.run_cell(
        '%fedgov propose 1 "groups of 6 are steadier" --k 6 --as p1\n'
        + "\n".join(f"%fedgov vote 1 for --as {name}" for name in PARTIES[:4])
        + "\n%fedgov queue 1\n%fedgov execute 1"
    )
    facts = _printed_json(lab.run_cell(READ_MODEL))
    try:
        lab.page.wait_for_selector(
            f'{SIDEBAR} .fc-block-number[data-block-number="{facts["block_number"]}"]'
        )
    except Exception as error:  # say what the sidebar shows instead
        state = lab.sidebar_state()
        raise AssertionError(
            f"{state['status']} at block {state['block_number']}: {state['text'][:600]}"
        ) from error

    # Each payout: its group, standing and reward in a row whose title is the kernel's why.
    payouts = lab.page.eval_on_selector_all(
        f"{SIDEBAR} .fc-payout",
        """(rows) => rows.map((row) => ({
          participant: row.dataset.participant,
          group: row.dataset.group,
          score: Number(row.dataset.score),
          standing: Number(row.dataset.standing),
          paid: row.dataset.paid,
          title: row.querySelector('.fc-payout-summary').title,
        }))""",
    )
    assert len(payouts) == 6
    for row in payouts:
        expected = facts["payouts"][row["participant"]]
        assert row["title"] == expected["why"]
        assert row["group"] == expected["group"] and row["standing"] == expected["standing"]
        assert row["score"] > 0 and row["paid"] == "true"
        assert row["title"].startswith(f"group {row['group'][1:]} scored ")
        assert " ≥ 0.75; " in row["title"] and "capped samples" in row["title"]
    # Groups of at least k = 3 (the silent party's group mates joined another group).
    sizes = Counter(row["group"] for row in payouts)
    assert sum(sizes.values()) == 6 and min(sizes.values()) >= 3, sizes

    # A click unfolds a payout: the why and its numbers, legible in the panel.
    first = lab.sidebar.locator(".fc-payout").first
    first.locator(".fc-payout-summary").click()
    why = first.locator(".fc-payout-why")
    why.wait_for(state="visible")
    assert why.inner_text() == payouts[0]["title"]
    assert "scored" in first.locator(".fc-payout-score").inner_text()

    # The stakes: every party staked 2 FCR, the silent one lost a quarter, and says why.
    stakes = lab.page.eval_on_selector_all(
        f"{SIDEBAR} tr.fc-stake",
        "(rows) => rows.map((r) => [r.dataset.participant, r.dataset.staked, r.dataset.slashed])",
    )
    assert len(stakes) == 7
    assert {participant: slashed_units for participant, _, slashed_units in stakes} == facts[
        "slashed"
    ]
    change = lab.sidebar.locator("tr.fc-stake-change").inner_text()
    assert change == "round 1: slashed 0.5 FCR (advertised a masking key, committed nothing)"
    assert lab.sidebar.locator("tr.fc-stake-change").get_attribute("data-participant") == slashed
    assert facts["slashed"][slashed] == str(5 * 10**17)

    # The proposal: executed, what it changed, from which round, its votes against the quorum.
    proposal = lab.sidebar.locator(".fc-proposal")
    assert proposal.get_attribute("data-state") == "executed"
    assert proposal.get_attribute("data-from-round") == "2"
    assert proposal.get_attribute("data-quorum-met") == "true"
    assert proposal.locator(".fc-proposal-changes").inner_text() == "changes k 6 from round 2"
    assert "#1 groups of 6 are steadier" in proposal.inner_text()

    for width in (250, 400):
        lab.resize_sidebar(width, window_height_px=1600)
        for theme, suffix in (("JupyterLab Light", "light"), ("JupyterLab Dark", "dark")):
            lab.set_theme(theme)
            assert _nothing_clipped(lab) == [], (width, theme)
            picture = lab.screenshot_sidebar(f"sidebar-valued-{width}-{suffix}.png")
            assert picture.stat().st_size > 0
    lab.set_theme("JupyterLab Light")
    assert lab.page_errors == []
    assert [error for error in lab.console_errors if "fedchain" in error.lower()] == []
