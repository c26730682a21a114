"""Simulate N parties in one process: split a data set, run R encrypted rounds on the ledger.

This is the path most researchers take first, and what the demo and benchmarks run. Every
party, the aggregator, the key holder and the validators are real roles with their own accounts
and real transactions; only the fact that they share one process is simulated.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from html import escape
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from ..chain import RoundPhase
from ..crypto import parallel
from ..data import Shard, split_dirichlet, split_iid
from ..models import adapter_for
from . import batched as batched_commitments
from . import valuation
from .errors import InvalidInputError
from .federation import Federation
from .task import FederatedTask, TaskConfig

PARTIES_PER_BATCH = 4
"""Updates per worker process encrypted together when a round uses several processes."""


@dataclass(frozen=True)
class RoundRecord:
    """What one simulated round did and cost."""

    round: int
    accepted: bool
    metric: float
    aggregate_verified: bool
    updates: int
    ciphertext_bytes: int
    gas_used: int
    max_gas_per_transaction: int
    seconds: float


@dataclass
class SimulationResult:
    task: FederatedTask
    federation: Federation
    parties: list[str]
    shards: list[Shard]
    records: list[RoundRecord] = field(default_factory=list)

    @property
    def final_metric(self) -> float:
        return self.records[-1].metric if self.records else float("nan")

    def rows(self) -> list[dict[str, Any]]:
        return [record.__dict__.copy() for record in self.records]

    def to_dataframe(self) -> Any:
        """One row per round (pandas is imported only here)."""
        import pandas

        return pandas.DataFrame(self.rows(), columns=list(RoundRecord.__dataclass_fields__))

    def __repr__(self) -> str:
        return (
            f"<SimulationResult: task {self.task.task_id}, {len(self.parties)} parties, "
            f"{len(self.records)} rounds, final metric {self.final_metric:.4f}>"
        )

    def _repr_html_(self) -> str:
        header = "".join(
            f"<th>{escape(name)}</th>"
            for name in (
                "round",
                "accepted",
                "metric",
                "verified",
                "updates",
                "ciphertext bytes",
                "gas",
                "max gas / tx",
                "seconds",
            )
        )
        body = "".join(
            "<tr>"
            + "".join(
                f"<td>{escape(cell)}</td>"
                for cell in (
                    str(r.round),
                    "yes" if r.accepted else "no",
                    f"{r.metric:.4f}",
                    "yes" if r.aggregate_verified else "no",
                    str(r.updates),
                    f"{r.ciphertext_bytes:,}",
                    f"{r.gas_used:,}",
                    f"{r.max_gas_per_transaction:,}",
                    f"{r.seconds:.2f}",
                )
            )
            + "</tr>"
            for r in self.records
        )
        caption = escape(repr(self).strip("<>"))
        return f"<table><caption>{caption}</caption><tr>{header}</tr>{body}</table>"


def split_parties(
    X: Any, y: Any, parties: int, *, split: str, alpha: float, seed: int
) -> list[Shard]:
    if split == "iid":
        return split_iid(X, y, parties, seed=seed)
    if split == "dirichlet":
        return split_dirichlet(X, y, parties, alpha=alpha, seed=seed)
    raise InvalidInputError(f"unknown split {split!r}; use 'iid' or 'dirichlet'")


def simulate(
    model: Any,
    X_train: Any,
    y_train: Any,
    X_test: Any,
    y_test: Any,
    *,
    parties: int = 3,
    rounds: int = 5,
    split: str = "iid",
    alpha: float = 0.5,
    config: TaskConfig | None = None,
    validators: int = 1,
    federation: Federation | None = None,
    workspace: Path | str | None = None,
    seed: int = 0,
    progress: bool = True,
    train_options: dict[str, Any] | None = None,
    processes: int | None = None,
    batched: bool = False,
) -> SimulationResult:
    """Run ``rounds`` federated rounds among ``parties`` simulated parties.

    The training data is split among the parties (``split="iid"`` or ``"dirichlet"`` label skew
    with concentration ``alpha``); the test data is split among the validators, and the
    reported metric is the global model's on the whole test set.

    ``processes``: how many processes encrypt the parties' updates (and sum them); ``None``
    decides by size (several only when parties x parameters is large: a pool's start costs
    more than a small round's encryption), ``1`` keeps everything in this process.

    ``batched``: parties sign their commitments off-chain and the aggregator commits each
    round's in one transaction, then pays the round in one (see ``engine/batched.py``).
    """
    if federation is None:
        directory = workspace or tempfile.mkdtemp(prefix="fedchain-sim-")
        federation = Federation.open(directory)
    base_config = config or TaskConfig()
    config = replace(
        base_config,
        rounds=max(base_config.rounds, rounds),
        min_participants=min(base_config.min_participants, parties),
        validator_quorum=min(base_config.validator_quorum, validators),
    )
    shards = split_parties(X_train, y_train, parties, split=split, alpha=alpha, seed=seed)
    party_names = [f"party-{index + 1}" for index in range(parties)]
    validator_names = [f"validator-{index + 1}" for index in range(validators)]
    validation_sets = np.array_split(np.arange(len(y_test)), validators)
    task = federation.create_task(model, config, validators=validator_names)
    participants = [task.participant(name) for name in party_names]
    for participant in participants:
        participant.join()
    if batched:
        batched_commitments.enable(task)
    result = SimulationResult(task, federation, party_names, shards)
    adapter = adapter_for(model)
    size = task.global_parameters().size * parties
    workers = 1 if task.masked else parallel.worth_processes(size, processes)
    pool = (
        parallel.shared_pool(task.public_scheme.public_context_bytes(), workers)
        if workers > 1
        else None
    )
    bar = tqdm(range(rounds), desc="federated rounds", disable=not progress, unit="round")
    try:
        with parallel.processes_at_most(processes):
            for _ in bar:
                record = _run_round(
                    task,
                    participants,
                    shards,
                    validator_names,
                    validation_sets,
                    X_test,
                    y_test,
                    adapter,
                    train_options or {},
                    pool,
                )
                result.records.append(record)
                bar.set_postfix(metric=f"{record.metric:.3f}", accepted=record.accepted)
    finally:
        parallel.release_shared_pools()  # the encryption pool, and any a large sum started
    return result


def _run_round(
    task: FederatedTask,
    participants: Sequence[Any],
    shards: Sequence[Shard],
    validator_names: Sequence[str],
    validation_sets: Sequence[np.ndarray],
    X_test: Any,
    y_test: Any,
    adapter: Any,
    train_options: dict[str, Any],
    pool: parallel.EncryptionPool | None = None,
) -> RoundRecord:
    started = time.perf_counter()
    gas: list[int] = []
    round_number = task.coordinator().open_round()
    if task.masked:  # every party's masking key is in before any update
        for participant in participants:
            participant.advertise_masking_key(round_number)
    ciphertext_bytes = 0
    # With a pool, a few parties train, their updates are encrypted together across processes,
    # then each commits: memory holds one batch's updates, not the round's.
    batch = 1 if pool is None else PARTIES_PER_BATCH * pool.processes
    pairs = list(zip(participants, shards, strict=True))
    for first in range(0, len(pairs), batch):
        group = pairs[first : first + batch]
        updates = [party.train(shard.X, shard.y, **train_options) for party, shard in group]
        blobs: list[bytes | None] = [None] * len(group)
        if pool is not None:
            weighted = [
                party.weighted_delta(u) for (party, _), u in zip(group, updates, strict=True)
            ]
            blobs = list(pool.encrypt_many(weighted))
        for (participant, _), update, blob in zip(group, updates, blobs, strict=True):
            if batched_commitments.enabled(task):  # signed now, committed by the aggregator
                ciphertext_bytes += participant.sign(update, ciphertext=blob).ciphertext_bytes
                continue
            submission = participant.submit(update, ciphertext=blob)
            ciphertext_bytes += submission.ciphertext_bytes
            gas.append(submission.transaction.gas_used)
    aggregate = task.aggregator().aggregate(round_number)
    gas.extend(_batch_gas(task, round_number))
    gas.append(aggregate.transaction.gas_used)
    if task.masked:  # each party in the sum reveals what removes its masks from it
        for participant in participants:
            participant.reveal_masks(round_number)
    gas.append(task.key_holder().decrypt_and_commit(round_number).transaction.gas_used)
    verified = True
    for name, indices in zip(validator_names, validation_sets, strict=True):
        if task.round_state(round_number).phase.finished:
            break
        vote = task.validator(name).vote(
            _take(X_test, indices), _take(y_test, indices), round_number
        )
        verified = verified and vote.aggregate_verified
        gas.append(vote.transaction.gas_used)
    phase = task.round_state(round_number).phase
    accepted = phase == RoundPhase.ACCEPTED
    settled = valuation.settles(task, phase)  # a valued round pays its table, even rejected
    batched = batched_commitments.enabled(task)
    paid = None
    if (accepted or settled) and batched:  # one payment for all
        paid = batched_commitments.pay(task.aggregator(), round_number)
        gas.extend([] if paid is None else [paid[1].gas_used])
    if settled:  # paid by the posted score table
        table = task.coordinator().settle_round(round_number)
        for participant in participants:
            if table.share_of(participant.address) > 0:
                participant.claim(round_number)
    elif accepted and paid is None:  # a paid batch left no one a reward to claim
        for participant in participants:  # or a batch too large to pay at once: each its leaf
            if task.federation.registry.pending_reward(
                task.task_id, round_number, participant.address
            ):
                participant.claim(round_number)
    metric = float(adapter.evaluate(task.global_model(), X_test, y_test))
    return RoundRecord(
        round=round_number,
        accepted=accepted,
        metric=metric,
        aggregate_verified=verified,
        updates=len(participants),
        ciphertext_bytes=ciphertext_bytes,
        gas_used=sum(gas),
        max_gas_per_transaction=max(gas),
        seconds=time.perf_counter() - started,
    )


def _batch_gas(task: FederatedTask, round_number: int) -> list[int]:
    """The gas of the round's batch transaction, if it has one."""
    registry = task.federation.registry
    logs = registry.event_logs("BatchCommitted", taskId=task.task_id, round=round_number)
    return [registry.gas_used("0x" + bytes(log["transactionHash"]).hex()) for log in logs]


def _take(values: Any, indices: np.ndarray) -> Any:
    return values[indices]
