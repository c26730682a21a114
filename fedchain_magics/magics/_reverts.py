"""The contracts' custom errors in plain words, each ending with the magic to run next."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..chain import ContractRevertError, RoundPhase

REVERTS: dict[str, str] = {
    "TrainingAlreadyCommitted": (
        "{who} already submitted an update in round {round} of task {task}; "
        "wait for the next round (%fedtask next {task})"
    ),
    "TrainingAlreadyJoined": (
        "{who} already joined task {task}; train with %%fedtrain {task} --as {who}"
    ),
    "TrainingAlreadyValidator": (
        "{who} already validates task {task}; name each validator once in --validators"
    ),
    "TrainingAlreadyVoted": (
        "{who} already voted on round {round} of task {task}; "
        "see the outcome with %fedledger {task}"
    ),
    "TrainingInvalidParams": (
        "the contract refused the task's settings ({reason}); fix the %fedtask create options "
        "(see %fedtask?)"
    ),
    "TrainingMaxRoundsReached": (
        "task {task} has run all its {max_rounds} rounds; create a new task with "
        "%fedtask create MODEL_VAR"
    ),
    "TrainingNoContribution": (
        "{who} submitted no update in round {round} of task {task}, so it earned nothing there; "
        "see the balances with %fedrewards"
    ),
    "TrainingNotAggregator": (
        "{who} is not the aggregator of task {task}; run %fedaggregate {task} in the kernel "
        "whose ledger directory created the task"
    ),
    "TrainingNotCoordinator": (
        "{who} is not the coordinator of task {task}; run %fedtask next {task} in the kernel "
        "whose ledger directory created the task"
    ),
    "TrainingNotCurrentRound": (
        "round {round} is not the current round of task {task} (round {current} is); "
        "see where it stands with %fedtask show {task}"
    ),
    "TrainingNotEnoughValidators": (
        "task {task} has {validators} validator(s), fewer than its quorum of {quorum}; "
        "create a task with more --validators or a smaller --quorum"
    ),
    "TrainingNotKeyHolder": (
        "{who} is not the key holder of task {task}; run %fedaggregate {task} in the kernel "
        "whose ledger directory created the task"
    ),
    "TrainingNotParticipant": (
        "{who} has not joined task {task}; join with %fedjoin {task} --as {who} --data X_VAR,y_VAR"
    ),
    "TrainingNotValidator": (
        "{who} is not a validator of task {task}; vote as a validator named in "
        "%fedtask create --validators"
    ),
    "TrainingRewardAlreadyClaimed": (
        "{who} already claimed the reward of round {round} of task {task}; "
        "see the balances with %fedrewards"
    ),
    "TrainingRewardExceedsPool": (
        "round {round} of task {task} has {remaining} reward units left, too few to pay "
        "{amount}; nothing was paid"
    ),
    "TrainingRoundNotAccepted": (
        "round {round} of task {task} was not accepted, so it pays no reward; "
        "see the ledger with %fedledger {task}"
    ),
    "TrainingRoundStillOpen": (
        "round {round} of task {task} is still running; finish it with %fedaggregate {task} "
        "and %fedvalidate {task} --as VALIDATOR before %fedtask next {task}"
    ),
    "TrainingSubmissionWindowClosed": (
        "round {round} of task {task} stopped taking updates at block {deadline}; "
        "aggregate what was submitted with %fedaggregate {task}"
    ),
    "TrainingSubmissionWindowOpen": (
        "round {round} of task {task} takes updates until block {deadline} and not every "
        "participant has submitted; submit the rest with %fedsubmit {task} --as NAME"
    ),
    "TrainingTooFewUpdates": (
        "round {round} of task {task} has {count} of the {minimum} updates it needs; "
        "submit more with %fedsubmit {task} --as NAME"
    ),
    "TrainingUnknownTask": "no task {task} on this ledger; see the tasks with %fedtask list",
    "TrainingValidationWindowClosed": (
        "round {round} of task {task} stopped taking votes at block {deadline}; "
        "open the next round with %fedtask next {task}"
    ),
    "TrainingValidationWindowOpen": (
        "round {round} of task {task} takes votes until block {deadline}; "
        "vote with %fedvalidate {task} --as VALIDATOR"
    ),
    "TrainingWrongPhase": (
        "round {round} of task {task} is {actual}, not {expected}; "
        "see where it stands with %fedtask show {task}"
    ),
    "TrainingZeroDigest": "the contract refused an all-zero digest; run the step again",
    "TrainingZeroSamples": (
        "round {round} of task {task} refused an update with no samples; "
        "join with non-empty --data (%fedjoin {task} --as NAME --data X_VAR,y_VAR)"
    ),
}


def revert_message(error: ContractRevertError, name_of: Callable[[str], str]) -> str:
    """``error`` in plain words; ``name_of`` turns an address into a local account name."""
    template = REVERTS.get(error.error_name)
    if template is None:
        return (
            f"the contract refused {error.function} ({error}); "
            "run %fedchain --traceback on and repeat the step for details"
        )
    return template.format(**_facts(error.error_args, name_of))


def _facts(args: dict[str, Any], name_of: Callable[[str], str]) -> dict[str, Any]:
    account = args.get("participant") or args.get("account") or args.get("validator")
    return {
        "who": name_of(str(account)) if account else "this account",
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
    }


def _phase(value: Any) -> str | None:
    return None if value is None else RoundPhase(int(value)).label
