"""Fedchain's errors as the one line a notebook user reads: what failed, and the magic to run.

The engine owns the words of every error (``engine/errors.py``: ``what`` and a structured
``next_step``); this module only words each next step as a magic, in :data:`MAGIC_STEPS`.
A magic wrapped in :func:`reports_errors` turns the fedchain error families into IPython's
``UsageError`` (one line, no traceback); ``%fedchain --traceback on`` lets the original
exception through instead. Errors of the user's own code (a ``ValueError`` from numpy in a
cell, say) and fedchain bugs keep their tracebacks.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from IPython.core.error import UsageError

from ..engine import FederationError
from ..engine.errors import USER_ERRORS, word, worded

if TYPE_CHECKING:
    from ..engine.session import Session
    from ._base import MagicsFamily

MAGIC_STEPS: dict[str, str] = {
    "start_ledger": "start one with %fedchain start",
    "define_variable": "define it in a cell first",
    "did_you_mean": "did you mean `{suggestion}`?",
    "use_model": "give it one with %fedtask use {task} MODEL_VAR",
    "create_task": "create one with %fedtask create MODEL_VAR",
    "create_new_task": "create a new task with %fedtask create MODEL_VAR",
    "list_tasks": "see the tasks with %fedtask list",
    "show_task": "see where it stands with %fedtask show {task}",
    "join": "join with %fedjoin {task} --as {name} --data X_VAR,y_VAR",
    "see_accounts": "see them with %fedrewards",
    "see_balances": "see the balances with %fedrewards",
    "see_ledger": "see the ledger with %fedledger {task}",
    "see_outcome": "see the outcome with %fedledger {task}",
    "all_rounds_done": "all rounds done; see the ledger with %fedledger {task}",
    "submit_then_aggregate": "submit updates with %fedsubmit {task} --as NAME, then run "
    "%fedaggregate {task}",
    "submit_more": "submit more with %fedsubmit {task} --as NAME",
    "submit_rest": "submit the rest with %fedsubmit {task} --as NAME",
    "aggregate_again": "aggregate it again with %fedaggregate {task}",
    "finish_aggregation": "finish it with %fedaggregate {task}",
    "aggregate_submitted": "aggregate what was submitted with %fedaggregate {task}",
    "finish_round": "finish it with %fedaggregate {task} and %fedvalidate {task} --as "
    "VALIDATOR before %fedtask next {task}",
    "vote": "vote with %fedvalidate {task} --as VALIDATOR",
    "open_next_round": "open the next round with %fedtask next {task}",
    "wait_next_round": "wait for the next round (%fedtask next {task})",
    "train": "train one with %%fedtrain {task} --as {name}",
    "train_after_join": "train with %%fedtrain {task} --as {name}",
    "train_again": "train again with %%fedtrain {task} --as {name}",
    "use_validator": "use --as {validator}",
    "name_validators": "name validators with %fedtask create ... --validators NAME",
    "vote_as_named_validator": "vote as a validator named in %fedtask create --validators",
    "pass_validation_data": "pass --data X_VAR,y_VAR, or record it with %fedjoin {task} "
    "--as {name} --validator --data X_VAR,y_VAR",
    "run_where_created": "run this step in the kernel whose workspace holds that role's key (the "
    "one that created the task, or the role's own)",
    "wait_longer": "run %fedtask wait {task} {round} {phase} again, or check that the kernel "
    "whose turn it is runs its step",
    "aggregate_where_created": "run %fedaggregate {task} in the kernel whose ledger "
    "directory created the task",
    "next_round_where_created": "run %fedtask next {task} in the kernel whose ledger "
    "directory created the task",
    "name_validators_once": "name each validator once in --validators",
    "own_account": "give each role and each party an account of its own (--as NAME)",
    "fix_task_settings": "fix the %fedtask create options (see %fedtask?)",
    "more_validators": "create a task with more --validators or a smaller --quorum",
    "join_with_data": "join with non-empty --data (%fedjoin {task} --as NAME --data X_VAR,y_VAR)",
    "repeat_step": "run the step again",
    "pass_matching_data": "pass matching data",
    "pass_non_empty_data": "pass non-empty data",
    "details": "run %fedchain --traceback on and repeat the step for details",
    "ask_admission": "send the address {address} to task {task}'s coordinator, who runs "
    "%fedtask admit {task} {address}",
    "declare_within_cap": "train on at most {cap} samples, or ask task {task}'s coordinator to "
    "run %fedtask admit {task} {who} --cap N with a higher cap",
    "create_invited_task": "create a task with %fedtask create ... --admission invited to admit "
    "parties",
    "train_others": "run %%fedtrain {task} --as NAME for the other parties first: each "
    "advertises its masking key then",
    "reveal_masks": "each party's kernel in the sum runs %fedaggregate {task} to reveal",
    # Governance of a task's rules (%fedgov)
    "govern_task": "put it under governance with %fedgov rules {task}",
    "govern_before_round_one": "create a new task and run %fedgov rules TASK before %fedtask next",
    "show_proposals": "see the proposals with %fedgov show",
    "propose_change": 'propose the change with %fedgov propose {task} --k N "why" --as NAME',
    "propose_slashing": "set the stakes without --slash and --min-standing; change what an "
    'offence costs with %fedgov propose {task} "why" --slash F --as NAME',
    "vote_proposal": "vote with %fedgov vote {proposal} for --as NAME",
    "queue_proposal": "queue it with %fedgov queue {proposal}",
    "execute_proposal": "execute it with %fedgov execute {proposal}",
    "execute_after_round": "finish round {round} (%fedaggregate, %fedvalidate), then "
    "execute it with %fedgov execute {proposal}",
    "wait_blocks": "wait until block {block} (the head is {head}), then run the step again",
    "wait_seconds": "wait until the chain's clock passes {eta} ({seconds} s after the last "
    "block), then run the step again",
    "delegate_first": "delegate first with %fedgov delegate --as NAME: votes count from the next "
    "proposal",
}

Method = TypeVar("Method", bound=Callable[..., Any])


def reports_errors(method: Method) -> Method:
    """Let a magic method's fedchain errors surface as a one-line ``UsageError``."""

    @functools.wraps(method)
    def wrapper(self: MagicsFamily, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except UsageError:
            raise
        except USER_ERRORS as error:
            if self.state.show_tracebacks:
                raise
            raise UsageError(one_line(error, self.state.session)) from None

    return wrapper  # type: ignore[return-value]


def one_line(error: Exception, session: Session) -> str:
    """``error`` worded for the notebook: one line, ``fedchain:`` first, the next magic last."""
    error = worded(error, session.name_of)
    if isinstance(error, FederationError):
        hint = word(error.next_step, MAGIC_STEPS)
        text = f"{error.what}; {hint}" if hint else error.what
    else:
        text = str(error)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return "fedchain: " + (lines[0] if lines else type(error).__name__)
