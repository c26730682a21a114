"""Typed access to the fedchain contracts: deploy them, send their transactions, read them back.

This module knows Solidity types and events, nothing about encryption or models: digests are
opaque 32-byte values to it.
"""

from __future__ import annotations

import functools
import json
import os
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
from typing import Any

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_account.signers.local import LocalAccount
from eth_utils import keccak, to_checksum_address
from hexbytes import HexBytes
from web3.contract import Contract
from web3.datastructures import AttributeDict
from web3.logs import DISCARD

from .artifacts import load_artifact
from .batch import BatchLeaf, BatchTree, SignedUpdate, order_batch, sign_update
from .errors import ContractRevertError, DeploymentNotFoundError
from .ledger import Ledger, TransactionResult
from .log_cache import CachedTaskLogs, RawLog, TaskLogFile

DEPLOYMENT_FILENAME = "deployment.json"
REORG_DEPTH_BLOCKS = 12
"""On a JSON-RPC node, logs this close to the head are re-read each time (they may change)."""

TOKEN_UNIT = 10**18
DEFAULT_SUPPLY_CAP = 10**9 * TOKEN_UNIT
"""FedToken's cap in base units; a deployment mints all of it to the deployer (the treasury)."""
DEFAULT_ADMIN_TRANSFER_DELAY_S = 86_400
"""Seconds a new token admin waits before accepting the role (two-step transfer)."""
DEFAULT_MAX_SAMPLES_PER_UPDATE = 10**9
DEFAULT_AGGREGATION_WINDOW_BLOCKS = 1_000
UPDATES_HASH_BITS = 104
"""A round's set hash is a sum of update terms modulo 2**UPDATES_HASH_BITS."""


class RoundPhase(IntEnum):
    NONE = 0
    COLLECTING = 1
    AGGREGATED = 2
    VALIDATING = 3
    ACCEPTED = 4
    REJECTED = 5
    CANCELLED = 6

    @property
    def label(self) -> str:
        return self.name.lower()

    @property
    def finished(self) -> bool:
        return self in (RoundPhase.ACCEPTED, RoundPhase.REJECTED, RoundPhase.CANCELLED)


class Role(IntEnum):
    """The one role an account holds in a task."""

    NONE = 0
    PARTICIPANT = 1
    VALIDATOR = 2
    COORDINATOR = 3
    AGGREGATOR = 4
    KEY_HOLDER = 5


class CancelReason(IntEnum):
    """Why a stalled round was cancelled."""

    TOO_FEW_UPDATES = 0
    AGGREGATOR_SILENT = 1
    KEY_HOLDER_SILENT = 2


class ExclusionReason(IntEnum):
    """Why the aggregator excluded an update's blob from its round."""

    MISSING = 0
    ALTERED = 1
    MALFORMED = 2
    WRONG_SHAPE = 3
    OVERSIZED = 4


@dataclass(frozen=True)
class TaskParams:
    """A task's rules, as the contract stores them. Units are in the names.

    The last three fields are newer than the others and have defaults, so positional
    construction with the first nine keeps working.
    """

    model_spec_digest: bytes
    public_context_digest: bytes
    initial_model_digest: bytes
    min_participants: int
    max_rounds: int
    validator_quorum: int
    submission_window_blocks: int
    validation_window_blocks: int
    reward_per_round: int
    max_samples_per_update: int = DEFAULT_MAX_SAMPLES_PER_UPDATE
    """The most samples one update may declare (at most 2**32 - 1)."""
    aggregation_window_blocks: int = DEFAULT_AGGREGATION_WINDOW_BLOCKS
    """Blocks the aggregator (after collection closes), then the key holder (after the
    aggregate), has to act before anyone may cancel the round."""
    admission_controlled: bool = False
    """Only accounts the coordinator admitted (``admit``) may join."""
    masked: bool = False
    """Updates carry pairwise masks (round masking keys advertised on-chain, reveals)."""

    @property
    def reward_pool(self) -> int:
        """Token base units the creator escrows: ``reward_per_round * max_rounds``."""
        return self.reward_per_round * self.max_rounds

    def as_tuple(self) -> tuple[Any, ...]:
        return (
            self.model_spec_digest,
            self.public_context_digest,
            self.initial_model_digest,
            self.min_participants,
            self.max_rounds,
            self.validator_quorum,
            self.submission_window_blocks,
            self.validation_window_blocks,
            self.reward_per_round,
            self.max_samples_per_update,
            self.aggregation_window_blocks,
            self.admission_controlled,
            self.masked,
        )


@dataclass(frozen=True)
class TaskState:
    task_id: int
    params: TaskParams
    coordinator: str
    aggregator: str
    key_holder: str
    participant_count: int
    validator_count: int
    current_round: int
    last_accepted_round: int
    current_model_digest: bytes
    voted_rounds: int = 0
    """Rounds whose model was voted on (accepted or rejected): they count against max_rounds."""
    accepted_rounds: int = 0
    ended: bool = False
    """No round opens any more: max_rounds were voted, or the coordinator closed the task."""
    escrow_reclaimed: bool = False
    rewarded_rejected_rounds: int = 0
    """Rejected rounds whose reward the task's policy still pays (a scored task's)."""
    governor: str | None = None
    """Who manages the validator set and the round rules (quorum, minimum participants) once
    the coordinator handed them over (a governance timelock); None while the coordinator does."""


@dataclass(frozen=True)
class RoundState:
    task_id: int
    round: int
    submission_deadline_block: int
    commit_count: int
    """Included updates: committed minus excluded."""
    total_samples: int
    phase: RoundPhase
    aggregate_digest: bytes | None
    model_digest: bytes | None
    validation_deadline_block: int
    accept_votes: int
    reject_votes: int
    updates_hash: int = 0
    action_deadline_block: int = 0
    """The aggregator (collecting) or the key holder (aggregated) must act by this block."""
    eligible_participants: int = 0
    """Participants registered when the round opened: only they may commit to it."""
    validator_count: int = 0
    """Validators registered when the round opened: the round's electorate."""
    excluded_count: int = 0


