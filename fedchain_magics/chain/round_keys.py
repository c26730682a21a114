"""The RoundKeys contract's client: per-round encryption keys of masked tasks (the public
context's digest registered before the round, the secret's published after its model), each
participant's Shamir share bundle for the round, and the validators' evidence of a decryption that
does not match the committed model."""

from __future__ import annotations

from dataclasses import dataclass

from eth_account.signers.local import LocalAccount
from eth_utils import function_signature_to_4byte_selector, to_checksum_address
from web3.contract import Contract

from .artifacts import load_artifact
from .errors import DeploymentNotFoundError
from .ledger import Ledger, TransactionResult
from .training import REORG_DEPTH_BLOCKS

ZERO_DIGEST = bytes(32)
DEAL_SHARES_SELECTOR = function_signature_to_4byte_selector("dealShares(uint256,uint32,bytes32)")
"""In a RoundKeys' code once it records share bundles (a RoundKeys deployed before dropout
recovery has no ``dealShares``)."""


@dataclass(frozen=True)
class RoundKey:
    """A round's keys as registered: digests, None where not (yet) registered or published."""

    public_context_digest: bytes | None
    secret_digest: bytes | None


@dataclass(frozen=True)
class DecryptionMismatch:
    """A validator's evidence: the model it decrypted with the published secret."""

    recomputed_model_digest: bytes
    """All zeros when the published secret is not the secret of the round's public context."""


class RoundKeysContract:
    """A deployed RoundKeys bound to the ledger that signs for it."""

    def __init__(self, ledger: Ledger, address: str) -> None:
        self.ledger = ledger
        checksummed = to_checksum_address(address)
        self.address = str(checksummed)
        self.contract: Contract = ledger.web3.eth.contract(
            address=checksummed, abi=load_artifact("RoundKeys").abi
        )
        self._dealt: dict[tuple[int, int], tuple[dict[str, bytes], int]] = {}
        """(task, round) -> the share bundles read so far, and the block read up to."""
        self._deals_shares: bool | None = None

    @classmethod
    def deploy(cls, ledger: Ledger, deployer: LocalAccount, training: str) -> RoundKeysContract:
        """Deploy a RoundKeys reading the FederatedTraining contract at ``training``."""
        artifact = load_artifact("RoundKeys")
        address = ledger.deploy(
            deployer, artifact.abi, artifact.bytecode, to_checksum_address(training)
        )
        return cls(ledger, address)

    @classmethod
    def at(cls, ledger: Ledger, address: str, training: str) -> RoundKeysContract:
        """The RoundKeys at ``address``, checked to read the registry at ``training``."""
        keys = cls(ledger, address)
        try:
            registry = str(ledger.call(keys.contract.functions.registry()))
        except Exception:  # no code, or not a RoundKeys: the call reverts or decodes to nothing
            registry = ""
        if registry.lower() != str(training).lower():
            raise DeploymentNotFoundError(
                f"no RoundKeys contract of the registry {training} at {keys.address}; the "
                "task's manifest names another chain's: open the workspace on the task's ledger"
            )
        return keys

    def deals_shares(self) -> bool:
        """Whether this RoundKeys records Shamir share bundles: its code dispatches
        ``dealShares`` (one deployed before dropout recovery does not)."""
        if self._deals_shares is None:  # code never changes: read it once
            code = bytes(self.ledger.web3.eth.get_code(to_checksum_address(self.address)))
            self._deals_shares = DEAL_SHARES_SELECTOR in code
        return self._deals_shares

    # -- transactions -----------------------------------------------------------------------------

    def register_round_key(
        self, key_holder: LocalAccount, task_id: int, round_number: int, public_digest: bytes
    ) -> TransactionResult:
        function = self.contract.functions.registerRoundKey(task_id, round_number, public_digest)
        return self.ledger.transact(key_holder, function)

    def publish_round_secret(
        self, key_holder: LocalAccount, task_id: int, round_number: int, secret_digest: bytes
    ) -> TransactionResult:
        function = self.contract.functions.publishRoundSecret(task_id, round_number, secret_digest)
        return self.ledger.transact(key_holder, function)

    def deal_shares(
        self, dealer: LocalAccount, task_id: int, round_number: int, bundle_digest: bytes
    ) -> TransactionResult:
        function = self.contract.functions.dealShares(task_id, round_number, bundle_digest)
        return self.ledger.transact(dealer, function)

    def record_mismatch(
        self,
        validator: LocalAccount,
        task_id: int,
        round_number: int,
        recomputed_model_digest: bytes,
        secret_digest: bytes,
    ) -> TransactionResult:
        function = self.contract.functions.recordMismatch(
            task_id, round_number, recomputed_model_digest, secret_digest
        )
        return self.ledger.transact(validator, function)

    # -- reads ------------------------------------------------------------------------------------

    def round_key(self, task_id: int, round_number: int) -> RoundKey:
        public, secret = self.ledger.call(self.contract.functions.roundKey(task_id, round_number))
        return RoundKey(_digest_or_none(public), _digest_or_none(secret))

    def round_public_context(self, task_id: int, round_number: int) -> bytes | None:
        """The public context the round's updates are encrypted under (the task's own for a
        round 1 with none registered), or None while the round has none."""
        function = self.contract.functions.roundPublicContext(task_id, round_number)
        return _digest_or_none(self.ledger.call(function))

    def share_bundles(
        self, task_id: int, round_number: int, from_block: int = 0
    ) -> dict[str, bytes]:
        """The round's share-bundle digests by dealer address, in chain order; ``from_block``:
        the block that opened the round (none is dealt before). Read incrementally: each call
        reads only the blocks mined since the last (on a node, the newest
        ``REORG_DEPTH_BLOCKS`` again), so every party of a 100-party round does not rescan it."""
        seen, read_to = self._dealt.get((task_id, round_number), ({}, from_block - 1))
        head = self.ledger.block_number()
        start = read_to + 1 if self.ledger.embedded else read_to + 1 - REORG_DEPTH_BLOCKS
        start = max(start, from_block)
        if start <= head:
            logs = self.contract.events.SharesDealt().get_logs(
                argument_filters={"taskId": task_id, "round": round_number},
                from_block=start,
                to_block=head,
            )
            for log in sorted(logs, key=lambda log: (log["blockNumber"], log["logIndex"])):
                seen[str(log["args"]["dealer"])] = bytes(log["args"]["bundleDigest"])
        self._dealt[(task_id, round_number)] = (seen, head)
        return dict(seen)

    def mismatch(
        self, task_id: int, round_number: int, validator: str
    ) -> DecryptionMismatch | None:
        """``validator``'s evidence for the round, or None if it recorded none."""
        function = self.contract.functions.mismatch(
            task_id, round_number, to_checksum_address(validator)
        )
        recorded, recomputed = self.ledger.call(function)
        return DecryptionMismatch(bytes(recomputed)) if recorded else None


def _digest_or_none(value: bytes) -> bytes | None:
    digest = bytes(value)
    return None if digest == ZERO_DIGEST else digest
