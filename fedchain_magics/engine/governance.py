"""On-chain governance of a task's rules, the engine's side.

A coordinator puts a task under governance (:func:`govern`): the first time in a deployment the
governance contracts are deployed (TaskRules, FedGovernor, FedTimelock; six transactions by the
treasury account, recorded in the workspace's deployment), the coordinator sets the task's first
rules and hands them to the timelock. From then on a change is a proposal that the reward token's
holders vote on (:func:`propose`, :func:`vote`), which is queued on the timelock once it passed
(:func:`queue`) and executed after the timelock's delay (:func:`execute`). A change applies from
the round after the one open when it executes: the engine reads a round's rules when it opens
(:func:`rules`).

Stakes: the stake each party paid (and the roles' stake, the dispute bond and window) is fixed
with ``incentives.set_stakes`` before round 1 and no vote changes it. What an offence costs
(``slash``) and the standing below which a party is slashed (``slash_below_standing``) are rules
here: TaskStakes reads them for the round an offence is in, so a passed proposal changes what the
next round's offenders lose. A task's stake rules set before it was governed hand their two
offence figures to its first rules (:func:`govern`).

Voting power: FCR counts only once delegated. The engine self-delegates a party of this workspace
the first time it claims a reward of a governed task, proposes or votes (one transaction, once);
:func:`delegate` does it explicitly. Votes count at a proposal's snapshot (the block after the
proposal), so a party that delegates later votes with weight 0 on proposals made before.

Waiting: on the in-process chain, :func:`vote`, :func:`queue` and :func:`execute` mine the empty
blocks the voting delay, the voting period and the timelock's delay need (each block moves the
chain's clock at least one second). On a node they say what to wait for instead.
"""

from __future__ import annotations

from dataclasses import asdict, replace
from typing import TYPE_CHECKING, Any

from ..chain import (
    GovernanceAddresses,
    GovernanceContracts,
    Proposal,
    ProposalState,
    Role,
    TaskRules,
    TransactionResult,
    ValuationPolicy,
    VoteSupport,
)
from .errors import FederationError, InvalidInputError, step

if TYPE_CHECKING:
    from .federation import Federation

TREASURY = "deployer"
COORDINATOR = "coordinator"


class GovernanceError(FederationError):
    """A governance step that cannot be made now."""


class NotGovernedError(GovernanceError):
    def __init__(self, task_id: int) -> None:
        self.task_id = task_id
        super().__init__(
            f"task {task_id}'s rules are not under governance", step("govern_task", task=task_id)
        )


class UnknownProposalError(GovernanceError):
    def __init__(self, proposal_id: int, task_ids: tuple[int, ...] = ()) -> None:
        self.proposal_id = proposal_id
        task = task_ids[0] if task_ids else ""
        super().__init__(
            f"no proposal {proposal_id} on this ledger", step("show_proposals", task=task)
        )


class ProposalNotReadyError(GovernanceError):
    """A proposal is not in the state the step needs, and the wait cannot be skipped here."""

    def __init__(self, proposal: Proposal, what: str, next_step: Any) -> None:
        self.proposal = proposal
        super().__init__(what, next_step)


PPM = 1_000_000


# -- rules in the engine's units ------------------------------------------------------------------


def task_rules(
    *,
    group_size: int = 3,
    valuation: str = "off",
    min_standing: float = 0.8,
    max_weight_over_median: float = 2.0,
    slash: float = 0.0,
    slash_below_standing: float = 0.0,
) -> TaskRules:
    """TaskRules from the engine's units (TaskConfig's names: fractions, policy labels),
    checked here so a mistake is one line before anything is sent. ``slash`` is the part of
    the remaining stake an offence takes; ``slash_below_standing`` the standing (1: the median
    party's) below which a staked party is slashed."""
    value = TaskRules(
        group_size=group_size,
        valuation_policy=_policy(valuation),
        min_standing_ppm=_ppm(min_standing, "min_standing"),
        max_weight_over_median_ppm=_ppm(max_weight_over_median, "max_weight_over_median"),
        slash_ppm=_ppm(slash, "slash"),
        slash_below_standing_ppm=_ppm(slash_below_standing, "slash_below_standing"),
    )
    problems = []
    if value.group_size < 2 or value.group_size > 255:
        problems.append("group_size must be between 2 and 255")
    if value.min_standing_ppm > PPM:
        problems.append("min_standing must be at most 1 (the median party)")
    if value.max_weight_over_median_ppm < PPM:
        problems.append("max_weight_over_median must be at least 1")
    if not 0 <= value.slash_ppm <= PPM:
        problems.append("slash must be between 0 and 1 (the whole stake)")
    if not 0 <= value.slash_below_standing_ppm <= PPM:
        problems.append("slash_below_standing must be between 0 and 1 (the median party)")
    if problems:
        raise InvalidInputError("; ".join(problems))
    return value


