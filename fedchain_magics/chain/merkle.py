"""Merkle trees whose proofs OpenZeppelin's ``MerkleProof.verify`` accepts on-chain.

Leaves are hashed as OpenZeppelin's ``StandardMerkleTree`` hashes them, twice:
``keccak256(bytes.concat(keccak256(abi.encode(values...))))`` (so a leaf can never be read as an
inner node, whose preimage is 64 bytes). Inner nodes hash their two children sorted
(``Hashes.commutativeKeccak256``), so a proof is a plain list of sibling hashes with no flags.

The tree sorts its leaf hashes first: the same set of leaves gives the same root in any order.
A level with an odd node carries that node up unchanged (no duplicate, no second preimage).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eth_abi import encode as abi_encode
from eth_utils import keccak

__all__ = ["MerkleTree", "hash_pair", "leaf_hash", "process_proof", "verify"]


def leaf_hash(types: Sequence[str], values: Sequence[Any]) -> bytes:
    """The double keccak of ``abi.encode(values...)``: OpenZeppelin StandardMerkleTree's leaf."""
    return keccak(keccak(abi_encode(list(types), list(values))))


def hash_pair(left: bytes, right: bytes) -> bytes:
    """keccak256 of the two hashes in ascending order (OpenZeppelin ``commutativeKeccak256``)."""
    return keccak(left + right) if left < right else keccak(right + left)


def process_proof(leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """The root a proof leads to from ``leaf`` (OpenZeppelin ``MerkleProof.processProof``)."""
    node = leaf
    for sibling in proof:
        node = hash_pair(node, sibling)
    return node


def verify(root: bytes, leaf: bytes, proof: Sequence[bytes]) -> bool:
    """Whether ``proof`` proves ``leaf`` in the tree of ``root`` (as ``MerkleProof.verify``)."""
    return process_proof(leaf, proof) == root


class MerkleTree:
    """A tree over leaf hashes (see :func:`leaf_hash`), with a proof for each leaf.

    ``proof(index)`` takes the index of the leaf in the list given, not its sorted position.
    """

    def __init__(self, leaves: Sequence[bytes]) -> None:
        if not leaves:
            raise ValueError("a Merkle tree needs at least one leaf")
        for leaf in leaves:
            if len(leaf) != 32:
                raise ValueError(f"a Merkle leaf is a 32-byte hash, got {len(leaf)} bytes")
        self.leaves = list(leaves)
        level = sorted(self.leaves)
        self._levels: list[list[bytes]] = [level]
        while len(level) > 1:
            level = [
                hash_pair(level[i], level[i + 1]) if i + 1 < len(level) else level[i]
                for i in range(0, len(level), 2)
            ]
            self._levels.append(level)

    @property
    def root(self) -> bytes:
        """The 32-byte root."""
        return self._levels[-1][0]

    def proof(self, index: int) -> list[bytes]:
        """The sibling hashes from leaf ``index`` (of the list given) up to the root."""
        position = self._levels[0].index(self.leaves[index])
        siblings: list[bytes] = []
        for level in self._levels[:-1]:
            sibling = position ^ 1
            if sibling < len(level):
                siblings.append(level[sibling])
            position //= 2
        return siblings
