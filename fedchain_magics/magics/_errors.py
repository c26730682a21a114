"""Fedchain's errors as the one line a notebook user reads: what failed, and what to run next.

A magic wrapped in :func:`reports_errors` turns the fedchain error families into IPython's
``UsageError`` (printed as one line, no traceback); ``%fedchain --traceback on`` lets the
original exception through instead. Errors of the user's own code and fedchain bugs (any other
exception) keep their tracebacks.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from IPython.core.error import UsageError

from ..chain import ChainError, ContractRevertError, RoundPhase
from ..crypto import CryptoError
from ..engine import FederationError
from ..engine import session as s
from ..models import ModelError
from ..storage import StorageError
from ._reverts import revert_message

if TYPE_CHECKING:
    from ._base import FedchainMagics

FEDCHAIN_ERRORS = (FederationError, ChainError, CryptoError, ModelError, StorageError, ValueError)

Method = TypeVar("Method", bound=Callable[..., Any])


def reports_errors(method: Method) -> Method:
    """Let a magic method's fedchain errors surface as a one-line ``UsageError``."""

    @functools.wraps(method)
    def wrapper(self: FedchainMagics, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except UsageError:
            raise
        except FEDCHAIN_ERRORS as error:
            if self.state.show_tracebacks:
                raise
            raise UsageError(one_line(error, self.state.session)) from None

    return wrapper  # type: ignore[return-value]


def one_line(error: BaseException, session: s.Session) -> str:
    """``error`` worded for the notebook: one line, ``fedchain:`` first, the next magic last."""
    for kind in type(error).__mro__:
        render = _RENDERERS.get(kind)
        if render is not None:
            text = render(error, session)
            break
    else:
        text = str(error)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return "fedchain: " + (lines[0] if lines else type(error).__name__)


def _no_federation(error: Any, session: s.Session) -> str:
    return "no chain is running; start one with %fedchain start"


def _unknown_variable(error: Any, session: s.Session) -> str:
    if error.suggestion:
        return f"no notebook variable `{error.name}`; did you mean `{error.suggestion}`?"
    return f"no notebook variable `{error.name}`; define it in a cell first"


def _not_a_model(error: Any, session: s.Session) -> str:
    return (
        f"`{error.name}` ({error.type_name}) is not a supported model; supported: {error.supported}"
    )


def _no_local_model(error: Any, session: s.Session) -> str:
    task = error.task_id
    return (
        f"this kernel has no model for task {task} (its ledger was reopened); "
        f"give it one with %fedtask use {task} MODEL_VAR"
    )


def _task_not_found(error: Any, session: s.Session) -> str:
    known = ", ".join(map(str, error.task_ids)) or "none yet"
    return f"no task {error.task_id}; tasks: {known}; create one with %fedtask create MODEL_VAR"


def _unknown_party(error: Any, session: s.Session) -> str:
    known = ", ".join(error.known) or "none yet"
    if error.task_id is None:
        where = f"no account named {error.name} on this ledger (accounts: {known})"
        next_step = "see them with %fedrewards"
    else:
        where = f"{error.name} has not joined task {error.task_id} (parties: {known})"
        next_step = f"join with %fedjoin {error.task_id} --as {error.name} --data X_VAR,y_VAR"
    if error.suggestion:
        next_step = f"did you mean `{error.suggestion}`?"
    return f"{where}; {next_step}"


def _round_phase(error: Any, session: s.Session) -> str:
    return f"{error}; {phase_hint(error.task_id, error.phase)}"


def phase_hint(task: int, phase: RoundPhase) -> str:
    """What to run next in a round that is in ``phase``."""
    if phase == RoundPhase.COLLECTING:
        return f"submit updates with %fedsubmit {task} --as NAME, then run %fedaggregate {task}"
    if phase == RoundPhase.AGGREGATED:
        return f"finish it with %fedaggregate {task}"
    if phase == RoundPhase.VALIDATING:
        return f"vote with %fedvalidate {task} --as VALIDATOR"
    return f"open the next round with %fedtask next {task}"


def _too_few_updates(error: Any, session: s.Session) -> str:
    return (
        f"round {error.round} of task {error.task_id} has {error.count} of the "
        f"{error.minimum} updates it needs; submit more with %fedsubmit {error.task_id} --as NAME"
    )


def _rounds_exhausted(error: Any, session: s.Session) -> str:
    return (
        f"task {error.task_id} has run all its {error.max_rounds} rounds; "
        "create a new task with %fedtask create MODEL_VAR"
    )


def _no_update(error: Any, session: s.Session) -> str:
    return (
        f"{error.name} has no trained update for task {error.task_id}; "
        f"train one with %%fedtrain {error.task_id} --as {error.name}"
    )


def _stale_update(error: Any, session: s.Session) -> str:
    return (
        f"{error.name}'s update was trained in round {error.trained_round}, but round "
        f"{error.open_round} of task {error.task_id} is open; train again with "
        f"%%fedtrain {error.task_id} --as {error.name}"
    )


def _not_validator(error: Any, session: s.Session) -> str:
    task = error.task_id
    if not error.validators:
        return (
            f"{error.name} is not a validator of task {task}, and this ledger directory holds "
            "no validator's key; name validators with %fedtask create ... --validators NAME"
        )
    return (
        f"{error.name} is not a validator of task {task} (validators: "
        f"{', '.join(error.validators)}); use --as {error.validators[0]}"
    )


def _no_validation_data(error: Any, session: s.Session) -> str:
    task, name = error.task_id, error.name
    return (
        f"validator {name} of task {task} has no data; pass --data X_VAR,y_VAR, or record it "
        f"with %fedjoin {task} --as {name} --validator --data X_VAR,y_VAR"
    )


def _missing_key(error: Any, session: s.Session) -> str:
    return (
        f"this ledger directory holds no key of task {error.task_id}'s {error.role}; run this "
        "step in the kernel whose ledger directory created the task"
    )


def _revert(error: Any, session: s.Session) -> str:
    federation = session.federation
    names = federation.names_by_address() if federation is not None else {}
    return revert_message(error, lambda address: names.get(address.lower(), address))


_RENDERERS: dict[type, Callable[[Any, s.Session], str]] = {
    s.NoFederationError: _no_federation,
    s.UnknownVariableError: _unknown_variable,
    s.NotAModelError: _not_a_model,
    s.NoLocalModelError: _no_local_model,
    s.TaskNotFoundError: _task_not_found,
    s.UnknownPartyError: _unknown_party,
    s.RoundPhaseError: _round_phase,
    s.TooFewUpdatesError: _too_few_updates,
    s.RoundsExhaustedError: _rounds_exhausted,
    s.NoUpdateError: _no_update,
    s.StaleUpdateError: _stale_update,
    s.NotValidatorError: _not_validator,
    s.NoValidationDataError: _no_validation_data,
    s.MissingKeyError: _missing_key,
    ContractRevertError: _revert,
}
