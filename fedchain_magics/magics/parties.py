"""A party's magics: ``%fedjoin``, ``%%fedtrain`` and ``%fedsubmit``."""

from __future__ import annotations

from IPython.core.error import UsageError
from IPython.core.magic import cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, kwds, magic_arguments

from ..engine.federation import DEFAULT_WORKSPACE
from ._arguments import FAUCET_KEY, TOKEN, env_value, optional_data_ref, parse, task_id
from ._base import MagicsFamily, hex_digest
from ._errors import reports_errors

TASK_HELP = "the task number (see %%fedtask list)"


@magics_class
class PartyMagics(MagicsFamily):
    @line_magic
    @magic_arguments()
    @kwds(
        usage="fedjoin TASK --as NAME --data X_VAR,y_VAR [--validator]\n"
        "  %%fedjoin --invite CARD --as NAME --data X_VAR,y_VAR [--dir .fedchain] "
        "[--token-env VAR] [--faucet-key-env VAR]"
    )
    @argument("task", nargs="?", default=None, metavar="TASK", help=TASK_HELP)
    @argument(
        "--invite",
        default=None,
        metavar="CARD",
        help="the invitation line from the coordinator's %%fedtask invite: opens this kernel's "
        "own workspace on that task's ledger and blob store, after checking the card",
    )
    @argument(
        "--dir",
        default=None,
        metavar="DIR",
        help="--invite: this party's workspace (default .fedchain); it holds only its own keys",
    )
    @argument(
        "--token-env",
        default=None,
        metavar="VAR",
        help="--invite: the environment variable holding the served ledger's token",
    )
    @argument(
        "--faucet-key-env",
        default=None,
        metavar="VAR",
        help="--invite: the environment variable holding a key that pays gas (a node's)",
    )
    @argument(
        "--as",
        dest="name",
        required=True,
        metavar="NAME",
        help="the party's account; its key is created on first use and kept encrypted in the "
        "ledger directory's keystore",
    )
    @argument(
        "--data",
        default=None,
        metavar="X_VAR,y_VAR",
        help="the notebook variables holding the party's features and labels (they never "
        "leave this kernel); required unless --validator",
    )
    @argument(
        "--validator",
        action="store_true",
        help="NAME is one of the task's validators: only record its data for %%fedvalidate",
    )
    @reports_errors
    def fedjoin(self, line: str) -> None:
        """Join a task as a participant, with training data held in notebook variables; or,
        with --validator, record the data a validator of the task evaluates new models on."""
        arguments = parse(self.fedjoin, line)
        name = arguments.name
        data = optional_data_ref(arguments.data)
        if arguments.invite is None:
            for option in ("dir", "token_env", "faucet_key_env"):
                if getattr(arguments, option) is not None:
                    flag = "--" + option.replace("_", "-")
                    raise UsageError(f"fedchain: {flag} goes with --invite CARD")
            if arguments.task is None:
                raise UsageError(
                    "fedchain: give the TASK to join (see %fedtask list), or --invite CARD"
                )
            number = task_id(arguments.task)
        else:
            federation, number = self.session.accept(
                arguments.invite,
                arguments.dir or DEFAULT_WORKSPACE,
                token=env_value(arguments.token_env, TOKEN, "--token-env"),
                faucet_key=env_value(arguments.faucet_key_env, FAUCET_KEY, "--faucet-key-env"),
            )
            if arguments.task is not None and task_id(arguments.task) != number:
                raise UsageError(
                    f"fedchain: the invitation is to task {number}, not {arguments.task}"
                )
            print(
                f"joined the ledger at {federation.ledger.url} (chain {federation.ledger.chain_id})"
                f" in {federation.workspace.resolve()}; the invitation checked out"
            )
        if data is None and not arguments.validator:
            raise UsageError(
                "fedchain: a participant joins with its training data; add --data X_VAR,y_VAR "
                "(only a --validator may leave it out)"
            )
        result = self.session.join(number, name, data, validator=arguments.validator)
        held = "no data yet"
        if data is not None:
            held = f"{len(self.session.data(data)[1])} samples in `{data.X}`, `{data.y}`"
        if arguments.validator:
            print(
                f"{name} validates task {number} on {held}; next: %fedvalidate {number} "
                f"--as {name} once a round's model is decrypted"
            )
            return
        keystore = self.session.require_federation().keystore.directory
        if result is None:
            print(f"{name} had joined task {number} already; its data is now {held}")
        else:
            print(f"{name} joined task {number} in block {result.block_number} with {held}")
            print(f"{name}'s key is kept encrypted in {keystore}")
        print(f"next: %%fedtrain {number} --as {name}")

    @cell_magic
    @magic_arguments()
    @kwds(usage="%%fedtrain TASK --as NAME [--model VAR]")
    @argument("task", metavar="TASK", help=TASK_HELP)
    @argument("--as", dest="name", required=True, metavar="NAME", help="the party that trains")
    @argument(
        "--model",
        default="global_model",
        metavar="VAR",
        help="the variable holding the global model while the cell runs (default global_model)",
    )
    @reports_errors
    def fedtrain(self, line: str, cell: str) -> None:
        """Run the cell with a fresh copy of the task's current global model in `global_model`
        (or --model VAR); then capture the model that variable holds as NAME's update for the
        open round (weighted by the number of samples NAME joined with)."""
        arguments = parse(self.fedtrain, line)
        number, name, variable = task_id(arguments.task), arguments.name, arguments.model
        if not variable.isidentifier():
            raise UsageError(f"fedchain: --model takes a variable name, not `{variable}`")
        self.session.namespace[variable] = self.session.start_training(number, name)
        result = self.ipython.run_cell(cell, silent=True)  # no Out[] for the cell's last value
        if not result.success:
            raise UsageError(
                f"fedchain: the %%fedtrain cell failed, so {name}'s update was not captured; "
                "fix the cell and run it again"
            )
        update = self.session.capture_update(number, name, self.session.model(variable))
        print(
            f"captured {name}'s update for round {update.round} of task {number}: "
            f"{update.samples} samples, {update.delta.size} parameters; "
            f"next: %fedsubmit {number} --as {name}"
        )

    @line_magic
    @magic_arguments()
    @kwds(usage="fedsubmit TASK --as NAME")
    @argument("task", metavar="TASK", help=TASK_HELP)
    @argument("--as", dest="name", required=True, metavar="NAME", help="the party that submits")
    @reports_errors
    def fedsubmit(self, line: str) -> None:
        """Encrypt NAME's captured update (weighted by its samples), store the ciphertext and
        commit its digest on the ledger; print the digest, ciphertext size, gas and block."""
        arguments = parse(self.fedsubmit, line)
        number, name = task_id(arguments.task), arguments.name
        submission = self.session.submit(number, name)
        transaction = submission.transaction
        print(f"{name} committed an encrypted update to round {submission.round} of task {number}")
        print(f"  digest      {hex_digest(submission.update_digest)}")
        print(f"  ciphertext  {submission.ciphertext_bytes:,} bytes")
        print(f"  gas         {transaction.gas_used:,}")
        print(f"  block       {transaction.block_number}")
        task = self.session.task(number)
        committed = task.round_state(submission.round).commit_count
        joined = task.state().participant_count
        if committed < joined:
            print(
                f"{committed} of {joined} participants have submitted; "
                f"next: %fedsubmit {number} --as NAME for the others"
            )
        else:
            print(f"every participant has submitted; next: %fedaggregate {number}")
