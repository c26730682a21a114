"""The engine's one vocabulary of errors: what failed, as facts, and the step to take next.

Every error a user can act on is a :class:`FederationError`. It carries

* ``what``: one line saying what failed, in words every interface shares;
* ``next_step``: a :class:`NextStep` (an action and its facts), which each interface words
  in its own commands: the Python API below (``str(error)``), the IPython magics in
  ``magics/_errors.py``. A rule is checked once, by the role (or the contract) that owns it,
  and worded here once.

User input that is wrong before anything is done is an :class:`InvalidInputError`, which is
also a ``ValueError``; a ``ValueError`` from a user's own code is never taken for one of ours.
A contract's refusal is turned into a :class:`ContractRefusedError` by :func:`refusal`.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..chain import ChainError, ContractRevertError, RoundPhase
from ..crypto import CryptoError
from ..data import DataError
from ..models import ModelError
from ..models import ModelNotInitializedError as ModelNotInitializedError  # for interfaces
from ..storage import StorageError


@dataclass(frozen=True)
class NextStep:
    """What the user should do next: an ``action`` named below and the facts it needs."""

    action: str
    facts: Mapping[str, Any] = field(default_factory=dict)


def step(action: str, **facts: Any) -> NextStep:
    return NextStep(action, facts)


PYTHON_STEPS: dict[str, str] = {
    "start_ledger": "open one with session.open('.fedchain')",
    "define_variable": "define it first",
    "did_you_mean": "did you mean `{suggestion}`?",
    "use_model": "give it one with session.use_model({task}, model)",
    "create_task": "create one with session.create_task(model)",
    "create_new_task": "create a new task with session.create_task(model)",
    "list_tasks": "see the tasks with session.task_ids()",
    "show_task": "see where it stands with session.task({task}).round_state()",
    "join": "join with session.join({task}, '{name}', DataRef(X, y))",
    "see_accounts": "see them with federation.balances()",
    "see_balances": "see the balances with federation.balances()",
    "see_ledger": "see the ledger with read_snapshot(federation)",
    "all_rounds_done": "all rounds done; see the ledger with read_snapshot(federation)",
    "submit_then_aggregate": "submit updates with session.submit({task}, name), then "
    "session.aggregate({task})",
    "submit_more": "submit more with session.submit({task}, name)",
    "submit_rest": "submit the rest with session.submit({task}, name)",
    "aggregate_again": "aggregate it again with session.aggregate({task})",
    "finish_aggregation": "finish it with session.aggregate({task})",
    "aggregate_submitted": "aggregate what was submitted with session.aggregate({task})",
    "finish_round": "finish it with session.aggregate({task}) and session.validate({task}, "
    "validator) before session.open_next_round({task})",
    "vote": "vote with session.validate({task}, validator)",
    "open_next_round": "open the next round with session.open_next_round({task})",
    "wait_next_round": "wait for the next round (session.open_next_round({task}))",
    "train": "train one with session.start_training({task}, '{name}') and session.capture_update",
    "train_after_join": "train with session.start_training({task}, '{name}')",
    "see_outcome": "see the outcome with read_snapshot(federation)",
    "aggregate_where_created": "run session.aggregate({task}) in the workspace that created "
    "the task",
    "next_round_where_created": "run session.open_next_round({task}) in the workspace that "
    "created the task",
    "vote_as_named_validator": "vote as a validator named in session.create_task(..., "
    "validators=[...])",
    "train_again": "train again with session.start_training({task}, '{name}')",
    "use_validator": "use '{validator}'",
    "name_validators": "name validators with session.create_task(..., validators=[...])",
    "pass_validation_data": "pass data=DataRef(X, y), or record it with "
    "session.join({task}, '{name}', DataRef(X, y), validator=True)",
    "run_where_created": "run this step in the workspace that holds that role's key (the one "
    "that created the task, or the role's own)",
    "wait_longer": "wait again (task.wait_for({round}, '{phase}')), or check that the kernel "
    "whose turn it is runs its step",
    "name_validators_once": "name each validator once",
    "own_account": "give each role and each party an account of its own",
    "fix_task_settings": "fix the task's settings (see TaskConfig)",
    "more_validators": "create a task with more validators or a smaller validator_quorum",
    "join_with_data": "join with non-empty data",
    "repeat_step": "run the step again",
    "pass_matching_data": "pass matching data",
    "pass_non_empty_data": "pass non-empty data",
    "details": "repeat it with tracebacks on for details",
    "ask_admission": "send the address {address} to task {task}'s coordinator, who admits it "
    "with coordinator.admit(['{address}'])",
    "declare_within_cap": "train on at most {cap} samples, or ask task {task}'s coordinator to "
    "admit {who} again with a higher cap (coordinator.admit(['{who}'], sample_cap=N))",
    "create_invited_task": 'create a task with TaskConfig(admission="invited") to admit parties',
    "train_others": "start training the other parties first (session.start_training({task}, "
    "name)): each advertises its masking key then",
    "reveal_masks": "each party in the sum reveals with session.aggregate({task}) in its own "
    "workspace",
    # Governance of a task's rules (engine/governance.py)
    "govern_task": "put it under governance with session.govern({task})",
    "govern_before_round_one": "create a new task and put it under governance before round 1 "
    "(session.govern(task))",
    "show_proposals": "see the proposals with session.proposals({task})",
    "propose_change": "propose the change with session.propose_rules({task}, party, 'why', ...)",
    "propose_slashing": "set the stakes without slash_ppm and min_standing_ppm; change what an "
    "offence costs with session.propose_rules({task}, party, 'why', slash=F)",
    "vote_proposal": "vote with session.vote({proposal}, party, 'for')",
    "queue_proposal": "queue it with session.queue({proposal})",
    "execute_proposal": "execute it with session.execute({proposal})",
    "execute_after_round": "finish round {round} (aggregate, vote), then execute it with "
    "session.execute({proposal})",
    "wait_blocks": "wait until block {block} (the head is {head}), then repeat the step",
    "wait_seconds": "wait until the chain's clock passes {eta} ({seconds} s after the last "
    "block), then repeat the step",
    "delegate_first": "delegate first with session.delegate(party): votes count from the next "
    "proposal",
}


class FederationError(Exception):
    """Base class for round-engine errors a user can act on."""

    python_steps = PYTHON_STEPS

    def __init__(self, what: str, next_step: NextStep | None = None) -> None:
        self.what = what
        self.next_step = next_step
        hint = word(next_step, self.python_steps)
        super().__init__(f"{what}; {hint}" if hint else what)


def word(next_step: NextStep | None, templates: Mapping[str, str]) -> str:
    """``next_step`` in an interface's words (``templates``: action -> format string)."""
    if next_step is None:
        return ""
    return templates[next_step.action].format(**next_step.facts)


