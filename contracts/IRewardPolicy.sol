// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/**
 * @title IRewardPolicy
 * @notice The pluggable incentive mechanism of `FederatedTraining`: how much of a round's reward a
 * contributor receives. Implementations range from a plain proportional split to data valuation
 * schemes (Shapley values, leave-one-out) computed off-chain and attested on-chain per task, round
 * and participant.
 * @dev `FederatedTraining` refuses to pay out more than `rewardPerRound` in total for a round,
 * whatever the policy returns. It calls the policy with a static call: a policy cannot change state.
 */
interface IRewardPolicy {
    /**
     * @notice The reward, in token base units, owed to one contributor of an accepted round.
     * @param taskId The task.
     * @param round The accepted round.
     * @param participant The contributor claiming (or whose pending reward is read).
     * @param rewardPerRound The round's total reward, shared by all its contributors.
     * @param samples Training samples the contributor declared for its update (> 0).
     * @param totalSamples Sum of the samples of the round's included updates (>= samples).
     * @return The contributor's reward in token base units.
     */
    function rewardFor(
        uint256 taskId,
        uint32 round,
        address participant,
        uint256 rewardPerRound,
        uint64 samples,
        uint64 totalSamples
    ) external view returns (uint256);
}
