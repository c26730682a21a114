"""Typed access to the fedchain contracts: deploy them, send their transactions, read them back.

This module knows Solidity types and events, nothing about encryption or models: digests are
opaque 32-byte values to it.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address
from web3.contract import Contract
from web3.logs import DISCARD

from .artifacts import load_artifact
from .errors import DeploymentNotFoundError
from .ledger import Ledger, TransactionResult

DEPLOYMENT_FILENAME = "deployment.json"
REORG_DEPTH_BLOCKS = 12
"""On a JSON-RPC node, logs this close to the head are re-read each time (they may change)."""


class RoundPhase(IntEnum):
    NONE = 0
    COLLECTING = 1
    AGGREGATED = 2
    VALIDATING = 3
    ACCEPTED = 4
    REJECTED = 5

    @property
    def label(self) -> str:
        return self.name.lower()

    @property
    def finished(self) -> bool:
        return self in (RoundPhase.ACCEPTED, RoundPhase.REJECTED)


@dataclass(frozen=True)
class TaskParams:
    """A task's rules, as the contract stores them. Units are in the names."""

    model_spec_digest: bytes
    public_context_digest: bytes
    initial_model_digest: bytes
    min_participants: int
    max_rounds: int
    validator_quorum: int
    submission_window_blocks: int
    validation_window_blocks: int
    reward_per_round: int

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


@dataclass(frozen=True)
class RoundState:
    task_id: int
    round: int
    submission_deadline_block: int
    commit_count: int
    total_samples: int
    phase: RoundPhase
    aggregate_digest: bytes | None
    model_digest: bytes | None
    validation_deadline_block: int
    accept_votes: int
    reject_votes: int


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
class Deployment:
    chain_id: int
    token: str
    reward_policy: str
    training: str
    deployed_at_block: int