def suggestion(name: str, known: Iterable[str]) -> str | None:
    """The closest of ``known`` to ``name`` ("did you mean"), if any is close."""
    close = difflib.get_close_matches(name, list(known), n=1)
    return close[0] if close else None


# -- input and kernel state ----------------------------------------------------------------------


class InvalidInputError(FederationError, ValueError):
    """An argument is wrong before anything was done (also a ``ValueError``)."""

    def __init__(self, what: str, next_step: NextStep | None = None) -> None:
        super().__init__(what, next_step)


class NoFederationError(FederationError):
    def __init__(self) -> None:
        super().__init__("no chain is running", step("start_ledger"))


class UnknownVariableError(InvalidInputError):
    def __init__(self, name: str, suggested: str | None) -> None:
        self.name, self.suggestion = name, suggested
        super().__init__(
            f"no notebook variable `{name}`",
            step("did_you_mean", suggestion=suggested) if suggested else step("define_variable"),
        )


class NotAModelError(InvalidInputError, TypeError):
    def __init__(self, name: str, value: Any, supported: str) -> None:
        self.name, self.type_name, self.supported = name, type(value).__name__, supported
        super().__init__(
            f"`{name}` ({self.type_name}) is not a supported model; supported: {supported}"
        )


class DataMismatchError(InvalidInputError):
    def __init__(self, X_name: str, y_name: str, rows: int, labels: int) -> None:
        self.X_name, self.y_name, self.rows, self.labels = X_name, y_name, rows, labels
        if labels:
            super().__init__(
                f"`{X_name}` has {rows} rows but `{y_name}` has {labels} labels",
                step("pass_matching_data"),
            )
        else:
            super().__init__(f"`{y_name}` holds no samples", step("pass_non_empty_data"))


class NoLocalModelError(FederationError):
    def __init__(self, task_id: int) -> None:
        self.task_id = task_id
        super().__init__(
            f"this kernel has no model for task {task_id} (its ledger was reopened)",
            step("use_model", task=task_id),
        )


class ModelMismatchError(InvalidInputError):
    """A model does not match the task's on-chain model spec."""

    def __init__(self, task_id: int, model: Any) -> None:
        self.task_id = task_id
        super().__init__(
            f"this {type(model).__name__} does not match task {task_id}'s model (different "
            "architecture, layout or classes); build the same model as the coordinator"
        )


# -- tasks, parties, roles -----------------------------------------------------------------------


class UnknownTaskError(FederationError):
    """No task with that id on this ledger."""

    def __init__(self, task_id: int, task_ids: list[int]) -> None:
        self.task_id, self.task_ids = task_id, task_ids
        known = ", ".join(map(str, task_ids)) or "none yet"
        super().__init__(f"no task {task_id}; tasks: {known}", step("create_task"))


class UnknownPartyError(FederationError):
    """``name`` has not joined ``task_id`` here (or, with no task, has no account here)."""

    def __init__(self, task_id: int | None, name: str, known: list[str]) -> None:
        self.task_id, self.name, self.known = task_id, name, known
        self.suggestion = suggestion(name, known)
        listed = ", ".join(known) or "none yet"
        if task_id is None:
            what = f"no account named {name} on this ledger (accounts: {listed})"
            next_step = step("see_accounts")
        else:
            what = f"{name} has not joined task {task_id} (parties: {listed})"
            next_step = step("join", task=task_id, name=name)
        if self.suggestion:
            next_step = step("did_you_mean", suggestion=self.suggestion)
        super().__init__(what, next_step)


class RoleError(FederationError):
    """The account does not hold the role the step needs."""


