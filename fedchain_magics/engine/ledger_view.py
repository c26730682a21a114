"""What the ledger says about a task, round by round: read from contract state and event logs.

Everything here is read from the chain (plus local account names), so any kernel on the same
ledger sees the same history.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..chain import RoundPhase

if TYPE_CHECKING:
    from .task import FederatedTask


@dataclass(frozen=True)
class ContributionRecord:
    participant: str
    name: str | None
    samples: int
    update_digest: bytes
    block_number: int
    gas_used: int | None
    reward: int | None
    """Reward-token base units claimed (or claimable) for this contribution; None if none."""
    claimed: bool


@dataclass(frozen=True)
class RoundSummary:
    task_id: int
    round: int
    phase: RoundPhase
    commit_count: int
    total_samples: int
    min_participants: int
    accept_votes: int
    reject_votes: int
    validator_quorum: int
    aggregate_digest: bytes | None
    model_digest: bytes | None
    aggregate_verified: bool | None
    contributions: list[ContributionRecord] = field(default_factory=list)
    votes: list[dict[str, Any]] = field(default_factory=list)


def task_history(task: FederatedTask, *, verify: bool = False) -> list[RoundSummary]:
    """Every round of ``task`` with its commitments, votes and rewards.

    ``verify=True`` recomputes each aggregate from the committed updates (slower: one
    homomorphic sum per round); otherwise ``aggregate_verified`` is None.
    """
    federation = task.federation
    registry = federation.registry
    names = federation.names_by_address()
    state = task.state()
    summaries = []
    claimed = _claimed_rewards(task)
    votes = _votes(task)
    for number in range(1, state.current_round + 1):
        round_state = registry.round(task.task_id, number)
        contributions = []
        for commitment in registry.update_commitments(task.task_id, number):
            key = (number, commitment.participant.lower())
            reward = claimed.get(key)
            if reward is None and round_state.phase == RoundPhase.ACCEPTED:
                reward = registry.pending_reward(task.task_id, number, commitment.participant)
            contributions.append(
                ContributionRecord(
                    participant=commitment.participant,
                    name=names.get(commitment.participant.lower()),
                    samples=commitment.samples,
                    update_digest=commitment.update_digest,
                    block_number=commitment.block_number,
                    gas_used=registry.gas_used(commitment.tx_hash),
                    reward=reward,
                    claimed=key in claimed,
                )
            )
        verified = None
        if verify and round_state.aggregate_digest is not None:
            verified = task.verify_round(number).matches
        summaries.append(
            RoundSummary(
                task_id=task.task_id,
                round=number,
                phase=round_state.phase,
                commit_count=round_state.commit_count,
                total_samples=round_state.total_samples,
                min_participants=state.params.min_participants,
                accept_votes=round_state.accept_votes,
                reject_votes=round_state.reject_votes,
                validator_quorum=state.params.validator_quorum,
                aggregate_digest=round_state.aggregate_digest,
                model_digest=round_state.model_digest,
                aggregate_verified=verified,
                contributions=contributions,
                votes=[
                    {**vote, "name": names.get(vote["validator"].lower())}
                    for vote in votes.get(number, [])
                ],
            )
        )
    return summaries


def _claimed_rewards(task: FederatedTask) -> dict[tuple[int, str], int]:
    registry = task.federation.registry
    logs = registry.event_logs("RewardClaimed", taskId=task.task_id)
    return {
        (int(log["args"]["round"]), str(log["args"]["participant"]).lower()): int(
            log["args"]["amount"]
        )
        for log in logs
    }


def _votes(task: FederatedTask) -> dict[int, list[dict[str, Any]]]:
    registry = task.federation.registry
    logs = registry.event_logs("VoteCast", taskId=task.task_id)
    votes: dict[int, list[dict[str, Any]]] = {}
    for log in logs:
        votes.setdefault(int(log["args"]["round"]), []).append(
            {
                "validator": str(log["args"]["validator"]),
                "accept": bool(log["args"]["accept"]),
                "metric": int(log["args"]["metricPpm"]) / 1_000_000,
                "block_number": int(log["blockNumber"]),
            }
        )
    return votes
