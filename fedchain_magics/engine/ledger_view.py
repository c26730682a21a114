"""The one read model of the ledger: what every view shows, built from on-chain facts, the blob
store and this workspace's verification record.

Widgets, ``%fedledger``, ``%fedtask show``, ``%fedrewards`` and the sidebar only *format* a
:class:`LedgerSnapshot` (or a task's :func:`task_history`); none reads the chain itself. So a
fact is derived once: whether an aggregate is verified (:func:`aggregate_verified`), what a
contribution earned, what a token amount is (``TokenInfo``).
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..chain import RoundKey, RoundPhase, TaskState
from ..storage import BlobPrunedError, StorageError
from . import governance, incentives, round_keys
from .tokens import TokenInfo

if TYPE_CHECKING:
    from .federation import AccountBalance, Federation
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
    valuation: dict[str, Any] | None = None
    """Why a valued task paid what it paid: the round's score table row (``group``, ``score``
    of the group relative to the round's typical group, ``standing_ppm`` over rounds,
    ``share_ppm`` of the round's reward, ``rounds`` the standing rests on); None when the task
    pays by declared samples or the table is not posted yet."""


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
    """True/False once the aggregate was recomputed (here or by any process on this workspace),
    False if the key holder rejected it on-chain, None if never checked."""
    contributions: list[ContributionRecord] = field(default_factory=list)
    votes: list[dict[str, Any]] = field(default_factory=list)
    round_key: RoundKey | None = None
    """A masked task's round key digests: the public context the round's updates are encrypted
    under, and its secret once published (see round_keys.py); None without round keys."""


@dataclass(frozen=True)
class ProposalSummary:
    """A governance proposal on a task's rules, as the views show it."""

    number: int
    description: str
    state: str
    """pending, active, canceled, defeated, succeeded, queued, expired or executed."""
    changes: dict[str, Any]
    """What it changes, in the engine's names and units (``group_size``, ``valuation``, ...)."""
    votes_for: int
    votes_against: int
    votes_abstain: int
    quorum: int | None
    """Votes (for + abstain) it needs, in token base units; None before its vote opened."""


@dataclass(frozen=True)
class GovernanceSummary:
    """A governed task's rules (the latest, and the round they apply from) and its proposals."""

    rules: dict[str, Any]
    """The engine's names and units: group_size, valuation, min_standing, ..."""
    from_round: int
    proposals: list[ProposalSummary] = field(default_factory=list)


@dataclass(frozen=True)
class TaskSnapshot:
    task_id: int
    name: str | None
    """The task's name from its manifest (None when this workspace lacks the manifest)."""
    state: TaskState
    rounds: list[RoundSummary]
    valuation: str = "off"
    """How rewards are shared: "off" (by declared samples), "shapley" or "leave-one-out" (by
    group value and standing: valuation.py); "" when this workspace lacks the manifest."""
    governance: GovernanceSummary | None = None
    """The task's governed rules and proposals; None for a task not under governance."""

    @property
    def current_phase(self) -> RoundPhase:
        number = self.state.current_round
        return self.rounds[number - 1].phase if number else RoundPhase.NONE


@dataclass(frozen=True)
class NetworkInfo:
    name: str
    chain_id: int
    block_number: int
    embedded: bool
    workspace: str | None
    """The workspace holding the in-process chain (``--dir``, the "ledger directory" notebook
    users know); None for a node reached by URL."""
    url: str | None


@dataclass(frozen=True)
class UnclaimedReward:
    task_id: int
    round: int
    name: str
    amount: int
    """Reward-token base units."""


@dataclass(frozen=True)
class LedgerSnapshot:
    """The ledger as every view shows it, read at one block."""

    network: NetworkInfo
    token: TokenInfo
    tasks: list[TaskSnapshot]
    balances: list[AccountBalance]

    def unclaimed(self) -> list[UnclaimedReward]:
        """Rewards of accepted rounds owed to this workspace's accounts and not yet claimed."""
        return [
            UnclaimedReward(task.task_id, summary.round, record.name, record.reward)
            for task in self.tasks
            for summary in task.rounds
            if summary.phase == RoundPhase.ACCEPTED
            for record in summary.contributions
            if record.name and record.reward and not record.claimed
        ]


def read_snapshot(
    federation: Federation, task_ids: Iterable[int] | None = None, *, verify: bool = False
) -> LedgerSnapshot:
    """The ledger now: the network, the token, ``task_ids`` (default: every task), balances.

    ``verify=True`` recomputes (and records) each aggregate not yet verified: one homomorphic
    sum per round.
    """
    ledger = federation.ledger
    numbers = federation.task_ids() if task_ids is None else list(task_ids)
    network = NetworkInfo(
        name=ledger.network_name,
        chain_id=ledger.chain_id,
        block_number=ledger.block_number(),
        embedded=ledger.embedded,
        workspace=str(federation.workspace.resolve()) if ledger.embedded else None,
        url=ledger.url,
    )
    tasks = [_task_snapshot(federation, number, verify) for number in numbers]
    return LedgerSnapshot(network, federation.token(), tasks, federation.balances())


def _task_snapshot(federation: Federation, task_id: int, verify: bool) -> TaskSnapshot:
    try:
        task: FederatedTask | None = federation.task(task_id)
    except StorageError:
        task = None  # created elsewhere on a shared node: its manifest is not in this store
    name = task.config.name if task is not None else None
    return TaskSnapshot(
        task_id,
        name,
        federation.registry.task(task_id),
        _history(federation, task_id, task, verify),
        task.config.valuation if task is not None else "",
        governance=_governance_summary(federation, task_id),
    )


