"""The round's other roles: ``%fedaggregate`` (aggregator, key holder) and ``%fedvalidate``."""

from __future__ import annotations

from IPython.core.magic import line_magic, magics_class
from IPython.core.magic_arguments import argument, kwds, magic_arguments

from ..engine import RoundPhase
from ..engine.roles import VoteResult
from ._arguments import optional_data_ref, parse, task_id
from ._base import MagicsFamily, hex_digest
from ._errors import reports_errors

TASK_HELP = "the task number (see %%fedtask list)"


@magics_class
class RoundMagics(MagicsFamily):
    @line_magic
    @magic_arguments()
    @kwds(usage="fedaggregate TASK")
    @argument("task", metavar="TASK", help=TASK_HELP)
    @reports_errors
    def fedaggregate(self, line: str) -> None:
        """Aggregator: sum the round's encrypted updates (streaming, with the public context
        only) and commit the sum's digest. Key holder: check that sum against the committed
        updates, decrypt it and commit the new global model. Each kernel runs the stages whose
        keys its workspace holds (both, in the workspace that created the task with its own
        key holder)."""
        arguments = parse(self.fedaggregate, line)
        number = task_id(arguments.task)
        aggregate, model = self.session.aggregate(number)
        if aggregate is not None:
            transaction = aggregate.transaction
            print(
                f"aggregator summed {aggregate.update_count} encrypted updates of round "
                f"{aggregate.round}: {hex_digest(aggregate.aggregate_digest)} "
                f"(gas {transaction.gas_used:,}, block {transaction.block_number})"
            )
        if model is None:
            if self.session.task(number).masked and self.session.participants(number):
                print(
                    "this kernel's parties in the sum revealed what removes their masks from it "
                    "(never what would unmask one update)"
                )
            print(
                f"next: the key holder's kernel runs %fedaggregate {number} (it alone can "
                "decrypt the sum)"
            )
            return
        transaction = model.transaction
        print(
            f"key holder verified the sum, decrypted it and committed the new model "
            f"{hex_digest(model.model_digest)} (gas {transaction.gas_used:,}, "
            f"block {transaction.block_number})"
        )
        validators = self.session.validators(number)
        who = validators[0] if validators else "VALIDATOR"
        print(f"next: %fedvalidate {number} --as {who}")

    @line_magic
    @magic_arguments()
    @kwds(usage="fedvalidate TASK --as NAME [--data X_VAR,y_VAR]")
    @argument("task", metavar="TASK", help=TASK_HELP)
    @argument("--as", dest="name", required=True, metavar="NAME", help="the validator that votes")
    @argument(
        "--data",
        default=None,
        metavar="X_VAR,y_VAR",
        help="the validator's data (default: what %%fedjoin TASK --as NAME --validator recorded)",
    )
    @reports_errors
    def fedvalidate(self, line: str) -> VoteResult:
        """Verify the round's aggregate, evaluate the new global model on the validator's data
        and vote to accept or reject it on the ledger. Returns the vote (`vote =
        %fedvalidate ...`: `vote.metric`, `vote.previous_metric`, `vote.accept`,
        `vote.aggregate_verified`, `vote.transaction`)."""
        arguments = parse(self.fedvalidate, line)
        number, name = task_id(arguments.task), arguments.name
        vote = self.session.validate(number, name, optional_data_ref(arguments.data))
        verdict = "accepts" if vote.accept else "rejects"
        verified = "verified" if vote.aggregate_verified else "does NOT match the updates"
        print(
            f"{name} {verdict} round {vote.round} of task {number}: metric {vote.metric:.3f} "
            f"(current model {vote.previous_metric:.3f}); the aggregate {verified} "
            f"(gas {vote.transaction.gas_used:,}, block {vote.transaction.block_number})"
        )
        phase = self.session.task(number).round_state(vote.round).phase
        if phase == RoundPhase.ACCEPTED:
            print(f"round {vote.round} accepted; next: %fedrewards {number} --claim-all")
        elif phase == RoundPhase.REJECTED:
            print(f"round {vote.round} rejected; next: %fedtask next {number}")
        else:
            print(f"round {vote.round} waits for more votes; next: %fedvalidate {number} --as NAME")
        return vote
