"""The five roles of a round, each a small object bound to one task and one named account.

coordinator: opens (and if needed finalizes) rounds.
participant: joins, trains locally, encrypts and commits its weighted update, claims rewards.
aggregator:  sums the committed ciphertexts with the public context and commits the sum's digest.
key holder:  verifies that sum, decrypts it (the only secret-key step), commits the new model.
validator:   verifies, evaluates the new model on its own data, and votes on-chain.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from eth_account.signers.local import LocalAccount

from ..chain import (
    ContractRevertError,
    ExclusionReason,
    InsufficientFundsError,
    RoundPhase,
    TransactionResult,
    UpdateCommitment,
)
from ..crypto import CryptoError, EncryptionScheme, RunningSum, load_scheme, parallel
from ..crypto.masking import MaskingKey
from ..models import adapter_for
from ..models.codec import decode_parameters, encode_parameters
from ..storage import BlobStore, StorageError, digest_of
from . import batched, incentives, masked, round_keys, valuation
from .errors import (
    AggregateMismatchError,
    InvalidInputError,
    MissingKeyError,
    NotAdmittedError,
    StaleUpdateError,
    TooFewUpdatesError,
)
from .tokens import tokens_text

if TYPE_CHECKING:
    from .task import FederatedTask

PPM = 1_000_000


_SITS_THE_ROUND_OUT = frozenset(
    {"TrainingAlreadyAdvertised", "TrainingAdvertisementClosed", "TrainingNotInRoundSnapshot"}
)
"""The contract's refusals of a masking key that mean the party sits the round out."""


@dataclass(frozen=True)
class LocalUpdate:
    """A party's trained update for one round: parameter deltas from the global model."""

    task_id: int
    round: int
    base_model_digest: bytes
    delta: np.ndarray
    samples: int
    local_metric: float | None = None


@dataclass(frozen=True)
class Submission:
    """What committing an encrypted update cost and where it is."""

    task_id: int
    round: int
    update_digest: bytes
    ciphertext_bytes: int
    transaction: TransactionResult


@dataclass(frozen=True)
class AggregateResult:
    task_id: int
    round: int
    aggregate_digest: bytes
    update_count: int
    transaction: TransactionResult


@dataclass(frozen=True)
class ModelResult:
    task_id: int
    round: int
    model_digest: bytes
    parameters: np.ndarray
    transaction: TransactionResult


@dataclass(frozen=True, repr=False)
class VoteResult:
    task_id: int
    round: int
    accept: bool
    metric: float
    previous_metric: float
    aggregate_verified: bool
    transaction: TransactionResult
    within_bound: bool = True
    """Whether the model moved no more than the committed updates could move it (a wrapped
    fixed-point sum moves it further): see ``FederatedTask.model_within_bound``."""

    def __repr__(self) -> str:
        return (
            f"VoteResult(task={self.task_id}, round={self.round}, accept={self.accept}, "
            f"metric={self.metric:.4f}, previous_metric={self.previous_metric:.4f}, "
            f"aggregate_verified={self.aggregate_verified}, within_bound={self.within_bound}, "
            f"gas={self.transaction.gas_used:,})"
        )


def _store_and_commit(
    store: BlobStore, blob: bytes, commit: Callable[[bytes], TransactionResult]
) -> tuple[bytes, TransactionResult]:
    """Store ``blob``, then ``commit(digest)``.

    A blob stored just now is removed again only when the chain refused the commitment before
    anything was sent (the estimate reverted, or the account cannot pay), so a refused step
    leaves the workspace as it was. On any other failure (an interrupt, a lost connection, a
    revert after sending) the transaction may be mined: the blob stays, since a committed digest
    without its blob would stall the round.
    """
    newly_stored = not store.has(digest_of(blob))
    digest = store.put(blob)
    try:
        return digest, commit(digest)
    except (ContractRevertError, InsufficientFundsError) as refused:
        if newly_stored and not _sent(refused):
            store.delete(digest)
        raise


UINT64_MAX = 2**64 - 1


