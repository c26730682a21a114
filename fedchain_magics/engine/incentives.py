"""Incentives of a task: score tables on-chain, stakes, slashing and disputes, by account name.

A scored task's round pays each contributor ``rewardPerRound x share_ppm / 1e6`` once its row of
the round's score table is proven against the root the coordinator posted. The table is a JSON
blob in the blob store (its sha256 is posted with the root), so anyone rebuilds the tree from it:

    {"task": 1, "round": 2, "entries": [{"participant": "0x..", "share_ppm": 250000,
     "standing_ppm": 1000000, "group": 0, "score": 0.12}, ...]}

Stakes are in the reward token; slashed tokens go to the task's stakers that were never slashed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from eth_utils import to_checksum_address
from web3.logs import DISCARD

from ..chain import ContractRevertError, RoundPhase, TransactionResult
from ..chain.scores import ScoreEntry, ScoresContract, score_tree
from ..chain.stakes import DisputeState, Offence, StakesContract, StakeSummary
from .errors import InvalidInputError, step

if TYPE_CHECKING:
    from .federation import Federation

__all__ = [
    "PostedScoreTable",
    "StakeRow",
    "cancel_stalled_round",
    "close_dispute",
    "dispute",
    "enable_scoring",
    "load_score_table",
    "post_score_table",
    "prove_share",
    "record_round_roles",
    "set_stakes",
    "slash_low_standing",
    "slash_missed_round",
    "slash_silent_role",
    "stake",
    "stake_rows",
    "vote_on_dispute",
    "withdraw_stake",
]


class IncentivesUnavailableError(InvalidInputError):
    """The deployment predates scores and stakes (its deployment.json has no TaskStakes)."""


@dataclass(frozen=True)
class PostedScoreTable:
    """A round's score table read back from the blob store (the one ``valuation.ScoreTable``
    wrote and the reward policy's root covers), with its rows as Merkle leaves to prove."""

    task_id: int
    round_number: int
    entries: list[ScoreEntry]
    rows: list[dict[str, Any]]
    """The stored rows, with whatever else the valuation recorded (group, score)."""
    history: list[dict[str, Any]] | None = None
    """The valuation's group observations up to this round (None in a table without them)."""

    def entry_of(self, participant: str) -> tuple[int, ScoreEntry] | None:
        address = to_checksum_address(participant)
        for index, entry in enumerate(self.entries):
            if to_checksum_address(entry.participant) == address:
                return index, entry
        return None

    def proof(self, index: int) -> list[bytes]:
        return score_tree(self.entries).proof(index)


@dataclass(frozen=True)
class StakeRow:
    """One party's stake in a task, for the ledger view."""

    name: str | None
    address: str
    role: str
    staked: int
    slashed: int
    remaining: int
    withdrawn: int
    pool_share: int
    offences: list[str]
    """One ``"round N: offence"`` per slash, in chain order."""


# -- clients -------------------------------------------------------------------------------------


def scores_of(federation: Federation) -> ScoresContract:
    client = federation.scores
    if client is None:
        raise IncentivesUnavailableError(
            "this deployment has no ContributionRewardPolicy; scores need a fresh workspace "
            "(Federation.open() in a new directory deploys it)"
        )
    return client


def stakes_of(federation: Federation) -> StakesContract:
    client = federation.stakes
    if client is None:
        raise IncentivesUnavailableError(
            "this deployment has no TaskStakes; stakes need a fresh workspace "
            "(Federation.open() in a new directory deploys it)"
        )
    return client


def _coordinator(federation: Federation, task_id: int) -> Any:
    coordinator = federation.registry.task(task_id).coordinator
    name = federation.name_of(coordinator)
    if name is None:
        raise InvalidInputError(
            f"task {task_id}'s coordinator {coordinator} holds no key in this workspace; run "
            "this in the coordinator's notebook"
        )
    return federation.account(name)


# -- scores --------------------------------------------------------------------------------------


def enable_scoring(federation: Federation, task_id: int) -> TransactionResult:
    """The task's coordinator makes it pay by posted score tables (before round 1)."""
    return scores_of(federation).enable_scoring(_coordinator(federation, task_id), task_id)


