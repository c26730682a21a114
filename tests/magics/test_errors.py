"""Every user mistake is one line that says what failed and what to run next, and changes
nothing: the chain's head block and the ledger directory's files stay as they were."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError
from magics_helpers import extension_loaded, federation, magic, notebook_data, refused, train

from fedchain_magics.engine.errors import UnknownTaskError
from fedchain_magics.magics import loaded_state
from fedchain_magics.models.errors import SUPPORTED_MODELS

NOT_JOINED = "dave has not joined task 1 (parties: alice, bob)"
ACCOUNTS = "aggregator, alice, bob, carol, coordinator, key-holder, validator-1"


@pytest.fixture(scope="module")
def world(shell, tmp_path_factory):
    """Task 1: round 1 collecting, alice submitted, bob joined but did not train.
    Task 2: round 1 accepted, carol's reward claimed."""
    with extension_loaded(shell, notebook_data()):
        ledger = tmp_path_factory.mktemp("magics-errors") / "ledger"
        magic(shell, f"fedchain start --dir {ledger}")
        magic(shell, "fedtask create model --min-participants 2")
        magic(shell, "fedjoin 1 --as alice --data X_alice,y_alice")
        magic(shell, "fedjoin 1 --as bob --data X_bob,y_bob")
        magic(shell, "fedjoin 1 --as validator-1 --validator --data X_test,y_test")
        train(shell, 1, "alice")
        magic(shell, "fedsubmit 1 --as alice")
        magic(shell, "fedtask create model --min-participants 1")
        magic(shell, "fedjoin 2 --as carol --data X_carol,y_carol")
        train(shell, 2, "carol")
        magic(shell, "fedsubmit 2 --as carol")
        magic(shell, "fedaggregate 2")
        magic(shell, "fedvalidate 2 --as validator-1 --data X_test,y_test")
        magic(shell, "fedrewards --claim-all")
        yield shell