def _check_samples(samples: object, maximum: int) -> None:
    """An update's sample count: a whole number, at least one, at most the task's maximum."""
    if isinstance(samples, bool) or not isinstance(samples, int | np.integer):
        raise InvalidInputError(f"an update's sample count must be a whole number, not {samples!r}")
    if samples < 1:
        raise InvalidInputError(f"an update needs at least one sample, not {samples}")
    if samples > min(maximum, UINT64_MAX):
        raise InvalidInputError(
            f"an update's sample count must be at most {min(maximum, UINT64_MAX):,} (the "
            f"task's max_samples_per_update), not {samples:,}"
        )


def _sent(refused: Exception) -> bool:
    """Whether a refusal came after the transaction was sent (a receipt exists)."""
    return isinstance(refused, ContractRevertError) and "tx" in refused.error_args


class _Role:
    def __init__(self, task: FederatedTask, name: str) -> None:
        self.task = task
        self.name = name
        self.federation = task.federation
        self.registry = task.federation.registry

    @property
    def account(self) -> LocalAccount:
        return self.federation.account(self.name)

    @property
    def address(self) -> str:
        """The role's address (its account is made on first use, but not funded: an address
        is read far more often than a transaction is sent)."""
        return self.federation.address(self.name)

    def _emit(
        self, kind: str, result: TransactionResult, summary: str, round_number: int | None
    ) -> None:
        self.federation.emit(
            kind,
            result.block_number,
            summary,
            task_id=self.task.task_id,
            round=round_number,
            account=self.address,
            tx_hash=result.tx_hash,
            gas_used=result.gas_used,
        )

    def _round(self, round_number: int | None) -> int:
        return self.task.current_round() if round_number is None else round_number


