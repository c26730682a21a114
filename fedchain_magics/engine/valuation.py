"""A valued round's engine side: groups of at least k, group sums decrypted (never one update),
validators' group scores, and the score table rewards are paid by.

The path, one role at a time (each step one call the roles already make):

1. **key holder** (``KeyHolder.decrypt_and_commit``): the round's included updates are cut into
   groups of at least ``k`` by on-chain randomness (the hash of the block that opened the round);
   it sums each group's ciphertexts, decrypts each group sum (every decryption goes through
   :func:`decrypt_group_sums`, which refuses a group below ``k`` or two overlapping groups and
   records what it decrypted), combines the groups that are not outliers (the round strategy's
   ``combine_groups``), commits the model, then anchors the group report (groups, capped
   weights, the decrypted group sums) on ``RoundReports``.
2. **validators** (``Validator.vote``): before voting, each values the groups on its own data
   (Shapley over groups, exact up to 12 groups and Monte Carlo beyond, or leave-one-group-out)
   and anchors its scores.
3. **coordinator** (:func:`score_table`, after the round is decided): the median of the
   validators' values per group, each group's score relative to the round's mean, every party's
   standing from all rounds so far (``rewards.contribution.standings``), and each party's share of
   the round's reward. The table is a blob; the reward policy pays by its Merkle root.

What is revealed: each group's sum (of at least ``k`` weighted updates) to whoever reads the
report, each group's value, each party's standing. No decrypted sum isolates fewer than ``k``.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from eth_account.signers.local import LocalAccount

from ..chain import RoundPhase, RoundReportsContract, UpdateCommitment
from ..crypto import EncryptionScheme
from ..models import adapter_for
from ..models.codec import decode_parameters, encode_parameters
from ..rewards import (
    ESTABLISHED_AFTER_ROUNDS,
    GroupObservation,
    assign_groups,
    capped_weights,
    check_decryptable,
    exact_shapley,
    leave_one_out,
    monte_carlo_shapley,
    reference_value,
    relative_scores,
    round_shares,
    standings,
    surviving_groups,
)
from ..rewards.valuation import MAX_EXACT_PLAYERS
from . import masked, round_keys
from .errors import InvalidInputError, RoundNotReadyError

if TYPE_CHECKING:
    from .task import FederatedTask

VALUATIONS = ("off", "shapley", "leave-one-out")
PPM = 1_000_000
UINT32_MAX = 2**32 - 1
REPORT_VERSION = 1
DIRECTION_STEP = 1e-4
"""The finite-difference step of a coalition's utility, relative to the model's norm."""


@dataclass(frozen=True)
class Group:
    """One group of a valued round: its members and their weights."""

    name: str
    members: tuple[str, ...]
    declared_samples: tuple[int, ...]
    weight: float
    """The members' capped samples over the task's sample scale: the group's share of the
    round's averaging weight."""


@dataclass(frozen=True)
class GroupReport:
    """What the key holder anchors for a valued round."""

    task_id: int
    round: int
    k: int
    groups: tuple[Group, ...]
    sums: dict[str, np.ndarray]
    kept: tuple[str, ...]

    def to_bytes(self, sum_digests: dict[str, str]) -> bytes:
        content = {
            "version": REPORT_VERSION,
            "task": self.task_id,
            "round": self.round,
            "k": self.k,
            "kept": list(self.kept),
            "groups": [
                {
                    "name": group.name,
                    "members": list(group.members),
                    "declared_samples": list(group.declared_samples),
                    "weight": group.weight,
                    "sum": sum_digests[group.name],
                }
                for group in self.groups
            ],
        }
        return json.dumps(content, sort_keys=True, separators=(",", ":")).encode()