def config_rules(config: Any) -> dict[str, Any]:
    """A task's own settings of the governed rules (TaskConfig's names; the defaults of
    :func:`task_rules` where a config predates them)."""
    defaults = {"group_size": 3, "valuation": "off", "min_standing": 0.8}
    defaults["max_weight_over_median"] = 2.0
    return {name: getattr(config, name, value) for name, value in defaults.items()}


PROPOSABLE_RULES = (
    "group_size",
    "valuation",
    "min_standing",
    "max_weight_over_median",
    "slash",
    "slash_below_standing",
    "min_participants",
    "validator_quorum",
    "add_validators",
    "remove_validators",
)
"""What a proposal may change, in the engine's names (:func:`encode_changes`): the TaskRules, the
registry's round rules (the updates and accept votes a round needs) and its validator set
(addresses, or names of this workspace's accounts, in a list)."""

ROUND_RULES = ("min_participants", "validator_quorum")
VALIDATOR_CHANGES = ("add_validators", "remove_validators")


def encode_changes(changes: dict[str, Any]) -> dict[str, Any]:
    """A proposal's changes from the engine's units (``group_size``, ``valuation``,
    ``min_standing``, ``max_weight_over_median``, ``slash``, ``slash_below_standing``) to the
    contract's. The stake itself is not among them: stakers paid it when they staked."""
    known = PROPOSABLE_RULES
    if "stake" in changes or "required_stake" in changes:
        raise InvalidInputError(
            "a proposal does not change the stake: each staker paid it when it staked (it is "
            "fixed with set_stakes before round 1); propose slash or slash_below_standing to "
            "change what an offence costs"
        )
    unknown = sorted(set(changes) - set(known))
    if unknown or not changes:
        raise InvalidInputError(
            f"a proposal changes some of {', '.join(known)}"
            + (f", not {', '.join(unknown)}" if unknown else "")
        )
    current = TaskRules()
    checked = task_rules(
        group_size=int(changes.get("group_size", current.group_size)),
        valuation=str(changes.get("valuation", "off")),
        min_standing=float(changes.get("min_standing", 0.0)),
        max_weight_over_median=float(changes.get("max_weight_over_median", 1.0)),
        slash=float(changes.get("slash", 0.0)),
        slash_below_standing=float(changes.get("slash_below_standing", 0.0)),
    )
    encoded: dict[str, Any] = {}
    for name in ROUND_RULES:
        if name in changes:
            encoded[name] = _count(changes[name], name)
    for name in VALIDATOR_CHANGES:
        if name in changes:
            encoded[name] = _accounts(changes[name], name)
    if "group_size" in changes:
        encoded["group_size"] = checked.group_size
    if "valuation" in changes:
        encoded["valuation_policy"] = checked.valuation_policy
    if "min_standing" in changes:
        encoded["min_standing_ppm"] = checked.min_standing_ppm
    if "max_weight_over_median" in changes:
        encoded["max_weight_over_median_ppm"] = checked.max_weight_over_median_ppm
    if "slash" in changes:
        encoded["slash_ppm"] = checked.slash_ppm
    if "slash_below_standing" in changes:
        encoded["slash_below_standing_ppm"] = checked.slash_below_standing_ppm
    return encoded


def _count(value: Any, name: str) -> int:
    try:
        count = int(value)
    except (TypeError, ValueError):
        raise InvalidInputError(f"{name} takes a whole number, not {value!r}") from None
    if count < 1:
        raise InvalidInputError(f"{name} must be at least 1, not {count}")
    return count


def _accounts(value: Any, name: str) -> tuple[str, ...]:
    """Validator names or addresses, as given (names are resolved when proposing)."""
    found = tuple(part.strip() for part in value.split(",")) if isinstance(value, str) else value
    if not found or not all(isinstance(part, str) and part for part in found):
        raise InvalidInputError(f"{name} takes account names or 0x addresses, not {value!r}")
    return tuple(found)


def vote_support(text: str) -> VoteSupport:
    try:
        return VoteSupport.parse(text)
    except ValueError as error:
        raise InvalidInputError(str(error)) from None


