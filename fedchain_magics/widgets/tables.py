"""Snapshots of the ledger and of the reward balances, as rows, HTML and DataFrames.

Everything is read through the ``Federation``'s public API; nothing here needs IPython, and
pandas is imported only by ``to_dataframe()``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from eth_utils import to_checksum_address

from ..engine import TOKEN_UNIT
from ..engine.ledger_view import task_history
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
    "aggregate_verified",
    "aggregate_digest",
    "model_digest",
)
BALANCE_COLUMNS = ("name", "address", "balance")

Verifications = Mapping[tuple[int, int], bool]


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
    federation: Federation,
    task_id: int | None = None,
    *,
    verify: bool = False,
    verifications: Verifications | None = None,
) -> LedgerTable:
    """What the ledger records for ``task_id`` (every task if None), round by round.

    ``verify=True`` recomputes every round's encrypted sum to fill ``aggregate_verified``
    (one homomorphic sum per round); otherwise it comes from ``verifications`` (results this
    kernel already saw, keyed by ``(task, round)``) and from aggregates the key holder rejected
    on-chain, and is None where unknown.
    """
    task_ids = [task_id] if task_id is not None else _task_ids(federation)
    rows: list[dict[str, Any]] = []
    rounds: list[dict[str, Any]] = []
    known = dict(verifications or {})
    for number in task_ids:
        task = federation.task(number)  # raises UnknownTaskError with a hint
        for key in _rejected_aggregates(federation, number):
            known.setdefault(key, False)
        for summary in task_history(task, verify=verify):
            verified = summary.aggregate_verified
            if verified is None:
                verified = known.get((summary.task_id, summary.round))
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
                    "aggregate_verified": verified,
                    "aggregate_digest": _hex(summary.aggregate_digest),
                    "model_digest": _hex(summary.model_digest),
                }
            )
            for contribution in summary.contributions:
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
                        "reward": _tokens(contribution.reward),
                        "claimed": contribution.claimed,
                    }
                )
    scope = f"task {task_id}" if task_id is not None else _all_tasks_text(len(task_ids))
    caption = (
        f"Ledger · {scope} · {federation.ledger.network_name} "
        f"· block {federation.ledger.block_number():,}"
    )
    return LedgerTable(rows, rounds, caption=caption, symbol=_symbol(federation))


def balance_table(federation: Federation) -> BalanceTable:
    """Reward-token balances of every account this workspace knows, largest first."""
    rows = [
        {
            "name": account.name,
            "address": to_checksum_address(account.address),
            "balance": account.balance / TOKEN_UNIT,
        }
        for account in sorted(
            federation.balances(), key=lambda account: (-account.balance, account.name or "")
        )
    ]
    symbol = _symbol(federation)
    caption = f"Reward balances ({symbol}) · block {federation.ledger.block_number():,}"
    return BalanceTable(rows, caption=caption, symbol=symbol)


def _task_ids(federation: Federation) -> list[int]:
    return [state.task_id for state in federation.tasks()]


def _all_tasks_text(count: int) -> str:
    if count == 0:
        return "no tasks yet"
    return "1 task" if count == 1 else f"{count} tasks"


def _rejected_aggregates(federation: Federation, task_id: int) -> list[tuple[int, int]]:
    """Rounds whose aggregate the key holder found not to be the sum of the updates."""
    registry = federation.registry
    logs = registry.event_logs("AggregateRejected", taskId=task_id)
    return [(int(log["args"]["taskId"]), int(log["args"]["round"])) for log in logs]


def _symbol(federation: Federation) -> str:
    try:
        return str(federation.registry.token_symbol())
    except Exception:  # a token without symbol(): still show the balances
        return "tokens"


def _tokens(units: int | None) -> float | None:
    return None if units is None else units / TOKEN_UNIT


def _hex(digest: bytes | None) -> str | None:
    return None if digest is None else "0x" + digest.hex()
