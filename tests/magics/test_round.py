"""A whole encrypted round driven by magics alone, as a notebook would run it."""

from __future__ import annotations

import numpy as np
from magics_helpers import federation, magic, refused, train

from fedchain_magics.chain import RoundPhase
from fedchain_magics.engine import TOKEN_UNIT
from fedchain_magics.magics import loaded_state

PARTIES = ("alice", "bob", "carol")


def test_a_full_round_of_three_parties(ipython, tmp_path, capsys):
    magic(ipython, f"fedchain start --dir {tmp_path / 'ledger'}")
    assert "next: %fedtask create MODEL_VAR" in capsys.readouterr().out

    magic(ipython, "fedtask create model --name cancer --min-participants 3 --rounds 2")
    out = capsys.readouterr().out
    assert "task 1 'cancer' created for LogisticRegression: 2 rounds, bfv encryption" in out
    assert "200 FCR escrowed for its rewards; next: %fedjoin 1 --as NAME" in out

    for name in PARTIES:
        magic(ipython, f"fedjoin 1 --as {name} --data X_{name},y_{name}")
        assert f"{name} joined task 1 in block" in capsys.readouterr().out
    magic(ipython, "fedjoin 1 --as validator-1 --validator --data X_test,y_test")
    assert "validator-1 validates task 1 on 143 samples" in capsys.readouterr().out

    for name in PARTIES:
        train(ipython, 1, name)
        samples = len(ipython.user_ns[f"y_{name}"])
        assert (
            f"captured {name}'s update for round 1 of task 1: {samples} samples, 31 parameters"
            in capsys.readouterr().out
        )
        magic(ipython, f"fedsubmit 1 --as {name}")
        out = capsys.readouterr().out
        assert f"{name} committed an encrypted update to round 1 of task 1" in out
        for label in ("digest      0x", "ciphertext  ", "gas         ", "block       "):
            assert label in out
    assert "every participant has submitted; next: %fedaggregate 1" in out

    magic(ipython, "fedaggregate 1")
    out = capsys.readouterr().out
    assert "aggregator summed 3 encrypted updates of round 1" in out
    assert "key holder verified the sum, decrypted it and committed the new model" in out

    magic(ipython, "fedvalidate 1 --as validator-1")
    out = capsys.readouterr().out
    assert "validator-1 accepts round 1 of task 1" in out and "the aggregate verified" in out
    assert "round 1 accepted; next: %fedrewards 1 --claim-all" in out

    fed = federation(ipython)
    assert fed.registry.round(1, 1).phase == RoundPhase.ACCEPTED

    magic(ipython, "fedrewards")
    assert (
        "unclaimed: alice 33.3333 FCR, bob 33.3333 FCR, carol 33.3333 FCR; "
        "claim with %fedrewards --claim-all" in capsys.readouterr().out
    )
    table = magic(ipython, "fedrewards 1 --claim-all")
    out = capsys.readouterr().out
    assert all(f"{name} claimed 33.3333 FCR" in out for name in PARTIES)
    balances = {row.name: row.balance for row in fed.balances()}
    assert 100 * TOKEN_UNIT - 3 <= sum(balances[name] for name in PARTIES) <= 100 * TOKEN_UNIT
    frame = table.to_dataframe()
    assert set(PARTIES) <= set(frame["name"])
    assert "alice" in table._repr_html_()

    ledger = magic(ipython, "fedtask show 1")
    assert "task 1 'cancer': round 1 of 2 (accepted)" in capsys.readouterr().out
    assert sorted(ledger.to_dataframe()["participant"]) == sorted(PARTIES)


def test_the_next_round_trains_a_fresh_copy_of_the_new_global_model(ipython, tmp_path, capsys):
    magic(ipython, f"fedchain start --dir {tmp_path / 'ledger'}")
    magic(ipython, "fedtask create model --min-participants 1")
    magic(ipython, "fedjoin 1 --as alice --data X_alice,y_alice")
    magic(ipython, "fedjoin 1 --as validator-1 --validator --data X_test,y_test")
    train(ipython, 1, "alice")
    trained_in_round_1 = ipython.user_ns["global_model"]
    magic(ipython, "fedsubmit 1 --as alice")
    magic(ipython, "fedaggregate 1")
    magic(ipython, "fedvalidate 1 --as validator-1")
    magic(ipython, "fedrewards --claim --as alice")
    assert "alice claimed 100 FCR" in capsys.readouterr().out
    magic(ipython, "fedtask next 1")
    assert "round 2 of task 1 is open" in capsys.readouterr().out

    train(ipython, 1, "alice", body="seen = global_model.coef_.copy()")
    task = federation(ipython).task(1)
    assert np.allclose(ipython.user_ns["seen"].ravel(), task.global_parameters()[:30])
    assert ipython.user_ns["global_model"] is not trained_in_round_1
    assert "captured alice's update for round 2 of task 1" in capsys.readouterr().out
    state = loaded_state(ipython)
    assert state is not None and (1, "alice") in state.session.updates


def test_train_binds_the_model_to_the_variable_named_by_model(ipython, tmp_path, capsys):
    magic(ipython, f"fedchain start --dir {tmp_path / 'ledger'}")
    magic(ipython, "fedtask create model --min-participants 1")
    magic(ipython, "fedjoin 1 --as alice --data X_alice,y_alice")
    train(ipython, 1, "alice", variable="clf")
    assert "captured alice's update for round 1 of task 1" in capsys.readouterr().out
    assert "global_model" not in ipython.user_ns
    ipython.user_ns.pop("clf")


def test_aggregating_before_every_party_submitted_changes_nothing(ipython, tmp_path):
    magic(ipython, f"fedchain start --dir {tmp_path / 'ledger'}")
    magic(ipython, "fedtask create model --min-participants 2")
    for name in PARTIES:
        magic(ipython, f"fedjoin 1 --as {name} --data X_{name},y_{name}")
    for name in ("alice", "bob"):
        train(ipython, 1, name)
        magic(ipython, f"fedsubmit 1 --as {name}")
    deadline = federation(ipython).registry.round(1, 1).submission_deadline_block
    refused(  # the sum is computed and refused on-chain: its blob must not stay behind
        ipython,
        f"fedchain: round 1 of task 1 takes updates until block {deadline} and not every "
        "participant has submitted; submit the rest with %fedsubmit 1 --as NAME",
        "fedaggregate 1",
    )


def test_showing_the_ledger_again_replaces_the_previous_live_view(ipython, tmp_path):
    magic(ipython, f"fedchain start --dir {tmp_path / 'ledger'}")
    magic(ipython, "fedledger")
    state = loaded_state(ipython)
    (first,) = state.views
    magic(ipython, "fedledger")
    (second,) = state.views
    assert second is not first and first._closed and not second._closed