class NotValidatorError(RoleError):
    def __init__(self, task_id: int, name: str, validators: list[str]) -> None:
        self.task_id, self.name, self.validators = task_id, name, validators
        if validators:
            super().__init__(
                f"{name} is not a validator of task {task_id} (validators: "
                f"{', '.join(validators)})",
                step("use_validator", validator=validators[0]),
            )
        else:
            super().__init__(
                f"{name} is not a validator of task {task_id}, and this ledger directory holds "
                "no validator's key",
                step("name_validators"),
            )


class MissingKeyError(RoleError):
    def __init__(self, task_id: int, role: str) -> None:
        self.task_id, self.role = task_id, role
        super().__init__(
            f"this ledger directory holds no key of task {task_id}'s {role}",
            step("run_where_created"),
        )


class NoValidationDataError(FederationError):
    def __init__(self, task_id: int, name: str) -> None:
        self.task_id, self.name = task_id, name
        super().__init__(
            f"validator {name} of task {task_id} has no data",
            step("pass_validation_data", task=task_id, name=name),
        )


# -- rounds --------------------------------------------------------------------------------------


class RoundNotReadyError(FederationError):
    """A step was asked for before the round reached it (or after it passed)."""


class WaitTimeoutError(RoundNotReadyError):
    def __init__(self, task_id: int, round_number: int, phase: str, now: str, timeout_s: float):
        self.task_id, self.round, self.phase = task_id, round_number, phase
        super().__init__(
            f"round {round_number} of task {task_id} did not reach {phase} within "
            f"{timeout_s:g} s (it is {now})",
            step("wait_longer", task=task_id, round=round_number, phase=phase),
        )


def phase_step(task_id: int, phase: RoundPhase) -> NextStep:
    """What to do next in a round that is in ``phase``."""
    if phase == RoundPhase.COLLECTING:
        return step("submit_then_aggregate", task=task_id)
    if phase == RoundPhase.AGGREGATED:
        return step("finish_aggregation", task=task_id)
    if phase == RoundPhase.VALIDATING:
        return step("vote", task=task_id)
    return step("open_next_round", task=task_id)


class RoundPhaseError(RoundNotReadyError):
    """The task's current round is not in the phase a step needs; ``step`` says what cannot be."""

    def __init__(self, task_id: int, round_number: int, phase: RoundPhase, refused: str) -> None:
        self.task_id, self.round, self.phase, self.step = task_id, round_number, phase, refused
        where = f"round {round_number} of task {task_id}" if round_number else f"task {task_id}"
        state = f"is {phase.label}" if round_number else "has no round yet"
        super().__init__(f"{where} {state}: {refused}", phase_step(task_id, phase))


class TooFewUpdatesError(RoundNotReadyError):
    def __init__(self, task_id: int, round_number: int, count: int, minimum: int) -> None:
        self.task_id, self.round, self.count, self.minimum = task_id, round_number, count, minimum
        super().__init__(
            f"round {round_number} of task {task_id} has {count} of the {minimum} updates it needs",
            step("submit_more", task=task_id),
        )


class CollectionOpenError(RoundNotReadyError):
    """The round still takes updates: its window is open and not every participant submitted."""

    def __init__(self, task_id: int, round_number: int, deadline_block: int) -> None:
        self.task_id, self.round, self.deadline_block = task_id, round_number, deadline_block
        super().__init__(
            f"round {round_number} of task {task_id} takes updates until block "
            f"{deadline_block} and not every participant has submitted",
            step("submit_rest", task=task_id),
        )


class RoundsExhaustedError(RoundNotReadyError):
    def __init__(self, task_id: int, max_rounds: int) -> None:
        self.task_id, self.max_rounds = task_id, max_rounds
        super().__init__(
            f"task {task_id} has run all its {max_rounds} rounds", step("create_new_task")
        )


class NoUpdateError(FederationError):
    def __init__(self, task_id: int, name: str) -> None:
        self.task_id, self.name = task_id, name
        super().__init__(
            f"{name} has no trained update for task {task_id}",
            step("train", task=task_id, name=name),
        )


class AlreadySubmittedError(RoundNotReadyError):
    """The party already committed its update to the open round: one update a round."""

    def __init__(self, task_id: int, name: str, round_number: int) -> None:
        self.task_id, self.name, self.round = task_id, name, round_number
        super().__init__(
            f"{name} already submitted its update to round {round_number} of task {task_id} "
            "(one update a round)",
            step("wait_next_round", task=task_id),
        )


class StaleUpdateError(RoundNotReadyError):
    def __init__(self, task_id: int, name: str, trained_round: int, open_round: int) -> None:
        self.task_id, self.name = task_id, name
        self.trained_round, self.open_round = trained_round, open_round
        super().__init__(
            f"{name}'s update was trained in round {trained_round}, but round {open_round} of "
            f"task {task_id} is open",
            step("train_again", task=task_id, name=name),
        )


class AggregateMismatchError(FederationError):
    """The aggregate committed on-chain is not the sum of the committed updates."""

    def __init__(
        self,
        task_id: int,
        round_number: int,
        committed: bytes,
        recomputed: bytes,
        update_count: int,
    ) -> None:
        self.task_id, self.round = task_id, round_number
        super().__init__(
            f"round {round_number}'s committed aggregate 0x{committed.hex()[:16]}... is not the "
            f"sum of its {update_count} committed updates (recomputed "
            f"0x{recomputed.hex()[:16]}...); the key holder refused to decrypt it and rejected "
            "it on-chain, so the round waits for a fresh aggregate",
            step("aggregate_again", task=task_id),
        )


