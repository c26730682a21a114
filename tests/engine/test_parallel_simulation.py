"""A simulated round with its encryption and sums in two processes gives the very model the
one-process round gives (issue #14, part 2); an unusable blob still gets excluded."""

from __future__ import annotations

import numpy as np
import pytest
from engine_helpers import logistic_regression

from fedchain_magics import Federation, TaskConfig, simulate
from fedchain_magics.chain import ExclusionReason, RoundPhase
from fedchain_magics.crypto import parallel


@pytest.fixture
def pools_for_small_models(monkeypatch):
    """Any work counts as large, and two CPUs are there: the pool is used."""
    monkeypatch.setattr(parallel, "MIN_PARALLEL_VALUES", 1)
    monkeypatch.setattr(parallel, "MIN_PARALLEL_SUM_VALUES", 1)
    monkeypatch.setattr(parallel, "available_processes", lambda: 2)
    yield
    parallel.release_shared_pools()


def _run(tmp_path, name, breast_cancer, processes):
    split = breast_cancer
    result = simulate(
        logistic_regression(split),
        split.X_train,
        split.y_train,
        split.X_test,
        split.y_test,
        parties=5,
        rounds=2,
        config=TaskConfig(min_participants=5),
        workspace=tmp_path / name,
        progress=False,
        processes=processes,
    )
    parameters = result.task.global_parameters()
    records = result.records
    result.federation.close()
    return parameters, records


def test_two_processes_give_the_same_model_as_one(
    tmp_path, breast_cancer, pools_for_small_models, monkeypatch
):
    sums = []
    original = parallel.EncryptionPool.partial_sum

    def counted(self, *args, **kwargs):
        sums.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(parallel.EncryptionPool, "partial_sum", counted)
    serial, serial_records = _run(tmp_path, "serial", breast_cancer, 1)
    assert sums == []  # processes=1: everything in this process
    spread, spread_records = _run(tmp_path, "spread", breast_cancer, 2)
    assert sums  # the aggregator and the verifiers summed in the pool
    assert np.array_equal(serial, spread)  # BFV sums are exact: bit for bit the same model
    assert [r.accepted for r in spread_records] == [r.accepted for r in serial_records]
    assert all(r.aggregate_verified and r.accepted for r in spread_records)


def test_an_unusable_blob_is_excluded_when_the_round_sums_in_processes(
    tmp_path, breast_cancer, pools_for_small_models
):
    split = breast_cancer
    federation = Federation.open(tmp_path / "ws")
    task = federation.create_task(
        logistic_regression(split), TaskConfig(min_participants=2), validators=["validator-1"]
    )
    parties = [task.participant(f"party-{index}") for index in range(3)]
    for party in parties:
        party.join()
    task.coordinator().open_round()
    digests = []
    for party, rows in zip(parties, np.array_split(np.arange(300), 3), strict=True):
        update = party.train(split.X_train[rows], split.y_train[rows])
        digests.append(party.submit(update).update_digest)
    federation.store.delete(digests[1])
    result = task.aggregator().aggregate()
    assert result.update_count == 2
    excluded = federation.registry.excluded_updates(task.task_id, 1)
    assert [(e.update_digest, e.reason) for e in excluded] == [
        (digests[1], ExclusionReason.MISSING)
    ]
    task.key_holder().decrypt_and_commit()
    assert task.round_state(1).phase == RoundPhase.VALIDATING
    federation.close()
