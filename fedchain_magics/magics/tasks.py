"""``%fedtask``: create a task and open its rounds; list tasks; show one; attach a model."""

from __future__ import annotations

import argparse
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import line_magic, magics_class
from IPython.core.magic_arguments import argument, kwds, magic_arguments

from ..engine import TaskConfig, read_snapshot
from ..engine.errors import ModelNotInitializedError, phase_step, step, word
from ..engine.ledger_view import TaskSnapshot
from ..widgets import ledger_table
from ._arguments import (
    digest_argument,
    expect,
    labels,
    names,
    parse,
    refuse,
    route,
    task_id,
    token_units,
)
from ._base import MagicsFamily
from ._errors import MAGIC_STEPS, reports_errors

DEFAULTS = TaskConfig()
CREATE_OPTIONS = (
    "name",
    "rounds",
    "min_participants",
    "reward",
    "validators",
    "quorum",
    "scheme",
    "epochs",
    "submission_window",
    "validation_window",
    "aggregator",
    "key_holder",
    "public_context",
    "admission",
    "classes",
    "features",
    "min_metric",
    "max_metric_drop",
    "privacy",
    "recovery_threshold",
    "valuation",
    "k",
)
USAGE = """fedtask create MODEL_VAR [--name N] [--rounds 5] [--min-participants 2]
                    [--reward 100] [--validators validator-1] [--quorum 1] [--scheme bfv|ckks]
                    [--epochs 1] [--submission-window 1000] [--validation-window 1000]
                    [--aggregator NAME|0xADDR] [--key-holder 0xADDR --public-context 0xDIGEST]
                    [--admission open|invited] [--classes 0,1,2 --features 13]
                    [--min-metric 0.0] [--max-metric-drop 0.05] [--privacy off|masked|research]
                    [--recovery-threshold 0.67] [--valuation off|shapley|leave-one-out] [--k 3]
  %%fedtask admit TASK NAME|0xADDR[,...] [--cap SAMPLES]
  %%fedtask revoke TASK NAME|0xADDR
  %%fedtask invite TASK
  %%fedtask wait TASK ROUND PHASE [--timeout 600]
  %%fedtask list
  %%fedtask show TASK
  %%fedtask next TASK
  %%fedtask settle TASK [ROUND]
  %%fedtask use TASK MODEL_VAR"""


