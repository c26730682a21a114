"""``python -m fedchain_magics``: commands for a ledger directory outside a notebook.

Each sub-command is a small function that takes the parsed arguments and returns an exit
status; :data:`COMMANDS` routes to them. Errors print one line on stderr (exit 2 for a refused
command, 1 for a problem found).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

LEDGER_DIR_HELP = "the ledger directory (e.g. .fedchain/chain; the workspace .fedchain also works)"


def verify(arguments: argparse.Namespace) -> int:
    """Replay the journal read-only and check every committed digest's blob; exit 0 when
    clean, 1 with one line per problem otherwise."""
    from .engine.verify import verify_workspace

    report = verify_workspace(arguments.ledger_dir)
    for line in report.lines():
        print(line)
    if report.ok:
        print("OK")
        return 0
    return 1


def repair(arguments: argparse.Namespace) -> int:
    """Copy a damaged journal aside, then keep every intact block before the damage."""
    from .chain.repair import repair_journal

    print(repair_journal(arguments.ledger_dir).summary())
    return 0


COMMANDS: dict[str, tuple[Callable[[argparse.Namespace], int], str]] = {
    "verify": (
        verify,
        "check a ledger's journal (checksums, block links) and every blob it commits to",
    ),
    "repair": (repair, "copy a damaged journal aside and keep the intact blocks before the damage"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m fedchain_magics",
        description="Look after a fedchain ledger directory from the command line.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (function, summary) in COMMANDS.items():
        command = commands.add_parser(name, help=summary, description=function.__doc__)
        command.add_argument("ledger_dir", metavar="DIR", type=Path, help=LEDGER_DIR_HELP)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from .chain.errors import ChainError

    arguments = build_parser().parse_args(argv)
    function, _ = COMMANDS[arguments.command]
    try:
        return function(arguments)
    except ChainError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
