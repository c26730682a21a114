"""``%fedtask create --admission invited``, ``%fedtask admit`` and ``%fedtask revoke``: the happy
path in magics, and each mistake as one line that changes nothing."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError
from magics_helpers import (
    extension_loaded,
    federation,
    magic,
    notebook_data,
    refused,
    snapshot,
    train,
)


@pytest.fixture(scope="module")
def world(shell, tmp_path_factory):
    """Task 1 admits only alice (at most 60 samples an update, fewer than she holds) and bob."""
    with extension_loaded(shell, notebook_data()):
        ledger = tmp_path_factory.mktemp("magics-admission") / "ledger"
        magic(shell, f"fedchain start --dir {ledger}")
        magic(shell, "fedtask create model --min-participants 1 --admission invited")
        yield shell


def test_admitted_parties_join_within_their_cap(world, capsys):
    carol = federation(world).account("carol").address
    refused(
        world,
        f"fedchain: carol is not admitted to task 1: its coordinator admits parties by address; "
        f"send the address {carol} to task 1's coordinator, who runs %fedtask admit 1 {carol}",
        "fedjoin 1 --as carol --data X_carol,y_carol",
    )
    capsys.readouterr()

    magic(world, "fedtask admit 1 alice,bob --cap 60")

    printed = capsys.readouterr().out
    assert "admitted to task 1: alice, bob, at most 60 samples an update" in printed
    magic(world, "fedjoin 1 --as alice --data X_alice,y_alice")
    train(world, 1, "alice")
    samples = len(world.user_ns["y_alice"])
    assert samples > 60
    refused(
        world,
        f"fedchain: alice was admitted to task 1 for at most 60 samples an update, not "
        f"{samples}; train on at most 60 samples, or ask the task's coordinator to admit it "
        "again with a higher cap",
        "fedsubmit 1 --as alice",
    )
    magic(world, "fedtask admit 1 alice")
    magic(world, "fedsubmit 1 --as alice")


def test_a_revoked_party_cannot_join(world):
    magic(world, "fedtask revoke 1 bob")
    bob = federation(world).account("bob").address
    refused(
        world,
        f"fedchain: bob is not admitted to task 1: its coordinator admits parties by address; "
        f"send the address {bob} to task 1's coordinator, who runs %fedtask admit 1 {bob}",
        "fedjoin 1 --as bob --data X_bob,y_bob",
    )


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("fedtask admit 1", "fedchain: %fedtask admit needs ACCOUNTS; see %fedtask?"),
        ("fedtask admit 1 alice --cap 0", "fedchain: --cap takes a number of samples"),
        ("fedtask admit 1 0x12", "fedchain: `0x12` is not an account address"),
        ("fedtask revoke 1 dave", "fedchain: this workspace holds no account 'dave'"),
        ("fedtask revoke 1 carol", "fedchain: carol is not admitted to task 1"),
        ("fedtask list --cap 5", "fedchain: %fedtask list does not take --cap; see %fedtask?"),
        ("fedtask create model --admission closed", "argument --admission: invalid choice"),
    ],
)
def test_admission_mistakes_are_one_line_and_change_nothing(world, line, message):
    before = snapshot(world)
    with pytest.raises(UsageError) as caught:
        magic(world, line)
    assert message in str(caught.value) and "\n" not in str(caught.value)
    assert snapshot(world) == before