class NotAdmittedError(FederationError):
    """A party tried to join an admission-controlled task its coordinator has not admitted it to."""

    def __init__(self, task_id: int, name: str, address: str) -> None:
        self.task_id, self.name, self.address = task_id, name, address
        super().__init__(
            f"{name} is not admitted to task {task_id}: its coordinator admits parties by address",
            step("ask_admission", task=task_id, address=address, who=name),
        )


# -- the contracts' refusals ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Refusal:
    what: str
    action: str | None


REFUSALS: dict[str, _Refusal] = {
    # Scores, stakes and disputes (ContributionRewardPolicy, TaskStakes; engine/incentives.py)
    "PolicyNotBound": _Refusal(
        "this deployment's reward policy was never bound to its registry; open a fresh workspace",
        "details",
    ),
    "PolicyNotCoordinator": _Refusal(
        "only task {task}'s coordinator enables scoring and posts its score tables",
        "run_where_created",
    ),
    "PolicyRoundsStarted": _Refusal(
        "task {task} is at round {current}: scoring is enabled before round 1 only",
        "create_new_task",
    ),
    "PolicyScoringAlreadyEnabled": _Refusal("task {task} already pays by score", None),
    "PolicyNotScored": _Refusal(
        "task {task} pays in proportion to samples: it takes no score table "
        "(incentives.enable_scoring before round 1)",
        "create_new_task",
    ),
    "PolicyRoundNotDecided": _Refusal(
        "round {round} of task {task} is not decided yet: its score table is posted after the vote",
        "finish_round",
    ),
    "PolicyScoresAlreadyPosted": _Refusal(
        "round {round} of task {task} already has its score table", "see_ledger"
    ),
    "PolicyZeroScores": _Refusal("a score table's root and digest cannot be zero", "details"),
    "PolicyScoresNotPosted": _Refusal(
        "round {round} of task {task} pays by score and its coordinator has not posted the "
        "score table yet; claim again once it is posted",
        "repeat_step",
    ),
    "PolicyInvalidProof": _Refusal(
        "that row is not in the score table posted for round {round} of task {task}; prove the "
        "row the table's blob holds (incentives.prove_share)",
        "details",
    ),
    "PolicyShareAlreadyProven": _Refusal(
        "{who}'s share of round {round} of task {task} is already proven", None
    ),
    "PolicyShareNotProven": _Refusal(
        "{who}'s share of round {round} of task {task} is not proven yet; session.claim proves "
        "it first (or incentives.prove_share)",
        "repeat_step",
    ),
    "PolicyInvalidShare": _Refusal(
        "the score table of round {round} of task {task} gives {who} more than the whole round",
        "details",
    ),
    "PolicyInvalidSamples": _Refusal("an update's samples are not a share of its round", "details"),
    "PolicyRoundDisputed": _Refusal(
        "round {round} of task {task} was disputed and the validators upheld it: it pays nothing",
        "see_ledger",
    ),
    "PolicyDisputeOpen": _Refusal(
        "round {round} of task {task} is disputed; it pays once its validators settle the "
        "dispute (session.vote_on_dispute)",
        "see_ledger",
    ),
    "PolicyDisputeWindowOpen": _Refusal(
        "round {round} of task {task} can be disputed up to block {deadline}; it pays, and takes "
        "its score table, after that block",
        "repeat_step",
    ),
    "PolicyStakeMissing": _Refusal(
        "task {task} requires a stake and {who}'s does not cover round {round} (a stake covers "
        "the rounds opened after it: session.stake(task, party) before the round opens)",
        "see_ledger",
    ),
    "StakesNotCoordinator": _Refusal(
        "only task {task}'s coordinator sets its stake rules", "run_where_created"
    ),
    "StakesRoundsStarted": _Refusal(
        "task {task} is at round {current}: stake rules are set before round 1 only",
        "create_new_task",
    ),
    "StakesRulesAlreadySet": _Refusal("task {task}'s stake rules are already set", None),
    "StakesInvalidSlashPpm": _Refusal(
        "slash_ppm is at most 1000000 (the whole remaining stake)", "repeat_step"
    ),
    "StakesInvalidMinStanding": _Refusal(
        "the slashing standing threshold is at most 1000000 ppm (the median party's standing)",
        "repeat_step",
    ),
    "StakesSlashingOnTaskRules": _Refusal(
        "task {task}'s slash and slashing standing are its governed rules', not its stake rules'",
        "propose_slashing",
    ),
    "StakesNoRules": _Refusal(
        "task {task} has no stake rules; its coordinator sets them with session.set_stakes",
        "run_where_created",
    ),
    "StakesTaskEnded": _Refusal("task {task} ended: it takes no stake any more", "see_ledger"),
    "StakesNothingToStake": _Refusal(
        "{who}'s role in task {task} stakes nothing (participants stake `required`, the "
        "aggregator and key holder `role`)",
        None,
    ),
    "StakesAlreadyStaked": _Refusal("{who} already staked in task {task}", None),
    "StakesNotStaked": _Refusal("that account has no stake in task {task}", "see_ledger"),
    "StakesAlreadyWithdrawn": _Refusal(
        "that account already withdrew its stake from task {task}", "see_ledger"
    ),
    "StakesTaskNotEnded": _Refusal(
        "task {task} has not ended: stakes stay until it does", "see_ledger"
    ),
    "StakesAlreadySlashed": _Refusal(
        "that party was already slashed for that offence in round {round} of task {task}",
        "see_ledger",
    ),
    "StakesScoresNotPosted": _Refusal(
        "round {round} of task {task} has no posted score table to slash by", "see_ledger"
    ),
    "StakesInvalidProof": _Refusal(
        "that row is not in the score table posted for round {round} of task {task}", "details"
    ),
    "StakesStandingNotLow": _Refusal(
        "that party's standing in round {round} of task {task} is not below the task's "
        "threshold: nothing to slash",
        "see_ledger",
    ),
    "StakesRoundNotOpen": _Refusal(
        "round {round} of task {task} is not open: roles are recorded while a round runs",
        "wait_next_round",
    ),
    "StakesRolesAlreadyRecorded": _Refusal(
        "the roles of round {round} of task {task} are already recorded", None
    ),
    "StakesRolesNotRecorded": _Refusal(
        "nobody recorded who held the roles of round {round} of task {task} while it ran, so "
        "its silence cannot be slashed (cancel stalled rounds with "
        "incentives.cancel_stalled_round)",
        "see_ledger",
    ),
    "StakesRoundNotCancelled": _Refusal(
        "round {round} of task {task} was not cancelled", "see_ledger"
    ),
    "StakesNoSilentRole": _Refusal(
        "round {round} of task {task} was cancelled for too few updates: no role was silent",
        "see_ledger",
    ),
    "StakesRoundNotMissed": _Refusal(
        "that party did not advertise a key in round {round} of task {task} and then miss its "
        "update (or it advertised again since)",
        "see_ledger",
    ),
    "StakesRoundStillCollecting": _Refusal(
        "round {round} of task {task} takes updates up to block {deadline}; slash after it",
        "repeat_step",
    ),
    "StakesDisputesDisabled": _Refusal(
        "task {task} takes no disputes (its stake rules set no dispute window)", "see_ledger"
    ),
    "StakesNotParticipant": _Refusal(
        "{who} is not a participant of task {task}: only participants open disputes",
        "own_account",
    ),
    "StakesNotValidator": _Refusal(
        "{who} is not a validator of task {task}: only validators vote on disputes",
        "vote_as_named_validator",
    ),
    "StakesZeroEvidence": _Refusal(
        "a dispute needs evidence: what the verification found", "details"
    ),
    "StakesRoundNotDisputable": _Refusal(
        "round {round} of task {task} is not validating nor accepted: a round is disputed "
        "once its model is committed",
        "see_ledger",
    ),
    "StakesDisputeWindowClosed": _Refusal(
        "round {round} of task {task} could be disputed up to block {deadline}", "see_ledger"
    ),
    "StakesDisputeExists": _Refusal(
        "round {round} of task {task} is already disputed", "see_ledger"
    ),
    "StakesNoOpenDispute": _Refusal(
        "round {round} of task {task} has no open dispute", "see_ledger"
    ),
    "StakesAlreadyVotedOnDispute": _Refusal(
        "{who} already voted on the dispute of round {round} of task {task}", None
    ),
    "StakesDisputeVotingClosed": _Refusal(
        "the dispute of round {round} of task {task} took votes up to block {deadline}; close it "
        "with incentives.close_dispute",
        "see_ledger",
    ),
    "StakesDisputeVotingOpen": _Refusal(
        "the dispute of round {round} of task {task} takes votes up to block {deadline}",
        "repeat_step",
    ),
    "StakesLastRoundUnsettled": _Refusal(
        "round {round} of task {task}, its last, can be disputed up to block {deadline} (or its "
        "dispute is open): stakes are withdrawn after",
        "repeat_step",
    ),
    "TrainingAlreadyCommitted": _Refusal(
        "{who} already submitted an update in round {round} of task {task}", "wait_next_round"
    ),
    "TrainingRoleConflict": _Refusal(
        "{who} already has a role in task {task}; an account holds one role per task",
        "own_account",
    ),
    "TrainingRolesNotDistinct": _Refusal(
        "the coordinator, aggregator and key holder must be three different accounts",
        "own_account",
    ),
    "TrainingNotInRoundSnapshot": _Refusal(
        "{who} joined task {task} after round {round} opened; it takes part from round "
        "{first_round}",
        "wait_next_round",
    ),
    "TrainingDigestAlreadyCommitted": _Refusal(
        "that update was already committed to task {task} (by {committer}); encrypt a fresh "
        "update of your own",
        "train",
    ),
    "TrainingNotAdmitted": _Refusal(
        "{who} is not admitted to task {task} (the task admits only the accounts its "
        "coordinator names; an admission can be revoked)",
        "ask_admission",
    ),
    "TrainingSamplesOverCap": _Refusal(
        "{who} was admitted to task {task} for at most {cap} samples an update, not {samples}",
        "declare_within_cap",
    ),
    "TrainingNotAdmissionControlled": _Refusal(
        "task {task} is open to anyone: it has no admissions to grant or revoke",
        "create_invited_task",
    ),
    "TrainingInvalidSampleCap": _Refusal(
        "a sample cap of {cap} is above task {task}'s bound of {max_samples} samples an update",
        "fix_task_settings",
    ),
    "TrainingInvalidAccount": _Refusal(
        "the zero address cannot be admitted to a task", "fix_task_settings"
    ),
    "TrainingNotMasked": _Refusal(
        "task {task} is not masked: it takes no masking keys nor reveals", "show_task"
    ),
    "TrainingInvalidMaskingKey": _Refusal(
        "a masking public key is 64 bytes (x || y on secp256k1)", "repeat_step"
    ),
    "TrainingMaskingKeyNotProven": _Refusal(
        "{who}'s masking key in round {round} of task {task} is not proven to be its own (a "
        "replayed or forged key)",
        "repeat_step",
    ),
    "TrainingAlreadyAdvertised": _Refusal(
        "{who} already advertised its masking key in round {round} of task {task}", "show_task"
    ),
    "TrainingAdvertisementClosed": _Refusal(
        "round {round} of task {task} stopped taking masking keys at block {deadline}, so {who} "
        "sits this round out",
        "wait_next_round",
    ),
    "TrainingAdvertisementOpen": _Refusal(
        "round {round} of task {task} still takes masking keys until block {deadline}: updates "
        "wait until every party advertised",
        "train_others",
    ),
    "TrainingNoMaskingKey": _Refusal(
        "{who} advertised no masking key in round {round} of task {task}, so it cannot commit "
        "a masked update",
        "wait_next_round",
    ),
    "TrainingAlreadyRevealed": _Refusal(
        "{who} already revealed its masks in round {round} of task {task}", "show_task"
    ),
    "TrainingMasksNotRevealed": _Refusal(
        "round {round} of task {task} has {revealed} of its {count} reveals: the sum cannot be "
        "unmasked yet",
        "reveal_masks",
    ),
    "TrainingMasksRevealed": _Refusal(
        "masks were revealed for round {round} of task {task}: no update can be excluded any more",
        "show_task",
    ),
    "TrainingTooManySamples": _Refusal(
        "round {round} of task {task} takes at most {max_samples} samples an update, not {samples}",
        None,
    ),
    "TrainingUpdateSetMismatch": _Refusal(
        "round {round} of task {task} holds {count} updates, not the ones the aggregate sums "
        "(an update arrived meanwhile)",
        "aggregate_again",
    ),
    "TrainingRoundNotStalled": _Refusal(
        "round {round} of task {task} is still running until block {deadline}",
        "show_task",
    ),
    "TrainingTaskEnded": _Refusal(
        "task {task} has ended: no round opens any more", "create_new_task"
    ),
    "TrainingTaskNotEnded": _Refusal("task {task} has not ended yet", "show_task"),
    "TrainingEscrowAlreadyReclaimed": _Refusal(
        "task {task}'s unspent reward pool was already returned", "see_balances"
    ),
    "TrainingContributionExcluded": _Refusal(
        "{who}'s update to round {round} of task {task} was excluded (its blob was unusable), "
        "so it earns nothing there",
        "see_ledger",
    ),
    "TrainingEscrowExceedsBalance": _Refusal(
        "the task's reward pool ({needed} units) is more than its creator holds ({balance})",
        "fix_task_settings",
    ),
    "TrainingRewardPoolOverflow": _Refusal(
        "the reward per round times the rounds does not fit the token", "fix_task_settings"
    ),
    "TrainingAlreadyVoted": _Refusal(
        "{who} already voted on round {round} of task {task}", "see_outcome"
    ),
    "TrainingNoContribution": _Refusal(
        "{who} submitted no update in round {round} of task {task}, so it earned nothing there",
        "see_balances",
    ),
    "TrainingNotAggregator": _Refusal(
        "{who} is not the aggregator of task {task}", "aggregate_where_created"
    ),
    "TrainingNotCoordinator": _Refusal(
        "{who} is not the coordinator of task {task}", "next_round_where_created"
    ),
    "TrainingNotManager": _Refusal(
        "{who} does not manage task {task}'s validators and round rules: {manager} does "
        "(once a task is governed, only a passed proposal changes them)",
        "propose_change",
    ),
    "TrainingInvalidGovernor": _Refusal(
        "a task is handed to a governor's address, not the zero address", "details"
    ),
    "TrainingNotCurrentRound": _Refusal(
        "round {round} is not the current round of task {task} (round {current} is)",
        "show_task",
    ),
    "TrainingNotEnoughValidators": _Refusal(
        "task {task} has {validators} validator(s), fewer than its quorum of {quorum}",
        "more_validators",
    ),
    "TrainingNotKeyHolder": _Refusal(
        "{who} is not the key holder of task {task}", "aggregate_where_created"
    ),
    "TrainingNotParticipant": _Refusal("{who} has not joined task {task}", "join"),
    "TrainingNotValidator": _Refusal(
        "{who} is not a validator of task {task}", "vote_as_named_validator"
    ),
    "TrainingRewardAlreadyClaimed": _Refusal(
        "{who} already claimed the reward of round {round} of task {task}", "see_balances"
    ),
    "TrainingRewardExceedsPool": _Refusal(
        "round {round} of task {task} has {remaining} reward units left, too few to pay "
        "{amount}; nothing was paid",
        None,
    ),
    "TrainingRoundNotAccepted": _Refusal(
        "round {round} of task {task} was not accepted, so it pays no reward", "see_ledger"
    ),
    "TrainingRoundStillOpen": _Refusal(
        "round {round} of task {task} is still running", "finish_round"
    ),
    "TrainingSubmissionWindowClosed": _Refusal(
        "round {round} of task {task} stopped taking updates at block {deadline}",
        "aggregate_submitted",
    ),
    "TrainingSubmissionWindowOpen": _Refusal(
        "round {round} of task {task} takes updates until block {deadline} and not every "
        "participant has submitted",
        "submit_rest",
    ),
    "TrainingTooFewUpdates": _Refusal(
        "round {round} of task {task} has {count} of the {minimum} updates it needs",
        "submit_more",
    ),
    "TrainingUnknownTask": _Refusal("no task {task} on this ledger", "list_tasks"),
    "TrainingValidationWindowClosed": _Refusal(
        "round {round} of task {task} stopped taking votes at block {deadline}",
        "open_next_round",
    ),
    "TrainingValidationWindowOpen": _Refusal(
        "round {round} of task {task} takes votes until block {deadline}", "vote"
    ),
    "TrainingWrongPhase": _Refusal(
        "round {round} of task {task} is {actual}, not {expected}", "show_task"
    ),
    "TrainingZeroDigest": _Refusal("the contract refused an all-zero digest", "repeat_step"),
    "TrainingZeroSamples": _Refusal(
        "round {round} of task {task} refused an update with no samples", "join_with_data"
    ),
    # Batched commitments (the aggregator commits a round's signed updates in one transaction)
    "TrainingBatchAlreadyCommitted": _Refusal(
        "round {round} of task {task} already holds its batch (one batch a round)",
        "aggregate_submitted",
    ),
    "TrainingEmptyBatch": _Refusal(
        "round {round} of task {task} has no signed update to batch yet", "submit_more"
    ),
    "TrainingBatchMasked": _Refusal(
        "task {task} is masked: its updates are committed one by one, not batched",
        "submit_rest",
    ),
    "TrainingBatchSignatureInvalid": _Refusal(
        "a signed update in round {round}'s batch of task {task} has no valid signature; its "
        "party signs again",
        "submit_rest",
    ),
    "TrainingBatchNotSorted": _Refusal(
        "round {round}'s batch of task {task} repeats an update digest (or is out of digest order)",
        "repeat_step",
    ),
    "TrainingNoBatch": _Refusal(
        "round {round} of task {task} has no batch: its rewards are claimed one by one",
        "see_balances",
    ),
    "TrainingNotInBatch": _Refusal(
        "{who}'s update is not in round {round}'s batch of task {task} (the proof does not "
        "lead to its root)",
        "show_task",
    ),
    "TrainingBatchMismatch": _Refusal(
        "the leaves given are not round {round}'s batch of task {task} (another root)",
        "repeat_step",
    ),
    "TrainingBatchAlreadyPaid": _Refusal(
        "round {round}'s batch of task {task} was paid already", "see_balances"
    ),
    # RoundKeys (per-round keys of masked tasks; see round_keys.py)
    "KeysInvalidRegistry": _Refusal("RoundKeys needs the training registry's address", "details"),
    "KeysZeroDigest": _Refusal("RoundKeys refused an all-zero digest", "repeat_step"),
    "KeysNotMasked": _Refusal(
        "task {task} is not masked: publishing a round's secret would reveal every update",
        "create_new_task",
    ),
    "KeysNotKeyHolder": _Refusal(
        "{who} is not task {task}'s key holder: only it registers and publishes round keys",
        "run_where_created",
    ),
    "KeysNotValidator": _Refusal(
        "{who} is not a validator of task {task}: only validators record a decryption mismatch",
        "vote_as_named_validator",
    ),
    "KeysNotNextRound": _Refusal(
        "a key of task {task} is registered for the next round (round {current} is the current "
        "one, and has updates or is past collecting), not for round {round}",
        "show_task",
    ),
    "KeysAlreadyRegistered": _Refusal(
        "round {round} of task {task} has its key already", "show_task"
    ),
    "KeysDigestReused": _Refusal(
        "that public context was already used by task {task}: each round needs fresh keys",
        "repeat_step",
    ),
    "KeysModelNotCommitted": _Refusal(
        "round {round} of task {task} has no committed model, so its secret is not published "
        "and its decryption not checked yet",
        "show_task",
    ),
    "KeysAlreadyPublished": _Refusal(
        "round {round}'s secret of task {task} is published already", "show_task"
    ),
    "KeysSecretNotPublished": _Refusal(
        "round {round}'s secret of task {task} is not published yet; the key holder publishes "
        "it with the model",
        "wait_longer",
    ),
    "KeysSecretMismatch": _Refusal(
        "the evidence names another secret than round {round}'s published one (task {task})",
        "repeat_step",
    ),
    "KeysModelMatches": _Refusal(
        "the recomputed model is round {round}'s committed model (task {task}): nothing to record",
        "vote",
    ),
    "KeysAlreadyRecorded": _Refusal(
        "{who} already recorded a mismatch for round {round} of task {task}", "vote"
    ),
    # Governance (TaskRules, FedGovernor, FedTimelock)
    "RulesNotCoordinator": _Refusal(
        "{who} is not the coordinator of task {task}: only it sets the task's first rules",
        "next_round_where_created",
    ),
    "RulesRoundsStarted": _Refusal(
        "task {task} opened round {current}: its first rules are set before round 1",
        "govern_before_round_one",
    ),
    "RulesAlreadyGoverned": _Refusal(
        "task {task}'s rules are under governance already: only a passed proposal changes them",
        "propose_change",
    ),
    "RulesNotGovernor": _Refusal(
        "{who} cannot change task {task}'s rules: only the governance timelock does, by executing "
        "a passed proposal",
        "propose_change",
    ),
    "RulesNotSet": _Refusal("task {task} has no governed rules", "govern_task"),
    "RulesTaskEnded": _Refusal(
        "task {task} has ended: its rules no longer change", "create_new_task"
    ),
    "RulesInvalidGovernor": _Refusal(
        "the zero address cannot govern a task's rules", "fix_task_settings"
    ),
    "RulesInvalidGroupSize": _Refusal(
        "a valuation group holds at least 2 parties (k >= 2)", "fix_task_settings"
    ),
    "RulesInvalidMinStanding": _Refusal(
        "the standing threshold is at most 1 (the median party's standing)", "fix_task_settings"
    ),
    "RulesInvalidWeightCap": _Refusal(
        "an update's weight cap is at least 1 (the round's median weight)", "fix_task_settings"
    ),
    "RulesInvalidSlashPpm": _Refusal(
        "a slash takes at most the whole stake (1)", "fix_task_settings"
    ),
    "RulesInvalidSlashStanding": _Refusal(
        "the slashing standing threshold is at most 1 (the median party's standing)",
        "fix_task_settings",
    ),
    "GovernorUnexpectedProposalState": _Refusal(
        "that proposal is not in the state this step needs", "show_proposals"
    ),
    "GovernorAlreadyCastVote": _Refusal(
        "that party already voted on that proposal (one vote each)", "show_proposals"
    ),
    "GovernorNonexistentProposal": _Refusal("no such proposal on this ledger", "show_proposals"),
    "GovernorInsufficientProposerVotes": _Refusal(
        "the proposer holds too few delegated votes to propose", "delegate_first"
    ),
    "TimelockUnexpectedOperationState": _Refusal(
        "the timelock does not hold that proposal ready yet", "show_proposals"
    ),
}


