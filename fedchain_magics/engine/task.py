"""A training task: its rules, its manifest, and the handles of the roles acting on it."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..aggregation import AggregateVerification, FedAvg, RoundStrategy, verify_aggregate
from ..chain import ExclusionReason, RoundPhase, RoundState, TaskState, UpdateCommitment
from ..crypto import CryptoError, EncryptionScheme, LengthMismatchError, RunningSum, load_scheme
from ..models import adapter_for
from ..models.codec import decode_parameters
from ..storage import BlobIntegrityError, BlobNotFoundError, BlobTooLargeError, StorageError
from . import round_keys
from .errors import (
    CollectionOpenError,
    InvalidInputError,
    ModelMismatchError,
    NoLocalModelError,
    RoundNotReadyError,
    RoundPhaseError,
    WaitTimeoutError,
)
from .roles import Aggregator, Coordinator, KeyHolder, Participant, Validator
from .tokens import TOKEN_UNIT
from .valuation import VALUATIONS

if TYPE_CHECKING:
    from .federation import Federation

SCHEMES = ("bfv", "ckks")
ADMISSIONS = ("open", "invited")
PRIVACY_MODES = ("off", "masked", "research")
UINT32_MAX = 2**32 - 1
UINT256_MAX = 2**256 - 1
MANIFEST_VERSION = 1


@dataclass(frozen=True)
class TaskConfig:
    """The rules a coordinator sets for a task. Units are in the names."""

    rounds: int = 5
    min_participants: int = 2
    validator_quorum: int = 1
    reward_per_round: int = 100 * TOKEN_UNIT
    """Reward-token base units (18 decimals) shared by an accepted round's contributors."""
    submission_window_blocks: int = 1_000
    validation_window_blocks: int = 1_000
    aggregation_window_blocks: int = 1_000
    """Blocks the aggregator (once collection closes), then the key holder, has to act before
    anyone may cancel the stalled round."""
    max_samples_per_update: int = 1_000_000
    """The most samples one update may declare: weights (and rewards) cannot be inflated past
    it. The contract enforces it (at most 2**32 - 1)."""
    scheme: str = "bfv"
    """"bfv" (default: exact fixed-point sums, half CKKS's bytes) or "ckks"."""
    max_parties: int = 100
    """Most updates one aggregate may hold; bounds each party's values so sums cannot overflow."""
    sample_scale: float = 1000.0
    """Each update is weighted by samples / sample_scale before encryption."""
    local_epochs: int = 1
    min_metric: float = 0.0
    """Validators reject a model whose metric on their data is below this."""
    max_metric_drop: float = 0.05
    """Validators reject a model more than this much worse than the current one on their data."""
    name: str | None = None
    admission: str = "open"
    """"open" (anyone may join) or "invited" (only accounts the coordinator admits on-chain,
    each with an optional cap on the samples its updates declare)."""
    privacy: str = "off"
    """"off" (the key holder could decrypt any single update), "masked" (BFV only: pairwise
    masks that cancel in the sum, so a single ciphertext decrypts to noise; see masked.py) or
    "research" (plaintext research mode, valued tasks only: every party is its own group, so
    Shapley and leave-one-out value single parties, and every update is published)."""
    recovery_threshold: float = 2 / 3
    """Masked tasks: the fraction of a party's mask peers (rounded up) whose revealed Shamir
    shares rebuild its masks when it goes silent after its update is in the sum. Higher: more
    peers must collude to unmask it with the key holder; lower: the round survives more
    silence."""
    valuation: str = "off"
    """"off" (rewards by declared samples), "shapley" or "leave-one-out": the key holder
    decrypts only sums of groups of at least ``group_size`` parties, validators value each group,
    rewards follow value and standing (see valuation.py)."""
    group_size: int = 3
    """k: the fewest parties in any decrypted group sum of a valued task."""
    min_standing: float = 0.75
    """A valued task pays no share of a round to a party whose standing (its estimated
    contribution over rounds, 1 = the median party) is below this."""
    max_weight_over_median: float = 2.0
    """A valued task caps each update's averaging weight (and reward weight) at this multiple of
    the round's median declared samples."""

    def check(self, validator_count: int) -> None:
        problems = []
        if self.privacy not in PRIVACY_MODES:
            problems.append(
                f"privacy must be one of {', '.join(PRIVACY_MODES)}, not {self.privacy!r}"
            )
        elif self.privacy == "masked" and self.scheme != "bfv":
            problems.append('privacy="masked" needs scheme="bfv" (masks are exact modulo t)')
        if self.valuation not in VALUATIONS:
            problems.append(
                f"valuation must be one of {', '.join(VALUATIONS)}, not {self.valuation!r}"
            )
        elif self.valuation == "off" and self.privacy == "research":
            problems.append(
                'privacy="research" values single parties: give it valuation="shapley" or '
                '"leave-one-out"'
            )
        elif self.valuation != "off":
            if self.group_size < 2 and self.privacy != "research":
                problems.append(
                    "group_size must be at least 2 (per-party valuation publishes every update: "
                    'privacy="research")'
                )
            elif self.min_participants < self.group_size:
                problems.append(
                    f"a valued task needs min_participants >= group_size ({self.group_size}): "
                    "fewer updates cannot form one group"
                )
            if self.max_weight_over_median < 1:
                problems.append("max_weight_over_median must be at least 1")
        if self.admission not in ADMISSIONS:
            problems.append(
                f"admission must be one of {', '.join(ADMISSIONS)}, not {self.admission!r}"
            )
        if self.rounds < 1:
            problems.append("rounds must be at least 1")
        if self.min_participants < 1:
            problems.append("min_participants must be at least 1")
        if self.validator_quorum < 1:
            problems.append("validator_quorum must be at least 1")
        if validator_count < self.validator_quorum:
            problems.append(
                f"{validator_count} validator(s) cannot reach a quorum of {self.validator_quorum}"
            )
        windows = (
            self.submission_window_blocks,
            self.validation_window_blocks,
            self.aggregation_window_blocks,
        )
        if min(windows) < 1:
            problems.append("windows must be at least 1 block")
        if not 1 <= self.max_samples_per_update <= UINT32_MAX:
            problems.append(f"max_samples_per_update must be between 1 and {UINT32_MAX:,}")
        if self.reward_per_round < 0:
            problems.append("reward_per_round must not be negative")
        elif self.reward_per_round * max(self.rounds, 1) > UINT256_MAX:
            problems.append(
                f"reward_per_round x rounds must fit the token ({UINT256_MAX:,} base units)"
            )
        if self.min_participants > self.max_parties:
            problems.append("min_participants cannot exceed max_parties")
        if self.scheme not in SCHEMES:
            problems.append(f"scheme must be one of {', '.join(SCHEMES)}, not {self.scheme!r}")
        if self.sample_scale <= 0:
            problems.append("sample_scale must be positive")
        if not 0 < self.recovery_threshold <= 1:
            problems.append(
                "recovery_threshold is a fraction of a party's peers, above 0 and at most 1, "
                f"not {self.recovery_threshold!r}"
            )
        if problems:
            raise InvalidInputError("invalid task configuration: " + "; ".join(problems))
        too_large = [field for field in _UINT32_FIELDS if getattr(self, field) > UINT32_MAX]
        if too_large:
            raise InvalidInputError(f"{', '.join(too_large)} must be at most {UINT32_MAX:,}")

    def strategy(self) -> RoundStrategy:
        """The round strategy these rules describe (FedAvg with the validators' thresholds)."""
        return FedAvg(min_metric=self.min_metric, max_metric_drop=self.max_metric_drop)