def _policy(label: str) -> ValuationPolicy:
    try:
        return ValuationPolicy.parse(label)
    except ValueError as error:
        raise InvalidInputError(str(error)) from None


def _ppm(value: float, name: str) -> int:
    try:
        return round(float(value) * PPM)
    except (TypeError, ValueError):
        raise InvalidInputError(f"{name} takes a number, not {value!r}") from None


# -- the contracts --------------------------------------------------------------------------------


def contracts(federation: Federation) -> GovernanceContracts | None:
    """This deployment's governance contracts, or None before any task was governed."""
    deployment = federation.registry.deployment
    if not deployment.governor:
        return None
    addresses = GovernanceAddresses(
        deployment.task_rules,
        deployment.governor,
        deployment.timelock,
        deployment.governance_deployed_at_block,
    )
    return GovernanceContracts(federation.ledger, addresses, deployment.token, deployment.training)


def deploy(federation: Federation) -> GovernanceContracts:
    """The governance contracts, deployed by the treasury account on first use and recorded in
    the workspace's deployment file (an older file without them still loads)."""
    existing = contracts(federation)
    if existing is not None:
        return existing
    if not federation.keystore.exists(TREASURY):
        raise InvalidInputError(
            "this workspace did not deploy the contracts, so it cannot deploy their governance; "
            "govern the task from the workspace that deployed them"
        )
    registry = federation.registry
    stakes = federation.stakes
    reads = None if stakes is None else stakes.task_rules_address()
    deployed = GovernanceContracts.deploy(
        federation.ledger,
        federation.account(TREASURY),
        registry.deployment.training,
        registry.deployment.token,
        task_rules=registry.deployment.task_rules or reads or "",
    )
    addresses = deployed.addresses
    registry.deployment = replace(
        registry.deployment,
        task_rules=addresses.task_rules,
        governor=addresses.governor,
        timelock=addresses.timelock,
        governance_deployed_at_block=addresses.deployed_at_block,
    )
    registry.save(_deployment_path(federation))
    if federation.server is not None:
        federation.server.rpc.deployment = asdict(registry.deployment)
    return deployed


def _deployment_path(federation: Federation) -> Any:
    chain_id = federation.registry.deployment.chain_id
    if federation.ledger.embedded:
        return federation.workspace / "deployment.json"
    return federation.workspace / f"deployment-{chain_id}.json"


def slashing_governed(federation: Federation, governance: GovernanceContracts) -> bool:
    """Whether this deployment's TaskStakes slashes by these TaskRules (one deployed before it
    did keeps each task's own stake rules: a vote on slashing would change nothing there)."""
    stakes = federation.stakes
    reads = None if stakes is None else stakes.task_rules_address()
    return reads is not None and reads.lower() == governance.rules.address.lower()


def _require_slashing_governed(
    federation: Federation, governance: GovernanceContracts, task_id: int
) -> None:
    if not slashing_governed(federation, governance):
        raise GovernanceError(
            "this deployment's stakes do not read its governed rules (they predate it), so a "
            f"slash or slash_below_standing for task {task_id} would change nothing a staker "
            "meets; its stakes keep the figures set with set_stakes",
            step("create_new_task"),
        )


def require(federation: Federation, task_id: int) -> GovernanceContracts:
    """The governance contracts, with ``task_id`` governed by their timelock."""
    governance = contracts(federation)
    if governance is None or governance.governed_by(task_id) is None:
        raise NotGovernedError(task_id)
    return governance


# -- the coordinator ------------------------------------------------------------------------------


def govern(
    federation: Federation, task_id: int, rules: TaskRules, coordinator: str = COORDINATOR
) -> TransactionResult:
    """Set the task's first rules and hand them to the timelock (before round 1 opens), with the
    registry's round rules and validator set (from then on only a passed proposal changes them;
    the coordinator keeps opening rounds and admitting parties).

    If the task's stake rules were set first with a slash or a slashing standing, ``rules``
    takes them over (TaskStakes reads them from the rules from now on) unless it sets its own
    (then the two must agree). In a deployment whose TaskStakes predates this, the rules take no
    slash figures (its stakes would never read them)."""
    if is_governed(federation, task_id):
        raise GovernanceError(
            f"task {task_id}'s rules are under governance already: only a passed proposal "
            "changes them",
            step("propose_change", task=task_id),
        )
    state = federation.registry.task(task_id)
    if state.current_round != 0:
        raise GovernanceError(
            f"task {task_id} opened round {state.current_round}: its first rules are set before "
            "round 1",
            step("govern_before_round_one"),
        )
    governance = deploy(federation)
    if slashing_governed(federation, governance):
        rules = _with_stake_offences(federation, task_id, rules)
    elif rules.slash_ppm or rules.slash_below_standing_ppm:
        _require_slashing_governed(federation, governance, task_id)
    account = federation.account(coordinator)
    governance.set_initial_rules(account, task_id, rules)
    governance.hand_over(account, task_id)
    timelock = governance.timelock.address
    result = federation.registry.hand_over_governance(account, task_id, timelock)
    _emit(
        federation, result,
        f"task {task_id}'s rules, round rules and validators handed to governance",
        task_id=task_id,
    )  # fmt: skip
    return result