@dataclass(frozen=True)
class UpdateCommitment:
    """One participant's committed update, as read from the ``UpdateCommitted`` event."""

    participant: str
    update_digest: bytes
    samples: int
    block_number: int
    log_index: int
    tx_hash: str


@dataclass(frozen=True)
class UpdateExclusion:
    """An update the aggregator excluded from its round (``UpdateExcluded`` event)."""

    participant: str
    update_digest: bytes
    reason: ExclusionReason
    block_number: int
    tx_hash: str


@dataclass(frozen=True)
class Contribution:
    """The update stored under a digest: who committed it, to which round, and its status."""

    participant: str
    round: int
    samples: int
    excluded: bool
    reward_claimed: bool


@dataclass(frozen=True)
class MaskedRoundState:
    """A masked task's round: when key advertisement closes, keys advertised, reveals made."""

    advertisement_deadline_block: int
    advertised_count: int
    revealed_count: int


@dataclass(frozen=True)
class Member:
    """An account's role in a task and the first round it takes part in."""

    role: Role
    first_round: int
    last_committed_round: int
    max_samples_per_update: int
    masked: bool = False
    last_advertised_round: int = 0
    last_revealed_round: int = 0


@dataclass(frozen=True)
class Deployment:
    chain_id: int
    token: str
    reward_policy: str
    training: str
    deployed_at_block: int
    round_reports: str = ""
    """RoundReports (valued rounds' group and score reports); empty in a deployment made before
    it existed."""
    task_rules: str = ""
    """TaskRules: deployed with the registry (TaskStakes reads tasks' offence figures from it);
    in a deployment made before that, the first time a task is put under governance."""
    governor: str = ""
    timelock: str = ""
    governance_deployed_at_block: int = 0
    task_stakes: str = ""
    """TaskStakes (stakes, slashing, disputes); empty in a deployment made before it existed, whose
    reward policy is then the ProportionalRewardPolicy (no scoring, no stakes)."""


def update_term(participant: str, update_digest: bytes) -> int:
    """An update's term in its round's set hash, as ``FederatedTraining.updateTerm`` computes it:
    the low 104 bits of ``keccak256(abi.encode(participant, update_digest))``."""
    encoded = bytes(12) + bytes.fromhex(participant.removeprefix("0x")) + bytes(update_digest)
    return int.from_bytes(keccak(encoded), "big") % 2**UPDATES_HASH_BITS


def updates_commitment(commitments: Iterable[UpdateCommitment]) -> tuple[int, int]:
    """``(update_count, updates_hash)`` of the updates an aggregate sums: what
    ``commitAggregate`` must state. Order does not matter (the hash is a sum)."""
    count = 0
    total = 0
    for commitment in commitments:
        count += 1
        total += update_term(commitment.participant, commitment.update_digest)
    return count, total % 2**UPDATES_HASH_BITS


def bound_stakes(ledger: Ledger, policy: str) -> str:
    """The TaskStakes a ContributionRewardPolicy is bound to; "" for another policy."""
    contract = ledger.web3.eth.contract(
        address=to_checksum_address(policy), abi=load_artifact("ContributionRewardPolicy").abi
    )
    try:
        stakes = str(ledger.call(contract.functions.stakes()))
    except Exception:  # a ProportionalRewardPolicy: no such function
        return ""
    return "" if int(stakes, 16) == 0 else stakes


def serves_registry(ledger: Ledger, satellite: str, training: str) -> bool:
    """Whether the contract at ``satellite`` (RoundReports, TaskStakes, TaskRules) names
    ``training`` as its registry; False where no such contract is (no code, no ``registry()``)."""
    contract = ledger.web3.eth.contract(
        address=to_checksum_address(satellite), abi=load_artifact("RoundReports").abi
    )
    try:
        return str(ledger.call(contract.functions.registry())).lower() == training.lower()
    except Exception:  # no code there, or no such view
        return False