CASES = {
    "unknown task": (
        "fedsubmit 7 --as alice",
        "fedchain: no task 7; tasks: 1, 2; create one with %fedtask create MODEL_VAR",
    ),
    "unknown task shown": (
        "fedtask show 9",
        "fedchain: no task 9; tasks: 1, 2; create one with %fedtask create MODEL_VAR",
    ),
    "unknown task in the ledger view": (
        "fedledger 9",
        "fedchain: no task 9; tasks: 1, 2; create one with %fedtask create MODEL_VAR",
    ),
    "unknown participant": (
        "fedsubmit 1 --as dave",
        f"fedchain: {NOT_JOINED}; join with %fedjoin 1 --as dave --data X_VAR,y_VAR",
    ),
    "misspelt participant": (
        "fedsubmit 1 --as alcie",
        "fedchain: alcie has not joined task 1 (parties: alice, bob); did you mean `alice`?",
    ),
    "misspelt variable": (
        "fedjoin 1 --as dave --data X_trian,y_train",
        "fedchain: no notebook variable `X_trian`; did you mean `X_train`?",
    ),
    "misspelt model variable": (
        "fedtask create mdel",
        "fedchain: no notebook variable `mdel`; did you mean `model`?",
    ),
    "unknown variable": (
        "fedtask create zzz_nothing",
        "fedchain: no notebook variable `zzz_nothing`; define it in a cell first",
    ),
    "not a model": (
        "fedtask create y_train",
        f"fedchain: `y_train` (ndarray) is not a supported model; supported: {SUPPORTED_MODELS}",
    ),
    "not a model to use": (
        "fedtask use 1 X_test",
        f"fedchain: `X_test` (ndarray) is not a supported model; supported: {SUPPORTED_MODELS}",
    ),
    "not a model to simulate": (
        "fedsim y_test --data X_train,y_train --test X_test,y_test",
        f"fedchain: `y_test` (ndarray) is not a supported model; supported: {SUPPORTED_MODELS}",
    ),
    "an unfitted model": (
        "fedtask create unfitted",
        "fedchain: `unfitted` has no parameters yet (it was never fitted); give its shape: "
        "%fedtask create unfitted --features N --classes A,B,... (every label the federation "
        "uses; --classes only for a classifier)",
    ),
    "classes without features": (
        "fedtask create unfitted --classes 0,1",
        "fedchain: --classes goes with --features N (the number of input features)",
    ),
    "one class": (
        "fedtask create unfitted --features 3 --classes 0",
        "fedchain: --classes takes at least two labels, e.g. 0,1,2, not `0`",
    ),
    "features of a fitted model": (
        "fedtask create model --features 3",
        "fedchain: LogisticRegression is already fitted on 30 features, not 3; start from a "
        "fresh (unfitted) model to change its shape",
    ),
    "a closed round takes no update": (
        "fedsubmit 2 --as carol",
        "fedchain: round 1 of task 2 is accepted: it takes no updates; "
        "open the next round with %fedtask next 2",
    ),
    "a closed round has nothing to aggregate": (
        "fedaggregate 2",
        "fedchain: round 1 of task 2 is accepted: there is nothing to aggregate; "
        "open the next round with %fedtask next 2",
    ),
    "a collecting round takes no vote": (
        "fedvalidate 1 --as validator-1",
        "fedchain: round 1 of task 1 is collecting: it takes no votes; submit updates with "
        "%fedsubmit 1 --as NAME, then run %fedaggregate 1",
    ),
    "too few updates to aggregate": (
        "fedaggregate 1",
        "fedchain: round 1 of task 1 has 1 of the 2 updates it needs; "
        "submit more with %fedsubmit 1 --as NAME",
    ),
    "a sub-command typo": (
        "fedtask craete model",
        "fedchain: %fedtask has no sub-command `craete`; did you mean `create`?",
    ),
    "a chain sub-command typo": (
        "fedchain strat",
        "fedchain: %fedchain has no sub-command `strat`; did you mean `start`?",
    ),
    "no sub-command": (
        "fedtask",
        "fedchain: %fedtask needs a sub-command: create, admit, revoke, invite, wait, list, show, "
        "next, settle or use",
    ),
    "an option of another sub-command": (
        "fedtask list --rounds 3",
        "fedchain: %fedtask list does not take --rounds; see %fedtask?",
    ),
    "a missing task number": ("fedtask show", "fedchain: %fedtask show needs TASK; see %fedtask?"),
    "a task number that is not a number": (
        "fedsubmit one --as alice",
        "fedchain: TASK is a task number such as 1, not `one`; see them with %fedtask list",
    ),
    "a missing --as": (
        "fedsubmit 1",
        "fedchain: %fedsubmit: the following arguments are required: --as; "
        "see %fedsubmit? for its arguments",
    ),
    "nothing trained to submit": (
        "fedsubmit 1 --as bob",
        "fedchain: bob has no trained update for task 1; train one with %%fedtrain 1 --as bob",
    ),
    "not a validator": (
        "fedvalidate 2 --as alice",
        "fedchain: alice is not a validator of task 2 (validators: validator-1); "
        "use --as validator-1",
    ),
    "joining as a validator one is not": (
        "fedjoin 2 --as alice --validator --data X_test,y_test",
        "fedchain: alice is not a validator of task 2 (validators: validator-1); "
        "use --as validator-1",
    ),
    "joining without data": (
        "fedjoin 1 --as dave",
        "fedchain: a participant joins with its training data; add --data X_VAR,y_VAR "
        "(only a --validator may leave it out)",
    ),
    "one data variable": (
        "fedjoin 1 --as dave --data X_train",
        "fedchain: --data takes two variable names, X_VAR,y_VAR (e.g. X_train,y_train), "
        "not `X_train`",
    ),
    "data that do not match": (
        "fedjoin 1 --as dave --data X_train,y_test",
        "fedchain: `X_train` has 426 rows but `y_test` has 143 labels; pass matching data",
    ),
    "an invalid account name": (
        "fedjoin 1 --as 9lives --data X_train,y_train",
        "fedchain: '9lives' is not a valid account name; use letters, digits, '_', '-' or '.', "
        "starting with a letter",
    ),
    "no rounds": (
        "fedtask create model --rounds 0",
        "fedchain: invalid task configuration: rounds must be at least 1",
    ),
    "a quorum the validators cannot reach": (
        "fedtask create model --quorum 2",
        "fedchain: invalid task configuration: 1 validator(s) cannot reach a quorum of 2",
    ),
    "a repeated validator": (
        "fedtask create model --validators v1,v1",
        "fedchain: validator names repeat: v1; name each once",
    ),
    "a window the contract cannot hold": (
        "fedtask create model --submission-window 9999999999",
        "fedchain: submission_window_blocks must be at most 4,294,967,295",
    ),
    "a reward that is not an amount": (
        "fedtask create model --reward lots",
        "fedchain: --reward takes a token amount such as 100, not `lots`",
    ),
    "a claim without a name": (
        "fedrewards --claim",
        "fedchain: --claim needs --as NAME (or use --claim-all)",
    ),
    "a claim by nobody": (
        "fedrewards --claim --as nobody",
        f"fedchain: no account named nobody on this ledger (accounts: {ACCOUNTS}); "
        "see them with %fedrewards",
    ),
    "a faucet variable that is not set": (
        "fedchain connect http://127.0.0.1:9 --faucet-key-env FEDCHAIN_NOT_SET",
        "fedchain: the environment variable FEDCHAIN_NOT_SET is not set; put the faucet's "
        "private key in it, or leave out --faucet-key-env",
    ),
    "a reward past what a token can hold": (
        "fedtask create model --reward 1e80",
        "fedchain: invalid task configuration: reward_per_round x rounds must fit the token "
        f"({2**256 - 1:,} base units)",
    ),
    "a reward pool past the treasury": (
        "fedtask create model --reward 1e24",
        "fedchain: the task's reward pool is 5,000,000,000,000,000,000,000,000 FCR but the "
        "coordinator holds 0 FCR and this workspace's treasury 999,999,000 FCR; give fewer "
        "rounds or a smaller reward",
    ),
    "a ledger directory that is a file": (
        "fedchain start --dir /proc/self/status",
        "fedchain: `/proc/self/status` is a file; give a folder for the ledger (empty, or a "
        "ledger directory)",
    ),
    "a ledger directory that is not a ledger": (
        "fedchain start --dir /etc",
        "fedchain: `/etc` is not a fedchain ledger directory (it holds other files); use an "
        "empty folder or an existing ledger directory",
    ),
    "a misspelt simulation variable": (
        "fedsim model --data X_train,y_train --test X_tst,y_test",
        "fedchain: no notebook variable `X_tst`; did you mean `X_test`?",
    ),
    "no parties to simulate": (
        "fedsim model --data X_train,y_train --test X_test,y_test --parties 0",
        "fedchain: --parties and --rounds must be at least 1, --alpha above 0",
    ),
}


