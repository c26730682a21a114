"""The state one kernel (or script) keeps: the open federation and what each party brought.

A ``Session`` keeps, per kernel:

* ``federation``: the open :class:`Federation` (None until :meth:`Session.open`);
* ``parties``: each participant's data, by variable *name* in ``namespace`` (the data itself
  never leaves the kernel and is read when it is used);
* ``validation_data``: the same for validators;
* ``updates``: the update each party trained for the open round, until it is submitted.

Besides that state it holds only sequences of several roles (aggregate = aggregator then key
holder). Every rule is checked once, by the role or task that owns it (``roles.py``,
``task.py``), before anything is sent or written; the errors come from ``errors.py`` and carry
their next step as data, which an interface (the IPython magics) words in its own commands.
"""

from __future__ import annotations

import copy
import functools
import time
from collections.abc import Callable, Container, Iterable, MutableMapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from ..chain import (
    ContractRevertError,
    Proposal,
    RoundPhase,
    RoundState,
    TaskRules,
    TransactionResult,
)
from ..models import adapter_for, initialize_shape
from ..models.errors import SUPPORTED_MODELS, UnsupportedModelError
from . import governance, incentives, masked, valuation
from .errors import (
    AlreadySubmittedError,
    DataMismatchError,
    InvalidInputError,
    MissingKeyError,
    NoFederationError,
    NotAModelError,
    NotValidatorError,
    NoUpdateError,
    NoValidationDataError,
    RoundPhaseError,
    RoundsExhaustedError,
    UnknownPartyError,
    UnknownVariableError,
    refusal,
    suggestion,
)
from .federation import DEFAULT_WORKSPACE, Federation
from .invitation import Invitation
from .ledger_view import UnclaimedReward, read_snapshot
from .roles import AggregateResult, LocalUpdate, ModelResult, Submission, VoteResult
from .simulation import SimulationResult, simulate
from .task import FederatedTask, TaskConfig

COORDINATOR, AGGREGATOR, KEY_HOLDER = "coordinator", "aggregator", "key-holder"

Step = TypeVar("Step", bound=Callable[..., Any])


