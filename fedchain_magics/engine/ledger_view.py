"""The one read model of the ledger: what every view shows, built from on-chain facts, the blob
store and this workspace's verification record.

Widgets, ``%fedledger``, ``%fedtask show``, ``%fedrewards`` and the sidebar only *format* a
:class:`LedgerSnapshot` (or a task's :func:`task_history`); none reads the chain itself. So a
fact is derived once: whether an aggregate is verified (:func:`aggregate_verified`), what a
contribution earned, what a token amount is (``TokenInfo``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..chain import RoundKey, RoundPhase, TaskState
from ..chain.stakes import StakesContract
from ..storage import BlobPrunedError, StorageError
from . import governance, incentives, round_keys, valuation
from .explain import PartyStake, PayoutExplanation, StakeChange, StakesSummary, slash_reason
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
    payout: PayoutExplanation | None = None
    """The same row read as an explanation (group, score, standing, share and why); None
    exactly when ``valuation`` is."""


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
    from_round: int | None = None
    """The first round an executed proposal's changes apply to; None until it executed."""


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
    privacy: str = "off"
    """Who can read one party's update: "off" (encrypted: the key holder could decrypt one),
    "masked" (pairwise masks: no one), "research" (plaintext); from the manifest, else
    "masked" when the chain says so, else ""."""
    governance: GovernanceSummary | None = None
    """The task's governed rules and proposals; None for a task not under governance."""
    stakes: StakesSummary | None = None
    """The task's stake rules and each party's stake with its changes (staked, slashed and
    why, withdrawn, dispute bonds); None for a task without stakes."""

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
        """Rewards owed to this workspace's accounts and not yet claimed: accepted rounds', and
        a scored task's rejected rounds' (their tables pay the groups that helped)."""
        return [
            UnclaimedReward(task.task_id, summary.round, record.name, record.reward)
            for task in self.tasks
            for summary in task.rounds
            if summary.phase in (RoundPhase.ACCEPTED, RoundPhase.REJECTED)
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
    rounds = _history(federation, task_id, task, verify)
    state = federation.registry.task(task_id)
    return TaskSnapshot(
        task_id,
        name,
        state,
        rounds,
        task.config.valuation if task is not None else "",
        privacy=_privacy(task, state),
        governance=_governance_summary(federation, task_id),
        stakes=_stakes_summary(federation, task_id, rounds),
    )


def _privacy(task: FederatedTask | None, state: TaskState) -> str:
    if task is not None:
        return task.config.privacy
    return "masked" if state.params.masked else ""  # no manifest: the chain knows masked only


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
        paying = incentives.round_pays(federation, task_id, round_state.phase)
        table = incentives.posted_rows(federation, task_id, number) if paying else None
        paid_from = _min_standing_of(task, number, table)
        for commitment in registry.update_commitments(task_id, number):
            key = (number, commitment.participant.lower())
            reward = claimed.get(key)
            row = None if table is None else table.get(commitment.participant.lower())
            if reward is None and paying:
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
                    payout=None if row is None else PayoutExplanation.from_row(row, paid_from),
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


def _min_standing_of(
    task: FederatedTask | None, round_number: int, table: dict[str, dict[str, Any]] | None
) -> float | None:
    """The standing a valued round paid from, for a table posted before its rows recorded it
    (None when every row has it, or without the task's manifest)."""
    if not table or task is None:
        return None
    if all("min_standing_ppm" in row for row in table.values()):
        return None
    return valuation.round_rules(task, round_number).min_standing


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
    found = contracts.proposals(task_id)
    executed = contracts.executed_from_rounds(task_id) if found else {}
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
            from_round=executed.get(proposal.proposal_id),
        )
        for proposal in found
    ]
    return GovernanceSummary(governance.describe(latest), from_round, proposals)


