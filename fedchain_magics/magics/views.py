"""What the ledger holds: ``%fedrewards`` (balances, claiming) and ``%fedledger`` (live view)."""

from __future__ import annotations

from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import line_magic, magics_class
from IPython.core.magic_arguments import argument, kwds, magic_arguments

from ..engine import TokenInfo
from ..engine.session import Session
from ..widgets import LiveLedgerView, balance_table
from ._arguments import parse, task_id
from ._base import MagicsFamily
from ._errors import reports_errors


@magics_class
class ViewMagics(MagicsFamily):
    @line_magic
    @magic_arguments()
    @kwds(usage="fedrewards [TASK] [--claim --as NAME | --claim-all]")
    @argument(
        "task",
        nargs="?",
        metavar="TASK",
        help="only this task's contributors and rewards (default: every account)",
    )
    @argument("--claim", action="store_true", help="claim NAME's unclaimed rewards (with --as)")
    @argument("--as", dest="name", default=None, metavar="NAME", help="who claims, with --claim")
    @argument(
        "--claim-all",
        action="store_true",
        help="claim the unclaimed rewards of every account in this ledger directory",
    )
    @reports_errors
    def fedrewards(self, line: str) -> Any:
        """Show every account's reward-token balance, or with TASK only that task's
        contributors' (a table: keep it with `table = %fedrewards`, then
        `table.to_dataframe()`); optionally claim rewards first."""
        arguments = parse(self.fedrewards, line)
        _check_claim_options(arguments)
        number = None if arguments.task is None else task_id(arguments.task)
        federation = self.session.require_federation()
        if number is not None:
            self.session.task(number)
        _claim_and_report(self.session, arguments, number, federation.token())
        return balance_table(federation, number)

    @line_magic
    @magic_arguments()
    @kwds(usage="fedledger [TASK]")
    @argument("task", nargs="?", metavar="TASK", help="only this task (default: every task)")
    @reports_errors
    def fedledger(self, line: str) -> None:
        """Show the ledger round by round (commitments, aggregate, votes, rewards), live: it
        follows the ledger as the engine works, and its static copy keeps the final state in
        the saved notebook."""
        arguments = parse(self.fedledger, line)
        number = None if arguments.task is None else task_id(arguments.task)
        federation = self.session.require_federation()
        if number is not None:
            self.session.task(number)
        self.state.show(LiveLedgerView(federation, number), key=("ledger", number))


def _check_claim_options(arguments: Any) -> None:
    if arguments.claim and arguments.claim_all:
        raise UsageError("fedchain: use either --claim --as NAME or --claim-all, not both")
    if arguments.claim and arguments.name is None:
        raise UsageError("fedchain: --claim needs --as NAME (or use --claim-all)")
    if arguments.name is not None and not arguments.claim:
        raise UsageError(
            f"fedchain: --as goes with --claim: %fedrewards --claim --as {arguments.name}"
        )


def _claim_and_report(
    session: Session, arguments: Any, number: int | None, token: TokenInfo
) -> None:
    """Claim what the options ask for and print it; or print what is still unclaimed."""
    if arguments.claim or arguments.claim_all:
        if arguments.claim:
            amount = session.claim(arguments.name, number)
            claimed = {arguments.name: amount} if amount else {}
        else:
            claimed = session.claim_all(number)
        for name, amount in claimed.items():
            print(f"{name} claimed {token.text(amount)}")
        if not claimed:
            print("no unclaimed rewards")
        return
    owed: dict[str, int] = {}
    for pending in session.pending_rewards(number):
        owed[pending.name] = owed.get(pending.name, 0) + pending.amount
    if owed:
        listed = ", ".join(f"{name} {token.text(amount)}" for name, amount in owed.items())
        scope = "" if number is None else f" {number}"
        print(f"unclaimed: {listed}; claim with %fedrewards{scope} --claim-all")
