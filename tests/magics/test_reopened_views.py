"""One read model: after a round, a new process reopening the workspace sees, in %fedledger,
%fedtask show, %fedrewards and the sidebar's state, the same verification, the same acceptance
and the same token amounts to the last displayed digit."""

from __future__ import annotations

import json
import subprocess
import sys

from magics_helpers import magic, train

from fedchain_magics.engine import format_token_amount

PARTIES = ("alice", "bob", "carol")

READ_IN_A_NEW_PROCESS = r"""
import io, json, sys, contextlib
from IPython.core.interactiveshell import InteractiveShell
from fedchain_magics.engine.ledger_view import read_snapshot
from fedchain_magics.magics import loaded_state
from fedchain_magics.sidebar.bridge import LedgerBridge

shell = InteractiveShell.instance()
shell.run_line_magic("load_ext", "fedchain_magics")
with contextlib.redirect_stdout(io.StringIO()):
    shell.run_line_magic("fedchain", "start --dir " + sys.argv[1])
    shown = shell.run_line_magic("fedtask", "show 1")
    shell.run_line_magic("fedledger", "1")
    balances = shell.run_line_magic("fedrewards", "")
state = loaded_state(shell)
live = state.views[-1].table()
sidebar = LedgerBridge(state.session, validate=True).state()
print(json.dumps({
    "show": {"rounds": shown.rounds, "rows": shown.rows, "html": shown._repr_html_()},
    "ledger": {"rounds": live.rounds, "rows": live.rows, "html": live._repr_html_()},
    "balances": balances.rows,
    "sidebar": sidebar,
}, default=str))
"""


def test_every_view_of_a_reopened_workspace_agrees(ipython, tmp_path, capsys):
    workspace = tmp_path / "ledger"
    magic(ipython, f"fedchain start --dir {workspace}")
    magic(ipython, "fedtask create model --min-participants 3 --reward 200")
    for name in PARTIES:
        magic(ipython, f"fedjoin 1 --as {name} --data X_{name},y_{name}")
    magic(ipython, "fedjoin 1 --as validator-1 --validator --data X_test,y_test")
    for name in PARTIES:
        train(ipython, 1, name)
        magic(ipython, f"fedsubmit 1 --as {name}")
    magic(ipython, "fedaggregate 1")
    magic(ipython, "fedvalidate 1 --as validator-1")
    magic(ipython, "fedrewards --claim-all")
    magic(ipython, "fedchain stop")
    capsys.readouterr()

    read = subprocess.run(
        [sys.executable, "-c", READ_IN_A_NEW_PROCESS, str(workspace)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    views = json.loads(read.stdout.strip().splitlines()[-1])

    [shown_round] = views["show"]["rounds"]
    [ledger_round] = views["ledger"]["rounds"]
    [sidebar_round] = views["sidebar"]["tasks"][0]["rounds"]
    # the same verification and acceptance everywhere, surviving the reopen
    assert shown_round["aggregate_verified"] is True
    assert ledger_round["aggregate_verified"] is True
    assert sidebar_round["aggregate_verified"] is True
    assert shown_round["phase"] == ledger_round["phase"] == sidebar_round["phase"] == "accepted"
    assert (
        "aggregate verified" in views["show"]["html"]
        and "aggregate verified" in (views["ledger"]["html"])
    )

    # the same token amounts, to the last displayed digit (200 / 3 rounds half up: 66.6667)
    sidebar_rewards = {
        c["name"]: format_token_amount(int(c["reward"])) for c in sidebar_round["contributions"]
    }
    assert set(sidebar_rewards.values()) == {"66.6667"}
    for view in ("show", "ledger"):
        texts = {row["participant"]: row["reward_text"] for row in views[view]["rows"]}
        assert texts == sidebar_rewards
        for text in texts.values():
            assert f">{text}<" in views[view]["html"]
    sidebar_balances = {
        row["name"]: format_token_amount(int(row["balance"]))
        for row in views["sidebar"]["balances"]
    }
    balances = {row["name"]: row["balance_text"] for row in views["balances"]}
    assert balances == sidebar_balances
    assert {balances[name] for name in PARTIES} == {"66.6667"}