@dataclass(frozen=True)
class ScoreTable:
    """A decided round's scores and reward shares (the blob the reward policy's root covers)."""

    task_id: int
    round: int
    group_values: dict[str, float]
    group_scores: dict[str, float]
    entries: tuple[dict[str, Any], ...]
    """One per party: participant, group, score (its group's), standing_ppm, share_ppm,
    rounds (how many informative valued rounds its standing rests on, each round counted by
    its weight), and what explains the share:
    group_value (the median over validators of its group's value), median_value (the median
    value of the round's groups that helped: the score's denominator), capped_samples (its
    weight within the group) and min_standing_ppm (the standing the round pays from)."""
    history: tuple[GroupObservation, ...] = ()
    """Every valued round's group observations up to this one: what the standings rest on
    (posted with the table, so the next round's standings read this table, not every round)."""

    def to_bytes(self) -> bytes:
        content = {
            "task": self.task_id,
            "round": self.round,
            "group_values": self.group_values,
            "group_scores": self.group_scores,
            "entries": list(self.entries),
        }
        return json.dumps(content, sort_keys=True, separators=(",", ":")).encode()

    def share_of(self, participant: str) -> float:
        return self._ppm_of(participant, "share_ppm")

    def standing_of(self, participant: str) -> float:
        return self._ppm_of(participant, "standing_ppm")

    def _ppm_of(self, participant: str, field: str) -> float:
        for entry in self.entries:
            if entry["participant"].lower() == participant.lower():
                return int(entry[field]) / PPM
        return 0.0


def valued(task: FederatedTask) -> bool:
    return task.config.valuation != "off"


def settles(task: FederatedTask, phase: RoundPhase) -> bool:
    """Whether a round in ``phase`` takes a score table: a valued task's decided rounds, the
    rejected ones too (its reward policy pays the groups that helped in a round the validators
    voted down)."""
    return valued(task) and phase in (RoundPhase.ACCEPTED, RoundPhase.REJECTED)


@dataclass(frozen=True)
class RoundRules:
    """The valuation rules one round runs under: the task's own settings, or, for a task handed
    to governance (``engine/governance.py``), what TaskRules holds for that round (a change
    applies from the round after the one open when it executed)."""

    group_size: int
    valuation: str
    min_standing: float
    max_weight_over_median: float


def round_rules(task: FederatedTask, round_number: int) -> RoundRules:
    from . import governance  # engine to engine; governance reads the chain

    config = task.config
    if config.privacy == "research":  # plaintext research mode: every party its own group
        return RoundRules(1, config.valuation, config.min_standing, config.max_weight_over_median)
    governed = governance.rules(task.federation, task.task_id, round_number)
    if governed is None:
        return RoundRules(
            config.group_size, config.valuation, config.min_standing, config.max_weight_over_median
        )
    rules = governance.describe(governed)
    return RoundRules(
        int(rules["group_size"]),
        str(rules["valuation"]),
        float(rules["min_standing"]),
        float(rules["max_weight_over_median"]),
    )


def reports(task: FederatedTask) -> RoundReportsContract:
    contract = task.federation.round_reports
    if contract is None:
        raise InvalidInputError(
            f"task {task.task_id} values its rounds, but this ledger's deployment predates "
            "RoundReports; open a fresh workspace (a new ledger) to run valued tasks"
        )
    return contract


def round_groups(
    task: FederatedTask, round_number: int, commitments: Sequence[UpdateCommitment]
) -> tuple[Group, ...]:
    """The round's groups of its included updates: drawn from the hash of the block that opened
    the round, the same for everyone who reads the chain. A masked round draws them over the
    parties that advertised a masking key (:func:`masking_groups`: each masks with its group
    mates) and keeps the groups' included members, merging a group left below k."""
    declared = {c.participant: int(c.samples) for c in commitments}
    rules = round_rules(task, round_number)
    k = rules.group_size
    if len(declared) < k:
        raise InvalidInputError(
            f"round {round_number} of task {task.task_id} holds {len(declared)} updates, fewer "
            f"than a group of k={k}: no sum may be decrypted; wait for more parties"
        )
    capped = capped_weights(declared, rules.max_weight_over_median)
    scale = task.config.sample_scale
    if task.masked:
        advertisers = sorted(masked.advertised_keys(task, round_number))
        drawn = surviving_groups(masking_groups(task, round_number, advertisers), declared, k)
    else:
        drawn = assign_groups(sorted(declared), k, masked.graph_seed(task, round_number))
    return tuple(
        Group(
            name=f"g{index + 1}",
            members=tuple(members),
            declared_samples=tuple(declared[m] for m in members),
            weight=sum(capped[m] for m in members) / scale,
        )
        for index, members in enumerate(drawn)
    )


def masking_groups(
    task: FederatedTask, round_number: int, advertisers: Sequence[str]
) -> list[list[str]]:
    """A valued masked round's groups over the parties that advertised a masking key, drawn
    before anyone submits (from the block that opened the round): each party masks only with
    its group mates, so the masks cancel within each group sum the key holder decrypts."""
    k = round_rules(task, round_number).group_size
    if len(advertisers) < k:
        raise InvalidInputError(
            f"round {round_number} of task {task.task_id} has {len(advertisers)} masking keys, "
            f"fewer than a group of k={k}: no update can be masked within a group; wait for "
            "more parties to advertise"
        )
    return assign_groups(sorted(advertisers), k, masked.graph_seed(task, round_number))


