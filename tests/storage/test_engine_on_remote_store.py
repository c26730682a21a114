"""The engine's blob flows on an FsspecBlobStore on a real S3 server: a whole round writes and
reads every blob there, and verify finds one deleted and one altered in the bucket.

``Federation.open`` builds a LocalBlobStore and has no parameter for another store yet, so the
test swaps ``federation.store`` before anything is written."""

from __future__ import annotations

from engine_helpers import logistic_regression

from fedchain_magics import Federation, TaskConfig
from fedchain_magics.chain import RoundPhase
from fedchain_magics.engine.verify import verify_workspace


def test_a_round_keeps_every_blob_in_s3_and_verify_reads_them(s3_remote, tmp_path, breast_cancer):
    remote = s3_remote
    split = breast_cancer
    workspace = tmp_path / "ledger"
    with Federation.open(workspace) as federation:
        federation.store = remote.store
        task = federation.create_task(logistic_regression(split), TaskConfig(min_participants=1))
        parties = [task.participant(name) for name in ("alice", "bob")]
        for party in parties:
            party.join()
        task.coordinator().open_round()
        for party in parties:  # two updates, so the sum is a blob of its own
            party.submit(party.train(split.X_train, split.y_train))
        task.aggregator().aggregate()
        task.key_holder().decrypt_and_commit()
        vote = task.validator("validator-1").vote(split.X_test, split.y_test)
        assert vote.aggregate_verified and vote.accept
        state = task.round_state(1)
        assert state.phase == RoundPhase.ACCEPTED
        assert task.global_model() is not None  # the accepted model, read back from the store
        update = task.commitments(1)[0].update_digest
        committed = [update, state.aggregate_digest, state.model_digest]
        stored = set(remote.direct.find(remote.store.root))
        assert {remote.object_path(digest) for digest in committed} <= stored
        assert not [path for path in (workspace / "blobs").rglob("*") if path.is_file()]

        report = verify_workspace(workspace, federation)
        assert report.ok and not [finding for finding in report.findings if finding.fatal]

        remote.direct.rm_file(remote.object_path(update))
        remote.direct.pipe_file(remote.object_path(state.aggregate_digest), b"forged aggregate")
        report = verify_workspace(workspace, federation)
        kinds = {finding.kind: finding.message for finding in report.findings}
        assert "task 1 round 1 update of alice" in kinds["missing_blob"]
        assert "task 1 round 1 aggregate" in kinds["altered_blob"]
