"""An invitation to a task: everything another kernel needs to find and check it, on one line.

The coordinator hands it out (``Federation.invitation``); the invited party opens its own
workspace with it (``Federation.accept``), which checks every fact on the card against the
chain and the blob store before anything is joined. The card carries no secret: the chain
endpoint, chain id, contract addresses, task id, blob store URL, and the digests of the task's
manifest (model spec, encryption, rules) and public encryption context.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import asdict, dataclass
from typing import Any

from eth_utils import is_address, to_checksum_address

from .errors import InvalidInputError

CARD_PREFIX = "fedchain-invite:"
CARD_VERSION = 1


@dataclass(frozen=True)
class Invitation:
    chain_url: str
    chain_id: int
    training: str
    token: str
    reward_policy: str
    deployed_at_block: int
    task_id: int
    blob_url: str
    model_spec_digest: str
    public_context_digest: str
    round_reports: str = ""
    """The deployment's contracts beside the registry (valued rounds' reports, stakes, governed
    rules, governor, timelock): a card made before they existed names none, and the workspace
    then finds what it can from the chain."""
    task_stakes: str = ""
    task_rules: str = ""
    governor: str = ""
    timelock: str = ""
    governance_deployed_at_block: int = 0

    def card(self) -> str:
        """The invitation as one line to paste into ``%fedjoin --invite``."""
        content = {"v": CARD_VERSION, **asdict(self)}
        encoded = json.dumps(content, sort_keys=True, separators=(",", ":")).encode()
        return CARD_PREFIX + base64.urlsafe_b64encode(encoded).decode().rstrip("=")

    def __str__(self) -> str:
        return (
            f"task {self.task_id} on chain {self.chain_id} at {self.chain_url} "
            f"(contract {self.training}); blobs at {self.blob_url}; "
            f"manifest {self.model_spec_digest[:18]}…, public context "
            f"{self.public_context_digest[:18]}…"
        )

    @classmethod
    def parse(cls, text: str) -> Invitation:
        """The invitation on a card; a one-line error for anything else."""
        card = text.strip()
        if not card.startswith(CARD_PREFIX):
            raise InvalidInputError(
                f"an invitation starts with `{CARD_PREFIX}`; paste the whole line the "
                "coordinator's `%fedtask invite` printed"
            )
        body = card[len(CARD_PREFIX) :]
        try:
            content: Any = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
            if content.pop("v") != CARD_VERSION:
                raise ValueError("version")
            invitation = cls(**content)
            invitation._check()
        except (ValueError, TypeError, KeyError, AttributeError, binascii.Error):
            raise InvalidInputError(
                "the invitation is damaged or cut short; ask the coordinator for it again "
                "(`%fedtask invite TASK`) and paste the whole line"
            ) from None
        return invitation

    def _check(self) -> None:
        for address in (self.training, self.token, self.reward_policy):
            if not is_address(address) or to_checksum_address(address) != address:
                raise ValueError("address")
        for address in self.satellites().values():
            if not is_address(address) or to_checksum_address(address) != address:
                raise ValueError("address")
        for digest in (self.model_spec_digest, self.public_context_digest):
            if len(bytes.fromhex(digest.removeprefix("0x"))) != 32:
                raise ValueError("digest")
        if not (self.chain_url.startswith(("http://", "https://")) and self.task_id >= 1):
            raise ValueError("endpoint")
        if int(self.chain_id) != self.chain_id or int(self.deployed_at_block) < 0:
            raise ValueError("numbers")

    def satellites(self) -> dict[str, str]:
        """The contracts beside the registry the card names, by deployment field."""
        named = {
            "round_reports": self.round_reports,
            "task_stakes": self.task_stakes,
            "task_rules": self.task_rules,
            "governor": self.governor,
            "timelock": self.timelock,
        }
        return {field: address for field, address in named.items() if address}

    @property
    def model_spec(self) -> bytes:
        return bytes.fromhex(self.model_spec_digest.removeprefix("0x"))

    @property
    def public_context(self) -> bytes:
        return bytes.fromhex(self.public_context_digest.removeprefix("0x"))