def decrypt_group_sums(
    task: FederatedTask,
    round_number: int,
    secret: EncryptionScheme,
    groups: Sequence[Group],
    commitments: Sequence[UpdateCommitment],
) -> dict[str, np.ndarray]:
    """Sum each group's ciphertexts and decrypt that sum: the only decryption of a valued round.
    Refuses (before decrypting anything) a group below k or two groups sharing a party, and
    records every decryption in the workspace's decryption log."""
    k = round_rules(task, round_number).group_size
    check_decryptable([group.members for group in groups], k)
    by_party = {c.participant: c for c in commitments}
    store, limit = task.federation.store, task.max_ciphertext_bytes
    public = round_keys.public_scheme(task, round_number)
    reveals = masked.round_reveals(task, round_number) if task.masked else None
    sums = {}
    for group in groups:
        running = public.start_sum(task.parameter_count)
        for member in group.members:
            blob = store.get(by_party[member].update_digest, max_bytes=limit)
            running.add(blob, check_checksum=False)  # get() checked it against its digest
        task.federation.record_decryption(task.task_id, round_number, group.members)
        if reveals is not None:  # its masks cancel but for its dropouts' pairs and self-masks
            bfv = masked.bfv(secret)
            residues = bfv.decrypt_residues(running.result())
            unmasked = reveals.unmask(residues, bfv.plain_modulus, group.members)
            sums[group.name] = np.asarray(bfv.values_of(unmasked), np.float64)
        else:
            sums[group.name] = np.asarray(secret.decrypt(running.result()), np.float64)
    return sums


def publish_group_report(task: FederatedTask, account: LocalAccount, report: GroupReport) -> bytes:
    """Store the group sums and the report, and anchor the report's digest on-chain."""
    store = task.federation.store
    sum_digests = {
        name: store.put(encode_parameters(values[: task.parameter_count]))
        for name, values in report.sums.items()
    }
    blob = report.to_bytes({name: digest.hex() for name, digest in sum_digests.items()})
    digest = store.put(blob)
    reports(task).report_groups(account, task.task_id, report.round, digest)
    return digest


def read_group_report(task: FederatedTask, round_number: int) -> dict[str, Any]:
    """The round's group report as anchored on-chain, its sums loaded (checked by digest)."""
    digest = reports(task).group_report(task.task_id, round_number)
    if digest is None:
        raise RoundNotReadyError(
            f"round {round_number} of task {task.task_id} has no group report yet; the key "
            "holder anchors it when it commits the round's model"
        )
    store = task.federation.store
    content: dict[str, Any] = json.loads(store.get(digest))
    for group in content["groups"]:
        group["values"] = decode_parameters(store.get(bytes.fromhex(group["sum"])))
    return content


def group_values(
    task: FederatedTask, report: dict[str, Any], base: np.ndarray, X: Any, y: Any
) -> dict[str, float]:
    """A validator's value of each group on its data (X, y), Shapley over groups (or
    leave-one-group-out, as the task says).

    A coalition's utility is how fast its updates improve the validator's loss: the
    directional derivative of the negative log-loss at ``base`` along the coalition's share of
    the round's step (``sum of its group sums / the round's total weight``), by central
    differences. It measures what a group's updates carry, whatever the local training's step
    size: an unchanged (free-riding) update adds nothing, a flipped one subtracts, and the group
    of a party that sends nothing but claims samples is worth its other members only. For a
    model without probabilities the utility is the metric gained by taking the step. A group the
    round's robust rule left out of the model is worth minus the size of its value: an outlier
    is never paid."""
    groups = {group["name"]: group for group in report["groups"]}
    template = task.require_model()
    adapter = adapter_for(template)

    def score(parameters: np.ndarray) -> float:
        model = adapter.clone(template)
        adapter.set_parameters(model, parameters)
        return _score(adapter, model, X, y)

    total_weight = sum(group["weight"] for group in groups.values())
    names = sorted(groups)
    full = sum(groups[name]["values"] for name in names) / total_weight
    probabilities = hasattr(template, "predict_proba")
    step = (
        DIRECTION_STEP
        * max(1.0, float(np.linalg.norm(base)))
        / max(float(np.linalg.norm(full)), 1e-12)
    )
    start = score(base)

    def utility(coalition: frozenset[str]) -> float:
        if not coalition:
            return 0.0
        direction = sum(groups[name]["values"] for name in coalition) / total_weight
        if probabilities:
            ahead, behind = score(base + step * direction), score(base - step * direction)
            return (ahead - behind) / (2 * step)
        return score(base + direction) - start

    policy = round_rules(task, int(report["round"])).valuation
    if policy in ("off", "proportional"):  # governed back to samples: all groups alike
        return dict.fromkeys(names, 1.0)
    if policy == "leave-one-out":
        values = leave_one_out(names, utility)
    elif len(names) <= MAX_EXACT_PLAYERS:
        values = exact_shapley(names, utility)
    else:
        values = monte_carlo_shapley(names, utility, permutations=200, seed=report["round"])
    kept = set(report["kept"])
    return {name: value if name in kept else -abs(value) for name, value in values.items()}


