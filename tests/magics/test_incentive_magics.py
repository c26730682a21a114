"""``%fedstake`` and ``%feddispute`` driven as a notebook would: the coordinator sets stake
rules, parties stake, a round is disputed and upheld by the validator; refusals are one line."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError
from magics_helpers import federation, magic, refused, train

PARTIES = ("alice", "bob", "carol")


def _staked_task(ipython, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    magic(ipython, f"fedchain start --dir {tmp_path / 'ledger'}")
    magic(ipython, "fedtask create model --min-participants 3 --rounds 1")
    for name in PARTIES:
        magic(ipython, f"fedjoin 1 --as {name} --data X_{name},y_{name}")
    magic(ipython, "fedjoin 1 --as validator-1 --validator --data X_test,y_test")
    magic(ipython, "fedstake rules 1 --required 2 --role 5 --slash 0.5 --bond 1 --window 40")
    assert "task 1's stake rules are set; next: %fedstake 1 --as NAME" in capsys.readouterr().out
    fed = federation(ipython)
    treasury = fed.account("deployer")
    for name in (*PARTIES, "aggregator"):
        fed.registry.transfer_tokens(treasury, fed.account(name).address, 10 * 10**18)
    for name in PARTIES:
        assert magic(ipython, f"fedstake 1 --as {name}") == 2 * 10**18
    assert "carol staked 2 FCR in task 1" in capsys.readouterr().out


def test_stakes_and_an_upheld_dispute_through_the_magics(ipython, tmp_path, capsys):
    _staked_task(ipython, tmp_path, capsys)
    magic(ipython, "fedstake 1 --as aggregator")
    for name in PARTIES:
        train(ipython, 1, name)
        if name == PARTIES[0]:  # opening the round recorded who aggregates it
            fed = federation(ipython)
            assert fed.stakes.round_roles(1, 1)[0] == fed.account("aggregator").address
        magic(ipython, f"fedsubmit 1 --as {name}")
    magic(ipython, "fedaggregate 1")
    magic(ipython, "fedvalidate 1 --as validator-1")
    capsys.readouterr()
    magic(ipython, 'feddispute 1 1 --as bob --evidence "the sum does not match"')
    assert "bob disputed round 1 of task 1" in capsys.readouterr().out
    assert magic(ipython, "feddispute vote 1 1 uphold --as validator-1") == "upheld"
    assert "the dispute of round 1 is upheld" in capsys.readouterr().out
    rows = magic(ipython, "fedstake show 1")
    out = capsys.readouterr().out
    assert "aggregator (aggregator): staked 5 FCR, slashed 2.5 FCR (round 1: dispute upheld)" in out
    assert {row.name for row in rows} == {*PARTIES, "aggregator"}


def test_refusals_are_one_line(ipython, tmp_path, capsys):
    _staked_task(ipython, tmp_path, capsys)
    cases = {
        "fedstake 1": "fedchain: %fedstake needs --as PARTY",
        "fedstake rules 1": "fedchain: %fedstake rules needs --required TOKENS (0: no stake)",
        "fedstake rules 1 --required 2 --min-standing 1.5": "fedchain: --min-standing takes a "
        "fraction from 0 to 1 (of the stake left, or of the median party's standing), not 1.5",
        "feddispute 1 x --as bob": "fedchain: ROUND is a round number such as 1, not `x`",
        "feddispute vote 1 1 maybe --as validator-1": "fedchain: %feddispute vote takes uphold "
        "or dismiss, not `maybe`",
        "fedstake 1 --as alice": "fedchain: alice already staked in task 1",
        "fedstake withdraw 1 --as alice": "fedchain: task 1 has not ended: stakes stay until it "
        "does; see the ledger with %fedledger",
    }
    for line, message in cases.items():
        with pytest.raises(UsageError) as caught:
            magic(ipython, line)
        assert str(caught.value).startswith(message.split("; see")[0]), (line, str(caught.value))
        assert "\n" not in str(caught.value)
    refused(ipython, "fedchain: %fedstake needs --as PARTY", "fedstake 1")


def test_question_mark_prints_the_usage(ipython, capsys):
    ipython.run_line_magic("pinfo", "%fedstake")
    shown = capsys.readouterr().out
    assert "%fedstake rules TASK --required TOKENS" in shown and "--min-standing" in shown
    ipython.run_line_magic("pinfo", "%feddispute")
    assert "%feddispute vote TASK ROUND uphold|dismiss --as VALIDATOR" in capsys.readouterr().out