def _with_stake_offences(federation: Federation, task_id: int, rules: TaskRules) -> TaskRules:
    """``rules`` with the offence figures the task's stake rules were given, if any."""
    stakes = federation.stakes
    own = None if stakes is None else stakes.stake_rules(task_id)
    if own is None or not own.set or not (own.slash_ppm or own.min_standing_ppm):
        return rules
    given = (rules.slash_ppm, rules.slash_below_standing_ppm)
    if given not in ((0, 0), (own.slash_ppm, own.min_standing_ppm)):
        raise InvalidInputError(
            f"task {task_id}'s stake rules slash {own.slash_ppm / PPM:g} below standing "
            f"{own.min_standing_ppm / PPM:g}; govern it with those (or without slash figures: "
            "it takes them), then change them by proposal"
        )
    return replace(rules, slash_ppm=own.slash_ppm, slash_below_standing_ppm=own.min_standing_ppm)


def rules(
    federation: Federation, task_id: int, round_number: int | None = None
) -> TaskRules | None:
    """The rules round ``round_number`` (default: the next round to open) runs under; None for
    a task without governed rules."""
    governance = contracts(federation)
    if governance is None or not governance.has_rules(task_id):
        return None
    if round_number is None:
        return governance.latest_rules(task_id)[0]
    return governance.rules_for(task_id, round_number)


# -- voting power ---------------------------------------------------------------------------------


def delegate(federation: Federation, party: str, to: str | None = None) -> TransactionResult | None:
    """``party`` delegates its votes to ``to`` (a name here or an address; itself by default).
    None when it already delegates there."""
    governance = deploy(federation)
    account = federation.account(party)
    target = account.address if to is None else federation.address_of(to)
    current = governance.delegate_of(account.address)
    if current is not None and current.lower() == target.lower():
        return None
    return governance.delegate(account, target)


def ensure_delegated(federation: Federation, party: str) -> TransactionResult | None:
    """Self-delegate ``party`` if it never delegated (governance deployed only)."""
    governance = contracts(federation)
    if governance is None:
        return None
    account = federation.account(party)
    if governance.delegate_of(account.address) is not None:
        return None
    return governance.delegate(account)


def is_governed(federation: Federation, task_id: int) -> bool:
    governance = contracts(federation)
    return governance is not None and governance.governed_by(task_id) is not None


# -- proposals ------------------------------------------------------------------------------------


def propose(
    federation: Federation, task_id: int, proposer: str, description: str, changes: dict[str, Any]
) -> int:
    """Propose ``changes`` to a governed task's rules; returns the proposal's number (from 1:
    every call here takes it, or the governor's 256-bit proposal id)."""
    governance = require(federation, task_id)
    if not description.strip():
        raise InvalidInputError("a proposal needs a description saying why")
    changes = _resolved(federation, governance, task_id, changes)
    try:
        governance.encode_changes(task_id, changes)
    except ValueError as error:
        raise InvalidInputError(str(error)) from None
    if {"slash_ppm", "slash_below_standing_ppm"} & set(changes):
        _require_slashing_governed(federation, governance, task_id)
    ensure_delegated(federation, proposer)
    proposal_id, result = governance.propose(
        federation.account(proposer), task_id, description, changes
    )
    number = len(governance.proposals())
    _emit(
        federation, result, f"{proposer} proposed {changes} for task {task_id}",
        task_id=task_id, proposal=number, proposal_id=proposal_id,
    )  # fmt: skip
    return number