def _score(adapter: Any, model: Any, X: Any, y: Any) -> float:
    """Negative log-loss where the model gives probabilities (it moves with every step, where
    accuracy saturates), else the adapter's metric."""
    predict_proba = getattr(model, "predict_proba", None)
    classes = getattr(model, "classes_", None)
    if predict_proba is not None and classes is not None:
        from sklearn.metrics import log_loss

        with np.errstate(all="ignore"):
            probabilities = np.clip(np.nan_to_num(predict_proba(X), nan=0.5), 1e-12, 1.0)
        return -float(log_loss(y, probabilities, labels=classes))
    return float(adapter.evaluate(model, X, y))


def publish_scores(
    task: FederatedTask,
    account: LocalAccount,
    round_number: int,
    values: dict[str, float],
) -> bytes:
    content = {
        "task": task.task_id,
        "round": round_number,
        "validator": str(account.address),
        "valuation": round_rules(task, round_number).valuation,
        "values": values,
    }
    blob = json.dumps(content, sort_keys=True, separators=(",", ":")).encode()
    digest = task.federation.store.put(blob)
    reports(task).report_scores(account, task.task_id, round_number, digest)
    return digest


def round_values(task: FederatedTask, round_number: int) -> dict[str, float] | None:
    """The median over the round's validators of each group's value (None if none reported)."""
    store = task.federation.store
    collected: dict[str, list[float]] = {}
    for report in reports(task).score_reports(task.task_id, round_number):
        values = json.loads(store.get(report.scores_digest))["values"]
        for name, value in values.items():
            collected.setdefault(name, []).append(float(value))
    if not collected:
        return None
    return {name: float(statistics.median(values)) for name, values in collected.items()}


def observations(task: FederatedTask, last_round: int) -> list[GroupObservation]:
    """Every valued round's group scores up to ``last_round``: the history the latest posted
    score table carries (its blob's digest is on-chain), and the rounds after it rebuilt from
    the chain's reports, so settling a round reads O(1) rounds, not all of them."""
    later: list[GroupObservation] = []
    for number in range(last_round, 0, -1):
        stored = _posted_history(task, number)
        if stored is not None:
            return stored + later
        later = _round_observations(task, number) + later
    return later


def _posted_history(task: FederatedTask, round_number: int) -> list[GroupObservation] | None:
    from .incentives import load_score_table  # engine to engine; incentives reads the chain

    scores = task.federation.scores
    if scores is None or not scores.scores_posted(task.task_id, round_number):
        return None
    table = load_score_table(task.federation, task.task_id, round_number)
    if table is None or table.history is None:
        return None  # a table posted without its history: rebuild from the reports
    return [
        GroupObservation(
            tuple(o["members"]), float(o["score"]), float(o["weight"]), tuple(o["shares"])
        )
        for o in table.history
    ]


def _round_observations(task: FederatedTask, number: int) -> list[GroupObservation]:
    """One valued round's group scores, from its group report and its validators' scores."""
    digest = reports(task).group_report(task.task_id, number)
    values = round_values(task, number) if digest is not None else None
    if digest is None or values is None:
        return []
    report = json.loads(task.federation.store.get(digest))
    scores, weight = relative_scores(values, report["kept"])
    capped = _capped_weights(report, round_rules(task, number))
    typical = statistics.median(
        sum(capped[m] for m in group["members"]) for group in report["groups"]
    )
    return [
        GroupObservation(
            tuple(group["members"]),
            scores[group["name"]],
            weight,
            tuple(capped[m] / typical for m in group["members"]),
        )
        for group in report["groups"]
    ]


