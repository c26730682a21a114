// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/**
 * @title IContributionScores
 * @notice The score tables a coordinator posts for its scored task's accepted rounds, as read by
 * the task stakes (to slash a party whose proven standing is below the task's threshold).
 * @dev A score table's leaves are `keccak256(bytes.concat(keccak256(abi.encode(participant,
 * sharePpm, standingPpm))))` (OpenZeppelin StandardMerkleTree's leaf, types address, uint32,
 * uint32); inner nodes hash sorted pairs (OpenZeppelin MerkleProof).
 */
interface IContributionScores {
    /// @notice The Merkle root of the round's score table; zero until posted.
    function scoresRoot(uint256 taskId, uint32 round) external view returns (bytes32);

    /// @notice The leaf of one party's row of a score table.
    function scoreLeaf(address participant, uint32 sharePpm, uint32 standingPpm) external pure returns (bytes32);
}
