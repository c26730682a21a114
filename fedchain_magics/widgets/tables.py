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
)
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
    """One row per (task, round, participant) contribution, plus ``rounds``: one summary per
    round (commitments vs minimum, votes vs quorum, aggregate verification)."""

    columns = LEDGER_COLUMNS

    def __init__(
        self,
        rows: list[dict[str, Any]],
        rounds: list[dict[str, Any]],
        *,
        caption: str,
        symbol: str,
    ) -> None:
        super().__init__(rows, caption=caption, symbol=symbol)
        self.rounds = rounds

    def rounds_dataframe(self) -> pandas.DataFrame:
        import pandas

        return pandas.DataFrame(self.rounds, columns=list(ROUND_COLUMNS))

    def _repr_html_(self) -> str:
        return _html.ledger_html(self.rows, self.rounds, caption=self.caption, symbol=self.symbol)


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
                    }
                )
    if len(snapshot.tasks) == 1:
        only = snapshot.tasks[0]
        masked = " (masked: no single update can be decrypted)" if only.state.params.masked else ""
        scope = f"task {only.task_id}{masked}"
    else:
        scope = _all_tasks_text(len(snapshot.tasks))
    network = snapshot.network
    caption = f"Ledger · {scope} · {network.name} · block {network.block_number:,}"
    return LedgerTable(rows, rounds, caption=caption, symbol=token.symbol)


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