class ContractRefusedError(FederationError):
    """A contract refused a step; ``revert`` is the decoded custom error."""

    def __init__(self, revert: ContractRevertError, what: str, next_step: NextStep | None):
        self.revert = revert
        super().__init__(what, next_step)


USER_ERRORS: tuple[type[Exception], ...] = (
    FederationError,
    ChainError,
    CryptoError,
    ModelError,
    StorageError,
    DataError,
)
"""The error families an interface shows as one line: the engine's, and the leaves' own (a
damaged blob, an unreachable node, an unfitted model). Anything else is a bug, or an error of
the user's own code, and keeps its traceback."""


def worded(error: Exception, name_of: Callable[[str], str]) -> Exception:
    """``error`` as the engine words it: a contract's refusal becomes a
    :class:`ContractRefusedError`; every other error is already worded."""
    if isinstance(error, ContractRevertError):
        return refusal(error, name_of)
    return error


def refusal(error: ContractRevertError, name_of: Callable[[str], str]) -> ContractRefusedError:
    """``error`` in plain words; ``name_of`` turns an address into a local account name."""
    known = REFUSALS.get(error.error_name)
    if known is None:
        return ContractRefusedError(
            error, f"the contract refused {error.function} ({error})", step("details")
        )
    facts = _facts(error.error_args, name_of)
    next_step = None if known.action is None else NextStep(known.action, facts)
    return ContractRefusedError(error, known.what.format(**facts), next_step)


