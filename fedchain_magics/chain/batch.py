"""Batched commitments: a participant's EIP-712 signed update commitment, and a batch's Merkle tree.

A participant signs ``UpdateCommitment(taskId, round, updateDigest, samples)`` under the
FederatedTraining contract's EIP-712 domain (its chain id and address) with its account key; the
aggregator submits the round's signed commitments in one ``commitBatch`` transaction. The
contract keeps the Merkle root of the leaves ``(participant, updateDigest, samples)``; the tree
here is the one it computes (leaves in batch order, adjacent pairs hashed in sorted order, an odd
last node carried up), so a proof from :meth:`BatchTree.proof` verifies with OpenZeppelin's
``MerkleProof`` and the contract's ``isInBatch``. Leaves and pairs are hashed by :mod:`.merkle`;
unlike its :class:`~.merkle.MerkleTree`, the leaves are not sorted by hash first, because the
contract builds the tree in one pass over the batch as submitted (ordered by digest).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address

from .merkle import hash_pair, leaf_hash
from .merkle import verify as merkle_verify

DOMAIN_NAME = "FedChain FederatedTraining"
DOMAIN_VERSION = "1"
_MESSAGE_TYPES = {
    "UpdateCommitment": [
        {"name": "taskId", "type": "uint256"},
        {"name": "round", "type": "uint32"},
        {"name": "updateDigest", "type": "bytes32"},
        {"name": "samples", "type": "uint64"},
    ]
}
_SECP256K1_HALF_ORDER = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0


@dataclass(frozen=True)
class BatchLeaf:
    """A leaf of a round's batch: who committed which update, on how many samples."""

    participant: str
    update_digest: bytes
    samples: int

    def as_tuple(self) -> tuple[str, bytes, int]:
        return (to_checksum_address(self.participant), self.update_digest, self.samples)

    @property
    def hash(self) -> bytes:
        """``keccak256(bytes.concat(keccak256(abi.encode(participant, digest, samples))))``."""
        return leaf_hash(["address", "bytes32", "uint64"], self.as_tuple())


@dataclass(frozen=True)
class SignedUpdate:
    """A participant's commitment to its update for a round, signed off-chain (EIP-712).

    ``r`` and ``vs`` are the signature's 64-byte (EIP-2098) form, as ``commitBatch`` takes it.
    """

    task_id: int
    round_number: int
    leaf: BatchLeaf
    r: bytes
    vs: bytes

    def as_tuple(self) -> tuple[bytes, int, bytes, bytes]:
        return (self.leaf.update_digest, self.leaf.samples, self.r, self.vs)


def typed_data_domain(chain_id: int, contract: str) -> dict[str, object]:
    return {
        "name": DOMAIN_NAME,
        "version": DOMAIN_VERSION,
        "chainId": chain_id,
        "verifyingContract": to_checksum_address(contract),
    }


def sign_update(
    participant: LocalAccount,
    *,
    chain_id: int,
    contract: str,
    task_id: int,
    round_number: int,
    update_digest: bytes,
    samples: int,
) -> SignedUpdate:
    """Sign ``participant``'s commitment to ``update_digest`` for the round, for a batch."""
    signed = Account.sign_typed_data(
        participant.key,
        typed_data_domain(chain_id, contract),
        _MESSAGE_TYPES,
        {
            "taskId": task_id,
            "round": round_number,
            "updateDigest": update_digest,
            "samples": samples,
        },
    )
    s = int(signed.s)
    if s > _SECP256K1_HALF_ORDER:  # eth-keys signs low-s already; kept for the compact form
        raise ValueError("signature has a high s; sign again")
    vs = ((int(signed.v) - 27) << 255) | s
    leaf = BatchLeaf(participant.address, update_digest, samples)
    return SignedUpdate(
        task_id, round_number, leaf, int(signed.r).to_bytes(32, "big"), vs.to_bytes(32, "big")
    )


def order_batch(updates: Sequence[SignedUpdate]) -> list[SignedUpdate]:
    """The updates in the order ``commitBatch`` takes them: by strictly increasing digest."""
    return sorted(updates, key=lambda update: update.leaf.update_digest)


class BatchTree:
    """The Merkle tree of a batch's leaves, as FederatedTraining computes its root."""

    def __init__(self, leaves: Sequence[BatchLeaf]) -> None:
        self.leaves = list(leaves)
        self._indexes: dict[str, int] | None = None
        self._levels: list[list[bytes]] = [[leaf.hash for leaf in self.leaves]]
        while len(self._levels[-1]) > 1:
            level = self._levels[-1]
            parents = [hash_pair(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
            if len(level) % 2 == 1:
                parents.append(level[-1])
            self._levels.append(parents)

    @property
    def root(self) -> bytes:
        return self._levels[-1][0] if self.leaves else bytes(32)

    def proof(self, index: int) -> list[bytes]:
        """Sibling hashes from leaf ``index`` up to the root (``isInBatch``'s proof)."""
        siblings = []
        for level in self._levels[:-1]:
            sibling = index ^ 1
            if sibling < len(level):
                siblings.append(level[sibling])
            index //= 2
        return siblings

    def index_of(self, participant: str) -> int:
        if self._indexes is None:  # one pass, kept: each of a large batch's parties asks
            self._indexes = {}
            for index, leaf in enumerate(self.leaves):
                self._indexes.setdefault(leaf.participant.lower(), index)
        found = self._indexes.get(participant.lower())
        if found is None:
            raise KeyError(f"{to_checksum_address(participant)} has no leaf in this batch")
        return found


def verify_proof(leaf: BatchLeaf, proof: Sequence[bytes], root: bytes) -> bool:
    """OpenZeppelin's ``MerkleProof.verify`` (sorted pairs), off-chain."""
    return merkle_verify(root, leaf.hash, proof)
