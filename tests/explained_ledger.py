"""A valued task's read model built by hand (no chain), for the views' tests: one accepted round
of two parties (alice paid, bob below the standing the round pays from), their stakes (bob
slashed) and two governance proposals (one executed from round 3, one pending)."""

from __future__ import annotations

from typing import Any

from fedchain_magics.chain import RoundPhase, TaskParams, TaskState
from fedchain_magics.engine.explain import PartyStake, PayoutExplanation, StakeChange, StakesSummary
from fedchain_magics.engine.ledger_view import (
    ContributionRecord,
    GovernanceSummary,
    LedgerSnapshot,
    NetworkInfo,
    ProposalSummary,
    RoundSummary,
    TaskSnapshot,
)
from fedchain_magics.engine.tokens import TokenInfo

UNIT = 10**18
ALICE, BOB = "0x" + "a1" * 20, "0x" + "b2" * 20
DIGEST = b"\x01" * 32


def score_row(participant: str, standing_ppm: int, share_ppm: int, **values: Any) -> dict:
    return {
        "participant": participant, "group": "g2", "score": 1.4, "standing_ppm": standing_ppm,
        "share_ppm": share_ppm, "rounds": 2, "group_value": 0.031, "median_value": 0.022,
        "capped_samples": 120.0, "min_standing_ppm": 750_000, **values,
    }  # fmt: skip


def record(participant: str, name: str, row: dict | None, reward: int | None) -> ContributionRecord:
    return ContributionRecord(
        participant=participant, name=name, samples=120, update_digest=DIGEST, block_number=9,
        gas_used=60_000, reward=reward, claimed=reward is not None and reward > 0, valuation=row,
        payout=None if row is None else PayoutExplanation.from_row(row),
    )  # fmt: skip


def sample_stakes() -> StakesSummary:
    slashed = StakeChange("slashed", 5 * UNIT, 3, "low standing 0.41 < 0.50", 33)
    return StakesSummary(
        required_stake=10 * UNIT, role_stake=0, slash=0.5, min_standing=0.5, dispute_bond=UNIT,
        parties=[
            PartyStake(ALICE, "alice", "participant", 10 * UNIT, 0, 0, 0, False,
                       [StakeChange("staked", 10 * UNIT, 1, "participant stake", 5)]),
            PartyStake(BOB, "bob", "participant", 10 * UNIT, 5 * UNIT, 0, 0, False,
                       [StakeChange("staked", 10 * UNIT, 1, "participant stake", 6), slashed]),
        ],
    )  # fmt: skip


def sample_governance() -> GovernanceSummary:
    return GovernanceSummary(
        rules={"group_size": 6, "valuation": "shapley", "min_standing": 0.75,
               "max_weight_over_median": 2.0, "slash": 0.25, "required_stake": 10 * UNIT},
        from_round=3,
        proposals=[
            ProposalSummary(1, "k 6: groups of 3 are noisy", "executed", {"group_size": 6},
                            70 * UNIT, 30 * UNIT, 0, 25 * UNIT, from_round=3),
            ProposalSummary(2, "stake 20", "pending",
                            {"required_stake": 20 * UNIT, "slash": 0.5}, 0, 0, 0, None),
        ],
    )  # fmt: skip


def valued_snapshot(**task_fields: Any) -> LedgerSnapshot:
    """The task, with ``stakes=`` and ``governance=`` as given (None by default)."""
    params = TaskParams(DIGEST, DIGEST, DIGEST, 2, 3, 1, 100, 100, 60 * UNIT)
    state = TaskState(1, params, ALICE, ALICE, ALICE, 2, 1, 1, 1, DIGEST)
    paid = score_row(ALICE, 920_000, 1_000_000)
    # a value JSON cannot carry: the sidebar sends null, never NaN
    unpaid = score_row(BOB, 410_000, 0, group_value=float("nan"))
    summary = RoundSummary(
        task_id=1, round=1, phase=RoundPhase.ACCEPTED, commit_count=2, total_samples=240,
        min_participants=2, accept_votes=1, reject_votes=0, validator_quorum=1,
        aggregate_digest=DIGEST, model_digest=DIGEST, aggregate_verified=True,
        contributions=[record(ALICE, "alice", paid, 60 * UNIT), record(BOB, "bob", unpaid, 0)],
    )  # fmt: skip
    task = TaskSnapshot(1, "breast-cancer", state, [summary], "shapley", **task_fields)
    network = NetworkInfo("eth-tester/py-evm", 131277322940537, 40, True, "/tmp/ledger", None)
    return LedgerSnapshot(network, TokenInfo("FCR", 18), [task], [])
