"""Stakes, slashing and disputes on-chain: the TaskStakes contract's client.

Stakes and bonds are in the registry's reward token: :meth:`StakesContract.stake` and
:meth:`StakesContract.open_dispute` approve the exact amount, then send. What an offence costs
and what counts as a low standing are read for the round the offence is in
(:meth:`StakesContract.offence_rules`): a task with rules on TaskRules takes them from there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from enum import IntEnum
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address
from web3.contract import Contract

from .artifacts import load_artifact
from .ledger import Ledger, TransactionResult
from .training import Role

__all__ = [
    "Deposit",
    "DisputeRecord",
    "DisputeState",
    "DisputeStatus",
    "Offence",
    "OffenceRules",
    "Slash",
    "StakeRecord",
    "StakeRules",
    "StakeSummary",
    "StakesContract",
    "Withdrawal",
]


class Offence(IntEnum):
    """What a stake was slashed for (TaskStakes.Offence)."""

    LOW_STANDING = 0
    AGGREGATOR_SILENT = 1
    KEY_HOLDER_SILENT = 2
    MISSED_ROUND = 3
    DISPUTE_UPHELD = 4

    @property
    def label(self) -> str:
        return self.name.lower().replace("_", " ")


class DisputeState(IntEnum):
    """Where a round's dispute stands (ITaskStakes.DisputeState)."""

    NONE = 0
    OPEN = 1
    UPHELD = 2
    DISMISSED = 3
    LAPSED = 4

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class StakeRules:
    """A task's stake rules; ``set`` False when its coordinator set none.

    ``slash_ppm`` and ``min_standing_ppm`` are the figures given to TaskStakes (zero for a task
    with rules on TaskRules), or, read for a round, the ones in force in it
    (``on_task_rules`` says where they came from)."""

    required_stake: int
    role_stake: int
    slash_ppm: int
    min_standing_ppm: int
    dispute_bond: int
    dispute_window_blocks: int
    set: bool
    on_task_rules: bool = False


@dataclass(frozen=True)
class OffenceRules:
    """What an offence in one round costs and what counts there as a low standing."""

    slash_ppm: int
    """Part (x 1e6) of the remaining stake the offence takes."""
    min_standing_ppm: int
    """A proven standing below this (1e6: the median party's) is slashed."""
    on_task_rules: bool
    """True when they are the task's rules on TaskRules (governed, or set there by the
    coordinator); False when they are the figures its stake rules were given."""


@dataclass(frozen=True)
class StakeRecord:
    """One account's stake in a task, as TaskStakes stores it."""

    amount: int
    slashed_amount: int
    covers_from_round: int
    role: Role
    staked: bool
    withdrawn: bool
    slashed: bool


@dataclass(frozen=True)
class DisputeStatus:
    opener: str
    state: DisputeState
    uphold_votes: int
    dismiss_votes: int
    electorate: int
    vote_deadline_block: int
    bond: int


@dataclass(frozen=True)
class Slash:
    """One Slashed event."""

    round_number: int
    party: str
    offence: Offence
    amount: int
    remaining: int
    block_number: int


@dataclass(frozen=True)
class Deposit:
    """One Staked event."""

    party: str
    role: Role
    amount: int
    covers_from_round: int
    block_number: int


@dataclass(frozen=True)
class Withdrawal:
    """One StakeWithdrawn event: the stake returned and the slashed pool's share paid with it."""

    party: str
    returned: int
    pool_share: int
    block_number: int


@dataclass(frozen=True)
class DisputeRecord:
    """One round's dispute, from its DisputeOpened event and (once settled) DisputeResolved."""

    round_number: int
    opener: str
    bond: int
    state: DisputeState
    """OPEN until a DisputeResolved event settles it."""
    opened_block: int
    resolved_block: int | None

    @property
    def bond_refunded(self) -> bool:
        """Upheld and lapsed disputes refund the bond; a dismissed one gives it to the pool."""
        return self.state in (DisputeState.UPHELD, DisputeState.LAPSED)


@dataclass
class StakeSummary:
    """One party's stake in a task, read from the logs: for the ledger view."""

    party: str
    role: Role
    staked: int = 0
    slashed: int = 0
    withdrawn: int = 0
    pool_share: int = 0
    offences: list[Slash] = field(default_factory=list)

    @property
    def remaining(self) -> int:
        return self.staked - self.slashed