class Coordinator(_Role):
    def open_round(self) -> int:
        """Open the next round for updates (a masked task's key holder, if this workspace holds
        it, first registers the round's key when no earlier step did)."""
        round_keys.register_if_key_holder(self.task, self.task.current_round() + 1)
        round_number, result = self.registry.open_round(self.account, self.task.task_id)
        self._emit("round_opened", result, f"round {round_number} opened", round_number)
        stakes = self.federation.stakes
        if stakes is not None and stakes.stake_rules(self.task.task_id).role_stake > 0:
            # who aggregates and decrypts this round, so a silent one can be slashed
            stakes.record_round_roles(self.account, self.task.task_id)
        return round_number

    def settle_round(self, round_number: int | None = None) -> valuation.ScoreTable:
        """A valued task's decided round (accepted, or rejected: the groups that helped are paid
        either way): post its score table (group values from the validators, every party's
        standing, its share of the round), so parties can claim."""
        number = self._round(round_number)
        if not valuation.valued(self.task):
            raise InvalidInputError(
                f"task {self.task.task_id} pays by declared samples: there is no score table to "
                "post; parties claim their rewards directly"
            )
        phase = self.task.round_state(number).phase
        if not valuation.settles(self.task, phase):
            raise InvalidInputError(
                f"round {number} of task {self.task.task_id} is {phase.label}, not decided: its "
                "score table is posted once the validators voted; settle it after the vote"
            )
        table, digest = valuation.settle_round(self.task, number)
        paid = sum(1 for entry in table.entries if entry["share_ppm"] > 0)
        self.federation.emit(
            "scores_posted",
            self.federation.ledger.block_number(),
            f"round {number} scored: {paid} of {len(table.entries)} parties paid",
            task_id=self.task.task_id,
            round=number,
            account=self.address,
            data={"table": digest.hex()},
        )
        return table

    def finalize_round(self, round_number: int | None = None) -> TransactionResult:
        """Tally a round whose validation window passed before every validator voted."""
        number = self._round(round_number)
        result = self.registry.finalize_round(self.account, self.task.task_id, number)
        phase = self.task.round_state(number).phase
        self._emit("round_finalized", result, f"round {number} tallied: {phase.label}", number)
        return result

    def cancel_round(self, round_number: int | None = None) -> TransactionResult:
        """Cancel a stalled round (too few updates, or a silent aggregator or key holder); it
        does not use up one of the task's rounds."""
        number = self._round(round_number)
        reason, result = self.registry.cancel_round(self.account, self.task.task_id, number)
        why = reason.name.lower().replace("_", " ")
        self._emit("round_cancelled", result, f"round {number} cancelled ({why})", number)
        return result

    def admit(self, accounts: Sequence[str], sample_cap: int | None = None) -> TransactionResult:
        """Admit parties to an admission-controlled task, by local account name or 0x address,
        each update declaring at most ``sample_cap`` samples (``None``: the task's bound).
        Admitting a party again sets its new cap. One transaction for all of them."""
        if not self.task.state().params.admission_controlled:
            raise InvalidInputError(
                f"task {self.task.task_id} is open to anyone, so there is no one to admit; "
                'create the task with admission="invited" (%fedtask create --admission invited)'
            )
        names = [str(account).strip() for account in accounts]
        if not names or not all(names):
            raise InvalidInputError("name at least one account or 0x address to admit")
        bound = self.task.config.max_samples_per_update
        cap = 0 if sample_cap is None else sample_cap
        if sample_cap is not None and (
            isinstance(sample_cap, bool) or not isinstance(sample_cap, int) or not 1 <= cap <= bound
        ):
            raise InvalidInputError(
                f"the sample cap must be a whole number from 1 to {bound:,} (the task's "
                f"max_samples_per_update), not {sample_cap!r}"
            )
        addresses = [self._party_address(name) for name in names]
        result = self.registry.admit(self.account, self.task.task_id, addresses, cap)
        capped = "" if sample_cap is None else f" (at most {cap:,} samples an update)"
        self._emit("participant_admitted", result, f"{', '.join(names)} admitted{capped}", None)
        return result

    def revoke_admission(self, account: str) -> TransactionResult:
        """Revoke a party's admission: it may not join, nor submit from now on (an update it
        already committed stays in its round)."""
        address = self._party_address(account, create=False)
        if not self.registry.admission(self.task.task_id, address)[0]:
            raise InvalidInputError(
                f"{account} is not admitted to task {self.task.task_id}, so there is no "
                "admission to revoke; see the task's parties with its ledger view"
            )
        result = self.registry.revoke_admission(self.account, self.task.task_id, address)
        self._emit("admission_revoked", result, f"{account}'s admission revoked", None)
        return result

    def _party_address(self, name_or_address: str, *, create: bool = True) -> str:
        """Another kernel's 0x address as given, or the address of this workspace's account
        (made now if ``create``: a party of this workspace admitted before it joins)."""
        if name_or_address.startswith("0x"):
            return self.federation.address_of(name_or_address)
        keystore = self.federation.keystore
        if not keystore.exists(name_or_address) and not create:  # refuses an invalid name
            raise InvalidInputError(
                f"this workspace holds no account {name_or_address!r}; name a party by its 0x "
                "address"
            )
        return self.federation._role_address(name_or_address)

    def reclaim_escrow(self) -> int:
        """Once the task ended, take back the reward pool no round paid out; returns units."""
        amount, result = self.registry.reclaim_escrow(self.account, self.task.task_id)
        self._emit("reward_claimed", result, f"{tokens_text(amount, 'tokens')} returned", None)
        return amount


