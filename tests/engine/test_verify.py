"""verify: the journal and every blob the ledger commits to, from Python, the command line and
%fedchain verify."""

from __future__ import annotations

import subprocess
import sys

import pytest
from engine_helpers import logistic_regression

from fedchain_magics import Federation, TaskConfig
from fedchain_magics.engine.verify import verify_workspace


@pytest.fixture
def finished_round(tmp_path, breast_cancer):
    split = breast_cancer
    workspace = tmp_path / "ledger"
    with Federation.open(workspace) as federation:
        task = federation.create_task(logistic_regression(split), TaskConfig(min_participants=1))
        parties = [task.participant(name) for name in ("alice", "bob")]
        for party in parties:
            party.join()
        task.coordinator().open_round()
        for party in parties:  # two updates, so the sum is a blob of its own
            party.submit(party.train(split.X_train, split.y_train))
        task.aggregator().aggregate()
        task.key_holder().decrypt_and_commit()
        digests = {
            "update": task.commitments(1)[0].update_digest,
            "aggregate": task.round_state(1).aggregate_digest,
        }
        paths = {name: federation.store._path(digest) for name, digest in digests.items()}
    return workspace, paths


def run_cli(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fedchain_magics", *arguments],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_whole_ledger_verifies(finished_round):
    workspace, _ = finished_round
    report = verify_workspace(workspace)
    assert report.ok and not report.findings
    done = run_cli("verify", str(workspace))
    assert done.returncode == 0 and done.stdout.strip().endswith("OK")


def test_a_missing_and_an_altered_blob_are_each_reported(finished_round):
    workspace, paths = finished_round
    paths["update"].unlink()
    altered = bytearray(paths["aggregate"].read_bytes())
    altered[100] ^= 0xFF
    paths["aggregate"].write_bytes(bytes(altered))
    report = verify_workspace(workspace)
    kinds = {finding.kind: finding.message for finding in report.findings}
    assert not report.ok
    assert "task 1 round 1 update of alice" in kinds["missing_blob"]
    assert "task 1 round 1 aggregate" in kinds["altered_blob"]
    done = run_cli("verify", str(workspace))
    assert done.returncode == 1
    assert "ERROR missing_blob" in done.stdout and "ERROR altered_blob" in done.stdout
