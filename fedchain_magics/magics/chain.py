"""``%fedchain``: start, connect to, inspect and stop the ledger this kernel uses."""

from __future__ import annotations

import argparse
from typing import Any

from IPython.core.magic import line_magic, magics_class
from IPython.core.magic_arguments import argument, kwds, magic_arguments

from ..engine.federation import DEFAULT_WORKSPACE
from ..engine.verify import verify_workspace
from ._arguments import FAUCET_KEY, TOKEN, env_value, expect, parse, refuse, route
from ._base import MagicsFamily
from ._errors import reports_errors

ONLY_TO_OPEN_OR_SERVE = (
    "dir", "faucet_key_env", "blobs", "token_env", "port", "host", "allow_remote", "contract"
)  # fmt: skip
"""Options of start, connect and serve, which the other sub-commands refuse."""

USAGE = """fedchain start [--dir .fedchain]
  %%fedchain serve [--port 0] [--host 127.0.0.1 --allow-remote] [--token-env VAR]
  %%fedchain connect URL [--dir .fedchain] [--blobs URL] [--contract 0xADDR] [--token-env VAR]
                         [--faucet-key-env VAR]
  %%fedchain status
  %%fedchain verify
  %%fedchain gc [--keep-rounds N] [--dry-run]
  %%fedchain stop
  %%fedchain --traceback on|off"""


