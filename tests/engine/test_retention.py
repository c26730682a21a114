"""Bounded storage: the retention policy prunes old rounds' encrypted updates and nothing else;
the ledger view, verify and later rounds are unaffected (issue #14, part 4)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from engine_helpers import logistic_regression

from fedchain_magics import Federation, TaskConfig, simulate
from fedchain_magics.engine.ledger_view import read_snapshot
from fedchain_magics.engine.retention import RetentionPolicy
from fedchain_magics.engine.verify import verify_workspace
from fedchain_magics.storage import BlobPrunedError, LocalBlobStore
from fedchain_magics.storage.blobstore import PRUNED_RECORD
from fedchain_magics.widgets import ledger_table

ROUNDS = 4


@pytest.fixture(scope="module")
def four_rounds(tmp_path_factory, breast_cancer) -> Path:
    """A workspace after four finished rounds of two parties, automatic pruning off."""
    split = breast_cancer
    workspace = tmp_path_factory.mktemp("retention") / "ledger"
    with Federation.open(workspace) as federation:
        RetentionPolicy(auto=False).save(federation.workspace)
        simulate(
            logistic_regression(split), split.X_train, split.y_train, split.X_test,
            split.y_test, parties=2, rounds=ROUNDS, federation=federation,
            config=TaskConfig(rounds=ROUNDS + 1, min_participants=2), progress=False,
        )  # fmt: skip
    return workspace


@pytest.fixture
def workspace(four_rounds, tmp_path) -> Path:
    copy = tmp_path / "ledger"
    shutil.copytree(four_rounds, copy)
    return copy


def files(root: Path) -> dict[str, int]:
    """Every file of the workspace but its cache (derived logs, refreshed by any read) and the
    chain's lock file (it records the process that last opened the chain: a dry run's pid)."""
    return {
        str(path.relative_to(root)): path.stat().st_size
        for path in sorted(root.rglob("*"))
        if path.is_file()
        and path.relative_to(root).parts[0] != "cache"
        and path.name != "ledger.lock"
    }


def updates_by_round(federation: Federation) -> dict[int, list[bytes]]:
    registry = federation.registry
    return {
        number: [c.update_digest for c in registry.update_commitments(1, number)]
        for number in range(1, registry.task(1).current_round + 1)
    }


def everything_but_updates(federation: Federation) -> set[bytes]:
    registry = federation.registry
    state = registry.task(1)
    kept = {
        state.params.model_spec_digest,
        state.params.public_context_digest,
        state.params.initial_model_digest,
        state.current_model_digest,
    }
    for number in range(1, state.current_round + 1):
        round_state = registry.round(1, number)
        kept |= {round_state.aggregate_digest, round_state.model_digest} - {None}
    return kept


def test_gc_removes_old_updates_and_keeps_aggregates_models_and_the_window(workspace):
    with Federation.open(workspace) as federation:
        before = files(workspace)
        dry = federation.collect_garbage(keep_rounds=2, dry_run=True)
        assert files(workspace) == before  # a dry run changes nothing
        updates = updates_by_round(federation)
        old = set(updates[1] + updates[2])  # keep_rounds=2: rounds 3 and 4 stay
        assert {update.digest for update in dry.removed} == old
        assert dry.bytes_freed > 0 and "would remove 4 update blob(s) of 2 round(s)" in (
            dry.summary()
        )

        report = federation.collect_garbage(keep_rounds=2)
        assert {update.digest for update in report.removed} == old
        assert report.bytes_freed == dry.bytes_freed
        store = federation.store
        assert not any(store.has(digest) for digest in old)
        assert all(store.has(digest) for digest in updates[3] + updates[4])
        assert all(store.has(digest) for digest in everything_but_updates(federation))
        with pytest.raises(BlobPrunedError, match="pruned"):
            store.get(updates[1][0])

        after = files(workspace)
        again = federation.collect_garbage(keep_rounds=2)  # idempotent
        assert again.removed == [] and files(workspace) == after
        assert "removed 0 update blob(s)" in again.summary()

        # The ledger view and verify see nothing wrong.
        snapshot = read_snapshot(federation, verify=True)
        rounds = snapshot.tasks[0].rounds
        assert [summary.aggregate_verified for summary in rounds] == [True] * ROUNDS
        assert len(rounds[0].contributions) == 2
        assert len(ledger_table(federation, 1).rows) >= ROUNDS
        report = verify_workspace(workspace, federation)
        assert report.ok, report.lines()
        assert "pruned_updates" in [finding.kind for finding in report.findings]

        everything = federation.collect_garbage(keep_rounds=0)
        assert {update.digest for update in everything.removed} == set(updates[3] + updates[4])
        assert all(store.has(digest) for digest in everything_but_updates(federation))


def test_a_round_not_verified_here_keeps_its_updates(workspace):
    (workspace / "verifications.json").unlink()  # this workspace never recomputed a sum
    with Federation.open(workspace) as federation:
        report = federation.collect_garbage(keep_rounds=0)
        assert report.removed == [] and report.rounds_kept == ROUNDS
        # Recomputing records the outcome; only then may the updates go.
        read_snapshot(federation, verify=True)
        assert len(federation.collect_garbage(keep_rounds=0).removed) == 2 * ROUNDS


def test_a_lost_verification_record_after_gc_is_not_damage(workspace):
    with Federation.open(workspace) as federation:
        federation.collect_garbage(keep_rounds=0)
    (workspace / "verifications.json").unlink()
    with Federation.open(workspace) as federation:
        snapshot = read_snapshot(federation, verify=True)  # cannot resum: says what it knows
        assert [r.aggregate_verified for r in snapshot.tasks[0].rounds] == [True] * ROUNDS
        assert verify_workspace(workspace, federation).ok


def test_a_crash_between_deletes_leaves_a_consistent_store(workspace, monkeypatch):
    deleted = []
    original = LocalBlobStore.delete

    def crash_on_the_third(self, digest):
        if len(deleted) == 2:
            raise KeyboardInterrupt  # the process dies between two deletes
        deleted.append(digest)
        original(self, digest)

    with Federation.open(workspace) as federation:
        monkeypatch.setattr(LocalBlobStore, "delete", crash_on_the_third)
        with pytest.raises(KeyboardInterrupt):
            federation.collect_garbage(keep_rounds=0)
        monkeypatch.undo()
    lines = (workspace / "blobs" / PRUNED_RECORD).read_text().splitlines()
    recorded = [line.split()[0] for line in lines]  # each line: the digest, then its size
    assert len(recorded) == 2 * ROUNDS  # recorded first, all of them, then removed
    with Federation.open(workspace) as federation:
        assert verify_workspace(workspace, federation).ok  # gone ones are recorded pruned
        read_snapshot(federation, verify=True)
        report = federation.collect_garbage(keep_rounds=0)  # finishes the job
        assert len(report.removed) == 2 * ROUNDS - 2
        assert not any(federation.store.has(bytes.fromhex(text)) for text in recorded)
    assert (workspace / "blobs" / PRUNED_RECORD).read_text().splitlines() == lines


def test_the_unfinished_round_keeps_its_updates_and_the_task_runs_on(workspace, breast_cancer):
    split = breast_cancer
    with Federation.open(workspace) as federation:
        task = federation.task(1, logistic_regression(split))
        task.coordinator().open_round()
        for name in ("party-1", "party-2"):
            party = task.participant(name)
            party.submit(party.train(split.X_train, split.y_train))
        report = federation.collect_garbage(keep_rounds=0)
        current = updates_by_round(federation)[ROUNDS + 1]
        assert not {update.digest for update in report.removed} & set(current)
        assert all(federation.store.has(digest) for digest in current)
        # The round completes after gc; with the policy on, it prunes by itself.
        RetentionPolicy(keep_rounds=0).save(federation.workspace)
        task.aggregator().aggregate()
        task.key_holder().decrypt_and_commit()
        task.validator("validator-1").vote(split.X_test, split.y_test)
        assert task.round_state(ROUNDS + 1).phase.finished
        assert not any(federation.store.has(digest) for digest in current)
        assert verify_workspace(workspace, federation).ok


def test_the_default_policy_prunes_after_each_round(tmp_path, breast_cancer):
    split = breast_cancer
    with Federation.open(tmp_path / "ledger") as federation:
        result = simulate(
            logistic_regression(split), split.X_train, split.y_train, split.X_test,
            split.y_test, parties=2, rounds=3, federation=federation, progress=False,
        )  # fmt: skip
        updates = updates_by_round(federation)
        # keep_rounds=1: a round's updates go once the next round finished (2 + 1 <= 3).
        assert not any(federation.store.has(digest) for digest in updates[1] + updates[2])
        assert all(federation.store.has(digest) for digest in updates[3])
        assert result.final_metric > 0.8
        assert verify_workspace(tmp_path / "ledger", federation).ok


def test_a_shared_store_is_not_pruned(tmp_path, workspace):
    with Federation.open(workspace) as federation:
        federation.store = _NotLocal(federation.store)
        report = federation.collect_garbage(keep_rounds=0)
    assert report.removed == [] and "shared store" in report.summary()


class _NotLocal(LocalBlobStore.__mro__[1]):  # type: ignore[misc]
    """A store this workspace does not own (any store but a LocalBlobStore)."""

    def __init__(self, inner):
        self.inner = inner

    def put(self, blob):
        return self.inner.put(blob)

    def get(self, digest, *, max_bytes=None):
        return self.inner.get(digest, max_bytes=max_bytes)

    def has(self, digest):
        return self.inner.has(digest)

    def delete(self, digest):
        raise AssertionError("a shared store must not be pruned")


def test_the_policy_is_a_workspace_setting(tmp_path):
    assert RetentionPolicy.load(tmp_path) == RetentionPolicy(keep_rounds=1, auto=True)
    RetentionPolicy(keep_rounds=5, auto=False).save(tmp_path)
    assert json.loads((tmp_path / "retention.json").read_text()) == {
        "keep_rounds": 5,
        "auto": False,
    }
    assert RetentionPolicy.load(tmp_path) == RetentionPolicy(keep_rounds=5, auto=False)
    (tmp_path / "retention.json").write_text("{damaged")
    assert RetentionPolicy.load(tmp_path) == RetentionPolicy()
    with pytest.raises(ValueError, match="keep_rounds"):
        RetentionPolicy(keep_rounds=-1)


def test_the_gc_command(workspace):
    def gc(*options: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "fedchain_magics", "gc", str(workspace), *options],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip

    before = files(workspace)
    dry = gc("--dry-run", "--keep-rounds", "2")
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.startswith("gc: would remove 4 update blob(s) of 2 round(s)")
    assert files(workspace) == before
    done = gc("--keep-rounds", "1", str(workspace / "chain"))
    assert done.returncode == 2 and "unrecognized" in done.stderr  # one DIR only
    done = gc()  # the default: keep_rounds=1
    assert done.returncode == 0 and done.stdout.startswith("gc: removed 6 update blob(s)")
    assert len(done.stdout.strip().splitlines()) == 1
    refused = gc("--keep-rounds", "-1")
    assert refused.returncode == 2 and refused.stderr.startswith("error: keep_rounds")
    verify = subprocess.run(
        [sys.executable, "-m", "fedchain_magics", "verify", str(workspace)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert verify.returncode == 0 and verify.stdout.strip().endswith("OK")
