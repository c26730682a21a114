"""The sidebar's ``State`` (see ``message_schema.json``) from the engine's read model.

Formatting only: every fact comes from a :class:`~fedchain_magics.engine.LedgerSnapshot`.
Amounts in token base units travel as decimal strings (they exceed 2**53) and the sidebar words
them by the same rule as the notebook (``engine/tokens.py``); digests and hashes travel as
``0x`` hex, everything else as ints, strings, booleans or null.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ..engine import RoundPhase
from ..engine.explain import rule_texts

if TYPE_CHECKING:
    from ..engine import LedgerEvent, LedgerSnapshot, RoundSummary, TaskSnapshot, TokenInfo
    from ..engine.explain import PartyStake, PayoutExplanation, StakeChange, StakesSummary
    from ..engine.ledger_view import ContributionRecord, GovernanceSummary, ProposalSummary

MAX_EVENTS = 50
"""The schema's ``maxItems`` for ``state.events``."""

_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_DIGEST = re.compile(r"^0x[0-9a-fA-F]{64}$")

JsonDict = dict[str, Any]


def empty_state() -> JsonDict:
    """The state of a kernel with no ledger open yet (before ``%fedchain start``).

    ``connected`` is false and ``chain_id`` is 0 (no real chain has id 0), which the sidebar
    reads as "no ledger open" rather than "the node does not answer".
    """
    return {
        "network": {
            "name": "",
            "chain_id": 0,
            "block_number": 0,
            "embedded": False,
            "ledger_dir": None,
            "url": None,
            "connected": False,
            "reopen_command": None,
        },
        "tasks": [],
        "balances": [],
        "events": [],
        "token_symbol": "",
        "token_decimals": 0,
    }


def build_state(snapshot: LedgerSnapshot, events: Iterable[JsonDict] = ()) -> JsonDict:
    """Everything the sidebar shows of ``snapshot``; ``events`` are already-converted ledger
    events (oldest first; the last ``MAX_EVENTS`` are kept)."""
    network, token = snapshot.network, snapshot.token
    return {
        "network": {
            "name": network.name,
            "chain_id": network.chain_id,
            "block_number": network.block_number,
            "embedded": network.embedded,
            "ledger_dir": network.workspace,
            "url": network.url,
            "connected": True,
            "reopen_command": None,
        },
        "tasks": [_task(task, token) for task in snapshot.tasks],
        "balances": [
            {
                "account": row.address,
                "name": row.name,
                "balance": str(row.balance),
                "balance_tokens": row.balance / 10**token.decimals,
            }
            for row in snapshot.balances
        ],
        "events": list(events)[-MAX_EVENTS:],
        "token_symbol": token.symbol,
        "token_decimals": token.decimals,
    }


def closed_state(last_state: JsonDict | None, reopen_command: str) -> JsonDict:
    """What the sidebar shows once the kernel closed its ledger (``%fedchain stop``): the last
    state read from it, not connected, with the magic that opens it again (``reopen_command``).
    Without a state read before (no sidebar followed the ledger), only the command."""
    state = last_state if last_state is not None else empty_state()
    return {
        **state,
        "network": {**state["network"], "connected": False, "reopen_command": reopen_command},
    }


def event_json(event: LedgerEvent) -> JsonDict:
    """A :class:`LedgerEvent` as the schema's ``ledger_event`` (its ``data`` stays behind)."""
    return {
        "kind": event.kind,
        "block_number": int(event.block_number),
        "task_id": _optional_int(event.task_id),
        "round": _optional_int(event.round),
        "account": event.account if event.account and _ADDRESS.match(event.account) else None,
        "summary": event.summary,
        "tx_hash": event.tx_hash if event.tx_hash and _DIGEST.match(event.tx_hash) else None,
        "gas_used": _optional_int(event.gas_used),
    }


def _task(task: TaskSnapshot, token: TokenInfo) -> JsonDict:
    state = task.state
    params = state.params
    return {
        "task_id": task.task_id,
        "name": task.name,
        "coordinator": state.coordinator,
        "participant_count": state.participant_count,
        "validator_count": state.validator_count,
        "min_participants": params.min_participants,
        "max_rounds": params.max_rounds,
        "validator_quorum": params.validator_quorum,
        "reward_per_round": str(params.reward_per_round),
        "current_round": state.current_round,
        "current_model_digest": _hex(state.current_model_digest),
        "rounds": [_round(summary) for summary in task.rounds if summary.phase != RoundPhase.NONE],
        "valuation": task.valuation,
        "privacy": task.privacy,
        "stakes": None if task.stakes is None else _stakes(task.stakes),
        "governance": None if task.governance is None else _governance(task.governance, token),
    }


