"""No bad blob stalls a round: a garbage, a missing and a 256 MiB committed blob are excluded
on-chain with their reasons, and the round completes with the other updates."""

from __future__ import annotations

import os
import tracemalloc

from engine_helpers import logistic_regression

from fedchain_magics import TaskConfig
from fedchain_magics.chain import ExclusionReason, RoundPhase
from fedchain_magics.data import split_iid

OVERSIZED_BYTES = 256 * 2**20


def test_a_round_with_three_unusable_blobs_of_five_completes_with_the_rest(
    federation, breast_cancer
):
    split = breast_cancer
    task = federation.create_task(
        logistic_regression(split), TaskConfig(min_participants=2, max_metric_drop=1.0)
    )
    names = ["honest-1", "honest-2", "garbage", "missing", "oversized"]
    parties = {name: task.participant(name) for name in names}
    for party in parties.values():
        party.join()
    task.coordinator().open_round()
    shards = split_iid(split.X_train, split.y_train, len(names), seed=0)
    store, registry = federation.store, federation.registry
    for (name, party), shard in zip(parties.items(), shards, strict=True):
        if name == "garbage":
            digest = store.put(os.urandom(5_000))
        elif name == "oversized":
            digest = store.put(os.urandom(OVERSIZED_BYTES))
        else:
            digest = party.submit(party.train(shard.X, shard.y)).update_digest
            if name == "missing":
                store.delete(digest)
            continue
        registry.commit_update(party.account, task.task_id, 1, digest, len(shard.y))

    tracemalloc.start()
    result = task.aggregator().aggregate()
    _, peak_bytes = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak_bytes < 32 * 2**20, "the 256 MiB blob must be refused from its size, unread"

    assert result.update_count == 2
    excluded = {
        federation.name_of(exclusion.participant): exclusion.reason
        for exclusion in registry.excluded_updates(task.task_id, 1)
    }
    assert excluded == {
        "garbage": ExclusionReason.MALFORMED,
        "missing": ExclusionReason.MISSING,
        "oversized": ExclusionReason.OVERSIZED,
    }
    assert task.verify_round(1).matches  # anyone re-checks the sum of the included updates
    task.key_holder().decrypt_and_commit()
    vote = task.validator("validator-1").vote(split.X_test, split.y_test)
    assert vote.accept and task.round_state(1).phase == RoundPhase.ACCEPTED
    paid = {
        name: registry.pending_reward(task.task_id, 1, party.address)
        for name, party in parties.items()
    }
    assert paid["honest-1"] > 0 and paid["honest-2"] > 0
    assert paid["garbage"] == paid["missing"] == paid["oversized"] == 0
