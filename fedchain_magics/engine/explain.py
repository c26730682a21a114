"""Why the ledger shows what it shows, worded once for every view: each payout of a valued round,
each change of a stake, each governed rule and proposal.

Pure: the read model (``ledger_view.py``) reads the facts from the chain and the blob store and
builds these; the notebook views and the sidebar show the same sentences (as token amounts are
worded once by ``TokenInfo``). Nothing here reads the chain.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..rewards import ESTABLISHED_AFTER_ROUNDS
from .tokens import TokenInfo

PPM = 1_000_000

PAYOUT_REASONS = ("paid", "low standing", "group did not help", "nothing paid")
"""Why a valued round paid a party what it did: ``paid`` (its share of the round, by its
group's score and its capped samples), ``low standing`` (its standing over rounds is below what
the round pays from), ``group did not help`` (its group's score is not positive), ``nothing
paid`` (no group helped: the round's reward stays in escrow)."""

STAKE_CHANGE_KINDS = ("staked", "slashed", "withdrawn", "bond posted", "bond refunded", "bond lost")

_GROUP_NAME = re.compile(r"^g(\d+)$")


@dataclass(frozen=True)
class PayoutExplanation:
    """Why a valued round paid one party what it did: its row of the round's posted score
    table. Values that older tables did not record are None (then the sentence says less)."""

    group: str
    """The group's name in the round's report (``g1``, ``g2`` ...)."""
    score: float
    """The group's value over the median value of the round's groups that helped, clipped to
    [-1, 2]."""
    standing: float
    """The party's estimated contribution over all valued rounds so far (1 = the median party)."""
    share: float
    """The party's part of the round's reward (0 to 1)."""
    group_value: float | None = None
    """The median over validators of the group's value (Shapley or leave-one-out)."""
    median_value: float | None = None
    """The median value of the round's groups that helped (the score's denominator; 0 when no
    group helped)."""
    min_standing: float | None = None
    """The standing the round pays from."""
    capped_samples: float | None = None
    """The party's declared samples, capped at the task's multiple of the round's median: its
    weight within the group."""
    rounds: int | None = None
    """How many informative valued rounds its standing rests on (None: a table posted before
    they were recorded)."""

    @classmethod
    def from_row(
        cls, row: Mapping[str, Any], min_standing: float | None = None
    ) -> PayoutExplanation:
        """From a posted score table row; ``min_standing`` when the row does not carry it."""
        recorded = row.get("min_standing_ppm")
        return cls(
            group=str(row.get("group", "")),
            score=float(row.get("score", 0.0)),
            standing=int(row["standing_ppm"]) / PPM,
            share=int(row["share_ppm"]) / PPM,
            group_value=_optional_float(row.get("group_value")),
            median_value=_optional_float(row.get("median_value")),
            min_standing=int(recorded) / PPM if recorded is not None else min_standing,
            capped_samples=_optional_float(row.get("capped_samples")),
            rounds=None if row.get("rounds") is None else int(row["rounds"]),
        )

    @property
    def group_number(self) -> int | None:
        """2 for ``g2``; None for a name of another form."""
        found = _GROUP_NAME.match(self.group)
        return int(found.group(1)) if found else None

    @property
    def paid(self) -> bool:
        return self.share > 0

    @property
    def reason(self) -> str:
        """One of :data:`PAYOUT_REASONS`."""
        if self.paid:
            return "paid"
        if self.min_standing is not None and self.standing < self.min_standing:
            return "low standing"
        if self.score <= 0:
            return "group did not help"
        return "nothing paid"

    @property
    def why(self) -> str:
        """One line: ``group 2 scored 0.031 (median 0.02); standing 0.92 ≥ 0.80; 24.5% of the
        round by 120 capped samples``, or ``standing 0.41 < 0.80: not paid``. A standing not yet
        established says so: ``standing 1.00 (the typical one until valued in 3 informative
        rounds: 1 so far) ≥ 0.80``."""
        reason = self.reason
        if reason == "low standing":
            return f"standing {self.standing:.2f} < {self.min_standing:.2f}: not paid"
        scored = self._scored()
        if reason == "group did not help":
            return f"{scored}: a group that did not help is not paid"
        if reason == "nothing paid":
            return f"{scored}; no group helped this round: nobody paid"
        standing = f"standing {self.standing:.2f}"
        if (
            self.standing == 1.0
            and self.rounds is not None
            and self.rounds < ESTABLISHED_AFTER_ROUNDS
        ):
            standing += (
                f" (the typical one until valued in {ESTABLISHED_AFTER_ROUNDS} informative "
                f"rounds: {self.rounds} so far)"
            )
        if self.min_standing is not None:
            standing += f" ≥ {self.min_standing:.2f}"
        share = f"{self.share:.1%} of the round"
        if self.capped_samples is not None:
            share += f" by {self.capped_samples:,.0f} capped samples"
        return f"{scored}; {standing}; {share}"

    def _scored(self) -> str:
        number = self.group_number
        group = f"group {number}" if number is not None else f"group {self.group}"
        if self.group_value is None or self.median_value is None:
            return f"{group} scored {self.score:.2f}x the median group"
        return f"{group} scored {self.group_value:.3g} (median {self.median_value:.3g})"


@dataclass(frozen=True)
class StakeChange:
    """One change of a party's stake in a task (or of its dispute bond), in chain order."""

    kind: str
    """One of :data:`STAKE_CHANGE_KINDS`."""
    amount: int
    """Token base units."""
    round: int | None
    """The round it concerns (the first round a stake covers); None for a withdrawal."""
    reason: str
    """Why, in a few words: ``low standing 0.12 < 0.25``, ``task ended`` ..."""
    block_number: int

    def text(self, token: TokenInfo) -> str:
        """``round 4: slashed 2.5 FCR (low standing 0.12 < 0.25)``."""
        where = f"round {self.round}: " if self.round is not None else ""
        return f"{where}{self.kind} {token.text(self.amount)} ({self.reason})"


@dataclass(frozen=True)
class PartyStake:
    """One party's stake in a task: what it staked, lost, got back, and each change."""

    party: str
    name: str | None
    role: str
    """participant, aggregator or key holder."""
    staked: int
    slashed: int
    refunded: int
    """What came back to it: the stake returned at withdrawal and dispute bonds refunded."""
    pool_share: int
    """Its part of the slashed pool, paid with its withdrawal (never slashed parties only)."""
    withdrawn: bool
    changes: list[StakeChange] = field(default_factory=list)

    @property
    def remaining(self) -> int:
        """What is still held for it (0 once withdrawn)."""
        return 0 if self.withdrawn else self.staked - self.slashed

    @property
    def last_change(self) -> StakeChange | None:
        return self.changes[-1] if self.changes else None


@dataclass(frozen=True)
class StakesSummary:
    """A task's stake rules and every party's stake."""

    required_stake: int
    role_stake: int
    slash: float
    """The part of what is left of a stake one offence takes."""
    min_standing: float
    """The standing below which a staked party is slashed (not the one a round pays from)."""
    dispute_bond: int
    parties: list[PartyStake] = field(default_factory=list)


OFFENCE_REASONS = {
    "low standing": "low standing",
    "aggregator silent": "the aggregator was silent: round cancelled",
    "key holder silent": "the key holder was silent: round cancelled",
    "missed round": "advertised a masking key, committed nothing",
    "dispute upheld": "its aggregate was disputed, the dispute upheld",
}
"""The reason a slash gives, by offence label (chain/stakes.py's ``Offence.label``)."""


def slash_reason(offence: str, standing: float | None, threshold: float | None) -> str:
    """Why a stake was slashed; a low standing names the standing and the threshold."""
    reason = OFFENCE_REASONS.get(offence, offence)
    if offence == "low standing" and standing is not None and threshold is not None:
        reason += f" {standing:.2f} < {threshold:.2f}"
    return reason


RULE_NAMES = {
    "group_size": "k",
    "valuation": "valuation",
    "min_standing": "min standing",
    "max_weight_over_median": "max weight",
    "required_stake": "stake",
    "slash": "slash",
    "slash_below_standing": "slashed below standing",
    "validator_quorum": "quorum",
    "add_validators": "add validators",
    "remove_validators": "remove validators",
}


def rule_texts(rules: Mapping[str, Any], token: TokenInfo) -> list[tuple[str, str]]:
    """Governed rules (or a proposal's changes) in the engine's names and units, as
    (rule, value) pairs a view shows: ``("k", "6")``, ``("stake", "10 FCR")``."""
    worded = []
    for name, value in rules.items():
        label = RULE_NAMES.get(name, name.replace("_", " "))
        if name == "required_stake":
            text = token.text(int(value))
        elif name == "max_weight_over_median":
            text = f"{float(value):g}x the median"
        elif name == "valuation":
            text = "by samples" if value in ("off", "proportional") else str(value)
        elif isinstance(value, float):
            text = f"{value:g}"
        elif isinstance(value, (list, tuple)):
            text = ", ".join(str(item) for item in value)
        else:
            text = str(value)
        worded.append((label, text))
    return worded


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)
