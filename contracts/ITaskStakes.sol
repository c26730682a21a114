// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/**
 * @title ITaskStakes
 * @notice What the reward policy asks the task stakes before it pays a contributor: whether the
 * round is disputed, until when it may be, and whether the contributor's stake covers the round.
 */
interface ITaskStakes {
    /// @notice Where a round's dispute stands.
    enum DisputeState {
        None, // no dispute was opened
        Open, // validators are voting
        Upheld, // a majority upheld it: the round pays nothing
        Dismissed, // a majority dismissed it: the bond went to the task's honest stakers
        Lapsed // no majority by its deadline: the bond was refunded, the round pays as usual
    }

    /**
     * @notice What a claim for the round needs to know: its dispute's state, the last block a
     * dispute may be opened in (0 when the task takes no disputes), and whether `participant`'s
     * stake covers the round (true when the task requires none).
     */
    function claimStatus(uint256 taskId, uint32 round, address participant)
        external
        view
        returns (DisputeState dispute, uint64 disputeDeadlineBlock, bool stakeCovers);
}