class Participant(_Role):
    def join(self) -> TransactionResult | None:
        """Join the task (a no-op if this account already has)."""
        if self.registry.is_participant(self.task.task_id, self.address):
            return None
        if self.task.config.admission == "invited":
            admitted, _ = self.registry.admission(self.task.task_id, self.address)
            if not admitted:
                raise NotAdmittedError(self.task.task_id, self.name, self.address)
        result = self.registry.join(self.account, self.task.task_id)
        self._emit("participant_joined", result, f"{self.name} joined", None)
        return result

    def train(self, X: Any, y: Any, *, epochs: int | None = None, **options: Any) -> LocalUpdate:
        """Train a copy of the global model on (X, y), which never leave this kernel."""
        round_number = self.task.open_round_number()
        base_digest = self.task.state().current_model_digest
        model = self.task.global_model()
        adapter = adapter_for(model)
        adapter.train_local(model, X, y, epochs=epochs or self.task.config.local_epochs, **options)
        return self._update(model, len(y), round_number, base_digest, adapter.evaluate(model, X, y))

    def update_from_model(self, trained_model: Any, samples: int) -> LocalUpdate:
        """Turn a model this party trained itself into its update for the open round."""
        if self.task.model_template is None:
            self.task.use_model(trained_model)
        round_number = self.task.open_round_number()
        base_digest = self.task.state().current_model_digest
        return self._update(trained_model, samples, round_number, base_digest, None)

    def _update(
        self,
        model: Any,
        samples: int,
        round_number: int,
        base_digest: bytes,
        metric: float | None,
    ) -> LocalUpdate:
        if samples < 1:
            raise InvalidInputError(
                f"{self.name} has no training samples; an update needs at least one"
            )
        parameters = adapter_for(model).get_parameters(model)
        base = decode_parameters(self.federation.store.get(base_digest))
        if parameters.shape != base.shape:
            raise InvalidInputError(
                f"the trained model has {parameters.size} parameters but the task's has "
                f"{base.size}; train the task's model"
            )
        return LocalUpdate(
            task_id=self.task.task_id,
            round=round_number,
            base_model_digest=base_digest,
            delta=parameters - base,
            samples=int(samples),
            local_metric=metric,
        )

    def _check_admitted(self, samples: int) -> None:
        """Refuse before encrypting what the contract would refuse: a revoked admission, or more
        samples than this party's admission allows."""
        bound = self.registry.member(self.task.task_id, self.address).max_samples_per_update
        task = self.task.task_id
        if bound == 0:
            raise InvalidInputError(
                f"{self.name}'s admission to task {task} was revoked, so it submits no update; "
                "ask the task's coordinator to admit it again"
            )
        if samples > bound:
            raise InvalidInputError(
                f"{self.name} was admitted to task {task} for at most {bound:,} samples an "
                f"update, not {samples:,}; train on at most {bound:,} samples, or ask the "
                "task's coordinator to admit it again with a higher cap"
            )

    def weighted_delta(self, update: LocalUpdate) -> np.ndarray:
        """What this party encrypts: the update's delta weighted by samples / sample_scale."""
        return update.delta * (update.samples / self.task.config.sample_scale)

    def submit(self, update: LocalUpdate, *, ciphertext: bytes | None = None) -> Submission:
        """Encrypt the weighted update, store the ciphertext, commit its digest on-chain.

        ``ciphertext``: the encryption of :meth:`weighted_delta` made elsewhere (``simulate``
        encrypts many parties' updates in a process pool); not for a masked task.
        If the commitment is refused, the stored ciphertext is removed again.
        """
        if update.task_id != self.task.task_id:
            raise InvalidInputError(
                f"this update is for task {update.task_id}, not {self.task.task_id}"
            )
        _check_samples(update.samples, self.task.config.max_samples_per_update)
        if self.task.config.admission == "invited":
            self._check_admitted(update.samples)
        number = self.task.open_round_number()
        if (
            update.round != number
            or update.base_model_digest != self.task.state().current_model_digest
        ):
            raise StaleUpdateError(self.task.task_id, self.name, update.round, number)
        if self.task.masked:
            if ciphertext is not None:
                raise InvalidInputError("a masked task's update is encrypted by submit() itself")
            ciphertext = self._masked_ciphertext(self.weighted_delta(update), update.round)
        elif ciphertext is None:
            ciphertext = self.task.public_scheme.encrypt(self.weighted_delta(update))
        digest, result = _store_and_commit(
            self.federation.store,
            ciphertext,
            lambda digest: self.registry.commit_update(
                self.account, self.task.task_id, update.round, digest, update.samples
            ),
        )
        self._emit(
            "update_committed",
            result,
            f"{self.name} committed {update.samples} samples ({len(ciphertext):,} bytes)",
            update.round,
        )
        return Submission(self.task.task_id, update.round, digest, len(ciphertext), result)

    def sign(
        self, update: LocalUpdate, *, ciphertext: bytes | None = None
    ) -> batched.SignedSubmission:
        """Store the encrypted update and sign its commitment for the aggregator's batch
        instead of committing it (batched commitments, see batched.py); no transaction."""
        _check_samples(update.samples, self.task.config.max_samples_per_update)
        return batched.sign(self, update, ciphertext)

    # -- masked tasks (see masked.py) -------------------------------------------------------------

    def advertise_masking_key(self, round_number: int) -> TransactionResult | None:
        """Advertise this party's masking key for the round (None if already done, or if the
        key window closed: the party then sits the round out)."""
        task_id = self.task.task_id
        key = masked.masking_key(self.task, self.account, round_number)
        proof = key.prove(self.registry.masking_key_digest(task_id, round_number, self.address))
        try:  # the contract checks what would make the party sit out: no read before it
            return self.registry.advertise_masking_key(
                self.account, task_id, round_number, key.public, proof
            )
        except ContractRevertError as refused:
            if refused.error_name in _SITS_THE_ROUND_OUT or self._sits_out(round_number):
                return None
            raise

    def _sits_out(self, round_number: int) -> bool:
        """Whether the party has nothing to advertise in the round: it did already, it joined
        after the round opened, or the round's key window closed (or never opened)."""
        member = self.registry.member(self.task.task_id, self.address)
        if member.last_advertised_round == round_number or member.first_round > round_number:
            return True
        return masked.key_window(self.task, round_number).closed

    def _masked_ciphertext(self, weighted: np.ndarray, round_number: int) -> bytes:
        window = masked.key_window(self.task, round_number)
        if not window.closed:
            raise masked.KeysStillOpenError(self.task.task_id, round_number, window)
        scheme = masked.bfv(round_keys.public_scheme(self.task, round_number))
        own = masked.own_key_and_peers(self.task, self.account, round_number)
        mask = masked.update_mask(
            self.task, *own, round_number, weighted.size, scheme.plain_modulus
        )
        ciphertext = bytes(scheme.encrypt_masked(weighted, mask))
        self._deal_shares(round_number, own)
        return ciphertext

    def deal_shares(self, round_number: int) -> TransactionResult | None:
        """Deal this party's Shamir shares for the round to its peers (None if it has, has no
        peer, or the task deals none): done before it submits, so that its peers can stand in
        for it should it go silent once its update is in the sum."""
        return self._deal_shares(round_number, None)

    def _deal_shares(
        self, round_number: int, own: tuple[MaskingKey, set[bytes]] | None
    ) -> TransactionResult | None:
        """``deal_shares``, given the party's key and peers when its caller just read them."""
        if not masked.shares_dealt(self.task):
            return None
        if self.address in masked.dealt_bundles(self.task, round_number):  # read incrementally
            return None
        keys = round_keys.contract(self.task)
        if not keys.deals_shares():
            raise InvalidInputError(
                f"task {self.task.task_id}'s RoundKeys ({keys.address}) predates share dealing, "
                "which this version needs to recover a silent party: create a new masked task "
                "(it gets a current RoundKeys) and train there"
            )
        account = self.account
        key, peers = own or masked.own_key_and_peers(self.task, account, round_number)
        blob = masked.share_bundle_bytes(self.task, key, peers, round_number)
        if blob is None:
            return None
        _, result = _store_and_commit(
            self.federation.store,
            blob,
            lambda digest: keys.deal_shares(account, self.task.task_id, round_number, digest),
        )
        return result

    def reveal_masks(self, round_number: int) -> TransactionResult | None:
        """Reveal what removes this party's masks from the round's committed sum (None if its
        update is not in the sum, or it revealed already)."""
        task_id = self.task.task_id
        mine = [
            c
            for c in self.registry.update_commitments(task_id, round_number)
            if c.participant.lower() == self.address.lower()
        ]
        if not mine:
            return None
        account = self.account
        blob = masked.reveal_bytes(self.task, account, round_number)
        try:  # the contract refuses a second reveal: no read before it
            _, result = _store_and_commit(
                self.federation.store,
                blob,
                lambda digest: self.registry.reveal_masks(
                    account, task_id, round_number, mine[0].update_digest, digest
                ),
            )
        except ContractRevertError as refused:
            if refused.error_name == "TrainingAlreadyRevealed":
                return None
            raise
        return result

    def claim(self, round_number: int) -> int:
        """Claim this party's reward for an accepted round; returns token base units. In a
        scored task its row of the round's score table (rebuilt from the table's blob, whose
        digest is on-chain) is proven first."""
        from .incentives import prove_share

        prove_share(self.federation, self.task.task_id, round_number, self.name)
        from_batch = batched.claim(self, round_number)  # a leaf of a batch too large to pay
        amount, result = from_batch or self.registry.claim_reward(
            self.account, self.task.task_id, round_number
        )
        self._emit(
            "reward_claimed",
            result,
            f"{self.name} claimed {tokens_text(amount, 'reward tokens')}",
            round_number,
        )
        return amount

    def _row(self, round_number: int) -> dict[str, Any] | None:
        rows = incentives.posted_rows(self.federation, self.task.task_id, round_number)
        return None if rows is None else rows.get(self.address.lower())

    def claim_all(self) -> int:
        """Claim every unclaimed reward of this party on the task; returns the total."""
        total = 0
        for round_number in range(1, self.task.current_round() + 1):
            pending = incentives.pending_reward(
                self.federation,
                self.task.task_id,
                round_number,
                self.address,
                self._row(round_number),
            )
            if pending:
                total += self.claim(round_number)
        return total