@magics_class
class TaskMagics(MagicsFamily):
    @line_magic
    @magic_arguments()
    @kwds(usage=USAGE)
    @argument(
        "command",
        nargs="?",
        help="create, admit, revoke, invite, wait, list, show, next, settle or use",
    )
    @argument("values", nargs="*", metavar="MODEL_VAR|TASK", help="what the sub-command acts on")
    @argument("--name", default=None, help="create: a name for the task")
    @argument(
        "--rounds", type=int, default=None, help=f"create: rounds (default {DEFAULTS.rounds})"
    )
    @argument(
        "--min-participants",
        type=int,
        default=None,
        metavar="N",
        help=f"create: updates a round needs (default {DEFAULTS.min_participants})",
    )
    @argument(
        "--reward",
        default=None,
        metavar="TOKENS",
        help="create: reward tokens shared by an accepted round's contributors (default 100)",
    )
    @argument(
        "--validators",
        default=None,
        metavar="NAMES",
        help="create: comma-separated validator accounts (default validator-1)",
    )
    @argument(
        "--quorum",
        type=int,
        default=None,
        help=f"create: accept votes a round needs (default {DEFAULTS.validator_quorum})",
    )
    @argument(
        "--scheme",
        choices=("bfv", "ckks"),
        default=None,
        help=f"create: homomorphic encryption scheme (default {DEFAULTS.scheme})",
    )
    @argument(
        "--epochs",
        type=int,
        default=None,
        help=f"create: local epochs per round (default {DEFAULTS.local_epochs})",
    )
    @argument(
        "--submission-window",
        type=int,
        default=None,
        metavar="BLOCKS",
        help=f"create: blocks a round takes updates (default {DEFAULTS.submission_window_blocks})",
    )
    @argument(
        "--validation-window",
        type=int,
        default=None,
        metavar="BLOCKS",
        help=f"create: blocks a round takes votes (default {DEFAULTS.validation_window_blocks})",
    )
    @argument(
        "--aggregator",
        default=None,
        metavar="NAME|0xADDR",
        help="create: the aggregator's account here, or another kernel's address",
    )
    @argument(
        "--key-holder",
        default=None,
        metavar="0xADDR",
        help="create: the key holder's address in another kernel (with --public-context)",
    )
    @argument(
        "--public-context",
        default=None,
        metavar="0xDIGEST",
        help="create: the public context digest the key holder published (%%fedkeys encryption)",
    )
    @argument(
        "--admission",
        choices=("open", "invited"),
        default=None,
        help="create: who may join: anyone (open, the default) or only the accounts the "
        "coordinator admits (invited)",
    )
    @argument(
        "--privacy",
        choices=("off", "masked", "research"),
        default=None,
        help="create: masked adds pairwise masks (BFV) so that no one, the key holder included, "
        "can decrypt a single party's update; off (the default) does not; research (with "
        "--valuation) values single parties and publishes every update",
    )
    @argument(
        "--recovery-threshold",
        type=float,
        default=None,
        metavar="FRACTION",
        help="create: with --privacy masked, the fraction of a party's peers whose Shamir shares "
        "rebuild its masks if it goes silent once its update is in the sum (0.67)",
    )
    @argument(
        "--valuation",
        choices=("off", "shapley", "leave-one-out"),
        default=None,
        help="create: pay by value instead of declared samples: the key holder decrypts only "
        "sums of groups of at least --k parties, validators value each group (Shapley or "
        "leave-one-group-out), rewards follow value and each party's standing over rounds",
    )
    @argument(
        "--k",
        type=int,
        default=None,
        metavar="N",
        help="create: with --valuation, the fewest parties in any decrypted group sum (3)",
    )
    @argument(
        "--classes",
        default=None,
        metavar="LABELS",
        help="create: every label the federation uses (comma-separated), to initialize an "
        "unfitted classifier (with --features)",
    )
    @argument(
        "--features",
        type=int,
        default=None,
        metavar="N",
        help="create: the number of input features, to initialize an unfitted model",
    )
    @argument(
        "--min-metric",
        type=float,
        default=None,
        metavar="M",
        help="create: validators reject a model scoring below this (default "
        f"{DEFAULTS.min_metric})",
    )
    @argument(
        "--max-metric-drop",
        type=float,
        default=None,
        metavar="D",
        help="create: validators reject a model this much worse than the current one (default "
        f"{DEFAULTS.max_metric_drop})",
    )
    @argument(
        "--cap",
        type=int,
        default=None,
        metavar="SAMPLES",
        help="admit: the most samples each admitted party's update may declare",
    )
    @argument(
        "--timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="wait: give up after this long (default 600)",
    )
    @reports_errors
    def fedtask(self, line: str) -> Any:
        """Create a training task for a model held in a notebook variable and open round 1;
        list the tasks; show one task's rounds; open a task's next round (coordinator); use a
        model of a task's architecture in this kernel (after reopening a ledger)."""
        arguments = parse(self.fedtask, line)
        handler = route("fedtask", arguments.command, self.COMMANDS)
        if handler is not TaskMagics._create:
            refuse(f"fedtask {arguments.command}", arguments, CREATE_OPTIONS)
        if handler is not TaskMagics._wait:
            refuse(f"fedtask {arguments.command}", arguments, ["timeout"])
        if handler is not TaskMagics._admit:
            refuse(f"fedtask {arguments.command}", arguments, ["cap"])
        return handler(self, arguments)

    def _create(self, arguments: argparse.Namespace) -> None:
        (model_name,) = expect("fedtask create", arguments.values, ["MODEL_VAR"])
        config = _config(arguments)
        validators = names(arguments.validators or "validator-1", "--validators")
        model = self._model_to_federate(model_name, arguments)
        if (arguments.key_holder is None) != (arguments.public_context is None):
            raise UsageError(
                "fedchain: --key-holder and --public-context go together (both printed by the "
                "key holder's %fedkeys encryption)"
            )
        public_context = None
        if arguments.public_context is not None:
            public_context = digest_argument(arguments.public_context, "--public-context")
        task = self.session.create_task(
            model,
            config,
            validators=validators,
            aggregator=arguments.aggregator or "aggregator",
            key_holder=arguments.key_holder or "key-holder",
            public_context_digest=public_context,
        )
        if arguments.features is not None:
            self.session.namespace[model_name] = model  # now initialized, as the task's
        token = task.federation.token()
        label = f" '{config.name}'" if config.name else ""
        print(
            f"task {task.task_id}{label} created for {type(model).__name__}: {config.rounds} "
            f"rounds, {config.scheme} encryption, at least {config.min_participants} updates a "
            f"round, {token.text(config.reward_per_round)} a round, validators "
            f"{', '.join(validators)}"
        )
        print(
            f"{token.text(config.reward_per_round * config.rounds)} escrowed for its rewards; "
            f"next: %fedjoin {task.task_id} --as NAME --data X_VAR,y_VAR for each party (round 1 "
            "opens when the first one trains; later joiners take part from round 2)"
        )
        if config.admission == "invited":
            print(
                f"only admitted parties may join: admit them with %fedtask admit {task.task_id} "
                "NAME|0xADDR[,...] [--cap SAMPLES]"
            )

    def _admit(self, arguments: argparse.Namespace) -> None:
        text, accounts_text = expect("fedtask admit", arguments.values, ["TASK", "ACCOUNTS"])
        number = task_id(text)
        accounts = names(accounts_text, "ACCOUNTS")
        if arguments.cap is not None and arguments.cap < 1:
            raise UsageError(
                f"fedchain: --cap takes a number of samples of at least 1, not {arguments.cap}"
            )
        self.session.admit(number, accounts, arguments.cap)
        capped = "" if arguments.cap is None else f", at most {arguments.cap:,} samples an update"
        print(f"admitted to task {number}: {', '.join(accounts)}{capped}")
        print(f"next: each admitted party runs %fedjoin {number} --as NAME --data X_VAR,y_VAR")

    def _revoke(self, arguments: argparse.Namespace) -> None:
        text, account = expect("fedtask revoke", arguments.values, ["TASK", "ACCOUNT"])
        number = task_id(text)
        self.session.revoke_admission(number, account)
        print(
            f"{account}'s admission to task {number} is revoked: it can neither join nor submit "
            f"(readmit it with %fedtask admit {number} {account})"
        )

    def _model_to_federate(self, model_name: str, arguments: argparse.Namespace) -> Any:
        """The notebook's model, initialized in place from --classes/--features if given."""
        if arguments.classes is not None and arguments.features is None:
            raise UsageError(
                "fedchain: --classes goes with --features N (the number of input features)"
            )
        if arguments.features is not None:
            classes = None if arguments.classes is None else labels(arguments.classes)
            # A copy: the notebook's variable changes only once the task exists.
            return self.session.model(model_name, n_features=arguments.features, classes=classes)
        try:
            return self.session.model(model_name)
        except ModelNotInitializedError:
            raise UsageError(
                f"fedchain: `{model_name}` has no parameters yet (it was never fitted); give "
                f"its shape: %fedtask create {model_name} --features N --classes A,B,... "
                "(every label the federation uses; --classes only for a classifier)"
            ) from None

    def _invite(self, arguments: argparse.Namespace) -> str:
        (text,) = expect("fedtask invite", arguments.values, ["TASK"])
        invitation = self.session.require_federation().invitation(task_id(text))
        print(f"invitation to {invitation}")
        print(invitation.card())
        print("the invited party runs: %fedjoin --invite CARD --as NAME --data X_VAR,y_VAR")
        return invitation.card()

    def _wait(self, arguments: argparse.Namespace) -> None:
        text, round_text, phase = expect(
            "fedtask wait", arguments.values, ["TASK", "ROUND", "PHASE"]
        )
        number = task_id(text)
        if not round_text.isdigit() or int(round_text) < 1:
            raise UsageError(f"fedchain: ROUND is a round number such as 1, not `{round_text}`")
        timeout_s = 600.0 if arguments.timeout is None else arguments.timeout
        if not timeout_s > 0:
            raise UsageError("fedchain: --timeout takes a positive number of seconds")
        state = self.session.wait_for(number, int(round_text), phase, timeout_s=timeout_s)
        print(f"round {state.round} of task {number} is {state.phase.label}")

    def _list(self, arguments: argparse.Namespace) -> None:
        expect("fedtask list", arguments.values, [])
        snapshot = read_snapshot(self.session.require_federation())
        if not snapshot.tasks:
            print("no tasks yet; create one with %fedtask create MODEL_VAR")
        for task in snapshot.tasks:
            print(_task_line(task))

    def _show(self, arguments: argparse.Namespace) -> Any:
        (text,) = expect("fedtask show", arguments.values, ["TASK"])
        number = self.session.task(task_id(text)).task_id
        snapshot = read_snapshot(self.session.require_federation(), [number])
        print(_task_line(snapshot.tasks[0]))
        return ledger_table(snapshot)

    def _next(self, arguments: argparse.Namespace) -> None:
        (text,) = expect("fedtask next", arguments.values, ["TASK"])
        number = task_id(text)
        round_number = self.session.open_next_round(number)
        print(
            f"round {round_number} of task {number} is open; "
            f"next: %%fedtrain {number} --as NAME for each party"
        )

    def _settle(self, arguments: argparse.Namespace) -> Any:
        """A valued task's decided round (a rejected one pays the groups that helped too):
        post its score table (the coordinator's notebook does it by itself when its validator's
        vote ends the round)."""
        values = list(arguments.values)
        if not 1 <= len(values) <= 2:
            raise UsageError("usage: %fedtask settle TASK [ROUND]")
        number = task_id(values[0])
        round_number = task_id(values[1]) if len(values) == 2 else None
        table = self.session.settle(number, round_number)
        paid = sum(1 for entry in table.entries if entry["share_ppm"] > 0)
        print(
            f"round {table.round} of task {number} scored: {paid} of {len(table.entries)} "
            f"parties paid; next: %fedrewards {number}"
        )
        return table

    def _use(self, arguments: argparse.Namespace) -> None:
        text, model_name = expect("fedtask use", arguments.values, ["TASK", "MODEL_VAR"])
        number = task_id(text)
        model = self.session.model(model_name)
        self.session.use_model(number, model)
        print(f"this kernel uses `{model_name}` as task {number}'s model")

    @line_magic
    @magic_arguments()
    @kwds(usage="fedmodel TASK [VAR]")
    @argument("task", metavar="TASK", help="the task number (see %%fedtask list)")
    @argument(
        "variable",
        nargs="?",
        default="federated_model",
        metavar="VAR",
        help="the notebook variable to bind (default federated_model)",
    )
    @reports_errors
    def fedmodel(self, line: str) -> None:
        """Bind the task's current global model (the last accepted round's, or the initial one)
        to a notebook variable: a model of the task's kind, ready to predict or score."""
        arguments = parse(self.fedmodel, line)
        number, variable = task_id(arguments.task), arguments.variable
        if not variable.isidentifier():
            raise UsageError(f"fedchain: VAR is a Python variable name, not `{variable}`")
        task = self.session.task(number)
        model = task.global_model()
        state = task.state()
        when = (
            f"after round {state.last_accepted_round} ({state.accepted_rounds} of "
            f"{state.params.max_rounds} rounds accepted)"
            if state.last_accepted_round
            else "before any accepted round (the initial model)"
        )
        self.session.namespace[variable] = model
        print(f"{variable} = task {number}'s global model {when}: {type(model).__name__}")

    COMMANDS = {
        "create": _create,
        "admit": _admit,
        "revoke": _revoke,
        "invite": _invite,
        "wait": _wait,
        "list": _list,
        "show": _show,
        "next": _next,
        "settle": _settle,
        "use": _use,
    }