@magics_class
class ChainMagics(MagicsFamily):
    @line_magic
    @magic_arguments()
    @kwds(usage=USAGE)
    @argument("command", nargs="?", help="start, serve, connect, status, verify, gc or stop")
    @argument("url", nargs="*", metavar="URL", help="connect: a JSON-RPC node, http://...")
    @argument(
        "--dir",
        default=None,
        metavar="DIR",
        help=f"start, connect: the ledger directory (default {DEFAULT_WORKSPACE}); it holds the "
        "chain, the encrypted keystore, the keys and the blobs",
    )
    @argument(
        "--faucet-key-env",
        default=None,
        metavar="VAR",
        help="connect: the environment variable holding the private key that pays new "
        "accounts' gas",
    )
    @argument(
        "--blobs",
        default=None,
        metavar="URL",
        help="connect: the shared blob store (a served ledger's http://.../blobs/, s3://...)",
    )
    @argument(
        "--token-env",
        default=None,
        metavar="VAR",
        help="serve, connect: the environment variable holding the served ledger's token",
    )
    @argument(
        "--contract",
        default=None,
        metavar="0xADDR",
        help="connect: a node's FederatedTraining contract that another workspace deployed "
        "(its %%fedchain status shows it); a served ledger tells its own",
    )
    @argument("--port", default=None, type=int, metavar="PORT", help="serve: the port (0: any)")
    @argument("--host", default=None, metavar="HOST", help="serve: the address to bind")
    @argument(
        "--allow-remote",
        action="store_const",
        const=True,
        default=None,
        help="serve: bind an address other than loopback (needs --token-env)",
    )
    @argument(
        "--keep-rounds",
        default=None,
        type=int,
        metavar="N",
        help="gc: keep the encrypted updates of each task's last N finished rounds (default: "
        "the workspace's retention.json, else 1)",
    )
    @argument(
        "--dry-run",
        action="store_const",
        const=True,
        default=None,
        help="gc: say what would be removed; remove nothing",
    )
    @argument(
        "--traceback",
        choices=("on", "off"),
        default=None,
        help="on: show full Python tracebacks instead of one-line errors",
    )
    @reports_errors
    def fedchain(self, line: str) -> Any:
        """Start (or restore) the in-process chain, or connect to a node; status; verify the
        ledger (journal and committed blobs); gc (prune old rounds' encrypted updates); stop."""
        arguments = parse(self.fedchain, line)
        if arguments.traceback is not None:
            self.state.show_tracebacks = arguments.traceback == "on"
            if arguments.command is None:
                shown = "full tracebacks" if self.state.show_tracebacks else "one-line errors"
                print(f"fedchain errors now show {shown}")
                return
        handler = route("fedchain", arguments.command, self.COMMANDS)
        if arguments.command != "gc":
            refuse(f"fedchain {arguments.command}", arguments, ("keep_rounds", "dry_run"))
        return handler(self, arguments)

    def _start(self, arguments: argparse.Namespace) -> None:
        expect("fedchain start", arguments.url, [])
        refuse(
            "fedchain start",
            arguments,
            [option for option in ONLY_TO_OPEN_OR_SERVE if option != "dir"],
        )
        self._open(arguments.dir or DEFAULT_WORKSPACE, url=None, faucet_key=None)

    def _connect(self, arguments: argparse.Namespace) -> None:
        (url,) = expect("fedchain connect", arguments.url, ["URL"])
        refuse("fedchain connect", arguments, ["port", "host", "allow_remote"])
        faucet_key = env_value(arguments.faucet_key_env, FAUCET_KEY, "--faucet-key-env")
        self._open(
            arguments.dir or DEFAULT_WORKSPACE,
            url=url,
            faucet_key=faucet_key,
            blobs=arguments.blobs,
            token=env_value(arguments.token_env, TOKEN, "--token-env"),
            contract=arguments.contract,
        )

    def _serve(self, arguments: argparse.Namespace) -> Any:
        expect("fedchain serve", arguments.url, [])
        refuse("fedchain serve", arguments, ["dir", "faucet_key_env", "blobs", "contract"])
        federation = self.session.require_federation()
        server = federation.serve(
            host=arguments.host or "127.0.0.1",
            port=arguments.port or 0,
            token=env_value(arguments.token_env, TOKEN, "--token-env"),
            allow_remote=bool(arguments.allow_remote),
        )
        print(f"json-rpc: {server.url}")
        print(f"blobs:    {server.blob_url}")
        print(
            f"other kernels: %fedchain connect {server.url} --blobs {server.blob_url}, or "
            "%fedjoin --invite CARD (the card from %fedtask invite TASK)"
        )
        return server  # `server = %fedchain serve` keeps .url and .blob_url

    def _open(
        self,
        directory: str,
        *,
        url: str | None,
        faucet_key: str | None,
        blobs: str | None = None,
        token: str | None = None,
        contract: str | None = None,
    ) -> None:
        if not self.session.holds(directory, url=url):
            self.state.close_views()  # they follow the ledger that is about to close
        federation = self.session.open(
            directory, url=url, faucet_key=faucet_key, blobs=blobs, token=token, contract=contract
        )
        ledger = federation.ledger
        tasks = len(federation.task_ids())
        where = f"in {federation.workspace.resolve()}" if ledger.embedded else f"at {ledger.url}"
        print(
            f"{ledger.network_name} chain {where}: chain id {ledger.chain_id}, "
            f"block {ledger.block_number()}, {tasks} task(s)"
        )
        print(
            "next: %fedtask list" if tasks else "next: %fedtask create MODEL_VAR [--rounds 5 ...]"
        )

    def _status(self, arguments: argparse.Namespace) -> None:
        expect("fedchain status", arguments.url, [])
        refuse(
            "fedchain status",
            arguments,
            ONLY_TO_OPEN_OR_SERVE,
        )
        federation = self.session.federation
        if federation is None:
            print("no chain is running; start one with %fedchain start")
            return
        ledger = federation.ledger
        accounts = [name for name in federation.keystore.names() if name != "deployer"]
        print(f"network:   {ledger.network_name}, chain id {ledger.chain_id}")
        print(f"block:     {ledger.block_number()} ({ledger.head_hash()[:18]}...)")
        print(f"directory: {federation.workspace.resolve()}")
        print(f"contract:  {federation.registry.deployment.training}")
        print(f"accounts:  {', '.join(accounts) or 'none yet'}")
        print(f"tasks:     {len(self.session.task_ids())} (see %fedtask list)")
        for task_id, roles in self.session.roles_held().items():
            print(f"task {task_id}:    this workspace is {', '.join(roles)}")
        if federation.server is not None:
            print(f"serving:   {federation.server.url} (blobs {federation.server.blob_url})")
        print(f"errors:    {'full tracebacks' if self.state.show_tracebacks else 'one line'}")

    def _verify(self, arguments: argparse.Namespace) -> None:
        expect("fedchain verify", arguments.url, [])
        refuse(
            "fedchain verify",
            arguments,
            ONLY_TO_OPEN_OR_SERVE,
        )
        federation = self.session.require_federation()
        if not federation.ledger.embedded:
            print(f"the ledger at {federation.ledger.url} is a node's: it keeps its own history")
            return
        report = verify_workspace(federation.workspace, federation)
        for line in report.lines():
            print(line)
        print(
            "OK: every block and every committed blob is intact"
            if report.ok
            else "problems found: see the lines above (python -m fedchain_magics --help)"
        )

    def _gc(self, arguments: argparse.Namespace) -> None:
        expect("fedchain gc", arguments.url, [])
        refuse("fedchain gc", arguments, ONLY_TO_OPEN_OR_SERVE)
        federation = self.session.require_federation()
        report = federation.collect_garbage(arguments.keep_rounds, dry_run=bool(arguments.dry_run))
        print(report.summary())

    def _stop(self, arguments: argparse.Namespace) -> None:
        expect("fedchain stop", arguments.url, [])
        refuse(
            "fedchain stop",
            arguments,
            ONLY_TO_OPEN_OR_SERVE,
        )
        federation = self.session.federation
        if federation is None:
            print("no chain is running; nothing to stop")
            return
        self.state.close_views()
        self.session.close()
        print(
            f"ledger closed; it stays in {federation.workspace.resolve()} "
            f"(restart it with %fedchain start --dir {federation.workspace})"
        )

    COMMANDS = {
        "start": _start,
        "serve": _serve,
        "connect": _connect,
        "status": _status,
        "verify": _verify,
        "gc": _gc,
        "stop": _stop,
    }