class Aggregator(_Role):
    def aggregate(self, round_number: int | None = None) -> AggregateResult:
        """Sum the round's committed ciphertexts (streaming) and commit the sum's digest,
        naming the set of updates it sums.

        A committed update whose blob cannot be added (missing, altered, oversized, of another
        context or shape, malformed) is excluded on-chain with the reason, and the round goes
        on with the rest if its minimum still holds; anyone can re-check the evidence from the
        blob store.
        """
        number = self.task.require_phase(
            RoundPhase.COLLECTING, "there is nothing to aggregate", round_number
        )
        if batched.enabled(self.task):  # the signed commitments waiting, in one transaction
            batched.commit_waiting(self, number)
        state = self.task.round_state(number)
        minimum = self.task.state().params.min_participants
        if state.commit_count < minimum:
            raise TooFewUpdatesError(self.task.task_id, number, state.commit_count, minimum)
        self.task.require_collection_closed(state)
        commitments = self.task.commitments(number)
        whole = None if self.task.masked else self._sum_all(commitments)
        if whole is not None and len(commitments) >= minimum:
            return self.commit_aggregate_blob(number, whole, commitments)
        running = round_keys.public_scheme(self.task, number).start_sum(self.task.parameter_count)
        included = []
        unmaskable = masked.unmaskable(self.task, number) if self.task.masked else {}
        for commitment in commitments:
            if commitment.participant in unmaskable:  # a replayed key, unusable shares
                why = unmaskable[commitment.participant]
                self.exclude(number, commitment, ExclusionReason.MALFORMED, why)
                continue
            reason = self.task.add_update(running, commitment)
            if reason is None:
                included.append(commitment)
            else:
                self.exclude(number, commitment, reason)
        if self.task.masked:
            included, running = self._without_lone_parties(number, included, running)
        if len(included) < minimum:
            raise TooFewUpdatesError(self.task.task_id, number, len(included), minimum)
        return self.commit_aggregate_blob(number, running.result(), included)

    def _without_lone_parties(
        self, number: int, included: list[UpdateCommitment], running: RunningSum
    ) -> tuple[list[UpdateCommitment], RunningSum]:
        """A masked round's sum without the parties none of whose mask peers is in it (their
        revealed masks would unmask their updates: ``masked.lone_in_sum``), excluded with that
        reason and the rest summed again; the same sum when there is none."""
        lone = masked.lone_in_sum(self.task, number, [c.participant for c in included])
        if not lone:
            return included, running
        for commitment in included:
            if commitment.participant in lone:
                self.exclude(number, commitment, ExclusionReason.MALFORMED, masked.LONE_IN_SUM)
        kept = [c for c in included if c.participant not in lone]
        running = round_keys.public_scheme(self.task, number).start_sum(self.task.parameter_count)
        for commitment in kept:
            self.task.add_update(running, commitment)
        return kept, running

    def _sum_all(self, commitments: Sequence[UpdateCommitment]) -> bytes | None:
        """A large round's sum of every committed update at once, in several processes
        (``crypto/parallel.py``); None for a small round, a scheme that sums at memory speed
        in one process (BFV), or if any blob is unusable: the one-by-one sum then finds and
        excludes it."""
        size, scheme = self.task.parameter_count, self.task.public_scheme
        if scheme.sums_at_memory_speed or parallel.worth_summing(size * len(commitments)) < 2:
            return None
        store, limit = self.federation.store, self.task.max_ciphertext_bytes
        blobs = [c.update_digest for c in commitments]
        try:
            return scheme.sum_blobs((store.get(digest, max_bytes=limit) for digest in blobs), size)
        except (CryptoError, StorageError):
            return None

    def exclude(
        self,
        round_number: int,
        commitment: UpdateCommitment,
        reason: ExclusionReason,
        why: str | None = None,
    ) -> TransactionResult:
        """Exclude a committed update whose blob is unusable, with the reason, on-chain
        (``why``: the detail for the event's summary)."""
        result = batched.exclude(self, round_number, commitment, reason) or (
            self.registry.exclude_update(
                self.account, self.task.task_id, round_number, commitment.update_digest, reason
            )
        )
        who = self.federation.name_of(commitment.participant) or commitment.participant
        self._emit(
            "update_excluded",
            result,
            f"{who}'s update excluded ({reason.name.lower().replace('_', ' ')}"
            + (f": {why})" if why else ")"),
            round_number,
        )
        return result

    def commit_aggregate_blob(
        self, round_number: int, aggregate: bytes, commitments: Sequence[UpdateCommitment]
    ) -> AggregateResult:
        """Store an aggregate blob and commit its digest with the set of ``commitments`` it
        sums (``aggregate`` does the summing)."""
        digest, result = _store_and_commit(
            self.federation.store,
            aggregate,
            lambda digest: self.registry.commit_aggregate(
                self.account, self.task.task_id, round_number, digest, list(commitments)
            ),
        )
        self._emit("aggregate_committed", result, f"round {round_number} aggregated", round_number)
        return AggregateResult(self.task.task_id, round_number, digest, len(commitments), result)