def table_blob(
    task_id: int,
    round_number: int,
    rows: Sequence[Mapping[str, Any]],
    history: Sequence[Mapping[str, Any]] | None = None,
) -> bytes:
    """The canonical JSON blob of a score table (sorted keys, no spaces); ``history``, when
    given, is the valuation's observations its standings rest on."""
    table: dict[str, Any] = {
        "task": task_id,
        "round": round_number,
        "entries": [dict(row) for row in rows],
    }
    if history is not None:
        table["history"] = [dict(item) for item in history]
    return json.dumps(table, sort_keys=True, separators=(",", ":")).encode()


def post_score_table(
    federation: Federation,
    task_id: int,
    round_number: int,
    rows: Sequence[Mapping[str, Any]],
    history: Sequence[Mapping[str, Any]] | None = None,
) -> tuple[bytes, TransactionResult]:
    """Stores the round's score table blob and posts its root (the task's coordinator).

    ``rows`` are dicts with ``participant``, ``share_ppm``, ``standing_ppm`` (and anything else
    the valuation keeps: ``group``, ``score``). Returns the blob's digest and the transaction.
    """
    entries = [_entry(row) for row in rows]
    score_tree(entries)  # refuses a malformed table before anything is stored
    blob = table_blob(task_id, round_number, rows, history)
    digest = federation.store.put(blob)
    client = scores_of(federation)
    account = _coordinator(federation, task_id)
    return digest, client.post_scores(account, task_id, round_number, entries, digest)


def load_score_table(
    federation: Federation, task_id: int, round_number: int
) -> PostedScoreTable | None:
    """The round's posted score table, read from the blob whose digest is on-chain (None if the
    scores are not posted). Raises InvalidInputError when the blob does not match the root."""
    client = scores_of(federation)
    digest = client.score_table_digest(task_id, round_number)
    if digest == bytes(32):
        return None
    blob = federation.store.get(digest)
    if hashlib.sha256(blob).digest() != digest:
        raise InvalidInputError(
            f"the score table blob of task {task_id} round {round_number} is altered"
        )
    content = json.loads(blob)
    rows = list(content["entries"])
    entries = [_entry(row) for row in rows]
    if score_tree(entries).root != client.scores_root(task_id, round_number):
        raise InvalidInputError(
            f"the score table of task {task_id} round {round_number} does not match its posted "
            "root; dispute the round with %feddispute"
        )
    return PostedScoreTable(task_id, round_number, entries, rows, content.get("history"))


def prove_share(
    federation: Federation, task_id: int, round_number: int, party: str, *, by: str | None = None
) -> ScoreEntry | None:
    """Proves ``party``'s row of the round's posted table (sent by ``by``, default the party).

    Returns the proven row; None when the task is not scored or the party has no row. A row
    already proven is not proven again.
    """
    client = federation.scores
    if client is None or not client.is_scored(task_id):
        return None
    address = federation.address_of(party)
    proven = client.proven_share(task_id, round_number, address)
    if proven is not None:
        return proven
    table = load_score_table(federation, task_id, round_number)
    found = None if table is None else table.entry_of(address)
    if table is None or found is None:
        return None
    index, entry = found
    sender = federation.account(by or party)
    client.prove_share(sender, task_id, round_number, entry, table.proof(index))
    return entry


# -- stakes --------------------------------------------------------------------------------------


def set_stakes(
    federation: Federation,
    task_id: int,
    *,
    required: int,
    role: int = 0,
    slash_ppm: int = 0,
    min_standing_ppm: int = 0,
    dispute_bond: int = 0,
    dispute_window_blocks: int = 0,
) -> TransactionResult:
    """The task's coordinator sets its stake rules (before round 1, once). Amounts in token
    base units; ``slash_ppm`` of what is left of a stake is lost per offence, and a proven
    standing below ``min_standing_ppm`` is one. A task whose rules are governed takes those two
    from its rules (``governance.govern(..., slash=, slash_below_standing=)``, then proposals):
    give neither here. Stakes set first hand them to the rules when the task is governed."""
    for label, value in (
        ("required", required),
        ("role", role),
        ("dispute_bond", dispute_bond),
        ("dispute_window_blocks", dispute_window_blocks),
        ("min_standing_ppm", min_standing_ppm),
    ):
        if value < 0:
            raise InvalidInputError(f"{label} must be >= 0, got {value}")
    if not 0 <= slash_ppm <= 1_000_000:
        raise InvalidInputError(f"slash_ppm must be within 0..1000000, got {slash_ppm}")
    if min_standing_ppm > 1_000_000:
        raise InvalidInputError(
            f"min_standing_ppm must be at most 1000000 (the median party's standing), got "
            f"{min_standing_ppm}: a threshold above it would slash typical parties"
        )
    client = stakes_of(federation)
    if (slash_ppm or min_standing_ppm) and _offences_on_task_rules(client, task_id):
        raise InvalidInputError(
            f"task {task_id}'s slash and slashing standing are its governed rules', not its "
            "stake rules'",
            step("propose_slashing", task=task_id),
        )
    return client.set_stake_rules(
        _coordinator(federation, task_id),
        task_id,
        required_stake=required,
        role_stake=role,
        slash_ppm=slash_ppm,
        min_standing_ppm=min_standing_ppm,
        dispute_bond=dispute_bond,
        dispute_window_blocks=dispute_window_blocks,
    )