_UINT32_FIELDS = (
    "rounds",
    "min_participants",
    "validator_quorum",
    "submission_window_blocks",
    "validation_window_blocks",
    "aggregation_window_blocks",
)


def manifest_bytes(
    model_spec: dict[str, Any],
    scheme: dict[str, Any],
    config: TaskConfig,
    *,
    round_keys: str | None = None,
) -> bytes:
    """The task manifest whose sha256 is the on-chain ``modelSpecDigest``; a masked task's
    names the RoundKeys contract its per-round keys are registered on (``round_keys``)."""
    content: dict[str, Any] = {
        "manifest_version": MANIFEST_VERSION,
        "model": model_spec,
        "encryption": scheme,
        "config": asdict(config),
    }
    if round_keys is not None:
        content["round_keys"] = round_keys
    return json.dumps(content, sort_keys=True, separators=(",", ":")).encode()


class FederatedTask:
    """Handle on one on-chain task: read its state, and get the role objects that act on it."""

    def __init__(self, federation: Federation, task_id: int, model_template: Any = None) -> None:
        self.federation = federation
        self.task_id = task_id
        state = federation.registry.task(task_id)
        self.manifest: dict[str, Any] = json.loads(
            federation.store.get(state.params.model_spec_digest)
        )
        self.config = TaskConfig(**self.manifest["config"])
        self._public_scheme: EncryptionScheme | None = None
        self._masked: bool | None = None
        self._max_ciphertext_bytes: int | None = None
        self.model_template: Any = None
        if model_template is not None:
            self.use_model(model_template)

    def __repr__(self) -> str:
        return f"FederatedTask(task_id={self.task_id}, name={self.config.name!r})"

    # -- the model ------------------------------------------------------------------------------

    def use_model(self, model: Any) -> None:
        """Use ``model`` as this kernel's template; it must match the task's model spec."""
        spec = adapter_for(model).spec(model)
        if spec != self.manifest["model"]:
            raise ModelMismatchError(self.task_id, model)
        self.model_template = model

    def require_model(self) -> Any:
        if self.model_template is None:
            raise NoLocalModelError(self.task_id)
        return self.model_template

    @property
    def strategy(self) -> RoundStrategy:
        return self.config.strategy()

    def global_parameters(self, round_number: int | None = None) -> np.ndarray:
        """The current global model's parameters (or the model accepted in ``round_number``)."""
        if round_number is None:
            digest = self.state().current_model_digest
        else:
            digest = self.require_round_model_digest(round_number)
        return decode_parameters(self.federation.store.get(digest))

    def global_model(self) -> Any:
        """A copy of the template holding the current global parameters."""
        return self.model_with(self.global_parameters())

    def model_with(self, parameters: np.ndarray) -> Any:
        """A copy of this kernel's template model holding ``parameters``."""
        template = self.require_model()
        adapter = adapter_for(template)
        model = adapter.clone(template)
        adapter.set_parameters(model, parameters)
        return model

    def model_within_bound(self, parameters: np.ndarray, round_state: RoundState) -> bool:
        """Whether ``parameters`` (a round's decrypted model) moved from the current model no
        further than the round's committed updates can move it.

        Each party encrypts ``delta x weight`` with every value within the scheme's per-party
        bound (the client checks it); so the decrypted sum is within ``updates x bound``. A
        client that skips its range check can wrap the fixed-point sum, which the aggregate's
        verification cannot see (the sum *is* of the committed ciphertexts) but this can.
        """
        base = self.global_parameters()
        if parameters.shape != base.shape or not np.all(np.isfinite(parameters)):
            return False
        total_weight = round_state.total_samples / self.config.sample_scale
        summed = np.abs(parameters - base) * total_weight
        bound = round_state.commit_count * self.public_scheme.max_abs_value_per_party()
        return bool(np.max(summed, initial=0.0) <= bound * (1 + 1e-9) + 1e-6)

    def require_round_model_digest(self, round_number: int) -> bytes:
        state = self.round_state(round_number)
        if state.model_digest is None:
            raise RoundNotReadyError(
                f"round {round_number} of task {self.task_id} has no decrypted model yet"
            )
        return state.model_digest

    # -- chain state ----------------------------------------------------------------------------

    def state(self) -> TaskState:
        return self.federation.registry.task(self.task_id)

    def round_state(self, round_number: int | None = None) -> RoundState:
        number = self.current_round() if round_number is None else round_number
        return self.federation.registry.round(self.task_id, number)

    def current_round(self) -> int:
        return self.state().current_round

    def phase(self) -> tuple[int, RoundPhase]:
        """The current round and its phase (round 0, ``NONE``, before round 1)."""
        number = self.current_round()
        return number, self.round_state(number).phase if number else RoundPhase.NONE

    def wait_for(
        self,
        round_number: int,
        phase: RoundPhase | str,
        *,
        timeout_s: float = 600,
        poll_s: float = 1,
    ) -> RoundState:
        """Block until round ``round_number`` reaches ``phase`` or goes past it (a finished
        round is past every phase; a later round is past this one): what another kernel's
        step looks like from here. Raises :class:`WaitTimeoutError` after ``timeout_s``."""
        if isinstance(phase, RoundPhase):
            wanted = phase
        else:
            names = [item.label for item in RoundPhase if item != RoundPhase.NONE]
            if str(phase).lower() not in names:
                raise InvalidInputError(
                    f"a round's phase is one of {', '.join(names)}, not `{phase}`"
                )
            wanted = RoundPhase[str(phase).upper()]
        deadline = time.monotonic() + timeout_s
        while True:
            number, now = self.phase()
            if number > round_number or (
                number == round_number and (now.finished or now >= wanted)
            ):
                return self.round_state(round_number)
            if time.monotonic() >= deadline:
                raise WaitTimeoutError(
                    self.task_id, round_number, wanted.label, now.label, timeout_s
                )
            time.sleep(poll_s)

    def require_phase(
        self, phase: RoundPhase, refused: str, round_number: int | None = None
    ) -> int:
        """The current round's number, if it is in ``phase`` (and is ``round_number``, when
        given); else an error saying why ``refused`` cannot be."""
        number, current = self.phase()
        if current != phase:
            raise RoundPhaseError(self.task_id, number, current, refused)
        if round_number is not None and round_number != number:
            raise InvalidInputError(
                f"round {round_number} of task {self.task_id} is not the current round "
                f"(round {number} is {current.label})"
            )
        return number

    def open_round_number(self) -> int:
        """The round currently collecting updates, or a clear error if none is."""
        return self.require_phase(RoundPhase.COLLECTING, "it takes no updates")

    def is_validator(self, name: str) -> bool:
        """Whether this workspace's account ``name`` validates the task."""
        keystore = self.federation.keystore
        return keystore.exists(name) and self.federation.registry.is_validator(
            self.task_id, keystore.address_of(name)
        )

    def commitments(self, round_number: int) -> list[UpdateCommitment]:
        return self.federation.registry.update_commitments(self.task_id, round_number)

    # -- encryption -----------------------------------------------------------------------------

    @property
    def masked(self) -> bool:
        """Whether the task's updates carry pairwise masks (read once: fixed at creation)."""
        if self._masked is None:
            self._masked = bool(self.state().params.masked)
        return self._masked

    @property
    def public_scheme(self) -> EncryptionScheme:
        """The scheme built from the public context committed on-chain (no secret key)."""
        if self._public_scheme is None:
            digest = self.state().params.public_context_digest
            self._public_scheme = load_scheme(self.federation.store.get(digest))
        return self._public_scheme

    @property
    def parameter_count(self) -> int:
        """How many values the task's model (and so every update) holds."""
        return int(self.global_parameters().size)

    def require_collection_closed(self, round_state: RoundState) -> None:
        """The round's collection is over: its window passed, or every participant eligible
        for it has committed (or been excluded)."""
        ledger = self.federation.ledger
        every_party = (
            round_state.commit_count + round_state.excluded_count
            >= round_state.eligible_participants
        )
        if not every_party and ledger.block_number() < round_state.submission_deadline_block:
            raise CollectionOpenError(
                self.task_id, round_state.round, round_state.submission_deadline_block
            )

    def add_update(
        self, running: RunningSum, commitment: UpdateCommitment
    ) -> ExclusionReason | None:
        """Add a committed update's blob to ``running``; if it cannot be added, why (the
        reason to exclude it on-chain). The sum is unchanged when a blob is refused."""
        try:
            blob = self.federation.store.get(
                commitment.update_digest, max_bytes=self.max_ciphertext_bytes
            )
            running.add(blob, check_checksum=False)  # get() checked it against its digest
        except BlobNotFoundError:
            return ExclusionReason.MISSING
        except BlobIntegrityError:
            return ExclusionReason.ALTERED
        except BlobTooLargeError:
            return ExclusionReason.OVERSIZED
        except LengthMismatchError:
            return ExclusionReason.WRONG_SHAPE
        except (CryptoError, StorageError):
            return ExclusionReason.MALFORMED
        return None

    @property
    def max_ciphertext_bytes(self) -> int:
        """The most bytes an encrypted update (or a sum of them) of this task's model may
        take: twice a fresh encryption's size, with room for the header. A larger blob is
        refused from its size, before it is read."""
        if self._max_ciphertext_bytes is None:
            size = self.global_parameters().size
            scheme = self.public_scheme
            slots = scheme.slots_per_ciphertext
            # Every ciphertext of a fresh encryption has one size: one, times their number,
            # bounds the blob (a header per ciphertext over) without encrypting the whole model.
            one = len(scheme.encrypt(np.zeros(min(size, slots))))
            fresh = one * -(-size // slots)
            self._max_ciphertext_bytes = 2 * fresh + 4096
        return self._max_ciphertext_bytes

    def committed_update_blobs(self, round_number: int) -> Iterator[bytes]:
        """The committed encrypted updates of a round, read one at a time from the store."""
        for commitment in self.commitments(round_number):
            yield self.federation.store.get(
                commitment.update_digest, max_bytes=self.max_ciphertext_bytes
            )

    def committed_update_bytes(self, round_number: int) -> int:
        """The bytes of the round's committed encrypted updates (as stored, or as recorded when
        the retention policy pruned them): nothing is read but their sizes."""
        store = self.federation.store
        sizes = getattr(store, "size", None)  # a local store knows sizes without reading
        pruned = getattr(store, "pruned_size", None)
        total = 0
        for commitment in self.commitments(round_number):
            size = sizes(commitment.update_digest) if sizes is not None else None
            if size is None and pruned is not None:
                size = pruned(commitment.update_digest)
            if size is None:
                blob = store.get(commitment.update_digest, max_bytes=self.max_ciphertext_bytes)
                size = len(blob)
            total += size
        return total

    def verify_round(self, round_number: int) -> AggregateVerification:
        """Recompute the round's encrypted sum from the committed updates, with the public
        context only, and compare it with the aggregate digest on-chain."""
        state = self.round_state(round_number)
        if state.aggregate_digest is None:
            raise RoundNotReadyError(
                f"round {round_number} of task {self.task_id} has no aggregate to verify yet; "
                "the aggregator commits it with task.aggregator().aggregate()"
            )
        verification = verify_aggregate(
            round_keys.public_scheme(self, round_number),
            self.committed_update_blobs(round_number),
            state.aggregate_digest,
        )
        self.federation.verifications.record(verification)
        self.federation.emit(
            "aggregate_verified",
            self.federation.ledger.block_number(),
            f"round {round_number} aggregate "
            + ("verified" if verification.matches else "does NOT match the committed updates"),
            task_id=self.task_id,
            round=round_number,
            data={"matches": verification.matches},
        )
        return verification

    # -- roles ----------------------------------------------------------------------------------

    def coordinator(self, name: str = "coordinator") -> Coordinator:
        return Coordinator(self, name)

    def participant(self, name: str) -> Participant:
        return Participant(self, name)

    def aggregator(self, name: str = "aggregator") -> Aggregator:
        return Aggregator(self, name)

    def key_holder(self, name: str = "key-holder") -> KeyHolder:
        return KeyHolder(self, name)

    def validator(self, name: str) -> Validator:
        return Validator(self, name)