class KeyHolder(_Role):
    def decrypt_and_commit(self, round_number: int | None = None) -> ModelResult:
        """Verify the aggregate, decrypt it, and commit the new global model (FedAvg)."""
        number = self.task.require_phase(
            RoundPhase.AGGREGATED, "there is nothing to decrypt", round_number
        )
        state = self.task.round_state(number)
        assert state.aggregate_digest is not None  # the phase says it was committed
        secret = round_keys.secret_context(self.task, number)
        if secret is None:
            raise MissingKeyError(self.task.task_id, self.name)
        verification = self.task.verify_round(number)
        if not verification.matches:
            rejected = self.registry.reject_aggregate(
                self.account, self.task.task_id, number, verification.recomputed_digest
            )
            self._emit(
                "aggregate_rejected",
                rejected,
                f"round {number} aggregate rejected: it is not the sum of the committed updates",
                number,
            )
            raise AggregateMismatchError(
                self.task.task_id,
                number,
                state.aggregate_digest,
                verification.recomputed_digest,
                verification.update_count,
            )
        aggregate = self.federation.store.get(
            state.aggregate_digest, max_bytes=self.task.max_ciphertext_bytes
        )
        scheme = load_scheme(secret)
        if valuation.valued(self.task):
            return self._decrypt_groups_and_commit(number, scheme)
        included = self.task.commitments(number)
        self.federation.record_decryption(
            self.task.task_id, number, [c.participant for c in included]
        )
        if self.task.masked:
            bfv = masked.bfv(scheme)
            residues = bfv.decrypt_residues(aggregate)
            summed = bfv.values_of(masked.unmask(self.task, number, residues, bfv.plain_modulus))
        else:
            summed = scheme.decrypt(aggregate)
        total_weight = state.total_samples / self.task.config.sample_scale
        parameters = self.task.strategy.combine(self.task.global_parameters(), summed, total_weight)
        digest, result = _store_and_commit(
            self.federation.store,
            encode_parameters(parameters),
            lambda digest: self.registry.commit_model(
                self.account, self.task.task_id, number, digest
            ),
        )
        self._emit("model_committed", result, f"round {number} model decrypted", number)
        round_keys.after_model(self.task, self.account, number)  # publish, then the next key
        return ModelResult(self.task.task_id, number, digest, parameters, result)

    def register_round_key(self, round_number: int | None = None) -> TransactionResult | None:
        """Register a masked task's key for ``round_number`` (default: the next round), made
        here and sealed in keys/; None if it has one. Decrypting a round registers the next."""
        number = self.task.current_round() + 1 if round_number is None else round_number
        return round_keys.register_round_key(self.task, self.account, number)

    def _decrypt_groups_and_commit(self, number: int, scheme: EncryptionScheme) -> ModelResult:
        """A valued round: decrypt only the sums of the round's groups (each of at least k),
        combine the groups that are not outliers, commit the model, anchor the group report."""
        included = self.task.commitments(number)
        groups = valuation.round_groups(self.task, number, included)
        sums = valuation.decrypt_group_sums(self.task, number, scheme, groups, included)
        weights = {group.name: group.weight for group in groups}
        combined = self.task.strategy.combine_groups(self.task.global_parameters(), sums, weights)
        digest, result = _store_and_commit(
            self.federation.store,
            encode_parameters(combined.parameters),
            lambda digest: self.registry.commit_model(
                self.account, self.task.task_id, number, digest
            ),
        )
        report = valuation.GroupReport(
            self.task.task_id,
            number,
            valuation.round_rules(self.task, number).group_size,
            groups,
            sums,
            combined.kept,
        )
        valuation.publish_group_report(self.task, self.account, report)
        left_out = f", left out {', '.join(combined.left_out)}" if combined.left_out else ""
        summary = (
            f"round {number} model from {len(combined.kept)} of {len(groups)} groups{left_out}"
        )
        self._emit("model_committed", result, summary, number)
        round_keys.after_model(self.task, self.account, number)  # a masked task's next key
        return ModelResult(self.task.task_id, number, digest, combined.parameters, result)


