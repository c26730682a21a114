"""A valued task through the magics: ``%fedtask create --valuation shapley --k 3``, one round of
three parties (one group), the coordinator's notebook posts the score table when its validator's
vote accepts the round, ``%fedrewards`` pays by it, and settling again is one refused line."""

from __future__ import annotations

from magics_helpers import extension_loaded, federation, magic, notebook_data, refused, train


def test_a_valued_round_pays_by_its_posted_score_table(shell, tmp_path, capsys):
    with extension_loaded(shell, notebook_data()):
        magic(shell, f"fedchain start --dir {tmp_path / 'ledger'}")
        magic(shell, "fedtask create model --min-participants 3 --valuation shapley --k 3")
        for name in ("alice", "bob", "carol"):
            magic(shell, f"fedjoin 1 --as {name} --data X_{name},y_{name}")
        magic(shell, "fedjoin 1 --as validator-1 --data X_test,y_test --validator")
        for name in ("alice", "bob", "carol"):
            train(shell, 1, name)
            magic(shell, f"fedsubmit 1 --as {name}")
        magic(shell, "fedaggregate 1")
        magic(shell, "fedvalidate 1 --as validator-1")
        fed = federation(shell)
        assert fed.scores.scores_posted(1, 1)  # posted by the coordinator's notebook at once
        assert [len(group) for _, _, group in fed.decryptions] == [3]
        capsys.readouterr()
        magic(shell, "fedtask list")
        assert "[valued by shapley]" in capsys.readouterr().out
        refused(
            shell,
            "fedchain: round 1 of task 1 already has its score table; see the ledger with "
            "%fedledger 1",
            "fedtask settle 1 1",
        )
        magic(shell, "fedrewards 1")
        printed = capsys.readouterr().out
        for name in ("alice", "bob", "carol"):
            assert name in printed


def test_a_valued_masked_round_in_magics(shell, tmp_path):
    """--valuation with --privacy masked: each party masks with its group mates, so the key
    holder's kernel decrypts the one group's sum exactly and the round pays by its table."""
    with extension_loaded(shell, notebook_data()):
        magic(shell, f"fedchain start --dir {tmp_path / 'ledger'}")
        magic(
            shell,
            "fedtask create model --min-participants 3 --valuation shapley --k 3 --privacy masked",
        )
        for name in ("alice", "bob", "carol"):
            magic(shell, f"fedjoin 1 --as {name} --data X_{name},y_{name}")
        magic(shell, "fedjoin 1 --as validator-1 --data X_test,y_test --validator")
        for name in ("alice", "bob", "carol"):
            train(shell, 1, name)
        for name in ("alice", "bob", "carol"):
            magic(shell, f"fedsubmit 1 --as {name}")
        magic(shell, "fedaggregate 1")
        vote = magic(shell, "fedvalidate 1 --as validator-1")
        assert vote.accept and vote.within_bound
        fed = federation(shell)
        assert fed.registry.task(1).params.masked
        assert [len(group) for _, _, group in fed.decryptions] == [3]
        assert fed.scores.scores_posted(1, 1)