def _offences_on_task_rules(client: StakesContract, task_id: int) -> bool:
    """Whether the task's offence figures are its rules on TaskRules (fixed from round 1)."""
    if client.task_rules_address() is None:
        return False
    return client.offence_rules(task_id, 1).on_task_rules


def stake(federation: Federation, task_id: int, party: str) -> int:
    """``party`` stakes what its role requires (approving it first); returns the amount."""
    result = stakes_of(federation).stake(federation.account(party), task_id)
    del result
    return stakes_of(federation).stake_of(task_id, federation.account(party).address).amount


def withdraw_stake(federation: Federation, task_id: int, party: str) -> tuple[int, int]:
    """``party`` withdraws its stake once the task ended; returns (stake returned, pool share)."""
    client = stakes_of(federation)
    result = client.withdraw_stake(federation.account(party), task_id)
    (event,) = client.contract.events.StakeWithdrawn().process_receipt(
        result.receipt, errors=DISCARD
    )
    return int(event["args"]["returned"]), int(event["args"]["poolShare"])


def stake_rows(federation: Federation, task_id: int) -> list[StakeRow]:
    """Each party's stake, slashed amount and offences in the task, from the logs (empty when
    the deployment has no TaskStakes)."""
    client = federation.stakes
    if client is None:
        return []
    return [_row(federation, summary) for summary in client.stake_summaries(task_id).values()]


def _row(federation: Federation, summary: StakeSummary) -> StakeRow:
    return StakeRow(
        name=federation.name_of(summary.party),
        address=summary.party,
        role=summary.role.name.lower().replace("_", " "),
        staked=summary.staked,
        slashed=summary.slashed,
        remaining=summary.remaining,
        withdrawn=summary.withdrawn,
        pool_share=summary.pool_share,
        offences=[
            f"round {slash.round_number}: {slash.offence.label}" for slash in summary.offences
        ],
    )


# -- slashing ------------------------------------------------------------------------------------


def record_round_roles(federation: Federation, task_id: int, *, by: str) -> TransactionResult:
    """Records the open round's aggregator and key holder, so their silence can be slashed."""
    return stakes_of(federation).record_round_roles(federation.account(by), task_id)


def cancel_stalled_round(
    federation: Federation, task_id: int, round_number: int, *, by: str
) -> TransactionResult:
    """Cancels a stalled round and slashes the role whose silence stalled it, in one go."""
    return stakes_of(federation).cancel_stalled_round(federation.account(by), task_id, round_number)


def slash_low_standing(
    federation: Federation, task_id: int, round_number: int, party: str, *, by: str
) -> int:
    """Slashes ``party`` for its row of the round's posted table being below the threshold;
    returns the amount slashed."""
    table = load_score_table(federation, task_id, round_number)
    address = federation.address_of(party)
    found = None if table is None else table.entry_of(address)
    if table is None or found is None:
        raise InvalidInputError(
            f"no posted score table row of {party} in task {task_id} round {round_number}"
        )
    index, entry = found
    client = stakes_of(federation)
    result = client.slash_low_standing(
        federation.account(by), task_id, round_number, address, entry.share_ppm,
        entry.standing_ppm, table.proof(index),
    )  # fmt: skip
    return _slashed_amount(client, result)


def slash_silent_role(federation: Federation, task_id: int, round_number: int, *, by: str) -> int:
    """Slashes the recorded role whose silence got the round cancelled; returns the amount."""
    client = stakes_of(federation)
    result = client.slash_silent_role(federation.account(by), task_id, round_number)
    return _slashed_amount(client, result)