def _words_refusals(method: Step) -> Step:
    """A contract's refusal of a step surfaces as the engine's :class:`ContractRefusedError`,
    worded with this workspace's account names."""

    @functools.wraps(method)
    def wrapper(self: Session, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except ContractRevertError as error:
            raise refusal(error, self.name_of) from error

    return wrapper  # type: ignore[return-value]


@dataclass(frozen=True)
class DataRef:
    """The names of a party's ``X`` and ``y`` variables."""

    X: str
    y: str

    def __str__(self) -> str:
        return f"{self.X},{self.y}"


class Session:
    """The federation one kernel works on, and its parties' data by variable name.

    ``namespace`` is where variables are looked up (a notebook's user namespace; a fresh dict
    by default); ``hidden_names`` are left out of "did you mean" suggestions.
    """

    def __init__(
        self,
        namespace: MutableMapping[str, Any] | None = None,
        *,
        hidden_names: Container[str] = (),
    ) -> None:
        self.namespace: MutableMapping[str, Any] = {} if namespace is None else namespace
        self.hidden_names = hidden_names
        self.federation: Federation | None = None
        self.parties: dict[tuple[int, str], DataRef] = {}
        self.validation_data: dict[tuple[int, str], DataRef] = {}
        self.updates: dict[tuple[int, str], LocalUpdate] = {}
        self.last_simulation: SimulationResult | None = None
        self._workspace: Path | None = None

    # -- the ledger -----------------------------------------------------------------------------

    def open(
        self,
        workspace: Path | str = DEFAULT_WORKSPACE,
        *,
        url: str | None = None,
        faucet_key: str | None = None,
        blobs: str | None = None,
        token: str | None = None,
        contract: str | None = None,
    ) -> Federation:
        """Open (or restore) the federation in ``workspace``; a no-op if it is already open.

        Another open federation is closed once the new one is open; the parties' data
        bindings are kept when the same workspace is opened again.
        """
        previous = self.federation
        if previous is not None and self.holds(workspace, url=url):
            return previous
        if previous is not None and _same_dir(previous.workspace, workspace):
            self.close()  # never hold one ledger directory open twice
        federation = Federation.open(
            workspace, url=url, faucet_key=faucet_key, blobs=blobs, token=token, contract=contract
        )
        self._adopt(federation, workspace)
        return federation

    def accept(
        self,
        card: str,
        workspace: Path | str = DEFAULT_WORKSPACE,
        *,
        token: str | None = None,
        faucet_key: str | None = None,
    ) -> tuple[Federation, int]:
        """Open ``workspace`` on an invitation's ledger and blob store (checked against the
        card); returns the federation and the invited task's id."""
        invitation = Invitation.parse(card)
        if self.federation is not None and _same_dir(self.federation.workspace, workspace):
            self.close()  # never hold one ledger directory open twice
        federation = Federation.accept(invitation, workspace, token=token, faucet_key=faucet_key)
        self._adopt(federation, workspace)
        return federation, invitation.task_id

    def _adopt(self, federation: Federation, workspace: Path | str) -> None:
        """Make ``federation`` this session's, closing the previous one."""
        self.close()
        if self._workspace is None or not _same_dir(self._workspace, workspace):
            self._forget()
        self.federation, self._workspace = federation, federation.workspace

    def holds(self, workspace: Path | str, *, url: str | None = None) -> bool:
        """Whether the open federation is the one ``open(workspace, url=url)`` would give."""
        federation = self.federation
        return (
            federation is not None
            and _same_dir(federation.workspace, workspace)
            and federation.ledger.url == url
        )

    def close(self) -> None:
        """Close the ledger (it stays on disk); a no-op if none is open."""
        if self.federation is not None:
            federation, self.federation = self.federation, None
            federation.close()

    def require_federation(self) -> Federation:
        if self.federation is None:
            raise NoFederationError()
        return self.federation

    def name_of(self, address: str) -> str:
        """The local account name of ``address``, or the address itself."""
        federation = self.federation
        name = federation.name_of(address) if federation is not None else None
        return name or address

    def _forget(self) -> None:
        self.parties.clear()
        self.validation_data.clear()
        self.updates.clear()

    # -- variables ------------------------------------------------------------------------------

    def variable(self, name: str) -> Any:
        """The value of ``name`` in the namespace, or an error suggesting a close name."""
        if name in self.namespace:
            return self.namespace[name]
        visible = [
            n for n in self.namespace if not n.startswith("_") and n not in self.hidden_names
        ]
        raise UnknownVariableError(name, suggestion(name, visible))

    def data(self, ref: DataRef) -> tuple[Any, Any]:
        """``(X, y)`` named by ``ref``, checked to hold the same, non-zero number of samples."""
        X, y = self.variable(ref.X), self.variable(ref.y)
        rows, labels = _length(X, ref.X), _length(y, ref.y)
        if rows != labels or labels == 0:
            raise DataMismatchError(ref.X, ref.y, rows, labels)
        return X, y

    def model(
        self, name: str, *, n_features: int | None = None, classes: Sequence[Any] | None = None
    ) -> Any:
        """The model held in ``name``, checked to be supported and to have parameters.

        With ``n_features`` (and a classifier's ``classes``), an unfitted model is initialized
        from that shape: the result is an initialized copy, the variable is left as it was.
        """
        value = self.variable(name)
        try:
            adapter = adapter_for(value)
        except UnsupportedModelError:
            raise NotAModelError(name, value, SUPPORTED_MODELS) from None
        if n_features is not None:
            return initialize_shape(copy.deepcopy(value), n_features=n_features, classes=classes)
        adapter.get_parameters(value)  # an unfitted estimator is refused here, before any write
        return value

    # -- tasks ----------------------------------------------------------------------------------

    def task(self, task_id: int) -> FederatedTask:
        return self.require_federation().task(task_id)

    def wait_for(
        self, task_id: int, round_number: int, phase: str, *, timeout_s: float = 600
    ) -> RoundState:
        """Wait until the task exists (another kernel creates it) and its round ``round_number``
        reaches ``phase`` (see :meth:`FederatedTask.wait_for`)."""
        federation = self.require_federation()
        deadline = time.monotonic() + timeout_s
        while task_id > federation.registry.task_count() and time.monotonic() < deadline:
            time.sleep(1)
        task = self.task(task_id)  # an unknown task error once the time is up
        return task.wait_for(round_number, phase, timeout_s=max(deadline - time.monotonic(), 0))

    def task_ids(self) -> list[int]:
        return self.require_federation().task_ids()

    @_words_refusals
    def create_task(
        self,
        model: Any,
        config: TaskConfig | None = None,
        *,
        validators: Iterable[str] = ("validator-1",),
        aggregator: str = AGGREGATOR,
        key_holder: str = KEY_HOLDER,
        public_context_digest: bytes | None = None,
    ) -> FederatedTask:
        """Register a task for ``model``; its parties join, then ``open_next_round`` opens
        round 1 (only parties registered before a round opens take part in it).

        The aggregator, key holder and validators may be other kernels' addresses (``0x...``);
        a key holder elsewhere comes with the public context digest it published."""
        federation = self.require_federation()
        return federation.create_task(
            model,
            config,
            coordinator=COORDINATOR,
            aggregator=aggregator,
            key_holder=key_holder,
            validators=list(validators),
            public_context_digest=public_context_digest,
        )

    def use_model(self, task_id: int, model: Any) -> FederatedTask:
        """Use ``model`` as this kernel's model of a task (after reopening its ledger)."""
        task = self.task(task_id)
        task.use_model(model)
        return task

    @_words_refusals
    def admit(
        self, task_id: int, accounts: Sequence[str], sample_cap: int | None = None
    ) -> TransactionResult:
        """The coordinator admits parties (local names or 0x addresses) to an
        admission-controlled task, each with an optional cap on the samples an update declares."""
        task = self.task(task_id)
        self._require_key(task, COORDINATOR)
        return task.coordinator(COORDINATOR).admit(accounts, sample_cap)

    def revoke_admission(self, task_id: int, account: str) -> TransactionResult:
        """The coordinator revokes a party's admission: it may neither join nor submit again."""
        task = self.task(task_id)
        self._require_key(task, COORDINATOR)
        return task.coordinator(COORDINATOR).revoke_admission(account)

    def open_next_round(self, task_id: int) -> int:
        """The coordinator opens the next round, first closing the current one if it stalled.

        A collecting round whose window passed with too few updates, or whose aggregator (or
        then key holder) stayed silent past its deadline, is cancelled (it does not use up one
        of the task's rounds); a round whose validation window passed without every vote is
        tallied. The contract refuses to close a round that is still running.
        """
        task = self.task(task_id)
        state = task.state()
        self._require_key(task, COORDINATOR)
        if state.ended:
            raise RoundsExhaustedError(task_id, state.params.max_rounds)
        number, phase = task.phase()
        coordinator = task.coordinator(COORDINATOR)
        if number and not phase.finished:
            round_state = task.round_state(number)
            if phase == RoundPhase.VALIDATING:
                coordinator.finalize_round(number)
            else:
                if phase == RoundPhase.COLLECTING:
                    task.require_collection_closed(round_state)
                block = task.federation.ledger.block_number()
                enough = round_state.commit_count >= state.params.min_participants
                if (phase == RoundPhase.AGGREGATED or enough) and (
                    block <= round_state.action_deadline_block
                ):
                    raise RoundPhaseError(task_id, number, phase, "the next round cannot open yet")
                coordinator.cancel_round(number)
        return coordinator.open_round()

    # -- parties --------------------------------------------------------------------------------

    @_words_refusals
    def join(
        self, task_id: int, name: str, data: DataRef | None = None, *, validator: bool = False
    ) -> TransactionResult | None:
        """Join ``name`` to a task with its data, or record a validator's data.

        A participant's key is created in the workspace's keystore on first use. Joining again
        only updates the data; the transaction is None then (and for a validator).
        """
        task = self.task(task_id)
        if data is not None:
            self._check_fits_model(task, name, *self.data(data))
        if validator:
            if not task.is_validator(name):
                raise NotValidatorError(task_id, name, self.validators(task_id))
            if data is not None:
                self.validation_data[(task_id, name)] = data
            return None
        if data is None:
            raise InvalidInputError(f"{name} needs training data to join task {task_id}")
        self.require_federation().keystore.exists(name)  # refuses an invalid account name
        result = task.participant(name).join()
        self.parties[(task_id, name)] = data
        return result

    def _check_fits_model(self, task: FederatedTask, name: str, X: Any, y: Any) -> None:
        """Refuse, before joining, data the task's model cannot train on: another number of
        features, or labels the model was not created with (they would change its shape)."""
        spec = task.manifest.get("model", {})
        features, classes = spec.get("n_features"), spec.get("classes")
        columns = getattr(X, "shape", (None, None))
        if features is not None and len(columns) == 2 and columns[1] != features:
            raise InvalidInputError(
                f"{name}'s data has {columns[1]} features but task {task.task_id}'s model takes "
                f"{features}; pass data with the task's features"
            )
        if classes is not None:
            unknown = sorted({_plain(label) for label in np.unique(np.asarray(y))} - set(classes))
            if unknown:
                raise InvalidInputError(
                    f"{name}'s labels {unknown} are not among task {task.task_id}'s classes "
                    f"{classes}: its model was created without them; create a task whose model "
                    "knows every label (%fedtask create MODEL_VAR --features N --classes "
                    "A,B,...; in Python models.initialize_shape)"
                )

    def roles_held(self) -> dict[int, list[str]]:
        """Per task, the roles whose keys this workspace holds (``coordinator``, ``aggregator``,
        ``key holder`` with or without its secret context, ``validator NAME``,
        ``participant NAME``)."""
        federation = self.require_federation()
        registry = federation.registry
        names = federation.names_by_address()
        held: dict[int, list[str]] = {}
        for task_id in federation.task_ids():
            state = registry.task(task_id)
            roles = []
            for role, address in (
                ("coordinator", state.coordinator),
                ("aggregator", state.aggregator),
                ("key holder", state.key_holder),
            ):
                if address.lower() in names:
                    if role == "key holder" and federation.secret_context(task_id) is None:
                        role = "key holder (without its secret context)"
                    roles.append(role)
            for address, name in names.items():
                if name == "deployer":
                    continue
                if registry.is_validator(task_id, address):
                    roles.append(f"validator {name}")
                elif registry.is_participant(task_id, address):
                    roles.append(f"participant {name}")
            if roles:
                held[task_id] = roles
        return held

    def participants(self, task_id: int) -> list[str]:
        """The participants of a task that joined in this session."""
        return sorted(name for (task, name) in self.parties if task == task_id)

    def validators(self, task_id: int) -> list[str]:
        """The validators of a task whose keys this workspace holds."""
        task = self.task(task_id)
        return [
            name for name in self.require_federation().keystore.names() if task.is_validator(name)
        ]

    @_words_refusals
    def start_training(self, task_id: int, name: str) -> Any:
        """A fresh copy of the current global model for ``name`` to train this round."""
        task = self.task(task_id)
        self._party(task_id, name)
        if task.current_round() == 0 and self._holds_key(task, COORDINATOR):
            # A new task's round 1 opens when its first party starts training, so the parties
            # that joined before take part (later joiners take part from round 2).
            task.coordinator(COORDINATOR).open_round()
        round_number = task.open_round_number()
        self._refuse_second_update(task, name, round_number)
        if task.masked:
            task.participant(name).advertise_masking_key(round_number)
        return task.global_model()

    def _refuse_second_update(self, task: FederatedTask, name: str, round_number: int) -> None:
        """A party that already committed to the open round trains and submits no more."""
        federation = self.require_federation()
        address = federation.keystore.address_of(name)
        if federation.registry.member(task.task_id, address).last_committed_round == round_number:
            raise AlreadySubmittedError(task.task_id, name, round_number)

    def capture_update(self, task_id: int, name: str, trained_model: Any) -> LocalUpdate:
        """Keep ``trained_model`` as ``name``'s update (weighted by its number of samples)."""
        task = self.task(task_id)
        _, y = self.data(self._party(task_id, name))
        update = task.participant(name).update_from_model(trained_model, len(y))
        self.updates[(task_id, name)] = update
        return update

    @_words_refusals
    def submit(self, task_id: int, name: str) -> Submission:
        """Encrypt and commit ``name``'s captured update."""
        task = self.task(task_id)
        self._party(task_id, name)
        round_number = task.open_round_number()
        update = self.updates.get((task_id, name))
        if update is None:
            self._refuse_second_update(task, name, round_number)
            raise NoUpdateError(task_id, name)
        submission = task.participant(name).submit(update)
        del self.updates[(task_id, name)]
        return submission

    # -- the round's other roles ----------------------------------------------------------------

    @_words_refusals
    def aggregate(self, task_id: int) -> tuple[AggregateResult | None, ModelResult | None]:
        """Aggregator then key holder: sum, verify, decrypt, commit the new model, each stage
        this workspace holds the keys for.

        A round whose sum is already committed goes straight to the key holder (the
        aggregate result is None then); a workspace without the key holder's secret context
        stops after the sum (the model result is None: the key holder's kernel decrypts).
        """
        task = self.task(task_id)
        aggregator = self._holds_key(task, AGGREGATOR)
        key_holder = (
            self._holds_key(task, KEY_HOLDER)
            and self.require_federation().secret_context(task_id) is not None
        )
        revealers = self.participants(task_id) if task.masked else []
        if not (aggregator or key_holder or revealers):
            raise MissingKeyError(task_id, "aggregator or key holder")
        number, phase = task.phase()
        aggregate = None
        decided = (RoundPhase.VALIDATING, RoundPhase.ACCEPTED, RoundPhase.REJECTED)
        if revealers and not aggregator and not key_holder and phase in decided:
            raise masked.RevealTooLateError(task_id, number)
        if phase != RoundPhase.AGGREGATED:
            if not aggregator:
                raise MissingKeyError(task_id, AGGREGATOR)
            aggregate = task.aggregator(AGGREGATOR).aggregate()
            number = aggregate.round
        for name in revealers:  # masked: this workspace's parties in the sum reveal their masks
            task.participant(name).reveal_masks(number)
        if not key_holder:
            return aggregate, None  # the key holder's kernel decrypts (another workspace)
        return aggregate, task.key_holder(KEY_HOLDER).decrypt_and_commit()

    @_words_refusals
    def validate(self, task_id: int, name: str, data: DataRef | None = None) -> VoteResult:
        """``name`` evaluates the round's new model on its data and votes."""
        task = self.task(task_id)
        if not task.is_validator(name):
            raise NotValidatorError(task_id, name, self.validators(task_id))
        ref = data or self.validation_data.get((task_id, name))
        if ref is None:
            raise NoValidationDataError(task_id, name)
        X, y = self.data(ref)
        vote = task.validator(name).vote(X, y)
        self._settle_if_valued(task, vote.round)
        return vote

    def _settle_if_valued(self, task: FederatedTask, round_number: int) -> None:
        """A valued task's round just decided (accepted or rejected): its coordinator, when this
        workspace holds it, posts the score table at once, so parties can claim (another
        kernel's coordinator posts it with ``Session.settle``)."""
        if not valuation.settles(task, task.round_state(round_number).phase):
            return
        coordinator = self.require_federation().name_of(task.state().coordinator)
        if coordinator is not None and not self._settled(task, round_number):
            task.coordinator(coordinator).settle_round(round_number)

    def _settled(self, task: FederatedTask, round_number: int) -> bool:
        scores = self.require_federation().scores
        return scores is not None and scores.scores_posted(task.task_id, round_number)

    def settle(self, task_id: int, round_number: int | None = None) -> Any:
        """Post a valued task's decided round's score table (the coordinator's step; done
        automatically when the vote ends in the coordinator's workspace)."""
        task = self.task(task_id)
        number = task.current_round() if round_number is None else round_number
        coordinator = self.require_federation().name_of(task.state().coordinator)
        if coordinator is None:
            raise InvalidInputError(
                f"task {task_id}'s coordinator holds no key in this workspace; its notebook "
                "posts the score table"
            )
        return task.coordinator(coordinator).settle_round(number)

    # -- rewards --------------------------------------------------------------------------------

    def pending_rewards(self, task_id: int | None = None) -> list[UnclaimedReward]:
        """Unclaimed rewards of this workspace's accounts (in one task, or every task)."""
        federation = self.require_federation()
        task_ids = None if task_id is None else [self.task(task_id).task_id]
        return read_snapshot(federation, task_ids).unclaimed()

    @_words_refusals
    def claim(self, name: str, task_id: int | None = None) -> int:
        """Claim every unclaimed reward of ``name``; returns token base units."""
        federation = self.require_federation()
        if not federation.keystore.exists(name) or name == "deployer":
            raise UnknownPartyError(None, name, federation.account_names())
        return sum(self._claim(p) for p in self.pending_rewards(task_id) if p.name == name)

    @_words_refusals
    def claim_all(self, task_id: int | None = None) -> dict[str, int]:
        """Claim every unclaimed reward of every account here; returns units per name."""
        claimed: dict[str, int] = {}
        for pending in self.pending_rewards(task_id):
            claimed[pending.name] = claimed.get(pending.name, 0) + self._claim(pending)
        return claimed

    def _claim(self, pending: UnclaimedReward) -> int:
        amount = self.task(pending.task_id).participant(pending.name).claim(pending.round)
        federation = self.require_federation()
        if governance.is_governed(federation, pending.task_id):  # its tokens vote from now on
            governance.ensure_delegated(federation, pending.name)
        return amount

    # -- incentives: stakes, slashing, disputes ----------------------------------------------------

    @_words_refusals
    def set_stakes(
        self,
        task_id: int,
        *,
        required: int,
        role: int = 0,
        slash_ppm: int = 0,
        min_standing_ppm: int = 0,
        dispute_bond: int = 0,
        dispute_window_blocks: int = 0,
    ) -> TransactionResult:
        """Set the task's stake rules (its coordinator, before round 1): ``required`` from each
        participant, ``role`` from the aggregator and the key holder (token base units), the
        part of a stake an offence takes (``slash_ppm``), the standing below which a party is
        slashed, the bond of a dispute and the blocks after validation a round may be disputed."""
        return incentives.set_stakes(
            self.require_federation(),
            self.task(task_id).task_id,
            required=required,
            role=role,
            slash_ppm=slash_ppm,
            min_standing_ppm=min_standing_ppm,
            dispute_bond=dispute_bond,
            dispute_window_blocks=dispute_window_blocks,
        )

    @_words_refusals
    def stake(self, task_id: int, party: str) -> int:
        """``party`` stakes what its role in the task requires; returns the amount staked."""
        return incentives.stake(self.require_federation(), self.task(task_id).task_id, party)

    @_words_refusals
    def withdraw_stake(self, task_id: int, party: str) -> tuple[int, int]:
        """``party`` withdraws its stake from an ended task: (returned, slashed-pool share)."""
        federation = self.require_federation()
        return incentives.withdraw_stake(federation, self.task(task_id).task_id, party)

    def stakes(self, task_id: int) -> list[incentives.StakeRow]:
        """Each party's stake, slashed amount and offences in the task (from the logs)."""
        return incentives.stake_rows(self.require_federation(), self.task(task_id).task_id)

    @_words_refusals
    def dispute(
        self, task_id: int, round_number: int, party: str, *, evidence: Any = "aggregate mismatch"
    ) -> bytes:
        """``party`` disputes the round's aggregate with the task's bond; ``evidence`` (text,
        bytes or a dict of what its verification found) goes to the blob store. Returns its
        digest."""
        federation = self.require_federation()
        task_id = self.task(task_id).task_id
        return incentives.dispute(federation, task_id, round_number, party, evidence=evidence)

    @_words_refusals
    def vote_on_dispute(self, task_id: int, round_number: int, validator: str, uphold: bool) -> str:
        """``validator`` votes on the round's dispute; returns its state after (open, upheld,
        dismissed)."""
        federation = self.require_federation()
        task_id = self.task(task_id).task_id
        state = incentives.vote_on_dispute(
            federation, task_id, round_number, validator, uphold=uphold
        )
        return state.label

    @_words_refusals
    def slash(
        self, task_id: int, round_number: int, offence: str, party: str | None = None, *, by: str
    ) -> int:
        """Slash on on-chain evidence, sent by ``by``: ``offence`` is ``"low standing"`` (of
        ``party``'s posted score row), ``"silent role"`` (the cancelled round's silent role) or
        ``"missed round"`` (``party`` advertised a masking key and committed nothing). Returns
        the amount slashed."""
        federation = self.require_federation()
        task_id = self.task(task_id).task_id
        kind = offence.replace("_", " ").strip().lower()
        if kind == "silent role":
            return incentives.slash_silent_role(federation, task_id, round_number, by=by)
        if party is None or kind not in ("low standing", "missed round"):
            raise InvalidInputError(
                f"unknown offence {offence!r} (or no party): use 'low standing' or 'missed round' "
                "with a party, or 'silent role'"
            )
        if kind == "low standing":
            return incentives.slash_low_standing(federation, task_id, round_number, party, by=by)
        return incentives.slash_missed_round(federation, task_id, round_number, party, by=by)

    # -- governance -----------------------------------------------------------------------------

    @_words_refusals
    def govern(
        self,
        task_id: int,
        *,
        group_size: int | None = None,
        valuation: str | None = None,
        min_standing: float | None = None,
        max_weight_over_median: float | None = None,
        slash: float = 0.0,
        slash_below_standing: float = 0.0,
    ) -> TaskRules:
        """Put a task's rules under on-chain governance (before round 1): the coordinator sets
        them (defaults: the task's own settings) and hands them to the governance timelock; from
        then on only a passed proposal changes them. ``slash`` (part of the remaining stake an
        offence takes) and ``slash_below_standing`` (the standing below which a staked party is
        slashed) are what the task's stakes are slashed by, round by round; stake rules set
        before hand theirs over. The stakes themselves stay as ``set_stakes`` fixed them.
        Returns the rules set."""
        task = self.task(task_id)
        self._require_key(task, COORDINATOR)
        defaults = governance.config_rules(task.config)
        rules = governance.task_rules(
            group_size=defaults["group_size"] if group_size is None else group_size,
            valuation=defaults["valuation"] if valuation is None else valuation,
            min_standing=defaults["min_standing"] if min_standing is None else min_standing,
            max_weight_over_median=(
                defaults["max_weight_over_median"]
                if max_weight_over_median is None
                else max_weight_over_median
            ),
            slash=slash,
            slash_below_standing=slash_below_standing,
        )
        federation = self.require_federation()
        governance.govern(federation, task.task_id, rules, COORDINATOR)
        return governance.rules(federation, task.task_id, 1) or rules

    @_words_refusals
    def propose_rules(self, task_id: int, proposer: str, description: str, **changes: Any) -> int:
        """``proposer`` proposes changes to a governed task's rules (``group_size=4``,
        ``valuation="shapley"``, ``min_standing=0.5``, ``max_weight_over_median=3``,
        ``slash=0.2``, ``slash_below_standing=0.3``); returns the proposal id. A change applies
        from the round after the one open when it executes; the stake itself is no rule."""
        federation = self.require_federation()
        task = self.task(task_id)
        encoded = governance.encode_changes(changes)
        return governance.propose(federation, task.task_id, proposer, description, encoded)

    @_words_refusals
    def vote(self, proposal_id: int, party: str, support: str = "for") -> int:
        """``party`` votes ``"for"``, ``"against"`` or ``"abstain"``; returns the votes counted.
        On the in-process chain a vote that has not opened yet is waited for (blocks mined)."""
        return governance.vote(
            self.require_federation(), proposal_id, party, governance.vote_support(support)
        )

    @_words_refusals
    def queue(self, proposal_id: int) -> int:
        """Queue a passed proposal on the timelock (on the in-process chain the rest of its
        voting period is mined first); returns when it may execute (a block timestamp)."""
        return governance.queue(self.require_federation(), proposal_id, self._governance_caller())

    @_words_refusals
    def execute(self, proposal_id: int) -> int:
        """Execute a queued proposal (on the in-process chain its timelock delay is mined
        first); returns the first round its changes apply to."""
        return governance.execute(self.require_federation(), proposal_id, self._governance_caller())

    def proposals(self, task_id: int | None = None) -> list[Proposal]:
        """The governance proposals (of one task's rules), oldest first."""
        federation = self.require_federation()
        task_ids = None if task_id is None else self.task(task_id).task_id
        return governance.proposals(federation, task_ids)

    def rules(self, task_id: int, round_number: int | None = None) -> TaskRules | None:
        """The governed rules of round ``round_number`` (default: the next round to open);
        None for a task not under governance."""
        task = self.task(task_id)
        return governance.rules(self.require_federation(), task.task_id, round_number)

    @_words_refusals
    def delegate(self, party: str, to: str | None = None) -> TransactionResult | None:
        """``party`` delegates its reward-token votes (to itself by default); None if it
        already did."""
        return governance.delegate(self.require_federation(), party, to)

    def _governance_caller(self) -> str:
        federation = self.require_federation()
        return COORDINATOR if federation.keystore.exists(COORDINATOR) else governance.TREASURY

    # -- simulation -----------------------------------------------------------------------------

    def simulate(
        self, model: Any, train: DataRef, test: DataRef, **options: Any
    ) -> SimulationResult:
        """Run :func:`simulate` on this session's federation with data named by variable."""
        federation = self.require_federation()
        adapter_for(model).get_parameters(model)
        X_train, y_train = self.data(train)
        X_test, y_test = self.data(test)
        result = simulate(model, X_train, y_train, X_test, y_test, federation=federation, **options)
        self.last_simulation = result
        return result

    # -- checks ---------------------------------------------------------------------------------

    def _party(self, task_id: int, name: str) -> DataRef:
        ref = self.parties.get((task_id, name))
        if ref is None:
            raise UnknownPartyError(task_id, name, self.participants(task_id))
        return ref

    def _require_key(self, task: FederatedTask, role: str) -> None:
        if not self._holds_key(task, role):
            raise MissingKeyError(task.task_id, role)

    def _holds_key(self, task: FederatedTask, role: str) -> bool:
        """Whether this workspace holds the key of the task's ``role`` account."""
        state = task.state()
        address = {COORDINATOR: state.coordinator, AGGREGATOR: state.aggregator}.get(
            role, state.key_holder
        )
        keystore = self.require_federation().keystore
        return keystore.exists(role) and keystore.address_of(role).lower() == address.lower()


def _length(value: Any, name: str) -> int:
    try:
        return len(value)
    except TypeError:
        raise InvalidInputError(
            f"`{name}` is a {type(value).__name__}, not data (an array, list or DataFrame)"
        ) from None


def _same_dir(first: Path, second: Path | str) -> bool:
    return Path(first).resolve() == Path(second).resolve()


def _plain(label: Any) -> Any:
    """A numpy label as the plain value a manifest's JSON holds."""
    return label.item() if isinstance(label, np.generic) else label
