"""The Merkle tree of score tables: OpenZeppelin's leaf and pair hashing, a proof for every leaf.

Proofs are also checked against OpenZeppelin's ``MerkleProof`` on-chain, through
``ContributionRewardPolicy.proveShare`` (tests/contracts/test_contribution_rewards.py).
"""

from __future__ import annotations

import pytest
from eth_abi import encode as abi_encode
from eth_utils import keccak
from hypothesis import given
from hypothesis import strategies as st

from fedchain_magics.chain.merkle import MerkleTree, hash_pair, leaf_hash, process_proof, verify

TYPES = ("address", "uint32", "uint32")


def _leaf(index: int) -> bytes:
    return leaf_hash(TYPES, (f"0x{index + 1:040x}", index * 7, 1_000_000))


def test_leaf_is_the_double_keccak_of_the_abi_encoding() -> None:
    values = ("0x" + "ab" * 20, 250_000, 1_000_000)
    assert leaf_hash(TYPES, values) == keccak(keccak(abi_encode(list(TYPES), list(values))))


def test_pair_hash_is_commutative_and_sorted() -> None:
    a, b = keccak(b"a"), keccak(b"b")
    assert hash_pair(a, b) == hash_pair(b, a) == keccak(min(a, b) + max(a, b))


def test_one_leaf_is_its_own_root_with_an_empty_proof() -> None:
    tree = MerkleTree([_leaf(0)])
    assert tree.root == _leaf(0)
    assert tree.proof(0) == []
    assert verify(tree.root, _leaf(0), [])


@given(st.integers(min_value=1, max_value=40), st.randoms(use_true_random=False))
def test_every_leaf_proves_and_order_does_not_change_the_root(size: int, rng: object) -> None:
    leaves = [_leaf(i) for i in range(size)]
    tree = MerkleTree(leaves)
    for index, leaf in enumerate(leaves):
        proof = tree.proof(index)
        assert verify(tree.root, leaf, proof)
        assert len(proof) <= max(1, (size - 1).bit_length())
    shuffled = list(leaves)
    rng.shuffle(shuffled)  # type: ignore[attr-defined]
    assert MerkleTree(shuffled).root == tree.root


def test_a_wrong_leaf_or_proof_does_not_verify() -> None:
    leaves = [_leaf(i) for i in range(5)]
    tree = MerkleTree(leaves)
    assert not verify(tree.root, _leaf(99), tree.proof(0))
    assert not verify(tree.root, leaves[0], tree.proof(1))
    assert process_proof(leaves[0], tree.proof(0)) == tree.root


def test_empty_tree_and_malformed_leaves_are_refused() -> None:
    with pytest.raises(ValueError, match="at least one leaf"):
        MerkleTree([])
    with pytest.raises(ValueError, match="32-byte"):
        MerkleTree([b"short"])