def slash_missed_round(
    federation: Federation, task_id: int, round_number: int, party: str, *, by: str
) -> int:
    """Slashes a masked party that advertised its key in the round and committed nothing."""
    client = stakes_of(federation)
    address = federation.address_of(party)
    result = client.slash_missed_round(federation.account(by), task_id, round_number, address)
    return _slashed_amount(client, result)


def _slashed_amount(client: StakesContract, result: TransactionResult) -> int:
    events = client.contract.events.Slashed().process_receipt(result.receipt, errors=DISCARD)
    return sum(int(event["args"]["amount"]) for event in events)


# -- disputes ------------------------------------------------------------------------------------


def dispute(
    federation: Federation,
    task_id: int,
    round_number: int,
    party: str,
    *,
    evidence: bytes | str | Mapping[str, Any],
) -> bytes:
    """``party`` disputes the round's aggregate with the task's bond; the evidence (bytes, text
    or a JSON-able dict: what its verification found) is stored as a blob. Returns its digest."""
    if isinstance(evidence, Mapping):
        blob = json.dumps(dict(evidence), sort_keys=True).encode()
    elif isinstance(evidence, str):
        blob = evidence.encode()
    else:
        blob = bytes(evidence)
    if not blob:
        raise InvalidInputError("a dispute needs evidence: what the verification found")
    digest = federation.store.put(blob)
    stakes_of(federation).open_dispute(federation.account(party), task_id, round_number, digest)
    return digest


def vote_on_dispute(
    federation: Federation, task_id: int, round_number: int, validator: str, *, uphold: bool
) -> DisputeState:
    """``validator`` votes on the round's open dispute; returns where the dispute stands after."""
    client = stakes_of(federation)
    client.vote_on_dispute(federation.account(validator), task_id, round_number, uphold)
    return client.dispute_of(task_id, round_number).state


def close_dispute(
    federation: Federation, task_id: int, round_number: int, *, by: str
) -> DisputeState:
    """Closes a dispute whose vote deadline passed with no majority (it lapses)."""
    client = stakes_of(federation)
    client.close_dispute(federation.account(by), task_id, round_number)
    return client.dispute_of(task_id, round_number).state


# -- helpers -------------------------------------------------------------------------------------


def _entry(row: Mapping[str, Any]) -> ScoreEntry:
    try:
        return ScoreEntry(
            to_checksum_address(str(row["participant"])),
            int(row["share_ppm"]),
            int(row["standing_ppm"]),
        )
    except (KeyError, ValueError, TypeError) as error:
        raise InvalidInputError(
            f"a score table row needs participant, share_ppm, standing_ppm: {error}"
        ) from None


OFFENCES = tuple(offence.label for offence in Offence)
"""The offence labels a stake row names."""


def round_pays(federation: Federation, task_id: int, phase: RoundPhase) -> bool:
    """Whether a round in ``phase`` pays its contributions: an accepted round, or a rejected
    one of a task whose reward policy pays rejected rounds (``IRewardPolicy.paysRejectedRounds``:
    a scored task's table pays the groups that helped)."""
    if phase == RoundPhase.ACCEPTED:
        return True
    client = federation.scores
    return (
        phase == RoundPhase.REJECTED and client is not None and client.pays_rejected_rounds(task_id)
    )


def posted_rows(
    federation: Federation, task_id: int, round_number: int
) -> dict[str, dict[str, Any]] | None:
    """A scored round's posted score table rows by lower-case address (None when the task is
    not scored, or its table is not posted yet)."""
    client = federation.scores
    if client is None or not client.is_scored(task_id):
        return None
    if not client.scores_posted(task_id, round_number):
        return None
    table = load_score_table(federation, task_id, round_number)
    if table is None:
        return None
    return {str(row["participant"]).lower(): dict(row) for row in table.rows}


def pending_reward(
    federation: Federation,
    task_id: int,
    round_number: int,
    participant: str,
    row: Mapping[str, Any] | None = None,
) -> int | None:
    """What ``participant`` can claim for an accepted round, or None when nothing can be said
    yet: a scored round pays ``reward x share_ppm / 1e6`` of its posted row (nothing before the
    table is posted); any round waits out its dispute window (the policy refuses until then)."""
    client = federation.scores
    if client is not None and client.is_scored(task_id):
        if row is None:
            return None
        per_round = federation.registry.task(task_id).params.reward_per_round
        return per_round * int(row["share_ppm"]) // 1_000_000
    try:
        return federation.registry.pending_reward(task_id, round_number, participant)
    except ContractRevertError:
        return None