def task_history(task: FederatedTask, *, verify: bool = False) -> list[RoundSummary]:
    """Every round of ``task`` with its commitments, votes, rewards and verification.

    ``verify=True`` recomputes each aggregate not yet verified (slower: one homomorphic sum
    per round); otherwise ``aggregate_verified`` is what was recorded (see
    :func:`aggregate_verified`).
    """
    return _history(task.federation, task.task_id, task, verify)


def aggregate_verified(
    federation: Federation,
    aggregate_digest: bytes | None,
    rejected: set[bytes],
    model_committed: bool = False,
) -> bool | None:
    """The one rule, from facts every kernel can read: rejected on-chain -> False; else the
    outcome recorded here (a recomputed sum); else True once the key holder committed a model
    for it (it decrypts only a sum that matched the committed updates, and rejects on-chain
    otherwise); else None (not checked yet)."""
    if aggregate_digest is None:
        return None
    if aggregate_digest in rejected:
        return False
    outcome = federation.verifications.outcome(aggregate_digest)
    if outcome is None and model_committed:
        return True
    return outcome


def _history(
    federation: Federation, task_id: int, task: FederatedTask | None, verify: bool
) -> list[RoundSummary]:
    registry = federation.registry
    names = federation.names_by_address()
    state = registry.task(task_id)
    claimed = _claimed_rewards(federation, task_id)
    votes = _votes(federation, task_id)
    rejected = _rejected_aggregates(federation, task_id)
    summaries = []
    for number in range(1, state.current_round + 1):
        round_state = registry.round(task_id, number)
        contributions = []
        table = (
            incentives.posted_rows(federation, task_id, number)
            if round_state.phase == RoundPhase.ACCEPTED
            else None
        )
        for commitment in registry.update_commitments(task_id, number):
            key = (number, commitment.participant.lower())
            reward = claimed.get(key)
            row = None if table is None else table.get(commitment.participant.lower())
            if reward is None and round_state.phase == RoundPhase.ACCEPTED:
                reward = incentives.pending_reward(
                    federation, task_id, number, commitment.participant, row
                )
            contributions.append(
                ContributionRecord(
                    participant=commitment.participant,
                    name=names.get(commitment.participant.lower()),
                    samples=commitment.samples,
                    update_digest=commitment.update_digest,
                    block_number=commitment.block_number,
                    gas_used=registry.gas_used(commitment.tx_hash, task_id),
                    reward=reward,
                    claimed=key in claimed,
                    valuation=row,
                )
            )
        digest = round_state.aggregate_digest
        if (
            verify
            and digest is not None
            and digest not in rejected
            and task is not None
            and federation.verifications.outcome(digest) is None
        ):
            # Recomputes the sum here and records the outcome; updates pruned once verified
            # here (retention.py) cannot be summed again: the record of it was lost since.
            with suppress(BlobPrunedError):
                task.verify_round(number)
        verified = aggregate_verified(
            federation, digest, rejected, round_state.model_digest is not None
        )
        summaries.append(
            RoundSummary(
                task_id=task_id,
                round=number,
                phase=round_state.phase,
                commit_count=round_state.commit_count,
                total_samples=round_state.total_samples,
                min_participants=state.params.min_participants,
                accept_votes=round_state.accept_votes,
                reject_votes=round_state.reject_votes,
                validator_quorum=state.params.validator_quorum,
                aggregate_digest=digest,
                model_digest=round_state.model_digest,
                aggregate_verified=verified,
                contributions=contributions,
                votes=[
                    {**vote, "name": names.get(vote["validator"].lower())}
                    for vote in votes.get(number, [])
                ],
                round_key=None if task is None else round_keys.round_key(task, number),
            )
        )
    return summaries


def _claimed_rewards(federation: Federation, task_id: int) -> dict[tuple[int, str], int]:
    logs = federation.registry.event_logs("RewardClaimed", taskId=task_id)
    return {
        (int(log["args"]["round"]), str(log["args"]["participant"]).lower()): int(
            log["args"]["amount"]
        )
        for log in logs
    }


def _rejected_aggregates(federation: Federation, task_id: int) -> set[bytes]:
    """Aggregates the key holder found not to be the sum of the committed updates."""
    logs = federation.registry.event_logs("AggregateRejected", taskId=task_id)
    return {bytes(log["args"]["aggregateDigest"]) for log in logs}


def _votes(federation: Federation, task_id: int) -> dict[int, list[dict[str, Any]]]:
    logs = federation.registry.event_logs("VoteCast", taskId=task_id)
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


def _governance_summary(federation: Federation, task_id: int) -> GovernanceSummary | None:
    """The task's governed rules and proposals (nothing is read in a deployment without
    governance contracts)."""
    contracts = governance.contracts(federation)
    if contracts is None or not contracts.has_rules(task_id):
        return None
    latest, from_round = contracts.latest_rules(task_id)
    proposals = [
        ProposalSummary(
            number=proposal.number,
            description=proposal.description,
            state=proposal.state.label,
            changes=governance.describe_changes(proposal.changes),
            votes_for=proposal.votes_for,
            votes_against=proposal.votes_against,
            votes_abstain=proposal.votes_abstain,
            quorum=proposal.quorum,
        )
        for proposal in contracts.proposals(task_id)
    ]
    return GovernanceSummary(governance.describe(latest), from_round, proposals)