def _round(summary: RoundSummary) -> JsonDict:
    return {
        "round": summary.round,
        "phase": summary.phase.label,
        "commit_count": summary.commit_count,
        "total_samples": summary.total_samples,
        "accept_votes": summary.accept_votes,
        "reject_votes": summary.reject_votes,
        "aggregate_digest": _optional_hex(summary.aggregate_digest),
        "model_digest": _optional_hex(summary.model_digest),
        "aggregate_verified": summary.aggregate_verified,
        "contributions": [_contribution(record) for record in summary.contributions],
    }


def _contribution(record: ContributionRecord) -> JsonDict:
    return {
        "participant": record.participant,
        "name": record.name,
        "samples": record.samples,
        "update_digest": _hex(record.update_digest),
        "block_number": record.block_number,
        "gas_used": _optional_int(record.gas_used),
        "reward": None if record.reward is None else str(record.reward),
        "claimed": record.claimed,
        "payout": None if record.payout is None else _payout(record.payout),
    }


def _payout(payout: PayoutExplanation) -> JsonDict:
    return {
        "group": payout.group,
        "group_number": payout.group_number,
        "group_score": _finite(payout.score) or 0.0,
        "group_value": _finite(payout.group_value),
        "median_value": _finite(payout.median_value),
        "standing": max(_finite(payout.standing) or 0.0, 0.0),
        "min_standing": _finite(payout.min_standing),
        "share_ppm": round(payout.share * 1_000_000),
        "capped_samples": _finite(payout.capped_samples),
        "rounds": payout.rounds,
        "paid": payout.paid,
        "reason": payout.reason,
        "why": payout.why,
    }


def _stakes(stakes: StakesSummary) -> JsonDict:
    return {
        "required_stake": str(stakes.required_stake),
        "role_stake": str(stakes.role_stake),
        "slash": stakes.slash,
        "min_standing": stakes.min_standing,
        "dispute_bond": str(stakes.dispute_bond),
        "parties": [_party_stake(party) for party in stakes.parties],
    }


def _party_stake(party: PartyStake) -> JsonDict:
    last = party.last_change
    return {
        "account": party.party,
        "name": party.name,
        "role": party.role,
        "staked": str(party.staked),
        "slashed": str(party.slashed),
        "refunded": str(party.refunded),
        "pool_share": str(party.pool_share),
        "withdrawn": party.withdrawn,
        "change_count": len(party.changes),
        "last_change": None if last is None else _stake_change(last),
    }


def _stake_change(change: StakeChange) -> JsonDict:
    return {
        "kind": change.kind,
        "amount": str(change.amount),
        "round": change.round,
        "reason": change.reason,
        "block_number": change.block_number,
    }


def _governance(summary: GovernanceSummary, token: TokenInfo) -> JsonDict:
    return {
        "rules": _rules(summary.rules, token),
        "from_round": summary.from_round,
        "proposals": [_proposal(proposal, token) for proposal in summary.proposals],
    }


def _proposal(proposal: ProposalSummary, token: TokenInfo) -> JsonDict:
    return {
        "number": proposal.number,
        "description": proposal.description,
        "state": proposal.state,
        "changes": _rules(proposal.changes, token),
        "votes_for": str(proposal.votes_for),
        "votes_against": str(proposal.votes_against),
        "votes_abstain": str(proposal.votes_abstain),
        "quorum": None if proposal.quorum is None else str(proposal.quorum),
        "from_round": proposal.from_round,
    }


def _rules(rules: Mapping[str, Any], token: TokenInfo) -> list[JsonDict]:
    return [{"rule": rule, "value": value} for rule, value in rule_texts(rules, token)]


def _finite(value: float | None) -> float | None:
    """A float JSON can carry (no NaN or infinity), else None."""
    return None if value is None or not math.isfinite(value) else float(value)


def _hex(digest: bytes) -> str:
    return "0x" + bytes(digest).hex()


def _optional_hex(digest: bytes | None) -> str | None:
    return None if digest is None else _hex(digest)


def _optional_int(value: int | None) -> int | None:
    return None if value is None else int(value)