class TrainingContract:
    """The deployed FederatedTraining contract and its reward token."""

    def __init__(
        self, ledger: Ledger, deployment: Deployment, *, cache_dir: Path | None = None
    ) -> None:
        self.ledger = ledger
        self.deployment = deployment
        web3 = ledger.web3
        self.contract: Contract = web3.eth.contract(
            address=to_checksum_address(deployment.training),
            abi=load_artifact("FederatedTraining").abi,
        )
        self.token: Contract = web3.eth.contract(
            address=to_checksum_address(deployment.token), abi=load_artifact("FedToken").abi
        )
        self.cache_dir = cache_dir
        self._log_cache: dict[int, _TaskCache] = {}
        self._decoders = {
            keccak(text=_signature(item)): _EventDecoder(item)
            for item in self.contract.abi
            if item["type"] == "event"
        }
        self._log_lock = threading.Lock()
        self._gas_cache: dict[str, int] = {}
        self._batch_trees: dict[bytes, BatchTree] = {}  # by root: a round commits one batch

    # -- deployment ---------------------------------------------------------------------------

    @classmethod
    def deploy(
        cls,
        ledger: Ledger,
        deployer: LocalAccount,
        *,
        supply_cap: int = DEFAULT_SUPPLY_CAP,
        admin_transfer_delay_s: int = DEFAULT_ADMIN_TRANSFER_DELAY_S,
        cache_dir: Path | None = None,
    ) -> TrainingContract:
        """Deploy token, reward policy and registry, and the registry's satellites.

        The reward policy is the ContributionRewardPolicy (proportional unless a task enables
        scoring), bound after the registry to it and to the TaskStakes deployed beside it, which
        reads the offence figures of tasks with rules from the TaskRules deployed before it.

        The token's whole ``supply_cap`` is minted to ``deployer``, which is the treasury (fund
        coordinators from it with :meth:`transfer_tokens`) and the token's admin (handed over in
        two steps). Nobody can mint: the registry pays rewards from each task's escrow.
        """
        token_artifact = load_artifact("FedToken")
        policy_artifact = load_artifact("ContributionRewardPolicy")
        training_artifact = load_artifact("FederatedTraining")
        start_block = ledger.block_number()
        token = ledger.deploy(
            deployer,
            token_artifact.abi,
            token_artifact.bytecode,
            deployer.address,
            admin_transfer_delay_s,
            deployer.address,
            supply_cap,
            supply_cap,
        )
        policy = ledger.deploy(deployer, policy_artifact.abi, policy_artifact.bytecode)
        training = ledger.deploy(
            deployer, training_artifact.abi, training_artifact.bytecode, token, policy
        )
        reports_artifact = load_artifact("RoundReports")
        round_reports = ledger.deploy(
            deployer, reports_artifact.abi, reports_artifact.bytecode, training
        )
        rules_artifact = load_artifact("TaskRules")
        task_rules = ledger.deploy(deployer, rules_artifact.abi, rules_artifact.bytecode, training)
        stakes_artifact = load_artifact("TaskStakes")
        task_stakes = ledger.deploy(
            deployer, stakes_artifact.abi, stakes_artifact.bytecode, training, policy, task_rules
        )
        policy_contract = ledger.web3.eth.contract(
            address=to_checksum_address(policy), abi=policy_artifact.abi
        )
        ledger.transact(deployer, policy_contract.functions.bindRegistry(training, task_stakes))
        deployment = Deployment(
            chain_id=ledger.chain_id,
            token=token,
            reward_policy=policy,
            training=training,
            deployed_at_block=start_block,
            round_reports=round_reports,
            task_rules=task_rules,
            task_stakes=task_stakes,
        )
        return cls(ledger, deployment, cache_dir=cache_dir)

    def save(self, path: Path) -> None:
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(self.deployment.__dict__, indent=2) + "\n")
        os.replace(temporary, path)

    @classmethod
    def load(cls, ledger: Ledger, path: Path, *, cache_dir: Path | None = None) -> TrainingContract:
        if not path.exists():
            raise DeploymentNotFoundError(
                f"no fedchain deployment recorded in {path}; create one with "
                "Federation.open(...) on this ledger"
            )
        deployment = Deployment(**json.loads(path.read_text()))
        if deployment.chain_id != ledger.chain_id or not ledger.web3.eth.get_code(
            to_checksum_address(deployment.training)
        ):
            raise DeploymentNotFoundError(
                f"the deployment recorded in {path} is not on this chain (chain id "
                f"{ledger.chain_id}); remove the file to deploy afresh"
            )
        return cls(ledger, deployment, cache_dir=cache_dir)

    @classmethod
    def at(
        cls, ledger: Ledger, training: str, *, cache_dir: Path | None = None
    ) -> TrainingContract:
        """The deployment whose FederatedTraining contract is at ``training`` (another
        workspace deployed it): its token and reward policy are read from the contract, the
        block it was deployed in is found from the code's history (a binary search)."""
        address = to_checksum_address(training)
        eth = ledger.web3.eth
        if not eth.get_code(address):
            raise DeploymentNotFoundError(
                f"no contract at {address} on this chain (chain id {ledger.chain_id}); check the "
                "address the coordinator gave"
            )
        contract = eth.contract(address=address, abi=load_artifact("FederatedTraining").abi)
        try:
            token = str(ledger.call(contract.functions.token()))
            policy = str(ledger.call(contract.functions.rewardPolicy()))
        except Exception:  # not our contract: its calls revert or decode to nothing
            raise DeploymentNotFoundError(
                f"the contract at {address} is not a fedchain FederatedTraining contract"
            ) from None
        low, high = 0, ledger.block_number()
        while low < high:  # the first block whose state holds the code
            middle = (low + high) // 2
            if eth.get_code(address, block_identifier=middle):
                high = middle
            else:
                low = middle + 1
        deployment = Deployment(
            chain_id=ledger.chain_id, token=token, reward_policy=policy, training=address,
            deployed_at_block=low, task_stakes=bound_stakes(ledger, policy),
        )  # fmt: skip
        return cls(ledger, deployment, cache_dir=cache_dir)

    # -- the reward token -------------------------------------------------------------------------

    def transfer_tokens(self, sender: LocalAccount, to: str, amount: int) -> TransactionResult:
        """Move ``amount`` reward token base units from ``sender`` (e.g. the treasury) to ``to``."""
        function = self.token.functions.transfer(to_checksum_address(to), amount)
        return self.ledger.transact(sender, function)

    def approve_escrow(self, funder: LocalAccount, amount: int) -> TransactionResult:
        """Allow the registry to pull ``amount`` base units from ``funder`` (a task's escrow)."""
        function = self.token.functions.approve(self.contract.address, amount)
        return self.ledger.transact(funder, function)

    def escrow_allowance(self, funder: str) -> int:
        function = self.token.functions.allowance(
            to_checksum_address(funder), self.contract.address
        )
        return int(self.ledger.call(function))

    # -- task set-up ------------------------------------------------------------------------------

    def create_task(
        self, coordinator: LocalAccount, params: TaskParams, aggregator: str, key_holder: str
    ) -> tuple[int, TransactionResult]:
        """Create a task, escrowing ``params.reward_pool`` from ``coordinator``.

        The coordinator must hold the pool; if its allowance to the registry is short, an
        ``approve`` for exactly the pool is sent first.
        """
        if self.escrow_allowance(coordinator.address) < params.reward_pool:
            self.approve_escrow(coordinator, params.reward_pool)
        function = self.contract.functions.createTask(
            params.as_tuple(), to_checksum_address(aggregator), to_checksum_address(key_holder)
        )
        result = self.ledger.transact(coordinator, function)
        (event,) = self.contract.events.TaskCreated().process_receipt(
            result.receipt, errors=DISCARD
        )
        return int(event["args"]["taskId"]), result

    def add_validator(
        self, coordinator: LocalAccount, task_id: int, validator: str
    ) -> TransactionResult:
        function = self.contract.functions.addValidator(task_id, to_checksum_address(validator))
        return self.ledger.transact(coordinator, function)

    def hand_over_governance(
        self, manager: LocalAccount, task_id: int, governor: str
    ) -> TransactionResult:
        """The task's manager (its coordinator first) hands the validator set and the round rules
        to ``governor``."""
        function = self.contract.functions.handOverGovernance(
            task_id, to_checksum_address(governor)
        )
        return self.ledger.transact(manager, function)

    def join(self, participant: LocalAccount, task_id: int) -> TransactionResult:
        return self.ledger.transact(participant, self.contract.functions.join(task_id))

    def admit(
        self,
        coordinator: LocalAccount,
        task_id: int,
        accounts: Sequence[str],
        sample_cap: int = 0,
    ) -> TransactionResult:
        """Admit ``accounts`` to an admission-controlled task, each update declaring at most
        ``sample_cap`` samples (0: the task's ``max_samples_per_update``). One transaction."""
        function = self.contract.functions.admit(
            task_id, [to_checksum_address(account) for account in accounts], sample_cap
        )
        return self.ledger.transact(coordinator, function)

    def revoke_admission(
        self, coordinator: LocalAccount, task_id: int, account: str
    ) -> TransactionResult:
        """Revoke ``account``'s admission: it may not join, nor commit any further update."""
        function = self.contract.functions.revokeAdmission(task_id, to_checksum_address(account))
        return self.ledger.transact(coordinator, function)

    # -- masked tasks -----------------------------------------------------------------------------

    def advertise_masking_key(
        self,
        participant: LocalAccount,
        task_id: int,
        round_number: int,
        public_key: bytes,
        proof: bytes,
    ) -> TransactionResult:
        """Advertise ``participant``'s round masking public key (64 bytes, x || y), with
        ``proof``: the masking key's signature of :meth:`masking_key_digest`."""
        function = self.contract.functions.advertiseMaskingKey(
            task_id, round_number, public_key, proof
        )
        return self.ledger.transact(participant, function)

    def masking_key_digest(self, task_id: int, round_number: int, participant: str) -> bytes:
        """What a round masking key signs to prove ``participant`` holds it: the contract's
        ``maskingKeyDigest``, computed here as it does (no call to the node)."""
        encoded = abi_encode(
            ["string", "uint256", "address", "uint256", "uint32", "address"],
            [
                "fedchain masking key",
                self.ledger.chain_id,
                str(self.contract.address),
                task_id,
                round_number,
                to_checksum_address(participant),
            ],
        )
        return bytes(keccak(encoded))

    def reveal_masks(
        self,
        participant: LocalAccount,
        task_id: int,
        round_number: int,
        update_digest: bytes,
        reveal_digest: bytes,
    ) -> TransactionResult:
        """Record the digest of ``participant``'s reveal blob for the round's sum."""
        function = self.contract.functions.revealMasks(
            task_id, round_number, update_digest, reveal_digest
        )
        return self.ledger.transact(participant, function)

    def masked_round(self, task_id: int, round_number: int) -> MaskedRoundState:
        raw = self.ledger.call(self.contract.functions.getMaskedRound(task_id, round_number))
        deadline, advertised, revealed = raw
        return MaskedRoundState(int(deadline), int(advertised), int(revealed))

    def masking_keys(self, task_id: int, round_number: int) -> dict[str, bytes]:
        """The round's advertised masking public keys by participant address, in chain order."""
        logs = self.event_logs("MaskingKeyAdvertised", taskId=task_id, round=round_number)
        return {str(log["args"]["participant"]): bytes(log["args"]["publicKey"]) for log in logs}

    def mask_reveals(self, task_id: int, round_number: int) -> dict[str, bytes]:
        """The round's reveal-blob digests by participant address."""
        logs = self.event_logs("MasksRevealed", taskId=task_id, round=round_number)
        return {str(log["args"]["participant"]): bytes(log["args"]["revealDigest"]) for log in logs}

    def admission(self, task_id: int, account: str) -> tuple[bool, int]:
        """(admitted, most samples an update of ``account`` may declare); in an open task every
        account is admitted under the task's bound."""
        function = self.contract.functions.admission(task_id, to_checksum_address(account))
        admitted, cap = self.ledger.call(function)
        return bool(admitted), int(cap)

    def set_aggregator(
        self, coordinator: LocalAccount, task_id: int, new_aggregator: str
    ) -> TransactionResult:
        """Hand the aggregator role to ``new_aggregator`` (between rounds)."""
        function = self.contract.functions.setAggregator(
            task_id, to_checksum_address(new_aggregator)
        )
        return self.ledger.transact(coordinator, function)

    def set_key_holder(
        self,
        coordinator: LocalAccount,
        task_id: int,
        new_key_holder: str,
        public_context_digest: bytes,
    ) -> TransactionResult:
        """Hand the key holder role to ``new_key_holder``, whose key's public context is
        ``public_context_digest`` (pass the current one if the key stays the same)."""
        function = self.contract.functions.setKeyHolder(
            task_id, to_checksum_address(new_key_holder), public_context_digest
        )
        return self.ledger.transact(coordinator, function)

    # -- rounds -----------------------------------------------------------------------------------

    def open_round(self, coordinator: LocalAccount, task_id: int) -> tuple[int, TransactionResult]:
        result = self.ledger.transact(coordinator, self.contract.functions.openRound(task_id))
        (event,) = self.contract.events.RoundOpened().process_receipt(
            result.receipt, errors=DISCARD
        )
        return int(event["args"]["round"]), result

    def commit_update(
        self,
        participant: LocalAccount,
        task_id: int,
        round_number: int,
        update_digest: bytes,
        samples: int,
    ) -> TransactionResult:
        function = self.contract.functions.commitUpdate(
            task_id, round_number, update_digest, samples
        )
        return self.ledger.transact(participant, function)

    def exclude_update(
        self,
        aggregator: LocalAccount,
        task_id: int,
        round_number: int,
        update_digest: bytes,
        reason: ExclusionReason,
    ) -> TransactionResult:
        """Exclude an update whose blob is unusable from its round (collection must be closed)."""
        function = self.contract.functions.excludeUpdate(
            task_id, round_number, update_digest, int(reason)
        )
        return self.ledger.transact(aggregator, function)

    def commit_aggregate(
        self,
        aggregator: LocalAccount,
        task_id: int,
        round_number: int,
        aggregate_digest: bytes,
        commitments: Iterable[UpdateCommitment],
    ) -> TransactionResult:
        """Commit the aggregate of exactly ``commitments`` (the included updates it sums, as
        :meth:`update_commitments` returned them); the contract refuses any other set."""
        update_count, updates_hash = updates_commitment(commitments)
        function = self.contract.functions.commitAggregate(
            task_id, round_number, aggregate_digest, update_count, updates_hash
        )
        return self.ledger.transact(aggregator, function)

    def commit_model(
        self, key_holder: LocalAccount, task_id: int, round_number: int, model_digest: bytes
    ) -> TransactionResult:
        function = self.contract.functions.commitModel(task_id, round_number, model_digest)
        return self.ledger.transact(key_holder, function)

    def reject_aggregate(
        self, key_holder: LocalAccount, task_id: int, round_number: int, recomputed_digest: bytes
    ) -> TransactionResult:
        """Refuse the aggregate; the round goes back to await a fresh one (it is not ended)."""
        function = self.contract.functions.rejectAggregate(task_id, round_number, recomputed_digest)
        return self.ledger.transact(key_holder, function)

    def vote(
        self,
        validator: LocalAccount,
        task_id: int,
        round_number: int,
        accept: bool,
        metric_ppm: int,
    ) -> TransactionResult:
        """Vote; the vote of the electorate's last validator tallies the round."""
        function = self.contract.functions.vote(task_id, round_number, accept, metric_ppm)
        return self.ledger.transact(validator, function)

    def finalize_round(
        self, caller: LocalAccount, task_id: int, round_number: int
    ) -> TransactionResult:
        """Tally the votes of a round whose validation window closed (accepted or rejected)."""
        function = self.contract.functions.finalizeRound(task_id, round_number)
        return self.ledger.transact(caller, function)

    def cancel_round(
        self, caller: LocalAccount, task_id: int, round_number: int
    ) -> tuple[CancelReason, TransactionResult]:
        """Cancel a stalled round (too few updates, aggregator or key holder silent)."""
        function = self.contract.functions.cancelRound(task_id, round_number)
        result = self.ledger.transact(caller, function)
        (event,) = self.contract.events.RoundCancelled().process_receipt(
            result.receipt, errors=DISCARD
        )
        return CancelReason(int(event["args"]["reason"])), result

    def close_task(self, coordinator: LocalAccount, task_id: int) -> TransactionResult:
        """End the task early (between rounds); its escrow's remainder can then be reclaimed."""
        return self.ledger.transact(coordinator, self.contract.functions.closeTask(task_id))

    # -- rewards and escrow -----------------------------------------------------------------------

    def claim_reward(
        self,
        participant: LocalAccount,
        task_id: int,
        round_number: int,
        update_digest: bytes | None = None,
    ) -> tuple[int, TransactionResult]:
        """Claim ``participant``'s reward for its update to an accepted round.

        ``update_digest`` defaults to the digest the participant committed to the round, read
        from the log.
        """
        if update_digest is None:
            update_digest = self._committed_digest(task_id, round_number, participant.address)
        function = self.contract.functions.claimReward(
            task_id, round_number, update_digest or bytes(32)
        )
        result = self.ledger.transact(participant, function)
        (event,) = self.contract.events.RewardClaimed().process_receipt(
            result.receipt, errors=DISCARD
        )
        return int(event["args"]["amount"]), result

    def reclaim_escrow(self, caller: LocalAccount, task_id: int) -> tuple[int, TransactionResult]:
        """Return an ended task's unspent escrow to its coordinator; returns the amount."""
        result = self.ledger.transact(caller, self.contract.functions.reclaimEscrow(task_id))
        (event,) = self.contract.events.EscrowReclaimed().process_receipt(
            result.receipt, errors=DISCARD
        )
        return int(event["args"]["amount"]), result

    # -- batched commitments ----------------------------------------------------------------------

    def sign_update(
        self,
        participant: LocalAccount,
        task_id: int,
        round_number: int,
        update_digest: bytes,
        samples: int,
    ) -> SignedUpdate:
        """``participant``'s EIP-712 signed commitment to its update, for the aggregator's batch."""
        return sign_update(
            participant,
            chain_id=self.ledger.chain_id,
            contract=self.contract.address,
            task_id=task_id,
            round_number=round_number,
            update_digest=update_digest,
            samples=samples,
        )

    def commit_batch(
        self,
        aggregator: LocalAccount,
        task_id: int,
        round_number: int,
        updates: Sequence[SignedUpdate],
    ) -> tuple[BatchTree, TransactionResult]:
        """Commit the round's signed updates in one transaction (ordered by digest here);
        returns the batch's Merkle tree, whose root the contract now holds."""
        ordered = order_batch(updates)
        function = self.contract.functions.commitBatch(
            task_id, round_number, [update.as_tuple() for update in ordered]
        )
        result = self.ledger.transact(aggregator, function)
        return BatchTree([update.leaf for update in ordered]), result

    def batch(self, task_id: int, round_number: int) -> tuple[bytes, int, bool]:
        """The round's batch: its Merkle root (zero if none), its size, whether it was paid."""
        root, leaf_count, paid = self.ledger.call(
            self.contract.functions.getBatch(task_id, round_number)
        )
        return bytes(root), int(leaf_count), bool(paid)

    def batch_tree(
        self, task_id: int, round_number: int, root: bytes | None = None
    ) -> BatchTree | None:
        """The round's batch rebuilt from the log (its ``UpdateCommitted`` logs in the batch's
        transaction, in order); ``None`` when the round has no batch. A tree whose root is
        the one on-chain is kept: a round commits one batch, so each party's claim of a large
        batch does not rebuild its tree again. ``root``: the batch's root, when the caller has
        just read it (:meth:`batch`)."""
        if root is None:
            root = self.batch(task_id, round_number)[0]
        if root == bytes(32):
            return None
        kept = self._batch_trees.get(root)
        if kept is not None:
            return kept
        logs = self.event_logs("BatchCommitted", taskId=task_id, round=round_number)
        if not logs:
            return None
        tx_hash = bytes(logs[0]["transactionHash"])
        leaves = [
            BatchLeaf(
                str(log["args"]["participant"]),
                bytes(log["args"]["updateDigest"]),
                int(log["args"]["samples"]),
            )
            for log in self.event_logs("UpdateCommitted", taskId=task_id, round=round_number)
            if bytes(log["transactionHash"]) == tx_hash
        ]
        tree = BatchTree(leaves)
        if tree.root == root:  # logs read from a node that lags the view are not kept
            self._batch_trees[root] = tree
        return tree

    def is_in_batch(
        self, task_id: int, round_number: int, leaf: BatchLeaf, proof: Sequence[bytes]
    ) -> bool:
        """Whether the contract accepts ``proof`` of ``leaf``'s inclusion in the round's batch."""
        function = self.contract.functions.isInBatch(
            task_id, round_number, leaf.as_tuple(), list(proof)
        )
        return bool(self.ledger.call(function))

    def exclude_batched_update(
        self,
        aggregator: LocalAccount,
        task_id: int,
        round_number: int,
        tree: BatchTree,
        index: int,
        reason: ExclusionReason,
    ) -> TransactionResult:
        """Exclude leaf ``index`` of the round's batch (as :meth:`exclude_update` does)."""
        function = self.contract.functions.excludeBatchedUpdate(
            task_id, round_number, tree.leaves[index].as_tuple(), tree.proof(index), int(reason)
        )
        return self.ledger.transact(aggregator, function)

    def claim_batched_reward(
        self, participant: LocalAccount, task_id: int, round_number: int, tree: BatchTree
    ) -> tuple[int, TransactionResult]:
        """Claim ``participant``'s reward for its leaf of an accepted round's batch."""
        index = tree.index_of(participant.address)
        function = self.contract.functions.claimBatchedReward(
            task_id, round_number, tree.leaves[index].as_tuple(), tree.proof(index)
        )
        result = self.ledger.transact(participant, function)
        (event,) = self.contract.events.RewardClaimed().process_receipt(
            result.receipt, errors=DISCARD
        )
        return int(event["args"]["amount"]), result

    def pay_batch(
        self, caller: LocalAccount, task_id: int, round_number: int, tree: BatchTree
    ) -> tuple[int, TransactionResult]:
        """Pay every included, unclaimed leaf of an accepted round's batch in one transaction;
        returns the total paid."""
        function = self.contract.functions.payBatch(
            task_id, round_number, [leaf.as_tuple() for leaf in tree.leaves]
        )
        result = self.ledger.transact(caller, function)
        (event,) = self.contract.events.BatchPaid().process_receipt(result.receipt, errors=DISCARD)
        return int(event["args"]["amount"]), result

    # -- reads ----------------------------------------------------------------------------------

    def task_count(self) -> int:
        return int(self.ledger.call(self.contract.functions.taskCount()))

    def task(self, task_id: int) -> TaskState:
        raw = self.ledger.call(self.contract.functions.getTask(task_id))
        (params, coordinator, aggregator, key_holder, participants, validators) = raw[:6]
        (current_round, last_accepted, voted, accepted, ended, reclaimed, model_digest) = raw[6:13]
        return TaskState(
            task_id=task_id,
            params=TaskParams(*params),
            coordinator=coordinator,
            aggregator=aggregator,
            key_holder=key_holder,
            participant_count=int(participants),
            validator_count=int(validators),
            current_round=int(current_round),
            last_accepted_round=int(last_accepted),
            current_model_digest=bytes(model_digest),
            voted_rounds=int(voted),
            accepted_rounds=int(accepted),
            ended=bool(ended),
            escrow_reclaimed=bool(reclaimed),
            rewarded_rejected_rounds=int(raw[13]),
            governor=None if int(raw[14], 16) == 0 else str(raw[14]),
        )

    def round(self, task_id: int, round_number: int) -> RoundState:
        """The round's state; a finished round never changes, so it is read once (and kept
        in the task's log cache on disk)."""
        with self._log_lock:
            cached = self._cached_task(task_id)
        kept = cached.finished_rounds.get(round_number)
        if kept is not None:
            raw = [bytes.fromhex(v) if isinstance(v, str) else v for v in kept]
        else:
            raw = list(self.ledger.call(self.contract.functions.getRound(task_id, round_number)))
            if RoundPhase(int(raw[0])).finished:
                stored = [v.hex() if isinstance(v, bytes) else int(v) for v in raw]
                cached.finished_rounds[round_number] = stored
                self._remember(task_id, {}, {round_number: stored})
        (phase, deadline, commits, samples, updates_hash, action_deadline) = raw[:6]
        (validation, eligible, validators, excluded, accepts, rejects, aggregate, model) = raw[6:]
        return RoundState(
            task_id=task_id,
            round=round_number,
            submission_deadline_block=int(deadline),
            commit_count=int(commits),
            total_samples=int(samples),
            phase=RoundPhase(int(phase)),
            aggregate_digest=_nonzero(aggregate),
            model_digest=_nonzero(model),
            validation_deadline_block=int(validation),
            accept_votes=int(accepts),
            reject_votes=int(rejects),
            updates_hash=int(updates_hash),
            action_deadline_block=int(action_deadline),
            eligible_participants=int(eligible),
            validator_count=int(validators),
            excluded_count=int(excluded),
        )

    def contribution_of(self, task_id: int, update_digest: bytes) -> Contribution | None:
        """The update stored under ``update_digest`` in the task, or ``None``."""
        raw = self.ledger.call(self.contract.functions.getContribution(task_id, update_digest))
        participant, round_number, samples, excluded, claimed = raw
        if int(participant, 16) == 0:
            return None
        return Contribution(str(participant), int(round_number), int(samples), excluded, claimed)

    def contribution(self, task_id: int, round_number: int, participant: str) -> tuple[int, bool]:
        """(samples, reward claimed) of ``participant`` in a round; samples 0 if it committed
        nothing or its update was excluded."""
        found = self._committed_digest(task_id, round_number, participant)
        stored = None if found is None else self.contribution_of(task_id, found)
        if stored is None or stored.excluded:
            return 0, False
        return stored.samples, stored.reward_claimed

    def member(self, task_id: int, account: str) -> Member:
        """``account``'s role in the task (``Role.NONE`` if it holds none)."""
        raw = self.ledger.call(
            self.contract.functions.getMember(task_id, to_checksum_address(account))
        )
        role, first_round, last_committed, max_samples, masked, advertised, revealed = raw
        return Member(
            Role(int(role)),
            int(first_round),
            int(last_committed),
            int(max_samples),
            bool(masked),
            int(advertised),
            int(revealed),
        )

    def is_participant(self, task_id: int, account: str) -> bool:
        function = self.contract.functions.isParticipant(task_id, to_checksum_address(account))
        return bool(self.ledger.call(function))

    def is_validator(self, task_id: int, account: str) -> bool:
        function = self.contract.functions.isValidator(task_id, to_checksum_address(account))
        return bool(self.ledger.call(function))

    def has_voted(self, task_id: int, round_number: int, validator: str) -> bool:
        function = self.contract.functions.hasVoted(
            task_id, round_number, to_checksum_address(validator)
        )
        return bool(self.ledger.call(function))

    def effective_quorum(self, task_id: int, round_number: int) -> int:
        """Accept votes the round needs: the task's quorum, and at least a majority of the
        round's electorate (the rule ``finalizeRound`` applies)."""
        quorum = self.task(task_id).params.validator_quorum
        return max(quorum, self.round(task_id, round_number).validator_count // 2 + 1)

    def pending_reward(
        self,
        task_id: int,
        round_number: int,
        participant: str,
        update_digest: bytes | None = None,
    ) -> int:
        """What ``participant`` could claim for the round now (0 if nothing)."""
        if update_digest is None:
            update_digest = self._committed_digest(task_id, round_number, participant)
            if update_digest is None:
                return 0
        function = self.contract.functions.pendingReward(task_id, round_number, update_digest)
        pending = int(self.ledger.call(function))
        if pending == 0:  # a leaf of an unpaid batch has no contribution record to read yet
            return self._pending_batched_reward(task_id, round_number, participant)
        return pending

    def _pending_batched_reward(self, task_id: int, round_number: int, participant: str) -> int:
        """What ``participant``'s claim of its leaf in the round's unpaid batch would pay now
        (0 if it has none, or the claim would be refused): the claim itself, run as a call."""
        root, _, paid = self.batch(task_id, round_number)
        if paid or root == bytes(32):
            return 0
        tree = self.batch_tree(task_id, round_number, root)
        if tree is None:
            return 0
        try:
            index = tree.index_of(participant)
        except KeyError:
            return 0
        function = self.contract.functions.claimBatchedReward(
            task_id, round_number, tree.leaves[index].as_tuple(), tree.proof(index)
        )
        try:
            return int(self.ledger.call(function, sender=participant))
        except ContractRevertError:  # claimed, excluded, inside the dispute window, ...
            return 0

    def unallocated_escrow(self, task_id: int) -> int:
        """The part of the task's escrow no accepted round took (reclaimable once it ended)."""
        return int(self.ledger.call(self.contract.functions.unallocatedEscrow(task_id)))

    def token_balance(self, account: str) -> int:
        function = self.token.functions.balanceOf(to_checksum_address(account))
        return int(self.ledger.call(function))

    def token_symbol(self) -> str:
        return str(self.ledger.call(self.token.functions.symbol()))

    def update_commitments(
        self, task_id: int, round_number: int, *, include_excluded: bool = False
    ) -> list[UpdateCommitment]:
        """The round's committed updates in chain order, read from the event log by their
        task and round topics; those the aggregator excluded are left out unless asked for.

        The default list is the set an aggregate must sum (pass it to :meth:`commit_aggregate`).
        """
        excluded = (
            set()
            if include_excluded
            else {e.update_digest for e in self.excluded_updates(task_id, round_number)}
        )
        return [
            UpdateCommitment(
                participant=str(log["args"]["participant"]),
                update_digest=bytes(log["args"]["updateDigest"]),
                samples=int(log["args"]["samples"]),
                block_number=int(log["blockNumber"]),
                log_index=int(log["logIndex"]),
                tx_hash="0x" + bytes(log["transactionHash"]).hex(),
            )
            for log in self.event_logs("UpdateCommitted", taskId=task_id, round=round_number)
            if bytes(log["args"]["updateDigest"]) not in excluded
        ]

    def excluded_updates(self, task_id: int, round_number: int) -> list[UpdateExclusion]:
        """The updates the aggregator excluded from the round, in chain order."""
        return [
            UpdateExclusion(
                participant=str(log["args"]["participant"]),
                update_digest=bytes(log["args"]["updateDigest"]),
                reason=ExclusionReason(int(log["args"]["reason"])),
                block_number=int(log["blockNumber"]),
                tx_hash="0x" + bytes(log["transactionHash"]).hex(),
            )
            for log in self.event_logs("UpdateExcluded", taskId=task_id, round=round_number)
        ]

    def event_logs(self, event_name: str, **argument_filters: Any) -> list[Any]:
        """Every ``event_name`` log of the registry since deployment, in chain order, whose
        arguments equal ``argument_filters``.

        With a ``taskId`` filter (every task event indexes it first), the task's logs of every
        kind are read in one pass (see :meth:`_task_logs`) and cached; any other filter (round,
        digest, account) is applied here. Without one, the event is read on its own.
        """
        task_id = argument_filters.get("taskId")
        others = {name: value for name, value in argument_filters.items() if name != "taskId"}
        if task_id is not None:
            logs = self._task_logs(int(task_id)).get(event_name, [])
        else:
            event = getattr(self.contract.events, event_name)()
            logs = list(event.get_logs(from_block=self.deployment.deployed_at_block))
            logs.sort(key=lambda log: (log["blockNumber"], log["logIndex"]))
        return [log for log in logs if all(log["args"][n] == v for n, v in others.items())]

    def _task_logs(self, task_id: int) -> dict[str, list[Any]]:
        """The task's logs by event name, in chain order, read incrementally.

        One log query (registry address, topic 1 = the task) covers every event kind, and each
        call reads only the blocks mined since the previous one; with a ``cache_dir`` the logs
        of settled blocks are also kept on disk (:mod:`.log_cache`), so a fresh process reads
        only what was mined since the last one: opening a task's history costs about the same
        after 5 rounds as after 50. On a JSON-RPC node the newest ``REORG_DEPTH_BLOCKS`` blocks
        are re-read every time, in case they were replaced.
        """
        with self._log_lock:
            cached = self._cached_task(task_id)
            head = self.ledger.block_number()
            settled = head if self.ledger.embedded else max(head - REORG_DEPTH_BLOCKS, 0)
            start = cached.raw.next_block
            topics: list[bytes | None] = [None, task_id.to_bytes(32, "big")]
            if start <= settled:
                fresh = self.ledger.raw_logs(self.contract.address, topics, start, settled)
                settled_hash = self.ledger.block_hash(settled) or ""
                cached.raw.next_block, cached.raw.last_hash = settled + 1, settled_hash
                self._absorb(cached, fresh)
                if cached.file is not None:
                    cached.file.append_logs(start, settled, settled_hash, fresh)
            if settled >= head:
                return cached.decoded
            merged = {name: list(logs) for name, logs in cached.decoded.items()}
            recent = self.ledger.raw_logs(
                self.contract.address, topics, max(start, settled + 1), head
            )
            for raw in recent:
                name, log = self._decode(raw)
                if name is not None:
                    merged.setdefault(name, []).append(log)
            return merged

    def _cached_task(self, task_id: int) -> _TaskCache:
        cached = self._log_cache.get(task_id)
        if cached is None:
            file = None
            raw = CachedTaskLogs(self.deployment.deployed_at_block)
            if self.cache_dir is not None:
                file = TaskLogFile(
                    self.cache_dir
                    / f"chain-{self.deployment.chain_id}-{self.deployment.training.lower()}"
                    f"-task-{task_id}.logs"
                )
                raw = file.load(self.deployment.deployed_at_block, self.ledger.block_hash)
                if raw.last_hash is None:
                    file.reset()  # absent, damaged or stale: start it again
            cached = _TaskCache(raw, file, {}, {})
            self._absorb(cached, raw.logs)
            self._gas_cache.update(raw.gas)
            cached.finished_rounds.update(raw.finished_rounds)
            raw.logs = []  # decoded now; the raw form is only needed on disk
            self._log_cache[task_id] = cached
        return cached

    def _absorb(self, cached: _TaskCache, logs: list[RawLog]) -> None:
        for raw in logs:
            name, log = self._decode(raw)
            if name is not None:
                cached.decoded.setdefault(name, []).append(log)
            if raw.gas_used is not None:
                self._gas_cache[raw.tx_hash] = raw.gas_used

    def _decode(self, raw: RawLog) -> tuple[str | None, Any]:
        decoder = self._decoders.get(raw.topics[0]) if raw.topics else None
        if decoder is None:
            return None, None
        return decoder.name, decoder.decode(raw)

    def _remember(self, task_id: int, gas: dict[str, int], rounds: dict[int, list[Any]]) -> None:
        """Keep facts that never change (a receipt's gas, a finished round) in the task's cache."""
        cached = self._log_cache.get(task_id)
        if cached is not None and cached.file is not None:
            cached.file.append_facts(gas, rounds)

    def gas_used(self, tx_hash: str, task_id: int | None = None) -> int:
        """The gas a mined transaction used (cached: receipts never change). On the in-process
        chain a logged transaction's gas came with its log; otherwise it is read from the
        receipt once, and kept in the task's log cache when ``task_id`` is given."""
        if tx_hash not in self._gas_cache:
            self._gas_cache[tx_hash] = self.ledger.gas_used(tx_hash)
            if task_id is not None:
                self._remember(task_id, {tx_hash: self._gas_cache[tx_hash]}, {})
        return self._gas_cache[tx_hash]

    def _committed_digest(self, task_id: int, round_number: int, participant: str) -> bytes | None:
        """The digest ``participant`` committed to the round (excluded or not), or ``None``."""
        address = to_checksum_address(participant)
        for log in self.event_logs("UpdateCommitted", taskId=task_id, round=round_number):
            if log["args"]["participant"] == address:
                return bytes(log["args"]["updateDigest"])
        return None


@dataclass
class _TaskCache:
    raw: CachedTaskLogs
    file: TaskLogFile | None
    decoded: dict[str, list[Any]]
    finished_rounds: dict[int, list[Any]]


class _EventDecoder:
    """Decodes one event's raw logs into web3's shape (``args``, ``event``, ``blockNumber``,
    ``logIndex``, ``transactionHash``) with eth-abi alone: web3's ``process_log`` took about
    1.6 ms a log, which dominated reading a long history."""

    def __init__(self, abi: Any) -> None:
        self.name = str(abi["name"])
        self.indexed = [(i["name"], _abi_type(i)) for i in abi["inputs"] if i["indexed"]]
        self.plain = [(i["name"], _abi_type(i)) for i in abi["inputs"] if not i["indexed"]]

    def decode(self, raw: RawLog) -> AttributeDict[str, Any]:
        args: dict[str, Any] = {}
        for (name, kind), topic in zip(self.indexed, raw.topics[1:], strict=False):
            args[name] = _decoded(kind, abi_decode([kind], topic)[0])
        values = abi_decode([kind for _, kind in self.plain], raw.data) if self.plain else ()
        for (name, kind), value in zip(self.plain, values, strict=True):
            args[name] = _decoded(kind, value)
        return AttributeDict(
            {
                "args": AttributeDict(args),
                "event": self.name,
                "blockNumber": raw.block_number,
                "logIndex": raw.log_index,
                "transactionHash": HexBytes(raw.tx_hash),
            }
        )


@functools.lru_cache(maxsize=4096)
def _checksummed(address: str) -> str:
    return str(to_checksum_address(address))


def _decoded(kind: str, value: Any) -> Any:
    return _checksummed(value) if kind == "address" else value


def _signature(event_abi: Any) -> str:
    """``Name(type,type)``: what topic 0 of the event's logs is the keccak of."""
    return f"{event_abi['name']}({','.join(_abi_type(item) for item in event_abi['inputs'])})"


def _abi_type(item: Any) -> str:
    kind = str(item["type"])
    if kind.startswith("tuple"):
        return f"({','.join(_abi_type(c) for c in item['components'])}){kind[5:]}"
    return kind


def _nonzero(digest: bytes) -> bytes | None:
    value = bytes(digest)
    return None if value == bytes(32) else value
