"""Governance's client: TaskRules (the rules a task may change while it runs), FedGovernor (the
reward token's holders vote) and its FedTimelock (which alone changes a governed task's rules).

TaskRules is deployed with the registry (TaskStakes reads a task's offence figures from it); a
deployment made before that gets its own here, which its TaskStakes does not read.

Knows Solidity types and the contracts' events; knows nothing of the engine: the rules are plain
numbers here (what the engine does with k or the valuation policy is its own business).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils import keccak, to_checksum_address
from web3.contract import Contract
from web3.logs import DISCARD

from .artifacts import load_artifact
from .ledger import Ledger, TransactionResult

VOTING_DELAY_BLOCKS = 1
"""Blocks between a proposal and its vote's snapshot: delegate before proposing to count."""
VOTING_PERIOD_BLOCKS = 20
"""Blocks a vote stays open. On the in-process chain every transaction is a block, so this is
"about 20 transactions"; the engine mines the rest of the period when asked to queue."""
TIMELOCK_DELAY_S = 60
"""Seconds between queuing a passed proposal and executing it. The in-process chain's clock
moves at least one second per block, so the engine waits it out by mining that many blocks."""
QUORUM_PERCENT = 25
"""Percent of the supply delegated at a proposal's snapshot that must vote for or abstain."""
PROPOSAL_THRESHOLD = 0
"""Votes an account needs to propose: anyone may."""
ZERO_ADDRESS = "0x" + "00" * 20


class ValuationPolicy(IntEnum):
    """TaskRules.ValuationPolicy; ``label`` is the engine's name of each (TaskConfig.valuation)."""

    PROPORTIONAL = 0
    LEAVE_ONE_OUT = 1
    SHAPLEY = 2

    @property
    def label(self) -> str:
        return ("off", "leave-one-out", "shapley")[self]

    @classmethod
    def parse(cls, text: str) -> ValuationPolicy:
        """``"shapley"``, ``"leave-one-out"``, ``"proportional"`` (or ``"off"``)."""
        names = {"off": 0, "proportional": 0, "leave-one-out": 1, "shapley": 2}
        if text not in names:
            raise ValueError(
                f"valuation policy must be proportional, leave-one-out or shapley, not {text!r}"
            )
        return cls(names[text])


class ProposalState(IntEnum):
    """OpenZeppelin's IGovernor.ProposalState."""

    PENDING = 0
    ACTIVE = 1
    CANCELED = 2
    DEFEATED = 3
    SUCCEEDED = 4
    QUEUED = 5
    EXPIRED = 6
    EXECUTED = 7

    @property
    def label(self) -> str:
        return self.name.lower()


class VoteSupport(IntEnum):
    """GovernorCountingSimple's vote types."""

    AGAINST = 0
    FOR = 1
    ABSTAIN = 2

    @classmethod
    def parse(cls, text: str) -> VoteSupport:
        try:
            return cls[text.upper()]
        except KeyError:
            raise ValueError(f"a vote is for, against or abstain, not {text!r}") from None


PPM = 1_000_000


@dataclass(frozen=True)
class TaskRules:
    """A task's governed rules, as TaskRules stores them. Units are in the names.

    The stake itself is not here: what a staker paid is fixed on TaskStakes before round 1. The
    two offence figures are the ones TaskStakes slashes a task with rules here by."""

    group_size: int = 3
    valuation_policy: ValuationPolicy = ValuationPolicy.PROPORTIONAL
    min_standing_ppm: int = 800_000
    """A party whose standing (1e6: the median party's) is below this earns no share."""
    max_weight_over_median_ppm: int = 2_000_000
    """An update's weight is capped at this multiple (x 1e6) of the round's median."""
    slash_ppm: int = 0
    """Part (x 1e6) of the remaining stake an offence in the round takes."""
    slash_below_standing_ppm: int = 0
    """A proven standing below this (1e6: the median party's) is slashed (0: none is)."""

    def as_tuple(self) -> tuple[int, ...]:
        return (
            self.group_size,
            int(self.valuation_policy),
            self.min_standing_ppm,
            self.max_weight_over_median_ppm,
            self.slash_ppm,
            self.slash_below_standing_ppm,
        )

    @classmethod
    def from_tuple(cls, raw: Sequence[Any]) -> TaskRules:
        k, policy, standing, weight, slash, slash_below = (int(value) for value in raw)
        return cls(k, ValuationPolicy(policy), standing, weight, slash, slash_below)


