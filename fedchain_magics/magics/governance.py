"""``%fedgov``: put a task's rules under on-chain governance, propose changes, vote, queue,
execute, and show the rules and proposals."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import line_magic, magics_class
from IPython.core.magic_arguments import argument, kwds, magic_arguments

from ..engine.governance import Proposal, TaskRules, describe
from ._arguments import expect, parse, refuse, route, task_id
from ._base import MagicsFamily
from ._errors import reports_errors

USAGE = """fedgov rules TASK [--k 3] [--policy proportional|leave-one-out|shapley]
                  [--min-standing 0.8] [--max-weight 2] [--slash 0.1] [--slash-below 0.25]
  %%fedgov propose TASK "why" --as NAME [--k N] [--policy P] [--min-standing F]
                  [--max-weight F] [--slash F] [--slash-below F] [--min-participants N]
                  [--quorum N] [--add-validator NAME|0xADDR,...] [--remove-validator ...]
  %%fedgov vote PROPOSAL for|against|abstain --as NAME
  %%fedgov queue PROPOSAL
  %%fedgov execute PROPOSAL
  %%fedgov delegate --as NAME [--to NAME|0xADDR]
  %%fedgov show [TASK]"""

RULE_OPTIONS = ("k", "policy", "min_standing", "max_weight", "slash", "slash_below", "stake")
REGISTRY_OPTIONS = ("min_participants", "quorum", "add_validator", "remove_validator")
"""Proposed only: a task is created with its round rules and validators (%fedtask create)."""
STAKE_IS_NO_RULE = (
    "fedchain: the stake is not a governed rule: stakers paid it when they staked (%fedstake "
    "rules, before round 1); governance changes what an offence costs: --slash and --slash-below"
)
POLICIES = ("proportional", "leave-one-out", "shapley")
PROPOSED_CHANGES = {
    "k": "group_size",
    "policy": "valuation",
    "min_standing": "min_standing",
    "max_weight": "max_weight_over_median",
    "slash": "slash",
    "slash_below": "slash_below_standing",
    "min_participants": "min_participants",
    "quorum": "validator_quorum",
    "add_validator": "add_validators",
    "remove_validator": "remove_validators",
}
"""Each ``%fedgov propose`` option and the change it names (``Session.propose_rules``)."""


@magics_class
class GovernanceMagics(MagicsFamily):
    @line_magic
    @magic_arguments()
    @kwds(usage=USAGE)
    @argument(
        "command",
        nargs="?",
        help="rules, propose, vote, queue, execute, delegate or show",
    )
    @argument("values", nargs="*", metavar="TASK|PROPOSAL", help="what the sub-command acts on")
    @argument("--k", type=int, default=None, help="rules, propose: the fewest parties in a group")
    @argument(
        "--policy",
        choices=POLICIES,
        default=None,
        help="rules, propose: how contributions are valued",
    )
    @argument(
        "--min-standing",
        type=float,
        default=None,
        metavar="F",
        help="rules, propose: standing (1 = the median party) below which a party earns nothing",
    )
    @argument(
        "--max-weight",
        type=float,
        default=None,
        metavar="F",
        help="rules, propose: an update's weight cap, a multiple of the round's median",
    )
    @argument("--stake", default=None, help=argparse.SUPPRESS)  # refused with why (no rule)
    @argument(
        "--slash",
        type=float,
        default=None,
        metavar="F",
        help="rules, propose: part of the remaining stake an offence in a round takes (0 to 1)",
    )
    @argument(
        "--slash-below",
        type=float,
        default=None,
        metavar="F",
        help="rules, propose: a staked party whose posted standing (1 = the median party) is "
        "below this is slashed",
    )
    @argument(
        "--min-participants",
        type=int,
        default=None,
        metavar="N",
        help="propose: included updates a round needs",
    )
    @argument(
        "--quorum", type=int, default=None, metavar="N", help="propose: accept votes a round needs"
    )
    @argument(
        "--add-validator",
        default=None,
        metavar="NAME|0xADDR,...",
        help="propose: accounts that become validators (from the next round)",
    )
    @argument(
        "--remove-validator",
        default=None,
        metavar="NAME|0xADDR,...",
        help="propose: validators that vote no more (from the next round)",
    )
    @argument("--as", dest="name", default=None, metavar="NAME", help="the party that acts")
    @argument("--to", default=None, metavar="NAME|0xADDR", help="delegate: who votes for it")
    @reports_errors
    def fedgov(self, line: str) -> Any:
        """On-chain governance of a task's rules. The coordinator hands a task's rules to the
        reward token's holders before round 1 (`rules`); after that a change is a proposal they
        vote on (`propose`, `vote`), queued on the timelock once it passed (`queue`) and executed
        after the timelock's delay (`execute`); it applies from the round after the one open
        then. Votes count delegated tokens: a party self-delegates when it first claims a reward
        of a governed task, proposes or votes (or with `delegate`). On the in-process chain the
        waits are mined; on a node the step says what to wait for. In a staked task what an
        offence costs is a rule too (`--slash`, `--slash-below`): the task's stakes read it for
        the round an offence is in, so a passed proposal changes what the next round's offenders
        lose. The stake itself is no rule: stakers paid it when they staked (`%fedstake rules`).
        Governance also owns the task's validators and the updates and votes a round needs
        (`--add-validator`, `--remove-validator`, `--min-participants`, `--quorum`); such a
        proposal executes between rounds."""
        arguments = parse(self.fedgov, line)
        handlers: dict[str, Callable[[argparse.Namespace], Any]] = {
            "rules": self._rules,
            "propose": self._propose,
            "vote": self._vote,
            "queue": self._queue,
            "execute": self._execute,
            "delegate": self._delegate,
            "show": self._show,
        }
        return route("fedgov", arguments.command, handlers)(arguments)

    def _rules(self, arguments: argparse.Namespace) -> TaskRules:
        _refuse("fedgov rules", arguments, ("name", "to", *REGISTRY_OPTIONS))
        (task,) = expect("fedgov rules", arguments.values, ["TASK"])
        if arguments.stake is not None:
            raise UsageError(STAKE_IS_NO_RULE)
        number = task_id(task)
        rules = self.session.govern(
            number,
            group_size=arguments.k,
            valuation=_policy(arguments.policy),
            min_standing=arguments.min_standing,
            max_weight_over_median=arguments.max_weight,
            slash=arguments.slash or 0.0,
            slash_below_standing=arguments.slash_below or 0.0,
        )
        print(f"task {number}'s rules are governed from round 1: {_rules_text(rules)}")
        print(f'next: %fedgov propose {number} "why" --k N --as NAME to change them')
        return rules

    def _propose(self, arguments: argparse.Namespace) -> int:
        _refuse("fedgov propose", arguments, ("to",))
        task, description = expect("fedgov propose", arguments.values, ["TASK", '"why"'])
        proposer = _required_name("fedgov propose", arguments)
        description = _unquoted(description)
        if arguments.stake is not None:
            raise UsageError(STAKE_IS_NO_RULE)
        changes: dict[str, Any] = {
            change: getattr(arguments, option)
            for option, change in PROPOSED_CHANGES.items()
            if getattr(arguments, option) is not None
        }
        if "valuation" in changes:
            changes["valuation"] = _policy(changes["valuation"])
        if not changes:
            raise UsageError(
                "fedchain: %fedgov propose needs a change: --k, --policy, --min-standing, "
                "--max-weight, --slash, --slash-below, --min-participants, --quorum, "
                "--add-validator or --remove-validator"
            )
        number = task_id(task)
        proposal = self.session.propose_rules(number, proposer, description, **changes)
        print(f"{proposer} proposed proposal {proposal} for task {number}: {description}")
        print(f"next: %fedgov vote {proposal} for --as NAME, then %fedgov queue {proposal}")
        return proposal

    def _vote(self, arguments: argparse.Namespace) -> int:
        _refuse_rule_options("fedgov vote", arguments, ("to",))
        proposal, support = expect(
            "fedgov vote", arguments.values, ["PROPOSAL", "for|against|abstain"]
        )
        voter = _required_name("fedgov vote", arguments)
        number = _proposal(proposal)
        weight = self.session.vote(number, voter, support)
        token = self._token_text(weight)
        print(f"{voter} voted {support} on proposal {number} with {token}")
        if weight == 0:
            print(
                f"{voter} had no delegated votes at the proposal's snapshot; it delegates to "
                "itself now, so its votes count on later proposals"
            )
        print(f"next: %fedgov queue {number} once the vote closes")
        return weight

    def _queue(self, arguments: argparse.Namespace) -> int:
        _refuse_rule_options("fedgov queue", arguments, ("name", "to"))
        (proposal,) = expect("fedgov queue", arguments.values, ["PROPOSAL"])
        number = _proposal(proposal)
        eta = self.session.queue(number)
        print(f"proposal {number} passed and is queued on the timelock until time {eta}")
        print(f"next: %fedgov execute {number}")
        return eta

    def _execute(self, arguments: argparse.Namespace) -> int:
        _refuse_rule_options("fedgov execute", arguments, ("name", "to"))
        (proposal,) = expect("fedgov execute", arguments.values, ["PROPOSAL"])
        number = _proposal(proposal)
        first_round = self.session.execute(number)
        print(f"proposal {number} executed: its changes apply from round {first_round}")
        return first_round

    def _delegate(self, arguments: argparse.Namespace) -> None:
        _refuse_rule_options("fedgov delegate", arguments, ())
        expect("fedgov delegate", arguments.values, [])
        party = _required_name("fedgov delegate", arguments)
        result = self.session.delegate(party, arguments.to)
        target = arguments.to or "itself"
        if result is None:
            print(f"{party} already delegates its votes to {target}")
        else:
            print(f"{party} delegates its votes to {target} (block {result.block_number})")

    def _show(self, arguments: argparse.Namespace) -> list[Proposal]:
        _refuse_rule_options("fedgov show", arguments, ("name", "to"))
        values = arguments.values
        if len(values) > 1:
            expect("fedgov show", values, ["TASK"])
        number = task_id(values[0]) if values else None
        if number is not None:
            rules = self.session.rules(number)
            if rules is None:
                print(f"task {number}'s rules are not governed; run %fedgov rules {number}")
            else:
                print(f"task {number}'s latest rules: {_rules_text(rules)}")
        found = self.session.proposals(number)
        if not found:
            print("no proposals yet")
        for proposal in found:
            print(self._proposal_line(proposal))
        return found

    def _proposal_line(self, proposal: Proposal) -> str:
        votes = (
            f"for {self._token_text(proposal.votes_for)}, against "
            f"{self._token_text(proposal.votes_against)}, abstain "
            f"{self._token_text(proposal.votes_abstain)}"
        )
        if proposal.quorum is not None:
            votes += f", quorum {self._token_text(proposal.quorum)}"
        tasks = ",".join(str(task) for task in proposal.task_ids) or "-"
        return (
            f"proposal {proposal.number} (task {tasks}) {proposal.state.label}: "
            f"{proposal.description} [{_changes_text(proposal.changes)}] ({votes})"
        )

    def _token_text(self, amount: int) -> str:
        federation = self.session.federation
        return str(amount) if federation is None else federation.token().text(amount)


def _policy(policy: str | None) -> str | None:
    return "off" if policy == "proportional" else policy


def _proposal(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise UsageError(
            f"fedchain: PROPOSAL is a proposal number such as 1, not `{text}`; see them with "
            "%fedgov show"
        )
    return value


def _unquoted(text: str) -> str:
    """IPython's argument splitting keeps a quoted word's quotes."""
    for quote in ('"', "'"):
        if len(text) >= 2 and text[0] == text[-1] == quote:
            return text[1:-1]
    return text


def _required_name(magic: str, arguments: argparse.Namespace) -> str:
    if arguments.name is None:
        raise UsageError(f"fedchain: %{magic} needs --as NAME (the party that acts)")
    return str(arguments.name)


def _refuse_rule_options(
    magic: str, arguments: argparse.Namespace, others: tuple[str, ...]
) -> None:
    _refuse(magic, arguments, (*RULE_OPTIONS, *REGISTRY_OPTIONS, *others))


def _refuse(magic: str, arguments: argparse.Namespace, options: tuple[str, ...]) -> None:
    """:func:`refuse`, naming ``--as`` (whose value lands in ``name``) as typed."""
    if "name" in options and arguments.name is not None:
        raise UsageError(f"fedchain: %{magic} does not take --as; see %fedgov?")
    refuse(magic, arguments, tuple(option for option in options if option != "name"))


def _rules_text(rules: TaskRules) -> str:
    values = describe(rules)
    return (
        f"k {values['group_size']}, valuation {values['valuation']}, min standing "
        f"{values['min_standing']:g}, max weight {values['max_weight_over_median']:g}x the "
        f"median, slash {values['slash']:g} below standing {values['slash_below_standing']:g}"
    )


def _changes_text(changes: dict[str, Any]) -> str:
    parts = []
    for name, value in changes.items():
        if name in ("add_validators", "remove_validators"):
            verb = "add" if name == "add_validators" else "remove"
            parts.append(f"{verb} validator {', '.join(value)}")
        elif name in ("min_participants", "validator_quorum"):
            parts.append(f"{name.replace('_', ' ')} {value}")
        elif name == "valuation_policy":
            parts.append(f"valuation {value.label}")
        elif name == "group_size":
            parts.append(f"k {value}")
        else:
            parts.append(f"{name.removesuffix('_ppm').replace('_', ' ')} {value / 1_000_000:g}")
    return ", ".join(parts)
