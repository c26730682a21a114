"""``%load_ext`` / ``%unload_ext`` and the config-file route; importing without IPython."""

from __future__ import annotations

import os
import subprocess
import sys
from types import SimpleNamespace

import comm
import pytest
from comm.base_comm import CommManager
from IPython.core.error import UsageError
from magics_helpers import extension_loaded, federation, magic

from fedchain_magics import Federation
from fedchain_magics.magics import FAMILIES, loaded_state
from fedchain_magics.sidebar import COMM_TARGET

LINE_MAGICS = {
    "fedchain",
    "fedkeys",
    "fedtask",
    "fedjoin",
    "fedsubmit",
    "fedaggregate",
    "fedvalidate",
    "fedrewards",
    "fedledger",
    "fedsim",
    "fedmodel",
    "fedstake",
    "feddispute",
    "fedgov",
}


def fedchain_magics(shell):
    magics = shell.magics_manager.magics
    line = {name for name in magics["line"] if name.startswith("fed")}
    cell = {name for name in magics["cell"] if name.startswith("fed")}
    return line, cell


def test_load_registers_every_magic_and_unload_removes_them(shell, data):
    with extension_loaded(shell, data):
        assert fedchain_magics(shell) == (LINE_MAGICS, {"fedtrain"})
    assert fedchain_magics(shell) == (set(), set())
    assert not any(family.__name__ in shell.magics_manager.registry for family in FAMILIES)


def test_unload_closes_the_views_the_subscriptions_and_the_ledger(shell, data, tmp_path):
    hooks_before = list(shell.events.callbacks["post_run_cell"])
    with extension_loaded(shell, data):
        magic(shell, f"fedchain start --dir {tmp_path / 'ledger'}")
        magic(shell, "fedtask create model --min-participants 1")
        magic(shell, "fedledger 1")
        fed = federation(shell)
        state = loaded_state(shell)
        views = list(state.views)
        head = fed.ledger.block_number(), fed.ledger.head_hash()
        assert views and fed.events._subscribers
    assert all(view._closed for view in views)
    assert fed.events._subscribers == []
    assert shell.events.callbacks["post_run_cell"] == hooks_before
    assert state.session.federation is None
    assert fed.ledger._backend.database._journal.closed
    with Federation.open(tmp_path / "ledger") as reopened:
        assert (reopened.ledger.block_number(), reopened.ledger.head_hash()) == head


def test_stopping_the_chain_closes_the_views(ipython, tmp_path, capsys):
    magic(ipython, f"fedchain start --dir {tmp_path / 'ledger'}")
    magic(ipython, "fedledger")
    state = loaded_state(ipython)
    views = list(state.views)
    magic(ipython, "fedchain stop")
    assert "ledger closed; it stays in" in capsys.readouterr().out
    assert all(view._closed for view in views) and state.views == []
    magic(ipython, "fedchain status")
    assert "no chain is running; start one with %fedchain start" in capsys.readouterr().out


def test_no_chain_running(ipython):
    for line in ("fedtask list", "fedjoin 1 --as alice --data X_alice,y_alice", "fedledger"):
        with pytest.raises(UsageError) as caught:
            magic(ipython, line)
        assert str(caught.value) == "fedchain: no chain is running; start one with %fedchain start"


def test_the_sidebar_comm_target_lives_as_long_as_the_extension(shell, data, monkeypatch):
    manager = CommManager()
    monkeypatch.setattr(comm, "get_comm_manager", lambda: manager)
    monkeypatch.setattr(shell, "kernel", SimpleNamespace(comm_manager=manager), raising=False)
    with extension_loaded(shell, data):
        assert COMM_TARGET in manager.targets
    assert COMM_TARGET not in manager.targets


def test_the_extension_loads_from_ipython_config(tmp_path):
    script = "print(sorted(m for m in get_ipython().magics_manager.magics['line'] if m[:3]=='fed'))"
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "IPython",
            "--InteractiveShellApp.extensions=['fedchain_magics']",
            "--HistoryManager.hist_file=:memory:",
            "--no-banner",
            "-c",
            script,
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "IPYTHONDIR": str(tmp_path / "ipython")},
        timeout=120,
        check=True,
    )
    assert completed.stdout.strip().splitlines()[-1] == str(sorted(LINE_MAGICS))


def test_importing_the_package_does_not_import_ipython():
    script = (
        "import sys, fedchain_magics, fedchain_magics.engine.session; "
        "print('IPython' in sys.modules)"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    assert completed.stdout.strip() == "False"