RULE_CHANGES = (
    "group_size",
    "valuation_policy",
    "min_standing_ppm",
    "max_weight_over_median_ppm",
    "slash_ppm",
    "slash_below_standing_ppm",
)
"""What one proposal may change in TaskRules, each by its own setter."""

ROUND_RULE_CHANGES = ("min_participants", "validator_quorum")
REGISTRY_CHANGES = (*ROUND_RULE_CHANGES, "add_validators", "remove_validators")
"""What one proposal may change in the registry, once the coordinator handed the task over
(``handOverGovernance``): the round rules (one ``setRoundRules`` call sets both, so a proposal
names both) and the validator set (a tuple of addresses each)."""


@dataclass(frozen=True)
class GovernanceAddresses:
    task_rules: str
    governor: str
    timelock: str
    deployed_at_block: int


@dataclass(frozen=True)
class Proposal:
    """A proposal read from its ``ProposalCreated`` log, with its state and votes now."""

    number: int
    """Its place among the governor's proposals, from 1 (what people type; ``proposal_id`` is
    the governor's 256-bit hash)."""
    proposal_id: int
    proposer: str
    description: str
    targets: tuple[str, ...]
    calldatas: tuple[bytes, ...]
    snapshot_block: int
    deadline_block: int
    task_ids: tuple[int, ...]
    changes: dict[str, Any]
    """The changes it makes, by :data:`RULE_CHANGES` name."""
    state: ProposalState
    votes_for: int
    votes_against: int
    votes_abstain: int
    quorum: int | None
    """Votes (for + abstain) it needs; None while its snapshot is not past."""
    eta_s: int
    """When a queued proposal may execute (a block timestamp), 0 otherwise."""

    @property
    def description_hash(self) -> bytes:
        return keccak(text=self.description)


