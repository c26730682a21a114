"""The engine's ledger snapshot as tables: rows, HTML and DataFrames.

Formatting only: every fact comes from a :class:`~fedchain_magics.engine.LedgerSnapshot`
(token amounts are worded by its ``TokenInfo``); nothing here needs IPython, and pandas is
imported only by ``to_dataframe()``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from eth_utils import to_checksum_address

from ..engine import LedgerSnapshot, read_snapshot
from ..engine.explain import rule_texts
from ..engine.federation import AccountBalance
from . import _html

if TYPE_CHECKING:
    import pandas

    from ..engine import Federation

LEDGER_COLUMNS = (
    "task",
    "round",
    "phase",
    "participant",
    "address",
    "samples",
    "update_digest",
    "gas",
    "block",
    "aggregate_verified",
    "reward",
    "claimed",
    "group",
    "group_score",
    "standing",
    "share",
    "why",
)
"""The last five explain a valued task's payout (None for a task paying by samples)."""
ROUND_COLUMNS = (
    "task",
    "round",
    "phase",
    "commitments",
    "min_participants",
    "total_samples",
    "accept_votes",
    "reject_votes",
    "validator_quorum",
    "validator_metric",
    "aggregate_verified",
    "aggregate_digest",
    "model_digest",
)
BALANCE_COLUMNS = ("name", "address", "balance")
STAKE_COLUMNS = ("task", "name", "address", "role", "staked", "slashed", "refunded", "pool_share",
                 "last_change")  # fmt: skip
PROPOSAL_COLUMNS = ("task", "number", "description", "state", "changes", "votes_for",
                    "votes_against", "votes_abstain", "quorum", "from_round")  # fmt: skip


class _Table:
    columns: tuple[str, ...] = ()

    def __init__(self, rows: list[dict[str, Any]], *, caption: str, symbol: str) -> None:
        self.rows = rows
        self.caption = caption
        self.symbol = symbol

    def __len__(self) -> int:
        return len(self.rows)

    def to_dataframe(self) -> pandas.DataFrame:
        import pandas

        return pandas.DataFrame(self.rows, columns=list(self.columns))

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.caption}, {len(self)} rows>"


class LedgerTable(_Table):
    """One row per (task, round, participant) contribution (a valued task's with why it was
    paid what it was paid), plus ``rounds``: one summary per round (commitments vs minimum,
    votes vs quorum, aggregate verification), ``stakes``: one row per party's stake (what it
    lost and why, what came back) and ``proposals``: one row per governance proposal."""

    columns = LEDGER_COLUMNS

    def __init__(
        self,
        rows: list[dict[str, Any]],
        rounds: list[dict[str, Any]],
        *,
        caption: str,
        symbol: str,
        stakes: list[dict[str, Any]] | None = None,
        proposals: list[dict[str, Any]] | None = None,
        notes: dict[int, dict[str, str]] | None = None,
    ) -> None:
        super().__init__(rows, caption=caption, symbol=symbol)
        self.rounds = rounds
        self.stakes = stakes or []
        self.proposals = proposals or []
        self.notes = notes or {}
        """Per task, one line of its stake rules (``stakes``) and governed rules (``rules``)."""

    def rounds_dataframe(self) -> pandas.DataFrame:
        import pandas

        return pandas.DataFrame(self.rounds, columns=list(ROUND_COLUMNS))

    def stakes_dataframe(self) -> pandas.DataFrame:
        import pandas

        return pandas.DataFrame(self.stakes, columns=list(STAKE_COLUMNS))

    def proposals_dataframe(self) -> pandas.DataFrame:
        import pandas

        return pandas.DataFrame(self.proposals, columns=list(PROPOSAL_COLUMNS))

    def _repr_html_(self) -> str:
        html = _html.ledger_html(self.rows, self.rounds, caption=self.caption, symbol=self.symbol)
        return html + _html.incentives_html(
            self.stakes, self.proposals, self.notes, symbol=self.symbol
        )


class BalanceTable(_Table):
    """One row per account of this workspace, largest reward-token balance first."""

    columns = BALANCE_COLUMNS

    def _repr_html_(self) -> str:
        return _html.balance_html(self.rows, caption=self.caption, symbol=self.symbol)

    def chart_svg(self) -> str:
        """The balances as an inline SVG bar chart."""
        return _html.balance_chart_svg(self.rows, title=self.caption, symbol=self.symbol)