def _config(arguments: argparse.Namespace) -> TaskConfig:
    chosen = {
        "name": arguments.name,
        "rounds": arguments.rounds,
        "min_participants": arguments.min_participants,
        "validator_quorum": arguments.quorum,
        "scheme": arguments.scheme,
        "local_epochs": arguments.epochs,
        "submission_window_blocks": arguments.submission_window,
        "validation_window_blocks": arguments.validation_window,
        "admission": arguments.admission,
        "privacy": arguments.privacy,
        "recovery_threshold": arguments.recovery_threshold,
        "valuation": arguments.valuation,
        "group_size": arguments.k,
        "min_metric": arguments.min_metric,
        "max_metric_drop": arguments.max_metric_drop,
    }
    if arguments.reward is not None:
        chosen["reward_per_round"] = token_units(arguments.reward)
    return TaskConfig(**{key: value for key, value in chosen.items() if value is not None})


def _task_line(task: TaskSnapshot) -> str:
    state, number = task.state, task.task_id
    round_number, phase = state.current_round, task.current_phase
    label = f" '{task.name}'" if task.name else ""
    where = f"round {round_number} of {state.params.max_rounds} ({phase.label})"
    next_step = word(phase_step(number, phase), MAGIC_STEPS)
    if phase.finished and round_number >= state.params.max_rounds:
        next_step = word(step("all_rounds_done", task=number), MAGIC_STEPS)
    modes = [
        mode
        for mode, on in (
            ("masked", state.params.masked),
            ("invited parties only", state.params.admission_controlled),
            (f"valued by {task.valuation}", task.valuation not in ("", "off")),
        )
        if on
    ]
    extra = f" [{', '.join(modes)}]" if modes else ""
    return (
        f"task {number}{label}{extra}: {where}, {state.participant_count} participant(s), "
        f"{state.validator_count} validator(s); next: {next_step}"
    )
