"""``%fedtask create --privacy masked``: pairwise masks through magics alone."""

from __future__ import annotations

from magics_helpers import extension_loaded, federation, magic, notebook_data, refused, train


def test_a_masked_round_in_magics(shell, tmp_path, capsys):
    """--privacy masked: updates wait for every party's masking key, then the round runs as
    usual; %fedaggregate reveals this kernel's parties' masks before the key holder decrypts."""
    with extension_loaded(shell, notebook_data()):
        magic(shell, f"fedchain start --dir {tmp_path / 'masked'}")
        magic(shell, "fedtask create model --min-participants 2 --privacy masked")
        magic(shell, "fedjoin 1 --as alice --data X_alice,y_alice")
        magic(shell, "fedjoin 1 --as bob --data X_bob,y_bob")
        magic(shell, "fedjoin 1 --as validator-1 --validator --data X_test,y_test")
        train(shell, 1, "alice")
        refused(
            shell,
            "fedchain: round 1 of task 1 still takes masking keys (1 of 2 parties advertised; "
            f"each advertises when it starts training, and keys close at block "
            f"{federation(shell).registry.masked_round(1, 1).advertisement_deadline_block}): "
            "every party masks against the same peers, so updates wait for the rest; run "
            "%%fedtrain 1 --as NAME for the other parties first: each advertises its masking "
            "key then",
            "fedsubmit 1 --as alice",
        )
        train(shell, 1, "bob")
        magic(shell, "fedsubmit 1 --as alice")
        magic(shell, "fedsubmit 1 --as bob")
        capsys.readouterr()
        magic(shell, "fedaggregate 1")
        vote = magic(shell, "fedvalidate 1 --as validator-1")
        assert vote.accept and vote.aggregate_verified