class GovernanceContracts:
    """TaskRules, FedGovernor and FedTimelock of one deployment, and the token that votes."""

    def __init__(
        self, ledger: Ledger, addresses: GovernanceAddresses, token: str, registry: str = ""
    ) -> None:
        self.ledger = ledger
        self.addresses = addresses
        eth = ledger.web3.eth
        self.registry: Contract | None = None
        if registry:
            self.registry = eth.contract(
                address=to_checksum_address(registry), abi=load_artifact("FederatedTraining").abi
            )
        self.rules: Contract = eth.contract(
            address=to_checksum_address(addresses.task_rules), abi=load_artifact("TaskRules").abi
        )
        self.governor: Contract = eth.contract(
            address=to_checksum_address(addresses.governor), abi=load_artifact("FedGovernor").abi
        )
        self.timelock: Contract = eth.contract(
            address=to_checksum_address(addresses.timelock), abi=load_artifact("FedTimelock").abi
        )
        self.token: Contract = eth.contract(
            address=to_checksum_address(token), abi=load_artifact("FedToken").abi
        )

    @classmethod
    def deploy(
        cls,
        ledger: Ledger,
        deployer: LocalAccount,
        registry: str,
        token: str,
        *,
        voting_delay_blocks: int = VOTING_DELAY_BLOCKS,
        voting_period_blocks: int = VOTING_PERIOD_BLOCKS,
        timelock_delay_s: int = TIMELOCK_DELAY_S,
        quorum_percent: int = QUORUM_PERCENT,
        task_rules: str = "",
    ) -> GovernanceContracts:
        """Deploy the timelock and the governor of ``token``'s holders (and TaskRules over
        ``registry`` unless ``task_rules``, the one deployed with the registry, is given); give
        the governor the timelock's proposer and canceller roles, let anyone execute, and
        renounce the deployer's temporary admin role (the timelock then administers itself).
        Five transactions (six with TaskRules), made once per deployment."""
        start = ledger.block_number()
        timelock_artifact = load_artifact("FedTimelock")
        governor_artifact = load_artifact("FedGovernor")
        rules = task_rules
        if not rules:
            rules_artifact = load_artifact("TaskRules")
            rules = ledger.deploy(deployer, rules_artifact.abi, rules_artifact.bytecode, registry)
        timelock = ledger.deploy(
            deployer, timelock_artifact.abi, timelock_artifact.bytecode, timelock_delay_s, [],
            [ZERO_ADDRESS], deployer.address,
        )  # fmt: skip
        governor = ledger.deploy(
            deployer, governor_artifact.abi, governor_artifact.bytecode, to_checksum_address(token),
            timelock, voting_delay_blocks, voting_period_blocks, PROPOSAL_THRESHOLD, quorum_percent,
        )  # fmt: skip
        addresses = GovernanceAddresses(rules, governor, timelock, start)
        contracts = cls(ledger, addresses, token, registry)
        roles = contracts.timelock.functions
        for role in (roles.PROPOSER_ROLE(), roles.CANCELLER_ROLE()):
            ledger.transact(deployer, roles.grantRole(ledger.call(role), governor))
        admin = ledger.call(roles.DEFAULT_ADMIN_ROLE())
        ledger.transact(deployer, roles.renounceRole(admin, deployer.address))
        return contracts

    # -- a task's rules -------------------------------------------------------------------------

    def set_initial_rules(
        self, coordinator: LocalAccount, task_id: int, rules: TaskRules
    ) -> TransactionResult:
        """The coordinator sets the task's first rules (before round 1 opens)."""
        function = self.rules.functions.setInitialRules(task_id, rules.as_tuple())
        return self.ledger.transact(coordinator, function)

    def hand_over(self, coordinator: LocalAccount, task_id: int) -> TransactionResult:
        """The coordinator hands the task's rules to the timelock: only proposals change them."""
        function = self.rules.functions.handOver(task_id, self.timelock.address)
        return self.ledger.transact(coordinator, function)

    def _registry(self) -> Contract:
        if self.registry is None:
            raise ValueError("these governance contracts were opened without the registry")
        return self.registry

    def governed_by(self, task_id: int) -> str | None:
        governor = str(self.ledger.call(self.rules.functions.governedBy(task_id)))
        return None if int(governor, 16) == 0 else governor

    def has_rules(self, task_id: int) -> bool:
        return bool(self.ledger.call(self.rules.functions.hasRules(task_id)))

    def rules_for(self, task_id: int, round_number: int) -> TaskRules:
        """The rules round ``round_number`` runs under (those in force when it opened)."""
        return TaskRules.from_tuple(
            self.ledger.call(self.rules.functions.rulesFor(task_id, round_number))
        )

    def latest_rules(self, task_id: int) -> tuple[TaskRules, int]:
        """The latest rules and the first round they apply to."""
        raw, from_round = self.ledger.call(self.rules.functions.latestRules(task_id))
        return TaskRules.from_tuple(raw), int(from_round)

    # -- voting power ---------------------------------------------------------------------------

    def delegate(self, account: LocalAccount, delegatee: str | None = None) -> TransactionResult:
        """``account`` delegates its votes to ``delegatee`` (itself by default)."""
        target = to_checksum_address(delegatee or account.address)
        return self.ledger.transact(account, self.token.functions.delegate(target))

    def delegate_of(self, account: str) -> str | None:
        delegate = str(
            self.ledger.call(self.token.functions.delegates(to_checksum_address(account)))
        )
        return None if int(delegate, 16) == 0 else delegate

    def votes(self, account: str) -> int:
        return int(self.ledger.call(self.token.functions.getVotes(to_checksum_address(account))))

    def delegated_supply(self) -> int:
        return int(self.ledger.call(self.token.functions.delegatedSupply()))

    # -- proposals ------------------------------------------------------------------------------

    def encode_changes(
        self, task_id: int, changes: Mapping[str, Any]
    ) -> tuple[list[str], list[int], list[bytes]]:
        """The (targets, values, calldatas) of a proposal making ``changes`` to the task's rules
        and registry settings (names from :data:`RULE_CHANGES` and :data:`REGISTRY_CHANGES`)."""
        setters = {
            "group_size": "setGroupSize",
            "valuation_policy": "setValuationPolicy",
            "min_standing_ppm": "setMinStanding",
            "max_weight_over_median_ppm": "setMaxWeightOverMedian",
            "slash_ppm": "setSlash",
            "slash_below_standing_ppm": "setSlashBelowStanding",
        }
        known = (*RULE_CHANGES, *REGISTRY_CHANGES)
        unknown = sorted(set(changes) - set(known))
        if unknown or not changes:
            raise ValueError(f"a proposal changes some of {', '.join(known)}, not {unknown}")
        calls: list[tuple[Contract, str, list[Any]]] = [
            (self.rules, setters[name], [task_id, int(changes[name])])
            for name in RULE_CHANGES
            if name in changes
        ]
        if set(REGISTRY_CHANGES) & set(changes):
            calls.extend(self._registry_calls(task_id, changes))
        targets: list[str] = []
        calldatas: list[bytes] = []
        for contract, function, args in calls:
            calldata = contract.encode_abi(function, args=args)
            targets.append(contract.address)
            calldatas.append(bytes.fromhex(calldata.removeprefix("0x")))
        return targets, [0] * len(calldatas), calldatas

    def _registry_calls(
        self, task_id: int, changes: Mapping[str, Any]
    ) -> list[tuple[Contract, str, list[Any]]]:
        registry = self._registry()
        calls: list[tuple[Contract, str, list[Any]]] = []
        round_rules = [
            changes[name] for name in ("min_participants", "validator_quorum") if name in changes
        ]
        if len(round_rules) == 1:
            raise ValueError("a proposal sets min_participants and validator_quorum together")
        if round_rules:
            calls.append((registry, "setRoundRules", [task_id, *(int(v) for v in round_rules)]))
        validator_setters = (
            ("remove_validators", "removeValidator"),
            ("add_validators", "addValidator"),
        )
        for name, function in validator_setters:
            for address in changes.get(name, ()):
                calls.append((registry, function, [task_id, to_checksum_address(address)]))
        return calls

    def propose(
        self, proposer: LocalAccount, task_id: int, description: str, changes: Mapping[str, Any]
    ) -> tuple[int, TransactionResult]:
        """Propose ``changes`` to the task's rules; returns the proposal id."""
        targets, values, calldatas = self.encode_changes(task_id, changes)
        function = self.governor.functions.propose(targets, values, calldatas, description)
        result = self.ledger.transact(proposer, function)
        (event,) = self.governor.events.ProposalCreated().process_receipt(
            result.receipt, errors=DISCARD
        )
        return int(event["args"]["proposalId"]), result

    def cast_vote(
        self, voter: LocalAccount, proposal_id: int, support: VoteSupport
    ) -> tuple[int, TransactionResult]:
        """Vote; returns the weight counted (the voter's votes at the proposal's snapshot)."""
        function = self.governor.functions.castVote(proposal_id, int(support))
        result = self.ledger.transact(voter, function)
        (event,) = self.governor.events.VoteCast().process_receipt(result.receipt, errors=DISCARD)
        return int(event["args"]["weight"]), result

    def queue(self, caller: LocalAccount, proposal: Proposal) -> tuple[int, TransactionResult]:
        """Queue a succeeded proposal on the timelock; returns when it may execute (a block
        timestamp)."""
        function = self.governor.functions.queue(
            list(proposal.targets), [0] * len(proposal.targets), list(proposal.calldatas),
            proposal.description_hash,
        )  # fmt: skip
        result = self.ledger.transact(caller, function)
        (event,) = self.governor.events.ProposalQueued().process_receipt(
            result.receipt, errors=DISCARD
        )
        return int(event["args"]["etaSeconds"]), result

    def execute(self, caller: LocalAccount, proposal: Proposal) -> TransactionResult:
        """Execute a queued proposal whose timelock delay passed."""
        function = self.governor.functions.execute(
            list(proposal.targets), [0] * len(proposal.targets), list(proposal.calldatas),
            proposal.description_hash,
        )  # fmt: skip
        return self.ledger.transact(caller, function)

    def state(self, proposal_id: int) -> ProposalState:
        return ProposalState(int(self.ledger.call(self.governor.functions.state(proposal_id))))

    def proposals(self, task_id: int | None = None) -> list[Proposal]:
        """Every proposal (of one task's rules, if given), oldest first, as it stands now."""
        event = self.governor.events.ProposalCreated()
        logs = event.get_logs(from_block=self.addresses.deployed_at_block)
        ordered = sorted(logs, key=lambda log: (log["blockNumber"], log["logIndex"]))
        found = [self._proposal(log, number) for number, log in enumerate(ordered, start=1)]
        return [p for p in found if task_id is None or task_id in p.task_ids]

    def executed_from_rounds(self, task_id: int) -> dict[int, int]:
        """The first round each executed proposal's changes to the task apply to, by proposal id:
        its ProposalExecuted and the RulesChanged (or the registry's RoundRulesChanged or
        ValidatorAdded) it caused share a transaction (two to four log reads)."""
        first_block = self.addresses.deployed_at_block
        changed = self.rules.events.RulesChanged().get_logs(
            argument_filters={"taskId": task_id}, from_block=first_block
        )
        from_round = {
            bytes(log["transactionHash"]): int(log["args"]["fromRound"]) for log in changed
        }
        if self.registry is not None:  # a proposal that changes only registry settings
            events = self.registry.events
            filters = {"argument_filters": {"taskId": task_id}, "from_block": first_block}
            for log in events.RoundRulesChanged().get_logs(**filters):
                from_round.setdefault(bytes(log["transactionHash"]), int(log["args"]["fromRound"]))
            for log in events.ValidatorAdded().get_logs(**filters):
                from_round.setdefault(bytes(log["transactionHash"]), int(log["args"]["firstRound"]))
        executed = self.governor.events.ProposalExecuted().get_logs(from_block=first_block)
        return {
            int(log["args"]["proposalId"]): from_round[bytes(log["transactionHash"])]
            for log in executed
            if bytes(log["transactionHash"]) in from_round
        }

    def proposal(self, number_or_id: int) -> Proposal | None:
        """The proposal by its number (from 1) or its governor id."""
        for proposal in self.proposals():
            if number_or_id in (proposal.number, proposal.proposal_id):
                return proposal
        return None

    def _proposal(self, log: Any, number: int) -> Proposal:
        args = log["args"]
        proposal_id = int(args["proposalId"])
        calldatas = tuple(bytes(data) for data in args["calldatas"])
        task_ids: list[int] = []
        changes: dict[str, Any] = {}
        for target, data in zip(args["targets"], calldatas, strict=True):
            if self.registry is not None and to_checksum_address(target) == self.registry.address:
                function, decoded = self.registry.decode_function_input(data)
                task_ids.append(int(decoded["taskId"]))
                _registry_change(changes, function.fn_name, decoded)
                continue
            if to_checksum_address(target) != self.rules.address:
                continue
            try:
                function, decoded = self.rules.decode_function_input(data)
            except ValueError:  # a setter this ABI no longer has (an older deployment's setStake)
                task_ids.append(int.from_bytes(data[4:36], "big"))
                continue
            task_ids.append(int(decoded["taskId"]))
            changes.update(_change(function.fn_name, decoded))
        state = self.state(proposal_id)
        against, votes_for, abstain = self.ledger.call(
            self.governor.functions.proposalVotes(proposal_id)
        )
        snapshot = int(args["voteStart"])
        quorum = None
        if snapshot < self.ledger.block_number():
            quorum = int(self.ledger.call(self.governor.functions.quorum(snapshot)))
        eta = int(self.ledger.call(self.governor.functions.proposalEta(proposal_id)))
        return Proposal(
            number=number,
            proposal_id=proposal_id,
            proposer=str(args["proposer"]),
            description=str(args["description"]),
            targets=tuple(to_checksum_address(target) for target in args["targets"]),
            calldatas=calldatas,
            snapshot_block=snapshot,
            deadline_block=int(args["voteEnd"]),
            task_ids=tuple(sorted(set(task_ids))),
            changes=changes,
            state=state,
            votes_for=int(votes_for),
            votes_against=int(against),
            votes_abstain=int(abstain),
            quorum=quorum,
            eta_s=eta,
        )

    def latest_timestamp(self) -> int:
        return int(self.ledger.web3.eth.get_block("latest")["timestamp"])