class TrainingRegistry:
    """The deployed FederatedTraining contract and its reward token."""

    def __init__(self, ledger: Ledger, deployment: Deployment) -> None:
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
        self._log_cache: dict[str, _CachedLogs] = {}
        self._log_lock = threading.Lock()
        self._gas_cache: dict[str, int] = {}

    # -- deployment ---------------------------------------------------------------------------

    @classmethod
    def deploy(cls, ledger: Ledger, deployer: LocalAccount) -> TrainingRegistry:
        """Deploy token, reward policy and registry; let the registry mint rewards."""
        token_artifact = load_artifact("FedToken")
        policy_artifact = load_artifact("ProportionalRewardPolicy")
        training_artifact = load_artifact("FederatedTraining")
        start_block = ledger.block_number()
        token = ledger.deploy(
            deployer, token_artifact.abi, token_artifact.bytecode, deployer.address
        )
        policy = ledger.deploy(deployer, policy_artifact.abi, policy_artifact.bytecode)
        training = ledger.deploy(
            deployer, training_artifact.abi, training_artifact.bytecode, token, policy
        )
        token_contract = ledger.web3.eth.contract(
            address=to_checksum_address(token), abi=token_artifact.abi
        )
        minter_role = ledger.call(token_contract.functions.MINTER_ROLE())
        ledger.transact(deployer, token_contract.functions.grantRole(minter_role, training))
        deployment = Deployment(
            chain_id=ledger.chain_id,
            token=token,
            reward_policy=policy,
            training=training,
            deployed_at_block=start_block,
        )
        return cls(ledger, deployment)

    def save(self, path: Path) -> None:
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(self.deployment.__dict__, indent=2) + "\n")
        os.replace(temporary, path)

    @classmethod
    def load(cls, ledger: Ledger, path: Path) -> TrainingRegistry:
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
        return cls(ledger, deployment)

    # -- transactions ---------------------------------------------------------------------------

    def create_task(
        self, coordinator: LocalAccount, params: TaskParams, aggregator: str, key_holder: str
    ) -> tuple[int, TransactionResult]:
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

    def join(self, participant: LocalAccount, task_id: int) -> TransactionResult:
        return self.ledger.transact(participant, self.contract.functions.join(task_id))

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

    def commit_aggregate(
        self, aggregator: LocalAccount, task_id: int, round_number: int, aggregate_digest: bytes
    ) -> TransactionResult:
        function = self.contract.functions.commitAggregate(task_id, round_number, aggregate_digest)
        return self.ledger.transact(aggregator, function)

    def commit_model(
        self, key_holder: LocalAccount, task_id: int, round_number: int, model_digest: bytes
    ) -> TransactionResult:
        function = self.contract.functions.commitModel(task_id, round_number, model_digest)
        return self.ledger.transact(key_holder, function)

    def reject_aggregate(
        self, key_holder: LocalAccount, task_id: int, round_number: int, recomputed_digest: bytes
    ) -> TransactionResult:
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
        function = self.contract.functions.vote(task_id, round_number, accept, metric_ppm)
        return self.ledger.transact(validator, function)

    def finalize_round(
        self, caller: LocalAccount, task_id: int, round_number: int
    ) -> TransactionResult:
        function = self.contract.functions.finalizeRound(task_id, round_number)
        return self.ledger.transact(caller, function)

    def claim_reward(
        self, participant: LocalAccount, task_id: int, round_number: int
    ) -> tuple[int, TransactionResult]:
        function = self.contract.functions.claimReward(task_id, round_number)
        result = self.ledger.transact(participant, function)
        (event,) = self.contract.events.RewardClaimed().process_receipt(
            result.receipt, errors=DISCARD
        )
        return int(event["args"]["amount"]), result

    # -- reads ----------------------------------------------------------------------------------

    def task_count(self) -> int:
        return int(self.ledger.call(self.contract.functions.taskCount()))

    def task(self, task_id: int) -> TaskState:
        raw = self.ledger.call(self.contract.functions.getTask(task_id))
        params, coordinator, aggregator, key_holder, participants, validators = raw[:6]
        current_round, last_accepted, model_digest = raw[6:9]
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
        )

    def round(self, task_id: int, round_number: int) -> RoundState:
        raw = self.ledger.call(self.contract.functions.getRound(task_id, round_number))
        (deadline, commits, samples, phase, aggregate, model, validation, accepts, rejects) = raw
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
        )

    def contribution(self, task_id: int, round_number: int, participant: str) -> tuple[int, bool]:
        """(samples, reward claimed) of ``participant`` in a round; samples 0 if none."""
        samples, _block, claimed = self.ledger.call(
            self.contract.functions.getContribution(
                task_id, round_number, to_checksum_address(participant)
            )
        )
        return int(samples), bool(claimed)

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

    def pending_reward(self, task_id: int, round_number: int, participant: str) -> int:
        function = self.contract.functions.pendingReward(
            task_id, round_number, to_checksum_address(participant)
        )
        return int(self.ledger.call(function))

    def token_balance(self, account: str) -> int:
        function = self.token.functions.balanceOf(to_checksum_address(account))
        return int(self.ledger.call(function))

    def token_symbol(self) -> str:
        return str(self.ledger.call(self.token.functions.symbol()))

    def update_commitments(self, task_id: int, round_number: int) -> list[UpdateCommitment]:
        """Every update committed in a round, in chain order, read from the event log."""
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
        ]

    def event_logs(self, event_name: str, **argument_filters: Any) -> list[Any]:
        """Every ``event_name`` log of the registry since deployment, in chain order, whose
        arguments equal ``argument_filters``.

        Logs are read from the node once: each call fetches only the blocks mined since the
        previous one (scanning from deployment on every call costs time quadratic in the chain's
        length on the in-process chain). On a JSON-RPC node the newest
        ``REORG_DEPTH_BLOCKS`` blocks are re-read every time, in case they were replaced.
        """
        with self._log_lock:
            cached = self._log_cache.setdefault(event_name, _CachedLogs([], 0))
            head = self.ledger.block_number()
            settled = head if self.ledger.embedded else max(head - REORG_DEPTH_BLOCKS, 0)
            start = max(cached.next_block, self.deployment.deployed_at_block)
            event = getattr(self.contract.events, event_name)()
            if start <= settled:
                cached.logs.extend(event.get_logs(from_block=start, to_block=settled))
                cached.next_block = settled + 1
            logs = list(cached.logs)
            if settled < head:
                logs.extend(event.get_logs(from_block=max(start, settled + 1), to_block=head))
        return [
            log
            for log in sorted(logs, key=lambda log: (log["blockNumber"], log["logIndex"]))
            if all(log["args"][name] == value for name, value in argument_filters.items())
        ]

    def gas_used(self, tx_hash: str) -> int:
        """The gas a mined transaction used (cached: receipts never change)."""
        if tx_hash not in self._gas_cache:
            receipt = self.ledger.web3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
            self._gas_cache[tx_hash] = int(receipt["gasUsed"])
        return self._gas_cache[tx_hash]


@dataclass
class _CachedLogs:
    logs: list[Any]
    next_block: int


def _nonzero(digest: bytes) -> bytes | None:
    value = bytes(digest)
    return None if value == bytes(32) else value
