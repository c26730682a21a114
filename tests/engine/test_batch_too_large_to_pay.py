"""A batch larger than one payment may hold (``MAX_LEAVES_PER_PAYMENT``) is not paid in one
transaction: each party claims its own leaf with its Merkle proof, and is paid as a batch
payment would have paid it."""

from engine_helpers import logistic_regression

from fedchain_magics import simulate
from fedchain_magics.engine import batched


def _batched_round(split, workspace):
    """One batched round of three parties (batched.MAX_LEAVES_PER_PAYMENT as patched)."""
    return simulate(
        logistic_regression(split),
        split.X_train,
        split.y_train,
        split.X_test,
        split.y_test,
        parties=3,
        rounds=1,
        workspace=workspace,
        progress=False,
        batched=True,
    )


def test_each_party_claims_its_leaf_when_the_batch_is_too_large_to_pay(
    tmp_path, breast_cancer, monkeypatch
):
    split = breast_cancer
    runs = {}
    for name, cap in (("paid", 256), ("claimed", 2)):
        monkeypatch.setattr(batched, "MAX_LEAVES_PER_PAYMENT", cap)
        result = _batched_round(split, tmp_path / name)
        registry, task_id = result.federation.registry, result.task.task_id
        (record,) = result.records
        assert record.accepted
        balances = [
            registry.token_balance(result.federation.address(name)) for name in result.parties
        ]
        paid = registry.event_logs("BatchPaid", taskId=task_id)
        claims = registry.event_logs("RewardClaimed", taskId=task_id)
        runs[name] = (balances, len(paid), len(claims))
        result.federation.close()
    assert runs["paid"][1:] == (1, 3)  # one payment of three leaves
    assert runs["claimed"][1:] == (0, 3)  # no payment: three claims
    assert runs["claimed"][0] == runs["paid"][0]  # the same reward for everyone
    assert all(balance > 0 for balance in runs["claimed"][0])


def test_an_unclaimed_leaf_is_listed_and_claimed_with_the_others(
    tmp_path, breast_cancer, monkeypatch
):
    """A party of a batch too large to pay sees its leaf's reward among its unclaimed ones (the
    ledger view, ``%fedrewards``) and ``claim_all`` claims it, as for a reward of its own commit:
    the leaf has no contribution record on-chain until it is claimed."""
    from fedchain_magics.engine.ledger_view import read_snapshot
    from fedchain_magics.engine.roles import Participant

    split = breast_cancer
    monkeypatch.setattr(batched, "MAX_LEAVES_PER_PAYMENT", 2)
    with monkeypatch.context() as patched:
        patched.setattr(Participant, "claim", lambda self, round_number: 0)  # nobody claims
        result = _batched_round(split, tmp_path)
    federation, task = result.federation, result.task
    assert result.records[0].accepted
    unclaimed = {item.name: item.amount for item in read_snapshot(federation).unclaimed()}
    assert set(unclaimed) == set(result.parties)
    assert all(amount > 0 for amount in unclaimed.values())
    first = result.parties[0]
    before = federation.registry.token_balance(federation.address(first))
    assert task.participant(first).claim_all() == unclaimed[first]
    assert federation.registry.token_balance(federation.address(first)) == before + unclaimed[first]
    left = {item.name for item in read_snapshot(federation).unclaimed()}
    assert left == set(result.parties[1:])  # claimed once, and only its own leaf
    federation.close()