def _registry_change(
    changes: dict[str, Any], function_name: str, decoded: Mapping[str, Any]
) -> None:
    if function_name == "setRoundRules":
        changes["min_participants"] = int(decoded["minParticipants"])
        changes["validator_quorum"] = int(decoded["validatorQuorum"])
    elif function_name in ("addValidator", "removeValidator"):
        name = "add_validators" if function_name == "addValidator" else "remove_validators"
        address = to_checksum_address(decoded["validator"])
        changes[name] = (*changes.get(name, ()), address)


def _change(function_name: str, decoded: Mapping[str, Any]) -> dict[str, Any]:
    if function_name == "setGroupSize":
        return {"group_size": int(decoded["groupSize"])}
    if function_name == "setValuationPolicy":
        return {"valuation_policy": ValuationPolicy(int(decoded["policy"]))}
    if function_name == "setMinStanding":
        return {"min_standing_ppm": int(decoded["minStandingPpm"])}
    if function_name == "setMaxWeightOverMedian":
        return {"max_weight_over_median_ppm": int(decoded["maxWeightOverMedianPpm"])}
    if function_name == "setSlash":
        return {"slash_ppm": int(decoded["slashPpm"])}
    if function_name == "setSlashBelowStanding":
        return {"slash_below_standing_ppm": int(decoded["slashBelowStandingPpm"])}
    return {}
