"""The session one kernel (or script) holds: the open federation and what each party brought.

A ``Session`` keeps, per kernel:

* ``federation``: the open :class:`Federation` (None until :meth:`Session.open`);
* ``parties``: each participant's data, by variable *name* in ``namespace`` (the data itself
  never leaves the kernel and is read when it is used);
* ``validation_data``: the same for validators;
* ``updates``: the update each party trained for the open round, until it is submitted.

Every step checks its inputs (the task, the party, the variables, the round's phase, the keys
this workspace holds) *before* it sends a transaction or writes a file, so a refused step
leaves the ledger and the workspace as they were. The errors carry their facts as attributes,
so an interface (the IPython magics) can word the next step in its own commands.
"""

from __future__ import annotations

import difflib
from collections.abc import Container, Iterable, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..chain import RoundPhase, TransactionResult
from ..models import adapter_for
from ..models.errors import SUPPORTED_MODELS, ModelError, UnsupportedModelError
from .errors import FederationError, RoleError, RoundNotReadyError, UnknownTaskError
from .federation import DEFAULT_WORKSPACE, Federation
from .roles import AggregateResult, LocalUpdate, ModelResult, Submission, VoteResult
from .simulation import SimulationResult, simulate
from .task import FederatedTask, TaskConfig

COORDINATOR, AGGREGATOR, KEY_HOLDER = "coordinator", "aggregator", "key-holder"


# -- errors: facts as attributes, a one-line message in this API's terms --------------------------


class NoFederationError(FederationError):
    def __init__(self) -> None:
        super().__init__("no federation is open; open one with session.open('.fedchain')")


class UnknownVariableError(FederationError):
    def __init__(self, name: str, suggestion: str | None) -> None:
        self.name, self.suggestion = name, suggestion
        hint = f"did you mean `{suggestion}`?" if suggestion else "define it first"
        super().__init__(f"there is no variable `{name}`; {hint}")


class NotAModelError(ModelError, TypeError):
    def __init__(self, name: str, value: Any, supported: str) -> None:
        self.name, self.type_name, self.supported = name, type(value).__name__, supported
        super().__init__(f"`{name}` ({self.type_name}) is not a supported model ({supported})")


class NoLocalModelError(ModelError):
    def __init__(self, task_id: int) -> None:
        self.task_id = task_id
        super().__init__(
            f"this session has no model for task {task_id}; give it one of the task's "
            "architecture with session.use_model(task_id, model)"
        )


class DataMismatchError(FederationError, ValueError):
    def __init__(self, X_name: str, y_name: str, rows: int, labels: int) -> None:
        self.X_name, self.y_name, self.rows, self.labels = X_name, y_name, rows, labels
        super().__init__(
            f"`{X_name}` has {rows} rows but `{y_name}` has {labels} labels; pass matching data"
            if labels
            else f"`{y_name}` holds no samples; pass non-empty data"
        )


class TaskNotFoundError(UnknownTaskError):
    def __init__(self, task_id: int, task_ids: list[int]) -> None:
        self.task_id, self.task_ids = task_id, task_ids
        known = ", ".join(map(str, task_ids)) or "none yet"
        super().__init__(
            f"no task {task_id} (tasks: {known}); create one with session.create_task(model)"
        )


class UnknownPartyError(FederationError):
    """``name`` has not joined ``task_id`` in this session (or, with no task, has no account)."""

    def __init__(self, task_id: int | None, name: str, known: list[str]) -> None:
        self.task_id, self.name, self.known = task_id, name, known
        close = difflib.get_close_matches(name, known, n=1)
        self.suggestion = close[0] if close else None
        where = f"has not joined task {task_id} here" if task_id else "has no account here"
        super().__init__(f"{name} {where} (known: {', '.join(known) or 'none yet'})")


class RoundPhaseError(RoundNotReadyError):
    """The task's current round is not in the phase a step needs; ``step`` says what cannot be."""

    def __init__(self, task_id: int, round_number: int, phase: RoundPhase, step: str) -> None:
        self.task_id, self.round, self.phase, self.step = task_id, round_number, phase, step
        where = f"round {round_number} of task {task_id}" if round_number else f"task {task_id}"
        state = f"is {phase.label}" if round_number else "has no round yet"
        super().__init__(f"{where} {state}: {step}")


class TooFewUpdatesError(RoundNotReadyError):
    def __init__(self, task_id: int, round_number: int, count: int, minimum: int) -> None:
        self.task_id, self.round, self.count, self.minimum = task_id, round_number, count, minimum
        super().__init__(
            f"round {round_number} of task {task_id} has {count} of the {minimum} updates "
            "it needs; more parties must submit"
        )


