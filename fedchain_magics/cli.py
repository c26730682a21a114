"""``python -m fedchain_magics``: commands for a ledger directory outside a notebook.

Each sub-command is a small function that takes the parsed arguments and returns an exit
status; :data:`COMMANDS` routes to them. Errors print one line on stderr (exit 2 for a refused
command, 1 for a problem found).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

LEDGER_DIR_HELP = "the ledger directory (e.g. .fedchain/chain; the workspace .fedchain also works)"
TOKEN_ENVIRONMENT_VARIABLE = "FEDCHAIN_SERVE_TOKEN"


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


def gc(arguments: argparse.Namespace) -> int:
    """Prune the encrypted updates of finished rounds whose aggregate was verified here, once
    --keep-rounds later rounds have finished (default: the workspace's retention.json, else 1).
    Aggregates, models, manifests and contexts are kept. Prints a one-line summary."""
    from .chain.journal import JOURNAL_FILENAME, resolve_ledger_dir
    from .engine.federation import Federation

    chain_dir = resolve_ledger_dir(arguments.ledger_dir)
    workspace = chain_dir.parent if (chain_dir / JOURNAL_FILENAME).exists() else chain_dir
    if not (workspace / "deployment.json").exists():
        raise GcError(f"{arguments.ledger_dir} is not a fedchain workspace (no deployment.json)")
    with Federation.open(workspace) as federation:
        report = federation.collect_garbage(arguments.keep_rounds, dry_run=arguments.dry_run)
    print(report.summary())
    return 0


def _gc_options(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--keep-rounds",
        type=int,
        metavar="N",
        help="keep the updates of the last N finished rounds of each task (default: the "
        "workspace's setting, else 1)",
    )
    command.add_argument(
        "--dry-run", action="store_true", help="say what would be removed; remove nothing"
    )


class GcError(Exception):
    """The gc command cannot run as asked (one line)."""


class ServeError(Exception):
    """The serve command cannot start as asked (one line)."""


def serve(arguments: argparse.Namespace) -> int:
    """Serve the ledger's in-process chain (JSON-RPC) and its blob store over HTTP until
    SIGINT or SIGTERM; other notebooks join with `%fedchain connect URL`. Prints each endpoint on
    a line of its own. The token, if any, comes from --token-file or $FEDCHAIN_SERVE_TOKEN."""
    from .chain.journal import JOURNAL_FILENAME, resolve_ledger_dir
    from .chain.ledger import Ledger
    from .server import LedgerServer

    chain_dir = resolve_ledger_dir(arguments.ledger_dir)
    if not (chain_dir / JOURNAL_FILENAME).exists() and chain_dir.name != "chain":
        chain_dir = chain_dir / "chain"  # a new workspace: its chain goes in chain/
    blob_root = arguments.blobs if arguments.blobs is not None else chain_dir.parent / "blobs"
    token = _serve_token(arguments.token_file)
    ledger = Ledger.open_embedded(chain_dir)
    stop = threading.Event()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signal_number, lambda number, frame: stop.set())
    try:
        server = LedgerServer(
            ledger,
            blob_root=blob_root,
            host=arguments.host,
            port=arguments.port,
            token=token,
            allow_remote=arguments.allow_remote,
        )
        deployment = chain_dir.parent / "deployment.json"
        if deployment.exists():  # new workspaces that connect find these contracts
            server.rpc.deployment = json.loads(deployment.read_text())
        with server:
            print(f"json-rpc {server.url}", flush=True)
            print(f"blobs {server.blob_url}", flush=True)
            print(f"serving {chain_dir} at block {ledger.block_number()}", flush=True)
            stop.wait()
    finally:
        ledger.close()
    print("stopped", flush=True)
    return 0


def _serve_token(token_file: Path | None) -> str | None:
    if token_file is not None:
        try:
            return token_file.read_text().strip()
        except OSError as error:
            raise ServeError(f"cannot read the token file {token_file}: {error.strerror}") from None
    return os.environ.get(TOKEN_ENVIRONMENT_VARIABLE) or None


def _serve_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--host", default="127.0.0.1", help="the interface (default 127.0.0.1)")
    command.add_argument("--port", type=int, default=8545, help="the port (default 8545; 0: any)")
    command.add_argument(
        "--token-file",
        type=Path,
        metavar="F",
        help=f"a file holding the token clients must send (else ${TOKEN_ENVIRONMENT_VARIABLE})",
    )
    command.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a host other than loopback (a token is then required)",
    )
    command.add_argument(
        "--blobs",
        type=Path,
        metavar="BLOBDIR",
        help="the blob folder to serve at /blobs/ (default: the workspace's blobs/)",
    )


COMMANDS: dict[str, tuple[Callable[[argparse.Namespace], int], str]] = {
    "verify": (
        verify,
        "check a ledger's journal (checksums, block links) and every blob it commits to",
    ),
    "repair": (repair, "copy a damaged journal aside and keep the intact blocks before the damage"),
    "serve": (serve, "serve the in-process chain and its blobs over HTTP to other notebooks"),
    "gc": (gc, "prune old rounds' encrypted updates under the workspace's retention policy"),
}
OPTIONS: dict[str, Callable[[argparse.ArgumentParser], None]] = {
    "serve": _serve_options,
    "gc": _gc_options,
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
        OPTIONS.get(name, lambda command: None)(command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from .chain.errors import ChainError
    from .engine.errors import FederationError
    from .server import ServeRefusedError

    arguments = build_parser().parse_args(argv)
    function, _ = COMMANDS[arguments.command]
    try:
        return function(arguments)
    except (ChainError, ServeRefusedError, ServeError, GcError, FederationError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