def _facts(args: dict[str, Any], name_of: Callable[[str], str]) -> dict[str, Any]:
    account = args.get("participant") or args.get("account") or args.get("validator")
    who = name_of(str(account)) if account else "this account"
    committer = args.get("committer")
    return {
        "who": who,
        "name": who,
        "address": str(account) if account else "of this account",
        "task": args.get("taskId"),
        "round": args.get("round"),
        "current": args.get("currentRound"),
        "deadline": args.get("deadlineBlock"),
        "count": args.get("commitCount"),
        "minimum": args.get("minParticipants"),
        "max_rounds": args.get("maxRounds"),
        "validators": args.get("validatorCount"),
        "quorum": args.get("quorum"),
        "expected": _phase(args.get("expected")),
        "actual": _phase(args.get("actual")),
        "reason": args.get("reason"),
        "amount": args.get("amount"),
        "remaining": args.get("remaining"),
        "first_round": args.get("firstRound"),
        "committer": name_of(str(committer)) if committer else None,
        "samples": args.get("samples"),
        "max_samples": args.get("maxSamplesPerUpdate"),
        "cap": args.get("sampleCap"),
        "revealed": args.get("revealedCount"),
        "needed": args.get("needed"),
        "balance": args.get("balance"),
        "manager": name_of(str(args["manager"])) if args.get("manager") else None,
    }


def _phase(value: Any) -> str | None:
    return None if value is None else RoundPhase(int(value)).label