@pytest.mark.parametrize(("line", "message"), CASES.values(), ids=CASES.keys())
def test_a_mistake_is_one_line_and_changes_nothing(world, line, message):
    refused(world, message, line)


def test_training_in_a_closed_round(world):
    refused(
        world,
        "fedchain: round 1 of task 2 is accepted: it takes no updates; "
        "open the next round with %fedtask next 2",
        "fedtrain 2 --as carol",
        cell="global_model.fit(X_carol, y_carol)",
    )


def test_a_training_cell_that_fails(world, capsys):
    refused(
        world,
        "fedchain: the %%fedtrain cell failed, so bob's update was not captured; "
        "fix the cell and run it again",
        "fedtrain 1 --as bob",
        cell="raise RuntimeError('out of memory')",
    )
    shown = capsys.readouterr().out  # the cell's own traceback, as IPython prints it
    assert "RuntimeError" in shown and "out of memory" in shown
    assert (1, "bob") not in loaded_state(world).session.updates


def test_a_training_cell_that_leaves_no_model(world):
    refused(
        world,
        f"fedchain: `global_model` (int) is not a supported model; supported: {SUPPORTED_MODELS}",
        "fedtrain 1 --as bob",
        cell="global_model = 3",
    )


def test_a_second_submission_is_refused_before_training_again(world):
    """Submitting twice, or training again after submitting, says so (not "no trained update",
    then the contract's refusal after a wasted training)."""
    already = (
        "fedchain: alice already submitted its update to round 1 of task 1 (one update a round); "
        "wait for the next round (%fedtask next 1)"
    )
    refused(world, already, "fedsubmit 1 --as alice")
    refused(world, already, "fedtrain 1 --as alice", cell="global_model.fit(X_alice, y_alice)")


def test_the_next_round_waits_for_the_submission_window(world):
    deadline = federation(world).registry.round(1, 1).submission_deadline_block
    refused(
        world,
        f"fedchain: round 1 of task 1 takes updates until block {deadline} and not every "
        "participant has submitted; submit the rest with %fedsubmit 1 --as NAME",
        "fedtask next 1",
    )


def test_tracebacks_on_lets_the_original_error_through(world, capsys):
    magic(world, "fedchain --traceback on")
    try:
        with pytest.raises(UnknownTaskError):
            magic(world, "fedsubmit 7 --as alice")
    finally:
        magic(world, "fedchain --traceback off")
    assert "fedchain errors now show one-line errors" in capsys.readouterr().out
    with pytest.raises(UsageError):
        magic(world, "fedsubmit 7 --as alice")


def test_a_reopened_ledger_needs_the_task_model_again(world, capsys):
    directory = federation(world).workspace
    magic(world, "fedchain stop")
    magic(world, f"fedchain start --dir {directory}")
    refused(
        world,
        "fedchain: this kernel has no model for task 1 (its ledger was reopened); "
        "give it one with %fedtask use 1 MODEL_VAR",
        "fedtrain 1 --as bob",
        cell="pass",
    )
    magic(world, "fedtask use 1 model")
    train(world, 1, "bob")  # the data bindings survived the restart
    assert "captured bob's update for round 1 of task 1" in capsys.readouterr().out