def ledger_table(
    source: Federation | LedgerSnapshot, task_id: int | None = None, *, verify: bool = False
) -> LedgerTable:
    """The ledger round by round: one row per contribution, one summary per round.

    ``source`` is a federation (read now, ``task_id`` or every task; ``verify=True`` recomputes
    aggregates never verified) or a snapshot already read.
    """
    snapshot = _snapshot(source, task_id, verify=verify)
    rows: list[dict[str, Any]] = []
    rounds: list[dict[str, Any]] = []
    token = snapshot.token
    for task in snapshot.tasks:
        for summary in task.rounds:
            verified = summary.aggregate_verified
            rounds.append(
                {
                    "task": summary.task_id,
                    "round": summary.round,
                    "phase": summary.phase.label,
                    "commitments": summary.commit_count,
                    "min_participants": summary.min_participants,
                    "total_samples": summary.total_samples,
                    "accept_votes": summary.accept_votes,
                    "reject_votes": summary.reject_votes,
                    "validator_quorum": summary.validator_quorum,
                    "validator_metric": _mean_metric(summary.votes),
                    "aggregate_verified": verified,
                    "aggregate_digest": _hex(summary.aggregate_digest),
                    "model_digest": _hex(summary.model_digest),
                }
            )
            for contribution in summary.contributions:
                reward = contribution.reward
                payout = contribution.payout
                rows.append(
                    {
                        "task": summary.task_id,
                        "round": summary.round,
                        "phase": summary.phase.label,
                        "participant": contribution.name,
                        "address": contribution.participant,
                        "samples": contribution.samples,
                        "update_digest": _hex(contribution.update_digest),
                        "gas": contribution.gas_used,
                        "block": contribution.block_number,
                        "aggregate_verified": verified,
                        "reward": None if reward is None else reward / 10**token.decimals,
                        "reward_text": None if reward is None else token.format(reward),
                        "claimed": contribution.claimed,
                        "group": None if payout is None else payout.group,
                        "group_score": None if payout is None else payout.score,
                        "standing": None if payout is None else payout.standing,
                        "share": None if payout is None else payout.share,
                        "why": None if payout is None else payout.why,
                    }
                )
    stakes, proposals, notes = _incentive_rows(snapshot)
    if len(snapshot.tasks) == 1:
        only = snapshot.tasks[0]
        masked = " (masked: no single update can be decrypted)" if only.state.params.masked else ""
        scope = f"task {only.task_id}{masked}"
    else:
        scope = _all_tasks_text(len(snapshot.tasks))
    network = snapshot.network
    caption = f"Ledger · {scope} · {network.name} · block {network.block_number:,}"
    return LedgerTable(
        rows, rounds, caption=caption, symbol=token.symbol, stakes=stakes, proposals=proposals,
        notes=notes,
    )  # fmt: skip


