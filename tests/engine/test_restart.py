"""A process SIGKILLed mid-round; a new process on the same ledger directory finishes the round."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest
from engine_helpers import logistic_regression

from fedchain_magics import Federation
from fedchain_magics.chain import RoundPhase
from fedchain_magics.data import split_iid

CHILD = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, {helpers!r})
    from engine_helpers import logistic_regression, Split
    from fedchain_magics import Federation, TaskConfig
    from fedchain_magics.data import (
        load_dataset, split_iid, standardize, train_test_split_stratified,
    )

    X, y = load_dataset("breast_cancer")
    X_train, X_test, y_train, y_test = train_test_split_stratified(X, y, 0.25, seed=0)
    X_train, X_test = standardize(X_train, X_test)
    split = Split(X_train, X_test, y_train, y_test)
    federation = Federation.open({workspace!r})
    task = federation.create_task(logistic_regression(split), TaskConfig(min_participants=3))
    participants = [task.participant(f"party-{{i}}") for i in range(3)]
    for participant in participants:
        participant.join()
    task.coordinator().open_round()
    shards = split_iid(X_train, y_train, 3, seed=0)
    for participant, shard in list(zip(participants, shards))[:2]:
        participant.submit(participant.train(shard.X, shard.y))
    print("HEAD", federation.ledger.block_number(), federation.ledger.head_hash(), flush=True)
    time.sleep(600)  # killed here, mid-round, with the ledger file still open
    """
)


@pytest.mark.slow
def test_a_killed_process_loses_nothing_committed(tmp_path, breast_cancer):
    workspace = tmp_path / "ledger"
    helpers = os.path.dirname(os.path.dirname(__file__))
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD.format(helpers=helpers, workspace=str(workspace))],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = child.stdout.readline()
        assert line.startswith("HEAD"), child.stderr.read()
        _, height, head_hash = line.split()
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
        child.stderr.close()
    assert child.returncode == -signal.SIGKILL

    with Federation.open(workspace) as federation:
        assert federation.ledger.block_number() == int(height)
        assert federation.ledger.head_hash() == head_hash
        task = federation.task(1, model=logistic_regression(breast_cancer))
        assert task.round_state(1).commit_count == 2
        last = task.participant("party-2")
        shard = split_iid(breast_cancer.X_train, breast_cancer.y_train, 3, seed=0)[2]
        last.submit(last.train(shard.X, shard.y))
        task.aggregator().aggregate()
        task.key_holder().decrypt_and_commit()
        task.validator("validator-1").vote(breast_cancer.X_test, breast_cancer.y_test)
        assert task.round_state(1).phase == RoundPhase.ACCEPTED
        assert sum(p.claim_all() for p in map(task.participant, ["party-0", "party-1", "party-2"]))