class Validator(_Role):
    def vote(self, X: Any, y: Any, round_number: int | None = None) -> VoteResult:
        """Verify the round, evaluate its new model on (X, y), and vote accept or reject."""
        number = self.task.require_phase(RoundPhase.VALIDATING, "it takes no votes", round_number)
        self.task.require_model()
        state = self.task.round_state(number)
        assert state.model_digest is not None  # the phase says it was committed
        verified = self.task.verify_round(number).matches
        decrypted = round_keys.verify_decryption(self.task, self.account, number)
        parameters = decode_parameters(self.federation.store.get(state.model_digest))
        if valuation.valued(self.task):
            within_bound = self._score_groups(number, parameters, X, y)
        else:
            within_bound = self.task.model_within_bound(parameters, state)
        candidate = self.task.model_with(parameters)
        adapter = adapter_for(candidate)
        metric = float(adapter.evaluate(candidate, X, y))
        previous = float(adapter.evaluate(self.task.global_model(), X, y))
        accept = (
            verified and decrypted and within_bound and self.task.strategy.accept(metric, previous)
        )
        metric_ppm = round(min(max(metric, 0.0), 1.0) * PPM)
        result = self.registry.vote(self.account, self.task.task_id, number, accept, metric_ppm)
        verdict = "accepts" if accept else "rejects"
        self._emit("vote_cast", result, f"{self.name} {verdict} ({metric:.3f})", number)
        after = self.task.round_state(number)
        if after.phase.finished:
            self.federation.emit(
                "round_finalized",
                result.block_number,
                f"round {number} {after.phase.label}",
                task_id=self.task.task_id,
                round=number,
                tx_hash=result.tx_hash,
                data={"accepted": after.phase == RoundPhase.ACCEPTED},
            )
        return VoteResult(
            self.task.task_id, number, accept, metric, previous, verified, result, within_bound
        )

    def _score_groups(self, number: int, parameters: np.ndarray, X: Any, y: Any) -> bool:
        """A valued round, before the vote: value each group on (X, y) and anchor the scores;
        returns whether the committed model is the strategy's combination of the report's
        groups (a key holder that reports one thing and commits another is voted down)."""
        report = valuation.read_group_report(self.task, number)
        base = self.task.global_parameters()
        sums = {group["name"]: group["values"] for group in report["groups"]}
        weights = {group["name"]: group["weight"] for group in report["groups"]}
        combined = self.task.strategy.combine_groups(base, sums, weights)
        values = valuation.group_values(self.task, report, base, X, y)
        valuation.publish_scores(self.task, self.account, number, values)
        return bool(np.array_equal(combined.parameters, parameters))