def _incentive_rows(
    snapshot: LedgerSnapshot,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[int, dict[str, str]]]:
    """Each task's stakes and proposals as rows, and one line of its rules per task."""
    token = snapshot.token
    stakes: list[dict[str, Any]] = []
    proposals: list[dict[str, Any]] = []
    notes: dict[int, dict[str, str]] = {}
    for task in snapshot.tasks:
        note = notes.setdefault(task.task_id, {})
        if task.stakes is not None:
            summary = task.stakes
            note["stakes"] = (
                f"{token.text(summary.required_stake)} a party; an offence takes "
                f"{summary.slash:.0%} of what is left; slashed below standing "
                f"{summary.min_standing:.2f}"
            )
            for party in summary.parties:
                last = party.last_change
                stakes.append(
                    {
                        "task": task.task_id,
                        "name": party.name,
                        "address": party.party,
                        "role": party.role,
                        "staked": party.staked / 10**token.decimals,
                        "slashed": party.slashed / 10**token.decimals,
                        "refunded": party.refunded / 10**token.decimals,
                        "pool_share": party.pool_share / 10**token.decimals,
                        "last_change": None if last is None else last.text(token),
                        "staked_text": token.format(party.staked),
                        "slashed_text": token.format(party.slashed),
                        "refunded_text": token.format(party.refunded),
                        "pool_share_text": token.format(party.pool_share),
                    }
                )
        if task.governance is not None:
            governance = task.governance
            rules = " · ".join(
                f"{rule} {value}" for rule, value in rule_texts(governance.rules, token)
            )
            note["rules"] = f"rules from round {governance.from_round}: {rules}"
            for proposal in governance.proposals:
                proposals.append(
                    {
                        "task": task.task_id,
                        "number": proposal.number,
                        "description": proposal.description,
                        "state": proposal.state,
                        "changes": ", ".join(
                            f"{rule} {value}" for rule, value in rule_texts(proposal.changes, token)
                        ),
                        "votes_for": proposal.votes_for / 10**token.decimals,
                        "votes_against": proposal.votes_against / 10**token.decimals,
                        "votes_abstain": proposal.votes_abstain / 10**token.decimals,
                        "quorum": None
                        if proposal.quorum is None
                        else proposal.quorum / 10**token.decimals,
                        "from_round": proposal.from_round,
                        "votes_text": (
                            f"{token.format(proposal.votes_for)} for, "
                            f"{token.format(proposal.votes_against)} against, "
                            f"{token.format(proposal.votes_abstain)} abstain"
                        ),
                        "quorum_text": None
                        if proposal.quorum is None
                        else token.format(proposal.quorum),
                        "quorum_met": None
                        if proposal.quorum is None
                        else proposal.votes_for + proposal.votes_abstain >= proposal.quorum,
                    }
                )
    return stakes, proposals, notes


def balance_table(source: Federation | LedgerSnapshot, task_id: int | None = None) -> BalanceTable:
    """Reward-token balances of every account this workspace knows, largest first; with
    ``task_id``, only the accounts that contributed to that task."""
    if task_id is None:
        snapshot = _snapshot(source, None, only_balances=True)
    else:
        snapshot = _snapshot(source, task_id)
        contributors = {
            record.participant.lower(): record.name
            for task in snapshot.tasks
            for summary in task.rounds
            for record in summary.contributions
        }
        balances = [row for row in snapshot.balances if row.address.lower() in contributors]
        known = {row.address.lower() for row in balances}
        if not isinstance(source, LedgerSnapshot):  # other kernels' parties: read them too
            balances += [
                AccountBalance(name, address, source.registry.token_balance(address))
                for address, name in contributors.items()
                if address not in known
            ]
        snapshot = replace(snapshot, balances=balances)
    token = snapshot.token
    rows = [
        {
            "name": account.name,
            "address": to_checksum_address(account.address),
            "balance": account.balance / 10**token.decimals,
            "balance_text": token.format(account.balance),
        }
        for account in sorted(
            snapshot.balances, key=lambda account: (-account.balance, account.name or "")
        )
    ]
    scope = "" if task_id is None else f" · task {task_id}'s contributors"
    caption = f"Reward balances ({token.symbol}){scope} · block {snapshot.network.block_number:,}"
    return BalanceTable(rows, caption=caption, symbol=token.symbol)


def _snapshot(
    source: Federation | LedgerSnapshot,
    task_id: int | None,
    *,
    verify: bool = False,
    only_balances: bool = False,
) -> LedgerSnapshot:
    if isinstance(source, LedgerSnapshot):
        if task_id is None:
            return source
        return replace(source, tasks=[task for task in source.tasks if task.task_id == task_id])
    if only_balances:
        return read_snapshot(source, [])
    if task_id is not None:
        source.task(task_id)  # an unknown task: the engine's error, with its next step
    return read_snapshot(source, None if task_id is None else [task_id], verify=verify)


def _all_tasks_text(count: int) -> str:
    if count == 0:
        return "no tasks yet"
    return "1 task" if count == 1 else f"{count} tasks"


def _hex(digest: bytes | None) -> str | None:
    return None if digest is None else "0x" + digest.hex()


def _mean_metric(votes: list[dict[str, Any]]) -> float | None:
    """The validators' mean metric of a round's model (None before any vote)."""
    metrics = [float(vote["metric"]) for vote in votes]
    return sum(metrics) / len(metrics) if metrics else None