class StakesContract:
    """The deployed TaskStakes contract and the token it holds stakes in."""

    def __init__(self, ledger: Ledger, address: str, *, from_block: int = 0) -> None:
        self.ledger = ledger
        self.from_block = from_block
        self._task_rules: str | None = None
        self._task_rules_read = False
        web3 = ledger.web3
        self.contract: Contract = web3.eth.contract(
            address=to_checksum_address(address), abi=load_artifact("TaskStakes").abi
        )
        token = str(ledger.call(self.contract.functions.token()))
        self.token: Contract = web3.eth.contract(
            address=to_checksum_address(token), abi=load_artifact("FedToken").abi
        )

    @property
    def address(self) -> str:
        return str(self.contract.address)

    # -- rules and stakes -----------------------------------------------------------------------

    def set_stake_rules(
        self,
        coordinator: LocalAccount,
        task_id: int,
        *,
        required_stake: int,
        role_stake: int = 0,
        slash_ppm: int = 0,
        min_standing_ppm: int = 0,
        dispute_bond: int = 0,
        dispute_window_blocks: int = 0,
    ) -> TransactionResult:
        """The coordinator sets the task's stake rules (before round 1, once)."""
        function = self.contract.functions.setStakeRules(
            task_id,
            required_stake,
            role_stake,
            slash_ppm,
            min_standing_ppm,
            dispute_bond,
            dispute_window_blocks,
        )
        return self.ledger.transact(coordinator, function)

    def stake(self, account: LocalAccount, task_id: int) -> TransactionResult:
        """Approves exactly the stake ``account``'s role requires, then stakes it."""
        amount = self.required_amount(task_id, self._role_of(task_id, account.address))
        if amount:
            self._approve(account, amount)
        return self.ledger.transact(account, self.contract.functions.stake(task_id))

    def withdraw_stake(self, account: LocalAccount, task_id: int) -> TransactionResult:
        """Withdraws what is left of the stake, with its share of the slashed pool."""
        return self.ledger.transact(account, self.contract.functions.withdrawStake(task_id))

    def required_amount(self, task_id: int, role: Role) -> int:
        """What an account holding ``role`` stakes in the task (0: nothing)."""
        rules = self.stake_rules(task_id)
        if role == Role.PARTICIPANT:
            return rules.required_stake
        if role in (Role.AGGREGATOR, Role.KEY_HOLDER):
            return rules.role_stake
        return 0

    # -- slashing -------------------------------------------------------------------------------

    def record_round_roles(self, account: LocalAccount, task_id: int) -> TransactionResult:
        """Records the open round's aggregator and key holder (so their silence can be slashed)."""
        return self.ledger.transact(account, self.contract.functions.recordRoundRoles(task_id))

    def cancel_stalled_round(
        self, account: LocalAccount, task_id: int, round_number: int
    ) -> TransactionResult:
        """Cancels a stalled round and slashes the role whose silence stalled it, in one go."""
        function = self.contract.functions.cancelStalledRound(task_id, round_number)
        return self.ledger.transact(account, function)

    def slash_low_standing(
        self,
        account: LocalAccount,
        task_id: int,
        round_number: int,
        party: str,
        share_ppm: int,
        standing_ppm: int,
        proof: Sequence[bytes],
    ) -> TransactionResult:
        """Slashes ``party`` for a proven score table row below the task's standing threshold."""
        function = self.contract.functions.slashLowStanding(
            task_id, round_number, to_checksum_address(party), share_ppm, standing_ppm, list(proof)
        )
        return self.ledger.transact(account, function)

    def slash_silent_role(
        self, account: LocalAccount, task_id: int, round_number: int
    ) -> TransactionResult:
        """Slashes the recorded role whose silence got the round cancelled."""
        function = self.contract.functions.slashSilentRole(task_id, round_number)
        return self.ledger.transact(account, function)

    def slash_missed_round(
        self, account: LocalAccount, task_id: int, round_number: int, party: str
    ) -> TransactionResult:
        """Slashes a masked party that advertised its key in the round and committed nothing."""
        function = self.contract.functions.slashMissedRound(
            task_id, round_number, to_checksum_address(party)
        )
        return self.ledger.transact(account, function)

    # -- disputes -------------------------------------------------------------------------------

    def open_dispute(
        self, account: LocalAccount, task_id: int, round_number: int, evidence_digest: bytes
    ) -> TransactionResult:
        """Approves the task's dispute bond, then disputes the round's aggregate."""
        bond = self.stake_rules(task_id).dispute_bond
        if bond:
            self._approve(account, bond)
        function = self.contract.functions.openDispute(task_id, round_number, evidence_digest)
        return self.ledger.transact(account, function)

    def vote_on_dispute(
        self, validator: LocalAccount, task_id: int, round_number: int, uphold: bool
    ) -> TransactionResult:
        function = self.contract.functions.voteOnDispute(task_id, round_number, uphold)
        return self.ledger.transact(validator, function)

    def close_dispute(
        self, account: LocalAccount, task_id: int, round_number: int
    ) -> TransactionResult:
        """Closes a dispute whose vote deadline passed with no majority (its bond is refunded)."""
        function = self.contract.functions.closeDispute(task_id, round_number)
        return self.ledger.transact(account, function)

    # -- views ----------------------------------------------------------------------------------

    def stake_rules(self, task_id: int, round_number: int | None = None) -> StakeRules:
        """The task's stake rules; with ``round_number``, their offence figures are the ones in
        force in that round (:meth:`offence_rules`)."""
        raw = self.ledger.call(self.contract.functions.stakeRules(task_id))
        required, role, bond, window, slash, min_standing, is_set = raw
        rules = StakeRules(
            required_stake=int(required),
            role_stake=int(role),
            slash_ppm=int(slash),
            min_standing_ppm=int(min_standing),
            dispute_bond=int(bond),
            dispute_window_blocks=int(window),
            set=bool(is_set),
        )
        if round_number is None or self.task_rules_address() is None:
            return rules  # an older TaskStakes slashes by these figures in every round
        offence = self.offence_rules(task_id, round_number)
        return replace(
            rules,
            slash_ppm=offence.slash_ppm,
            min_standing_ppm=offence.min_standing_ppm,
            on_task_rules=offence.on_task_rules,
        )

    def offence_rules(self, task_id: int, round_number: int) -> OffenceRules:
        """What an offence in the round costs and the standing below which it is slashed."""
        function = self.contract.functions.offenceRules(task_id, round_number)
        slash, min_standing, on_task_rules = self.ledger.call(function)
        return OffenceRules(int(slash), int(min_standing), bool(on_task_rules))

    def task_rules_address(self) -> str | None:
        """The TaskRules this TaskStakes reads offence figures from; None for one deployed
        before it did (its tasks are slashed by their stake rules' figures only)."""
        if not self._task_rules_read:
            try:
                self._task_rules = str(self.ledger.call(self.contract.functions.taskRules()))
            except Exception:  # an older TaskStakes: no such function
                self._task_rules = None
            self._task_rules_read = True
        return self._task_rules

    def stake_of(self, task_id: int, account: str) -> StakeRecord:
        function = self.contract.functions.stakeOf(task_id, to_checksum_address(account))
        amount, slashed_amount, covers, role, staked, withdrawn, slashed, _debt = self.ledger.call(
            function
        )
        return StakeRecord(
            amount=int(amount),
            slashed_amount=int(slashed_amount),
            covers_from_round=int(covers),
            role=Role(int(role)),
            staked=bool(staked),
            withdrawn=bool(withdrawn),
            slashed=bool(slashed),
        )

    def pool_share_of(self, task_id: int, account: str) -> int:
        function = self.contract.functions.poolShareOf(task_id, to_checksum_address(account))
        return int(self.ledger.call(function))

    def dispute_of(self, task_id: int, round_number: int) -> DisputeStatus:
        raw = self.ledger.call(self.contract.functions.disputeOf(task_id, round_number))
        opener, state, uphold, dismiss, electorate, deadline, bond = raw
        return DisputeStatus(
            opener=str(opener),
            state=DisputeState(int(state)),
            uphold_votes=int(uphold),
            dismiss_votes=int(dismiss),
            electorate=int(electorate),
            vote_deadline_block=int(deadline),
            bond=int(bond),
        )

    def claim_status(
        self, task_id: int, round_number: int, participant: str
    ) -> tuple[DisputeState, int, bool]:
        """(dispute state, last block a dispute may open in, whether the stake covers the round)."""
        function = self.contract.functions.claimStatus(
            task_id, round_number, to_checksum_address(participant)
        )
        state, deadline, covers = self.ledger.call(function)
        return DisputeState(int(state)), int(deadline), bool(covers)

    def round_roles(self, task_id: int, round_number: int) -> tuple[str, str]:
        """(aggregator, key holder) recorded for the round (zero addresses if not recorded)."""
        aggregator, key_holder = self.ledger.call(
            self.contract.functions.roundRoles(task_id, round_number)
        )
        return str(aggregator), str(key_holder)

    def is_slashed(self, task_id: int, round_number: int, party: str, offence: Offence) -> bool:
        function = self.contract.functions.isSlashed(
            task_id, round_number, to_checksum_address(party), int(offence)
        )
        return bool(self.ledger.call(function))

    # -- logs -----------------------------------------------------------------------------------

    def slashes(self, task_id: int) -> list[Slash]:
        """Every slash of the task, in chain order."""
        return [
            Slash(
                round_number=int(log["args"]["round"]),
                party=str(log["args"]["party"]),
                offence=Offence(int(log["args"]["offence"])),
                amount=int(log["args"]["amount"]),
                remaining=int(log["args"]["remaining"]),
                block_number=int(log["blockNumber"]),
            )
            for log in self._logs("Slashed", task_id)
        ]

    def deposits(self, task_id: int) -> list[Deposit]:
        """Every stake of the task, in chain order."""
        return [
            Deposit(
                party=str(log["args"]["account"]),
                role=Role(int(log["args"]["role"])),
                amount=int(log["args"]["amount"]),
                covers_from_round=int(log["args"]["coversFromRound"]),
                block_number=int(log["blockNumber"]),
            )
            for log in self._logs("Staked", task_id)
        ]

    def withdrawals(self, task_id: int) -> list[Withdrawal]:
        """Every withdrawal of a stake from the task, in chain order."""
        return [
            Withdrawal(
                party=str(log["args"]["account"]),
                returned=int(log["args"]["returned"]),
                pool_share=int(log["args"]["poolShare"]),
                block_number=int(log["blockNumber"]),
            )
            for log in self._logs("StakeWithdrawn", task_id)
        ]

    def disputes(self, task_id: int) -> list[DisputeRecord]:
        """Every dispute of the task's rounds, in the order they opened (two log reads)."""
        resolved = {
            int(log["args"]["round"]): (DisputeState(int(log["args"]["state"])), log["blockNumber"])
            for log in self._logs("DisputeResolved", task_id)
        }
        records = []
        for log in self._logs("DisputeOpened", task_id):
            number = int(log["args"]["round"])
            state, block = resolved.get(number, (DisputeState.OPEN, None))
            records.append(
                DisputeRecord(
                    round_number=number,
                    opener=str(log["args"]["opener"]),
                    bond=int(log["args"]["bond"]),
                    state=state,
                    opened_block=int(log["blockNumber"]),
                    resolved_block=None if block is None else int(block),
                )
            )
        return records

    def stake_summaries(self, task_id: int) -> dict[str, StakeSummary]:
        """Each party's stake, slashed amount, withdrawal and offences, from the task's logs."""
        summaries: dict[str, StakeSummary] = {}
        for deposit in self.deposits(task_id):
            summaries[deposit.party] = StakeSummary(
                party=deposit.party, role=deposit.role, staked=deposit.amount
            )
        for slash in self.slashes(task_id):
            summary = summaries.setdefault(slash.party, StakeSummary(slash.party, Role.NONE))
            summary.slashed += slash.amount
            summary.offences.append(slash)
        for withdrawal in self.withdrawals(task_id):
            summary = summaries.setdefault(
                withdrawal.party, StakeSummary(withdrawal.party, Role.NONE)
            )
            summary.withdrawn = withdrawal.returned
            summary.pool_share = withdrawal.pool_share
        return summaries

    # -- internals ------------------------------------------------------------------------------

    def _logs(self, event_name: str, task_id: int) -> list[Any]:
        event = self.contract.events[event_name]()
        logs = event.get_logs(argument_filters={"taskId": task_id}, from_block=self.from_block)
        return sorted(logs, key=lambda log: (log["blockNumber"], log["logIndex"]))

    def _approve(self, account: LocalAccount, amount: int) -> TransactionResult:
        function = self.token.functions.approve(self.contract.address, amount)
        return self.ledger.transact(account, function)

    def _role_of(self, task_id: int, account: str) -> Role:
        registry = self.ledger.web3.eth.contract(
            address=to_checksum_address(str(self.ledger.call(self.contract.functions.registry()))),
            abi=load_artifact("FederatedTraining").abi,
        )
        member = self.ledger.call(registry.functions.getMember(task_id, account))
        return Role(int(member[0]))
