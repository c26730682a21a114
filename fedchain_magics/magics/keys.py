"""``%fedkeys``: this workspace's own accounts and encryption keys, for tasks run from other
kernels (an account's address to hand to a coordinator; a key holder's keys)."""

from __future__ import annotations

import argparse
from typing import Any

from IPython.core.magic import line_magic, magics_class
from IPython.core.magic_arguments import argument, kwds, magic_arguments

from ._arguments import expect, parse, refuse, route
from ._base import MagicsFamily, hex_digest
from ._errors import reports_errors

USAGE = """fedkeys account NAME
  %%fedkeys encryption [--as key-holder] [--scheme bfv|ckks] [--max-parties 10] [--parameters N]"""


@magics_class
class KeyMagics(MagicsFamily):
    @line_magic
    @magic_arguments()
    @kwds(usage=USAGE)
    @argument("command", nargs="?", help="account or encryption")
    @argument("values", nargs="*", metavar="NAME", help="account: the account's name")
    @argument("--as", dest="name", default=None, metavar="NAME", help="encryption: the key holder")
    @argument("--scheme", choices=("bfv", "ckks"), default=None, help="encryption: the scheme")
    @argument(
        "--max-parties",
        type=int,
        default=None,
        metavar="N",
        help="encryption: most updates one sum must hold (default 10)",
    )
    @argument(
        "--parameters",
        type=int,
        default=None,
        metavar="N",
        help="encryption: the model's parameter count, for smaller ciphertexts if it is small "
        "(default: sized for large models)",
    )
    @reports_errors
    def fedkeys(self, line: str) -> Any:
        """Make (or show) an account of this workspace, whose address another kernel's
        coordinator names as a validator or aggregator; or, as a key holder, make encryption
        keys here and publish only the public context."""
        arguments = parse(self.fedkeys, line)
        handler = route("fedkeys", arguments.command, self.COMMANDS)
        return handler(self, arguments)

    def _account(self, arguments: argparse.Namespace) -> str:
        (name,) = expect("fedkeys account", arguments.values, ["NAME"])
        refuse("fedkeys account", arguments, ["name", "scheme", "max_parties", "parameters"])
        account = self.session.require_federation().account(name)
        print(f"{name}: {account.address} (its key stays in this workspace's keystore)")
        return str(account.address)

    def _encryption(self, arguments: argparse.Namespace) -> Any:
        expect("fedkeys encryption", arguments.values, [])
        federation = self.session.require_federation()
        published = federation.generate_keys(
            arguments.name or "key-holder",
            scheme=arguments.scheme or "bfv",
            max_parties=arguments.max_parties or 10,
            parameter_count=arguments.parameters,
        )
        print(
            f"{published.name} ({published.address}) holds new {published.scheme} keys; the "
            f"secret context stays sealed in this workspace, the public context is "
            f"{hex_digest(published.public_context_digest)}"
        )
        print(
            "give the coordinator: %fedtask create MODEL_VAR --key-holder "
            f"{published.address} --public-context 0x{published.public_context_digest.hex()}"
        )
        return published

    COMMANDS = {"account": _account, "encryption": _encryption}