def _resolved(
    federation: Federation,
    governance: GovernanceContracts,
    task_id: int,
    changes: dict[str, Any],
) -> dict[str, Any]:
    """``changes`` with validator names turned into addresses and both round rules named (the one
    not changed at its value now), checked against the task now: a registry change needs the
    registry handed over, a validator added must hold no role, a validator removed must be one."""
    registry_changes = set(ROUND_RULES + VALIDATOR_CHANGES) & set(changes)
    if not registry_changes:
        return changes
    registry = federation.registry
    state = registry.task(task_id)
    if (state.governor or "").lower() != governance.timelock.address.lower():
        raise GovernanceError(
            f"task {task_id} was put under governance before its validators and round rules "
            f"could be, so a proposal changes only its rules here, not {sorted(registry_changes)}",
            step("create_new_task"),
        )
    resolved = dict(changes)
    if set(ROUND_RULES) & registry_changes:
        resolved.setdefault("min_participants", state.params.min_participants)
        resolved.setdefault("validator_quorum", state.params.validator_quorum)
    for name in VALIDATOR_CHANGES:
        if name not in changes:
            continue
        addresses = tuple(federation.address_of(account) for account in changes[name])
        for address in addresses:
            role = registry.member(task_id, address).role
            if name == "remove_validators" and role != Role.VALIDATOR:
                raise InvalidInputError(
                    f"{address} is not a validator of task {task_id}, so it cannot be removed"
                )
            if name == "add_validators" and role != Role.NONE:
                raise InvalidInputError(
                    f"{address} is already task {task_id}'s {role.name.lower().replace('_', ' ')}:"
                    " a validator holds no other role; propose another account"
                )
        resolved[name] = addresses
    return resolved


def proposals(federation: Federation, task_id: int | None = None) -> list[Proposal]:
    governance = contracts(federation)
    return [] if governance is None else governance.proposals(task_id)


def proposal(federation: Federation, proposal_id: int) -> tuple[GovernanceContracts, Proposal]:
    governance = contracts(federation)
    found = None if governance is None else governance.proposal(proposal_id)
    if governance is None or found is None:
        raise UnknownProposalError(proposal_id)
    return governance, found


def vote(federation: Federation, proposal_id: int, party: str, support: VoteSupport) -> int:
    """``party`` votes on the proposal; returns the weight counted. On the in-process chain a
    proposal whose vote has not started yet is waited for (its voting delay is mined)."""
    governance, found = proposal(federation, proposal_id)
    if found.state == ProposalState.PENDING:
        _wait_for_block(federation, found, found.snapshot_block + 1, "its vote opens")
    elif found.state != ProposalState.ACTIVE:
        raise _not_ready(found, "voting is over")
    ensure_delegated(federation, party)
    weight, result = governance.cast_vote(federation.account(party), found.proposal_id, support)
    _emit(
        federation, result,
        f"{party} voted {support.name.lower()} on proposal {proposal_id} ({weight} votes)",
        proposal_id=proposal_id,
    )  # fmt: skip
    return weight


def queue(federation: Federation, proposal_id: int, caller: str = COORDINATOR) -> int:
    """Queue a passed proposal on the timelock; returns when it may execute (a block timestamp).
    On the in-process chain the rest of the voting period is mined first."""
    governance, found = proposal(federation, proposal_id)
    if found.state in (ProposalState.PENDING, ProposalState.ACTIVE):
        _wait_for_block(federation, found, found.deadline_block + 1, "its vote closes")
        found = governance.proposal(proposal_id) or found
    if found.state != ProposalState.SUCCEEDED:
        raise _not_ready(found, "only a proposal that passed is queued")
    eta, result = governance.queue(federation.account(caller), found)
    _emit(federation, result, f"proposal {proposal_id} queued until {eta}", proposal_id=proposal_id)
    return eta


def execute(federation: Federation, proposal_id: int, caller: str = COORDINATOR) -> int:
    """Execute a queued proposal; returns the first round its changes apply to. On the
    in-process chain the rest of the timelock's delay is mined first."""
    governance, found = proposal(federation, proposal_id)
    if found.state != ProposalState.QUEUED:
        raise _not_ready(found, "only a queued proposal is executed")
    _require_between_rounds(federation, found)
    remaining = found.eta_s - governance.latest_timestamp()
    if remaining > 0:
        if not federation.ledger.embedded:
            raise ProposalNotReadyError(
                found,
                f"proposal {found.number}'s timelock releases it at {found.eta_s}",
                step("wait_seconds", eta=found.eta_s, seconds=remaining),
            )
        federation.ledger.mine_blocks(remaining)
    result = governance.execute(federation.account(caller), found)
    task_ids = found.task_ids or (0,)
    first_round = federation.registry.task(task_ids[0]).current_round + 1 if found.task_ids else 0
    _emit(
        federation, result,
        f"proposal {proposal_id} executed: {found.changes} from round {first_round}",
        proposal_id=proposal_id,
    )  # fmt: skip
    return first_round


