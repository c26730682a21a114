"""Score tables on-chain: the ContributionRewardPolicy's client and the table's Merkle tree.

A scored task pays each contributor of an accepted round ``rewardPerRound x share_ppm / 1e6``
once its row of the round's score table is proven against the root its coordinator posted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address
from web3.contract import Contract

from .artifacts import load_artifact
from .ledger import Ledger, TransactionResult
from .merkle import MerkleTree, leaf_hash

__all__ = ["PPM", "SCORE_LEAF_TYPES", "ScoreEntry", "ScoresContract", "score_tree"]

PPM = 1_000_000
"""Parts per million: a whole round's reward (share) or the median party's standing."""

SCORE_LEAF_TYPES = ("address", "uint32", "uint32")
"""The ABI types of a score table leaf: participant, share_ppm, standing_ppm."""


@dataclass(frozen=True)
class ScoreEntry:
    """One row of a round's score table, as its Merkle leaf commits it."""

    participant: str
    share_ppm: int
    """The party's part of the round's reward, in parts per million (a table sums to <= 1e6)."""
    standing_ppm: int
    """The party's running standing, in parts per million of the median party's."""

    def leaf(self) -> bytes:
        """The row's leaf: OpenZeppelin StandardMerkleTree's double hash of its ABI encoding."""
        return leaf_hash(
            SCORE_LEAF_TYPES,
            (to_checksum_address(self.participant), self.share_ppm, self.standing_ppm),
        )


def score_tree(entries: Sequence[ScoreEntry]) -> MerkleTree:
    """The Merkle tree of a score table (``proof(i)`` proves ``entries[i]``).

    Raises ValueError for an empty table, a share or standing outside uint32, shares summing
    above 1e6, or a participant listed twice.
    """
    if not entries:
        raise ValueError("a score table needs at least one row")
    seen: set[str] = set()
    for entry in entries:
        participant = to_checksum_address(entry.participant)
        if participant in seen:
            raise ValueError(f"{participant} has two rows in the score table")
        seen.add(participant)
        for name, value in (("share_ppm", entry.share_ppm), ("standing_ppm", entry.standing_ppm)):
            if not 0 <= value < 2**32:
                raise ValueError(f"{name} {value} of {participant} is not a uint32")
    total = sum(entry.share_ppm for entry in entries)
    if total > PPM:
        raise ValueError(f"the score table's shares sum to {total} ppm, more than the round")
    return MerkleTree([entry.leaf() for entry in entries])


class ScoresContract:
    """The deployed ContributionRewardPolicy: scoring, score tables, proven shares."""

    def __init__(self, ledger: Ledger, address: str) -> None:
        self.ledger = ledger
        self.contract: Contract = ledger.web3.eth.contract(
            address=to_checksum_address(address), abi=load_artifact("ContributionRewardPolicy").abi
        )

    @property
    def address(self) -> str:
        return str(self.contract.address)

    # -- transactions ---------------------------------------------------------------------------

    def enable_scoring(self, account: LocalAccount, task_id: int) -> TransactionResult:
        """The task's coordinator makes it pay by score (before round 1 opens)."""
        return self.ledger.transact(account, self.contract.functions.enableScoring(task_id))

    def post_scores(
        self,
        account: LocalAccount,
        task_id: int,
        round_number: int,
        entries: Sequence[ScoreEntry],
        table_digest: bytes,
    ) -> TransactionResult:
        """The coordinator posts the root of the round's score table and its blob's digest."""
        root = score_tree(entries).root
        function = self.contract.functions.postScores(task_id, round_number, root, table_digest)
        return self.ledger.transact(account, function)

    def prove_share(
        self,
        account: LocalAccount,
        task_id: int,
        round_number: int,
        entry: ScoreEntry,
        proof: Sequence[bytes],
    ) -> TransactionResult:
        """Proves ``entry``'s row of the round's posted table (anyone may send it)."""
        function = self.contract.functions.proveShare(
            task_id,
            round_number,
            to_checksum_address(entry.participant),
            entry.share_ppm,
            entry.standing_ppm,
            list(proof),
        )
        return self.ledger.transact(account, function)

    # -- views ----------------------------------------------------------------------------------

    def is_scored(self, task_id: int) -> bool:
        return bool(self.ledger.call(self.contract.functions.isScored(task_id)))

    def pays_rejected_rounds(self, task_id: int) -> bool:
        """Whether a rejected round of the task still pays (by its score table)."""
        return bool(self.ledger.call(self.contract.functions.paysRejectedRounds(task_id)))

    def scores_root(self, task_id: int, round_number: int) -> bytes:
        """The posted root (32 zero bytes until posted)."""
        return bytes(self.ledger.call(self.contract.functions.scoresRoot(task_id, round_number)))

    def score_table_digest(self, task_id: int, round_number: int) -> bytes:
        """sha256 of the posted score table blob (32 zero bytes until posted)."""
        function = self.contract.functions.scoreTableDigest(task_id, round_number)
        return bytes(self.ledger.call(function))

    def scores_posted(self, task_id: int, round_number: int) -> bool:
        return self.scores_root(task_id, round_number) != bytes(32)

    def proven_share(self, task_id: int, round_number: int, participant: str) -> ScoreEntry | None:
        """The proven row of ``participant``, or None if not proven."""
        function = self.contract.functions.provenShare(
            task_id, round_number, to_checksum_address(participant)
        )
        proven, share_ppm, standing_ppm = self.ledger.call(function)
        if not proven:
            return None
        return ScoreEntry(to_checksum_address(participant), int(share_ppm), int(standing_ppm))
