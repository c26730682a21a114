"""``%fedstake`` and ``%feddispute``: stake in a task, set its stake rules, withdraw, show stakes;
dispute a round's aggregate and vote on a dispute. Each is one engine call (Session)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import line_magic, magics_class
from IPython.core.magic_arguments import argument, kwds, magic_arguments

from ._arguments import expect, parse, refuse, task_id, token_units
from ._base import MagicsFamily
from ._errors import reports_errors

STAKE_USAGE = """fedstake TASK --as PARTY
  %%fedstake rules TASK --required TOKENS [--role TOKENS] [--slash F] [--min-standing F]
                  [--bond TOKENS] [--window BLOCKS]
  %%fedstake withdraw TASK --as PARTY
  %%fedstake show TASK"""

DISPUTE_USAGE = """feddispute TASK ROUND --as PARTY [--evidence TEXT]
  %%feddispute vote TASK ROUND uphold|dismiss --as VALIDATOR"""

RULE_OPTIONS = ("required", "role", "slash", "min_standing", "bond", "window")
PPM = 1_000_000


@magics_class
class IncentiveMagics(MagicsFamily):
    @line_magic
    @magic_arguments()
    @kwds(usage=STAKE_USAGE)
    @argument("values", nargs="*", metavar="rules|withdraw|show TASK", help="TASK to stake in")
    @argument("--as", dest="name", default=None, metavar="PARTY", help="the party that stakes")
    @argument("--required", default=None, metavar="TOKENS", help="rules: each participant's stake")
    @argument(
        "--role", default=None, metavar="TOKENS", help="rules: the aggregator's and key holder's"
    )
    @argument(
        "--slash",
        type=float,
        default=None,
        metavar="F",
        help="rules: part of the remaining stake an offence takes (0 to 1; a governed task: "
        "%%fedgov rules --slash)",
    )
    @argument(
        "--min-standing",
        type=float,
        default=None,
        metavar="F",
        help="rules: a posted standing below this (1 = the median party) is slashed (a "
        "governed task: %%fedgov rules --slash-below)",
    )
    @argument("--bond", default=None, metavar="TOKENS", help="rules: the bond of a dispute")
    @argument(
        "--window",
        type=int,
        default=None,
        metavar="BLOCKS",
        help="rules: blocks after a round's validation it may be disputed (0: no disputes)",
    )
    @reports_errors
    def fedstake(self, line: str) -> Any:
        """Stakes in a task's reward token. The coordinator sets the task's rules before round 1
        (`rules`); each participant stakes `--required`, the aggregator and the key holder
        `--role` (`%fedstake TASK --as PARTY`); an offence proven on-chain (a posted standing
        below `--min-standing`, a silent role, a missed masked round, an upheld dispute) takes
        `--slash` of what is left, shared among the task's honest stakers; `withdraw` returns
        the rest with that share once the task ended; `show` lists stakes and offences. In a
        task whose rules are governed (`%fedgov rules`) what an offence costs is a governed rule
        (`--slash` and `--slash-below` there, changed by proposal from the next round): give
        only the stakes, the bond and the window here."""
        arguments = parse(self.fedstake, line)
        values = list(arguments.values)
        handlers: dict[str, Callable[[argparse.Namespace, list[str]], Any]] = {
            "rules": self._rules,
            "withdraw": self._withdraw,
            "show": self._show,
        }
        if values and values[0] in handlers:
            return handlers[values[0]](arguments, values[1:])
        return self._stake(arguments, values)

    def _stake(self, arguments: argparse.Namespace, values: list[str]) -> int:
        refuse("fedstake", arguments, RULE_OPTIONS)
        (task,) = expect("fedstake", values, ["TASK"])
        party = _required_name("fedstake", arguments, "PARTY")
        number = task_id(task)
        amount = self.session.stake(number, party)
        print(f"{party} staked {self._token_text(amount)} in task {number}")
        return amount

    def _rules(self, arguments: argparse.Namespace, values: list[str]) -> None:
        refuse("fedstake rules", arguments, ("name",))
        (task,) = expect("fedstake rules", values, ["TASK"])
        if arguments.required is None:
            raise UsageError("fedchain: %fedstake rules needs --required TOKENS (0: no stake)")
        number = task_id(task)
        self.session.set_stakes(
            number,
            required=token_units(arguments.required, "--required"),
            role=0 if arguments.role is None else token_units(arguments.role, "--role"),
            slash_ppm=_ppm(arguments.slash, "--slash"),
            min_standing_ppm=_ppm(arguments.min_standing, "--min-standing"),
            dispute_bond=0 if arguments.bond is None else token_units(arguments.bond, "--bond"),
            dispute_window_blocks=arguments.window or 0,
        )
        print(f"task {number}'s stake rules are set; next: %fedstake {number} --as NAME")

    def _withdraw(self, arguments: argparse.Namespace, values: list[str]) -> tuple[int, int]:
        refuse("fedstake withdraw", arguments, RULE_OPTIONS)
        (task,) = expect("fedstake withdraw", values, ["TASK"])
        party = _required_name("fedstake withdraw", arguments, "PARTY")
        number = task_id(task)
        returned, pool_share = self.session.withdraw_stake(number, party)
        print(
            f"{party} withdrew {self._token_text(returned)} from task {number}, with "
            f"{self._token_text(pool_share)} of the slashed pool"
        )
        return returned, pool_share

    def _show(self, arguments: argparse.Namespace, values: list[str]) -> list[Any]:
        refuse("fedstake show", arguments, ("name", *RULE_OPTIONS))
        (task,) = expect("fedstake show", values, ["TASK"])
        number = task_id(task)
        rows = self.session.stakes(number)
        if not rows:
            print(f"nobody staked in task {number}")
        for row in rows:
            offences = "; ".join(row.offences) or "no offence"
            print(
                f"{row.name or row.address} ({row.role}): staked {self._token_text(row.staked)}, "
                f"slashed {self._token_text(row.slashed)} ({offences})"
            )
        return rows

    @line_magic
    @magic_arguments()
    @kwds(usage=DISPUTE_USAGE)
    @argument("values", nargs="*", metavar="[vote] TASK ROUND", help="the disputed round")
    @argument("--as", dest="name", default=None, metavar="NAME", help="who disputes or votes")
    @argument(
        "--evidence",
        default=None,
        metavar="TEXT",
        help="what the verification found (stored as a blob; its digest goes on-chain)",
    )
    @reports_errors
    def feddispute(self, line: str) -> Any:
        """Dispute a round's aggregate: a participant deposits the task's bond while the round
        is validating or accepted and its dispute window is open; the task's validators re-run
        the verification and vote (`vote TASK ROUND uphold|dismiss`). A majority upholding it
        leaves the round unpaid, slashes its aggregator's stake and refunds the bond; a majority
        dismissing it gives the bond to the task's honest stakers."""
        arguments = parse(self.feddispute, line)
        values = list(arguments.values)
        if values and values[0] == "vote":
            return self._vote(arguments, values[1:])
        task, round_text = expect("feddispute", values, ["TASK", "ROUND"])
        party = _required_name("feddispute", arguments, "PARTY")
        number, round_number = task_id(task), _round(round_text)
        evidence = arguments.evidence or "the round's aggregate failed verification"
        digest = self.session.dispute(number, round_number, party, evidence=evidence)
        print(
            f"{party} disputed round {round_number} of task {number} (evidence 0x{digest.hex()}); "
            f"next: %feddispute vote {number} {round_number} uphold|dismiss --as VALIDATOR"
        )
        return digest

    def _vote(self, arguments: argparse.Namespace, values: list[str]) -> str:
        refuse("feddispute vote", arguments, ("evidence",))
        task, round_text, verdict = expect(
            "feddispute vote", values, ["TASK", "ROUND", "uphold|dismiss"]
        )
        if verdict not in ("uphold", "dismiss"):
            raise UsageError(f"fedchain: %feddispute vote takes uphold or dismiss, not `{verdict}`")
        validator = _required_name("feddispute vote", arguments, "VALIDATOR")
        number, round_number = task_id(task), _round(round_text)
        state = self.session.vote_on_dispute(number, round_number, validator, verdict == "uphold")
        print(f"{validator} voted to {verdict}; the dispute of round {round_number} is {state}")
        return state

    def _token_text(self, amount: int) -> str:
        federation = self.session.federation
        return str(amount) if federation is None else federation.token().text(amount)


def _required_name(magic: str, arguments: argparse.Namespace, role: str) -> str:
    if arguments.name is None:
        raise UsageError(f"fedchain: %{magic} needs --as {role}")
    return str(arguments.name)


def _round(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise UsageError(f"fedchain: ROUND is a round number such as 1, not `{text}`")
    return value


def _ppm(value: float | None, option: str) -> int:
    """A fraction from 0 to 1 (of the stake left, or of the median party's standing) in ppm."""
    if value is None:
        return 0
    if not 0 <= value <= 1:
        raise UsageError(
            f"fedchain: {option} takes a fraction from 0 to 1 (of the stake left, or of the "
            f"median party's standing), not {value:g}"
        )
    return round(value * PPM)