class RoundsExhaustedError(RoundNotReadyError):
    def __init__(self, task_id: int, max_rounds: int) -> None:
        self.task_id, self.max_rounds = task_id, max_rounds
        super().__init__(f"task {task_id} has run all its {max_rounds} rounds; create a new task")


class NoUpdateError(FederationError):
    def __init__(self, task_id: int, name: str) -> None:
        self.task_id, self.name = task_id, name
        super().__init__(f"{name} has no trained update for task {task_id}; capture one first")


class StaleUpdateError(RoundNotReadyError):
    def __init__(self, task_id: int, name: str, trained_round: int, open_round: int) -> None:
        self.task_id, self.name = task_id, name
        self.trained_round, self.open_round = trained_round, open_round
        super().__init__(
            f"{name}'s update was trained in round {trained_round}, but round {open_round} of "
            f"task {task_id} is open; train again on the current global model"
        )


class NotValidatorError(RoleError):
    def __init__(self, task_id: int, name: str, validators: list[str]) -> None:
        self.task_id, self.name, self.validators = task_id, name, validators
        super().__init__(
            f"{name} is not a validator of task {task_id} "
            f"(validators: {', '.join(validators) or 'none held here'})"
        )


class NoValidationDataError(FederationError):
    def __init__(self, task_id: int, name: str) -> None:
        self.task_id, self.name = task_id, name
        super().__init__(f"validator {name} of task {task_id} has no data; pass some")


class MissingKeyError(RoleError):
    def __init__(self, task_id: int, role: str) -> None:
        self.task_id, self.role = task_id, role
        super().__init__(
            f"this workspace does not hold the {role}'s key of task {task_id}; run this step "
            "in the workspace that created the task"
        )


# -- the session ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DataRef:
    """The names of a party's ``X`` and ``y`` variables."""

    X: str
    y: str

    def __str__(self) -> str:
        return f"{self.X},{self.y}"