def _require_between_rounds(federation: Federation, found: Proposal) -> None:
    """A proposal that changes the registry's round rules or validators executes between rounds
    only (a round runs under the electorate and rules it opened with)."""
    if not set(ROUND_RULES + VALIDATOR_CHANGES) & set(found.changes):
        return
    for task_id in found.task_ids:
        state = federation.registry.task(task_id)
        if state.current_round == 0:
            continue
        phase = federation.registry.round(task_id, state.current_round).phase
        if not phase.finished:
            raise ProposalNotReadyError(
                found,
                f"proposal {found.number} changes task {task_id}'s validators or round rules, "
                f"which change between rounds only: round {state.current_round} is "
                f"{phase.name.lower()}",
                step("execute_after_round", proposal=found.number, round=state.current_round),
            )


def _emit(
    federation: Federation,
    result: TransactionResult,
    summary: str,
    task_id: int | None = None,
    **data: Any,
) -> None:
    """Tell the live views the ledger moved (a governance step is a "block" event: the event
    kinds are the registry's)."""
    federation.emit(
        "block", result.block_number, summary, task_id=task_id, tx_hash=result.tx_hash,
        gas_used=result.gas_used, data={"governance": True, **data},
    )  # fmt: skip


def _wait_for_block(federation: Federation, found: Proposal, block: int, event: str) -> None:
    head = federation.ledger.block_number()
    if head >= block:
        return
    if not federation.ledger.embedded:
        raise ProposalNotReadyError(
            found,
            f"proposal {found.number} is {found.state.label}: {event} after block {block - 1}",
            step("wait_blocks", block=block, head=head),
        )
    federation.ledger.mine_blocks(block - head)


def _not_ready(found: Proposal, rule: str) -> ProposalNotReadyError:
    task = found.task_ids[0] if found.task_ids else ""
    tally = f"{found.votes_for} for, {found.votes_against} against, {found.votes_abstain} abstain"
    if found.quorum is not None:
        tally += f", quorum {found.quorum}"
    what = f"proposal {found.number} is {found.state.label} ({tally}): {rule}"
    if found.state == ProposalState.SUCCEEDED:
        return ProposalNotReadyError(found, what, step("queue_proposal", proposal=found.number))
    if found.state == ProposalState.QUEUED:
        return ProposalNotReadyError(found, what, step("execute_proposal", proposal=found.number))
    if found.state == ProposalState.ACTIVE:
        return ProposalNotReadyError(found, what, step("vote_proposal", proposal=found.number))
    return ProposalNotReadyError(found, what, step("propose_change", task=task))


def describe(rules_value: TaskRules) -> dict[str, Any]:
    """The rules as plain values (the engine's names and units) for views."""
    return {
        "group_size": rules_value.group_size,
        "valuation": rules_value.valuation_policy.label,
        "min_standing": rules_value.min_standing_ppm / 1_000_000,
        "max_weight_over_median": rules_value.max_weight_over_median_ppm / 1_000_000,
        "slash": rules_value.slash_ppm / 1_000_000,
        "slash_below_standing": rules_value.slash_below_standing_ppm / 1_000_000,
    }


def describe_changes(changes: dict[str, Any]) -> dict[str, Any]:
    """A proposal's changes (the contract's units) in the engine's names and units."""
    described: dict[str, Any] = {}
    for name, value in changes.items():
        if name in VALIDATOR_CHANGES:
            described[name] = list(value)
        elif name == "valuation_policy":
            described["valuation"] = ValuationPolicy(value).label
        elif name.endswith("_ppm"):
            described[name.removesuffix("_ppm")] = value / PPM
        else:
            described[name] = value
    return described


__all__ = [
    "PROPOSABLE_RULES",
    "GovernanceError",
    "NotGovernedError",
    "Proposal",
    "ProposalNotReadyError",
    "ProposalState",
    "TaskRules",
    "UnknownProposalError",
    "ValuationPolicy",
    "VoteSupport",
    "config_rules",
    "contracts",
    "delegate",
    "deploy",
    "describe",
    "describe_changes",
    "encode_changes",
    "execute",
    "govern",
    "proposals",
    "propose",
    "queue",
    "rules",
    "slashing_governed",
    "task_rules",
    "vote",
    "vote_support",
]