def history_json(history: Sequence[GroupObservation]) -> list[dict[str, Any]]:
    """The observations a score table blob carries, for the next round's standings."""
    return [
        {
            "members": list(o.members),
            "score": o.relative_score,
            "weight": o.weight,
            "shares": list(o.shares),
        }
        for o in history
    ]


def _capped_weights(report: dict[str, Any], rules: RoundRules) -> dict[str, float]:
    """Each member's capped samples in a group report (the weights its round ran with)."""
    declared = {
        member: samples
        for group in report["groups"]
        for member, samples in zip(group["members"], group["declared_samples"], strict=True)
    }
    return capped_weights(declared, rules.max_weight_over_median)


def score_table(task: FederatedTask, round_number: int) -> ScoreTable:
    """The decided round's score table: group values (median over validators), relative scores,
    every party's standing over all rounds so far, and its share of the round's reward."""
    values = round_values(task, round_number)
    if values is None:
        raise RoundNotReadyError(
            f"no validator has scored round {round_number} of task {task.task_id} yet"
        )
    report = read_group_report(task, round_number)
    scores, _ = relative_scores(values)
    groups = {group["name"]: group["members"] for group in report["groups"]}
    rules = round_rules(task, round_number)
    capped = _capped_weights(report, rules)
    history = observations(task, round_number)
    parties = sorted({member for o in history for member in o.members} | set(capped))
    observed = {  # informative rounds: a round that taught half as much counts half
        party: int(sum(o.weight for o in history if party in o.members) + 1e-9) for party in parties
    }
    estimated = standings(history, parties)
    standing = {  # a standing is established after ESTABLISHED_AFTER_ROUNDS informative rounds
        party: estimated[party] if observed[party] >= ESTABLISHED_AFTER_ROUNDS else 1.0
        for party in parties
    }
    shares = round_shares(groups, scores, capped, standing, rules.min_standing)
    median_value = reference_value(values)
    entries = []
    for name, members in sorted(groups.items()):
        for member in members:
            entries.append(
                {
                    "participant": member,
                    "group": name,
                    "score": scores[name],
                    "standing_ppm": int(min(max(round(standing[member] * PPM), 0), UINT32_MAX)),
                    "share_ppm": int(shares[member] * PPM),  # floor: the shares never exceed 1
                    "rounds": observed[member],
                    # Why the row pays what it pays (ledger_view explains it from these alone):
                    "group_value": values[name],
                    "median_value": median_value,
                    "capped_samples": capped[member],
                    "min_standing_ppm": round(rules.min_standing * PPM),
                }
            )
    return ScoreTable(task.task_id, round_number, values, scores, tuple(entries), tuple(history))


def settle_round(task: FederatedTask, round_number: int) -> tuple[ScoreTable, bytes]:
    """The coordinator's step once a valued round is decided (accepted, or rejected: the groups
    that helped are paid either way): build the score table and post
    its root (the reward policy pays every claim of the round by its proven row), then, in a
    staking task, slash each staked party whose standing is below the task's threshold (the
    contract checks the proven row). Returns the table and its blob's digest."""
    from .incentives import post_score_table, slash_low_standing

    federation = task.federation
    table = score_table(task, round_number)
    digest, _ = post_score_table(
        federation, task.task_id, round_number, table.entries, history_json(table.history)
    )
    stakes = federation.stakes
    rules = stakes.stake_rules(task.task_id, round_number) if stakes is not None else None
    if stakes is not None and rules is not None and rules.set and rules.slash_ppm > 0:
        coordinator = federation.name_of(federation.registry.task(task.task_id).coordinator)
        if coordinator is None:
            raise InvalidInputError(
                f"task {task.task_id}'s coordinator holds no key in this workspace; its "
                "notebook settles the round"
            )
        for entry in table.entries:  # a staked party below the task's threshold loses stake
            low = entry["standing_ppm"] < rules.min_standing_ppm
            low = low and entry["rounds"] >= ESTABLISHED_AFTER_ROUNDS  # evidence first
            if low and stakes.stake_of(task.task_id, entry["participant"]).amount > 0:
                slash_low_standing(
                    federation, task.task_id, round_number, entry["participant"], by=coordinator
                )
    return table, digest