def _stakes_summary(
    federation: Federation, task_id: int, rounds: list[RoundSummary]
) -> StakesSummary | None:
    """The task's stake rules and every party's stake, from TaskStakes' logs: five log reads and
    the rules in force now per task, whatever its rounds; a low-standing slash names the standing
    of its round's posted row (already read with the round) and that round's threshold (read
    once per round with such a slash: governance may change it). None without stakes."""
    client = federation.stakes
    if client is None:
        return None
    deposits = client.deposits(task_id)
    now = max(rounds[-1].round if rounds else 1, 1)
    rules = client.stake_rules(task_id, now)  # the offence figures in force in this round
    if not rules.set and not deposits:
        return None
    names = federation.names_by_address()
    standings = {
        (summary.round, record.participant.lower()): record.payout.standing
        for summary in rounds
        for record in summary.contributions
        if record.payout is not None
    }
    thresholds = {now: rules.min_standing_ppm / 1_000_000}

    def threshold(round_number: int) -> float:
        if round_number not in thresholds:
            in_force = client.stake_rules(task_id, round_number).min_standing_ppm
            thresholds[round_number] = in_force / 1_000_000
        return thresholds[round_number]

    parties: dict[str, _StakeLedger] = {}

    def party(address: str, role: str = "") -> _StakeLedger:
        key = address.lower()
        if key not in parties:
            parties[key] = _StakeLedger(address, names.get(key), role)
        return parties[key]

    for deposit in deposits:
        role = deposit.role.name.lower().replace("_", " ")
        entry = party(deposit.party, role)
        entry.role, entry.staked = role, entry.staked + deposit.amount
        entry.add(
            "staked",
            deposit.amount,
            deposit.covers_from_round,
            f"{role} stake",
            deposit.block_number,
        )
    for slash in client.slashes(task_id):
        entry = party(slash.party)
        entry.slashed += slash.amount
        standing = standings.get((slash.round_number, slash.party.lower()))
        low = slash.offence.label == "low standing"
        limit = threshold(slash.round_number) if low else None
        reason = slash_reason(slash.offence.label, standing, limit)
        entry.add("slashed", slash.amount, slash.round_number, reason, slash.block_number)
    for withdrawal in client.withdrawals(task_id):
        entry = party(withdrawal.party)
        entry.withdrawn, entry.pool_share = True, withdrawal.pool_share
        entry.refunded += withdrawal.returned
        entry.add("withdrawn", withdrawal.returned, None, "task ended", withdrawal.block_number)
    _add_bonds(client, task_id, party)
    return StakesSummary(
        required_stake=rules.required_stake,
        role_stake=rules.role_stake,
        slash=rules.slash_ppm / 1_000_000,
        min_standing=thresholds[now],
        dispute_bond=rules.dispute_bond,
        parties=[entry.freeze() for entry in parties.values()],
    )


def _add_bonds(client: StakesContract, task_id: int, party: Callable[[str], _StakeLedger]) -> None:
    """Each dispute's bond: posted by its opener, refunded (upheld, lapsed) or lost (dismissed:
    shared among the task's honest stakers)."""
    for dispute in client.disputes(task_id):
        if dispute.bond == 0:
            continue
        entry = party(dispute.opener)
        number = dispute.round_number
        entry.add("bond posted", dispute.bond, number, "disputed the round", dispute.opened_block)
        if dispute.resolved_block is None:
            continue
        state = dispute.state.label
        if dispute.bond_refunded:
            entry.refunded += dispute.bond
            entry.add(
                "bond refunded", dispute.bond, number, f"dispute {state}", dispute.resolved_block
            )
        else:
            entry.add("bond lost", dispute.bond, number, f"dispute {state}", dispute.resolved_block)


@dataclass
class _StakeLedger:
    """One party's stake while it is read (frozen into a :class:`PartyStake`)."""

    party: str
    name: str | None
    role: str
    staked: int = 0
    slashed: int = 0
    refunded: int = 0
    pool_share: int = 0
    withdrawn: bool = False
    changes: list[StakeChange] = field(default_factory=list)

    def add(
        self, kind: str, amount: int, round_number: int | None, reason: str, block: int
    ) -> None:
        self.changes.append(StakeChange(kind, amount, round_number, reason, block))

    def freeze(self) -> PartyStake:
        changes = sorted(self.changes, key=lambda change: change.block_number)  # stable
        return PartyStake(
            party=self.party,
            name=self.name,
            role=self.role or "no stake",
            staked=self.staked,
            slashed=self.slashed,
            refunded=self.refunded,
            pool_share=self.pool_share,
            withdrawn=self.withdrawn,
            changes=changes,
        )