@dataclass(frozen=True)
class PendingReward:
    task_id: int
    round: int
    name: str
    amount: int
    """Reward-token base units."""


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
    ) -> Federation:
        """Open (or restore) the federation in ``workspace``; a no-op if it is already open.

        Another open federation is closed once the new one is open; the parties' data
        bindings are kept when the same workspace is opened again.
        """
        previous = self.federation
        if previous is not None and self.holds(workspace, url=url):
            return previous
        same = previous is not None and _same_dir(previous.workspace, workspace)
        if same:
            self.close()  # never hold one ledger directory open twice
        federation = Federation.open(workspace, url=url, faucet_key=faucet_key)
        self.close()
        if self._workspace is None or not _same_dir(self._workspace, workspace):
            self._forget()
        self.federation, self._workspace = federation, federation.workspace
        return federation

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
        close = difflib.get_close_matches(name, visible, n=1)
        raise UnknownVariableError(name, close[0] if close else None)

    def data(self, ref: DataRef) -> tuple[Any, Any]:
        """``(X, y)`` named by ``ref``, checked to hold the same, non-zero number of samples."""
        X, y = self.variable(ref.X), self.variable(ref.y)
        rows, labels = _length(X, ref.X), _length(y, ref.y)
        if rows != labels or labels == 0:
            raise DataMismatchError(ref.X, ref.y, rows, labels)
        return X, y

    def model(self, name: str) -> Any:
        """The model held in ``name``, checked to be supported and to have parameters."""
        value = self.variable(name)
        try:
            adapter = adapter_for(value)
        except UnsupportedModelError:
            raise NotAModelError(name, value, SUPPORTED_MODELS) from None
        adapter.get_parameters(value)  # an unfitted estimator is refused here, before any write
        return value

    # -- tasks ----------------------------------------------------------------------------------

    def task(self, task_id: int) -> FederatedTask:
        federation = self.require_federation()
        count = federation.registry.task_count()
        if not 1 <= task_id <= count:
            raise TaskNotFoundError(task_id, list(range(1, count + 1)))
        return federation.task(task_id)

    def task_ids(self) -> list[int]:
        return list(range(1, self.require_federation().registry.task_count() + 1))

    def create_task(
        self,
        model: Any,
        config: TaskConfig | None = None,
        *,
        validators: Iterable[str] = ("validator-1",),
    ) -> FederatedTask:
        """Register a task for ``model`` and open its round 1."""
        federation = self.require_federation()
        config = config or TaskConfig()
        names = list(validators)
        config.check(validator_count=len(names))
        _check_uint32(config)
        adapter_for(model).get_parameters(model)
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"validator names repeat: {', '.join(repeated)}; name each once")
        for name in (COORDINATOR, AGGREGATOR, KEY_HOLDER, *names):
            federation.keystore.exists(name)  # refuses an invalid account name
        task = federation.create_task(model, config, validators=names)
        task.coordinator(COORDINATOR).open_round()
        return task

    def use_model(self, task_id: int, model: Any) -> FederatedTask:
        """Use ``model`` as this kernel's model of a task (after reopening its ledger)."""
        task = self.task(task_id)
        task.use_model(model)
        return task

    def open_next_round(self, task_id: int) -> int:
        """The coordinator opens the next round, first closing a round that timed out.

        A round times out when its submission window passed with too few updates, or its
        validation window passed without a quorum; the contract refuses to close one whose
        window is still open.
        """
        task = self.task(task_id)
        state = task.state()
        self._require_key(task, COORDINATOR, state.coordinator)
        number, phase = self.phase(task)
        if number >= state.params.max_rounds:
            raise RoundsExhaustedError(task_id, state.params.max_rounds)
        coordinator = task.coordinator(COORDINATOR)
        if number and not phase.finished:
            enough = task.round_state(number).commit_count >= state.params.min_participants
            if phase == RoundPhase.AGGREGATED or (phase == RoundPhase.COLLECTING and enough):
                raise RoundPhaseError(task_id, number, phase, "the next round cannot open yet")
            coordinator.finalize_round(number)
        return coordinator.open_round()

    def phase(self, task: FederatedTask) -> tuple[int, RoundPhase]:
        """The task's current round and its phase (round 0, ``NONE``, before round 1)."""
        number = task.current_round()
        return number, task.round_state(number).phase if number else RoundPhase.NONE

    # -- parties --------------------------------------------------------------------------------

    def join(
        self, task_id: int, name: str, data: DataRef | None = None, *, validator: bool = False
    ) -> TransactionResult | None:
        """Join ``name`` to a task with its data, or record a validator's data.

        A participant's key is created in the workspace's keystore on first use. Joining again
        only updates the data; the transaction is None then (and for a validator).
        """
        task = self.task(task_id)
        if data is not None:
            self.data(data)
        if validator:
            if not self._is_validator(task, name):
                raise NotValidatorError(task_id, name, self.validators(task_id))
            if data is not None:
                self.validation_data[(task_id, name)] = data
            return None
        if data is None:
            raise ValueError(f"{name} needs training data to join task {task_id}")
        self.require_federation().keystore.exists(name)  # refuses an invalid account name
        result = task.participant(name).join()
        self.parties[(task_id, name)] = data
        return result

    def participants(self, task_id: int) -> list[str]:
        """The participants of a task that joined in this session."""
        return sorted(name for (task, name) in self.parties if task == task_id)

    def validators(self, task_id: int) -> list[str]:
        """The validators of a task whose keys this workspace holds."""
        task = self.task(task_id)
        names = self.require_federation().keystore.names()
        return [name for name in names if self._is_validator(task, name)]

    def start_training(self, task_id: int, name: str) -> Any:
        """A fresh copy of the current global model for ``name`` to train this round."""
        task = self.task(task_id)
        self._party(task_id, name)
        self._require_phase(task, RoundPhase.COLLECTING, "it takes no updates")
        _require_model(task)
        return task.global_model()

    def capture_update(self, task_id: int, name: str, trained_model: Any) -> LocalUpdate:
        """Keep ``trained_model`` as ``name``'s update (weighted by its number of samples)."""
        task = self.task(task_id)
        _, y = self.data(self._party(task_id, name))
        update = task.participant(name).update_from_model(trained_model, len(y))
        self.updates[(task_id, name)] = update
        return update

    def submit(self, task_id: int, name: str) -> Submission:
        """Encrypt and commit ``name``'s captured update."""
        task = self.task(task_id)
        self._party(task_id, name)
        number = self._require_phase(task, RoundPhase.COLLECTING, "it takes no updates")
        update = self.updates.get((task_id, name))
        if update is None:
            raise NoUpdateError(task_id, name)
        if update.round != number or update.base_model_digest != task.state().current_model_digest:
            raise StaleUpdateError(task_id, name, update.round, number)
        submission = task.participant(name).submit(update)
        del self.updates[(task_id, name)]
        return submission

    # -- the round's other roles ----------------------------------------------------------------

    def aggregate(self, task_id: int) -> tuple[AggregateResult | None, ModelResult]:
        """Aggregator then key holder: sum, verify, decrypt, commit the new model.

        A round whose sum is already committed goes straight to the key holder (the
        aggregate result is None then).
        """
        task = self.task(task_id)
        state = task.state()
        self._require_key(task, AGGREGATOR, state.aggregator)
        self._require_key(task, KEY_HOLDER, state.key_holder)
        if self.require_federation().secret_context(task_id) is None:
            raise MissingKeyError(task_id, KEY_HOLDER)
        number, phase = self.phase(task)
        aggregate = None
        if phase == RoundPhase.COLLECTING:
            count = task.round_state(number).commit_count
            if count < state.params.min_participants:
                raise TooFewUpdatesError(task_id, number, count, state.params.min_participants)
            aggregate = task.aggregator(AGGREGATOR).aggregate(number)
        elif phase != RoundPhase.AGGREGATED:
            raise RoundPhaseError(task_id, number, phase, "there is nothing to aggregate")
        return aggregate, task.key_holder(KEY_HOLDER).decrypt_and_commit(number)

    def validate(self, task_id: int, name: str, data: DataRef | None = None) -> VoteResult:
        """``name`` evaluates the round's new model on its data and votes."""
        task = self.task(task_id)
        if not self._is_validator(task, name):
            raise NotValidatorError(task_id, name, self.validators(task_id))
        ref = data or self.validation_data.get((task_id, name))
        if ref is None:
            raise NoValidationDataError(task_id, name)
        X, y = self.data(ref)
        number = self._require_phase(task, RoundPhase.VALIDATING, "it takes no votes")
        _require_model(task)
        return task.validator(name).vote(X, y, number)

    # -- rewards --------------------------------------------------------------------------------

    def pending_rewards(self, task_id: int | None = None) -> list[PendingReward]:
        """Unclaimed rewards of this workspace's accounts (in one task, or every task)."""
        federation = self.require_federation()
        registry = federation.registry
        names = federation.names_by_address()
        pending = []
        for number in [task_id] if task_id is not None else self.task_ids():
            task = self.task(number)
            for round_number in range(1, task.current_round() + 1):
                if registry.round(number, round_number).phase != RoundPhase.ACCEPTED:
                    continue
                for commitment in registry.update_commitments(number, round_number):
                    name = names.get(commitment.participant.lower())
                    if name is None:
                        continue
                    amount = registry.pending_reward(number, round_number, commitment.participant)
                    if amount > 0:
                        pending.append(PendingReward(number, round_number, name, amount))
        return pending

    def claim(self, name: str, task_id: int | None = None) -> int:
        """Claim every unclaimed reward of ``name``; returns token base units."""
        federation = self.require_federation()
        if not federation.keystore.exists(name) or name == "deployer":
            raise UnknownPartyError(None, name, _account_names(federation))
        return sum(self._claim(p) for p in self.pending_rewards(task_id) if p.name == name)

    def claim_all(self, task_id: int | None = None) -> dict[str, int]:
        """Claim every unclaimed reward of every account here; returns units per name."""
        claimed: dict[str, int] = {}
        for pending in self.pending_rewards(task_id):
            claimed[pending.name] = claimed.get(pending.name, 0) + self._claim(pending)
        return claimed

    def _claim(self, pending: PendingReward) -> int:
        return self.task(pending.task_id).participant(pending.name).claim(pending.round)

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

    def _require_phase(self, task: FederatedTask, phase: RoundPhase, step: str) -> int:
        number, current = self.phase(task)
        if current != phase:
            raise RoundPhaseError(task.task_id, number, current, step)
        return number

    def _require_key(self, task: FederatedTask, name: str, address: str) -> None:
        keystore = self.require_federation().keystore
        if not keystore.exists(name) or keystore.address_of(name).lower() != address.lower():
            raise MissingKeyError(task.task_id, name)

    def _is_validator(self, task: FederatedTask, name: str) -> bool:
        keystore = self.require_federation().keystore
        if not keystore.exists(name):
            return False
        return self.require_federation().registry.is_validator(
            task.task_id, keystore.address_of(name)
        )


def _require_model(task: FederatedTask) -> None:
    if task.model_template is None:
        raise NoLocalModelError(task.task_id)


def _length(value: Any, name: str) -> int:
    try:
        return len(value)
    except TypeError:
        raise ValueError(
            f"`{name}` is a {type(value).__name__}, not data (an array, list or DataFrame)"
        ) from None


def _check_uint32(config: TaskConfig) -> None:
    limit = 2**32 - 1
    fields = (
        "rounds",
        "min_participants",
        "validator_quorum",
        "submission_window_blocks",
        "validation_window_blocks",
    )
    too_large = [field for field in fields if getattr(config, field) > limit]
    if too_large:
        raise ValueError(f"{', '.join(too_large)} must be at most {limit:,}")


def _same_dir(first: Path, second: Path | str) -> bool:
    return Path(first).resolve() == Path(second).resolve()


def _account_names(federation: Federation) -> list[str]:
    return [name for name in federation.keystore.names() if name != "deployer"]
