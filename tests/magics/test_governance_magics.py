"""``%fedgov`` driven as a notebook would: the rules handed to governance, a proposal voted,
queued and executed (the in-process chain mines the waits), and one-line refusals."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError
from magics_helpers import federation, magic, train

PARTIES = ("alice", "bob", "carol")


def _governed_round(ipython, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    magic(ipython, f"fedchain start --dir {tmp_path / 'ledger'}")
    magic(ipython, "fedtask create model --min-participants 3 --rounds 3")
    for name in PARTIES:
        magic(ipython, f"fedjoin 1 --as {name} --data X_{name},y_{name}")
    magic(ipython, "fedjoin 1 --as validator-1 --validator --data X_test,y_test")
    capsys.readouterr()
    magic(ipython, "fedgov rules 1 --k 3 --policy leave-one-out --min-standing 0.5")
    out = capsys.readouterr().out
    assert (
        "task 1's rules are governed from round 1: k 3, valuation leave-one-out, min standing "
        "0.5, max weight 2x the median, slash 0 below standing 0" in out
    )
    for name in PARTIES:
        train(ipython, 1, name)
        magic(ipython, f"fedsubmit 1 --as {name}")
    magic(ipython, "fedaggregate 1")
    magic(ipython, "fedvalidate 1 --as validator-1")
    magic(ipython, "fedrewards 1 --claim-all")  # each party delegates to itself as it claims
    capsys.readouterr()


def test_a_proposal_through_the_magics(ipython, tmp_path, capsys):
    _governed_round(ipython, tmp_path, capsys)
    number = magic(ipython, 'fedgov propose 1 "groups of 4 are steadier" --k 4 --as carol')
    assert number == 1
    out = capsys.readouterr().out
    assert "carol proposed proposal 1 for task 1: groups of 4 are steadier" in out
    assert "next: %fedgov vote 1 for --as NAME, then %fedgov queue 1" in out
    weight = magic(ipython, "fedgov vote 1 for --as alice")
    assert (
        weight > 0 and "alice voted for on proposal 1 with 33.3333 FCR" in capsys.readouterr().out
    )
    magic(ipython, "fedgov vote 1 for --as bob")
    magic(ipython, "fedgov queue 1")
    assert "proposal 1 passed and is queued on the timelock" in capsys.readouterr().out
    assert magic(ipython, "fedgov execute 1") == 2
    assert "proposal 1 executed: its changes apply from round 2" in capsys.readouterr().out
    shown = magic(ipython, "fedgov show 1")
    out = capsys.readouterr().out
    assert "task 1's latest rules: k 4, valuation leave-one-out" in out
    assert (
        "proposal 1 (task 1) executed: groups of 4 are steadier [k 4] (for 66.6667 FCR, "
        "against 0 FCR, abstain 0 FCR, quorum 25 FCR)" in out
    )
    assert [proposal.state.label for proposal in shown] == ["executed"]
    governance = federation(ipython).governance
    assert governance.rules_for(1, 1).group_size == 3
    assert governance.rules_for(1, 2).group_size == 4

    # The validators and the round rules are governed too (the proposal executes between rounds).
    magic(ipython, 'fedgov propose 1 "both" --quorum 2 --add-validator validator-2 --as bob')
    newcomer = federation(ipython).keystore.address_of("validator-2")
    magic(ipython, "fedgov show 1")
    assert (
        f"both [min participants 3, validator quorum 2, add validator {newcomer}]"
        in capsys.readouterr().out
    )


def test_refusals_are_one_line_with_the_next_magic(ipython, tmp_path, capsys):
    _governed_round(ipython, tmp_path, capsys)
    cases = {
        "fedgov queue 7": "fedchain: no proposal 7 on this ledger; see the proposals with "
        "%fedgov show",
        'fedgov propose 1 "nothing" --as carol': "fedchain: %fedgov propose needs a change: --k, "
        "--policy, --min-standing, --max-weight, --slash, --slash-below, --min-participants, "
        "--quorum, --add-validator or --remove-validator",
        'fedgov propose 1 "more" --stake 5 --as carol': "fedchain: the stake is not a governed "
        "rule: stakers paid it when they staked (%fedstake rules, before round 1); governance "
        "changes what an offence costs: --slash and --slash-below",
        "fedgov vote 1 --as alice": "fedchain: %fedgov vote needs for|against|abstain; see "
        "%fedgov?",
        "fedgov rules 1": "fedchain: task 1's rules are under governance already: only a passed "
        'proposal changes them; propose the change with %fedgov propose 1 --k N "why" --as NAME',
        "fedgov vote x for --as alice": "fedchain: PROPOSAL is a proposal number such as 1, not "
        "`x`; see them with %fedgov show",
        "fedgov rules 1 --as alice": "fedchain: %fedgov rules does not take --as; see %fedgov?",
        "fedgov propse 1": "fedchain: %fedgov has no sub-command `propse`; did you mean `propose`?",
    }
    for line, message in cases.items():
        with pytest.raises(UsageError) as caught:
            magic(ipython, line)
        assert str(caught.value) == message, line
    magic(ipython, 'fedgov propose 1 "k 5" --k 5 --as carol')
    magic(ipython, "fedgov vote 1 for --as carol")  # a third of the delegated supply
    magic(ipython, "fedgov vote 1 against --as alice")
    with pytest.raises(UsageError, match=r"proposal 1 is defeated \(") as caught:
        magic(ipython, "fedgov queue 1")
    assert str(caught.value).endswith(
        'propose the change with %fedgov propose 1 --k N "why" --as NAME'
    )


def test_question_mark_prints_the_sub_commands(ipython, capsys):
    ipython.run_line_magic("pinfo", "%fedgov")
    shown = capsys.readouterr().out
    for text in (
        "%fedgov rules TASK [--k 3]",
        "%fedgov vote PROPOSAL for|against|abstain --as NAME",
        "%fedgov show [TASK]",
        "--policy",
    ):
        assert text in shown
