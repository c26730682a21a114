// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

/**
 * @title IRewardPolicy
 * @notice The pluggable incentive mechanism of `FederatedTraining`: how much of a round's reward a
 * contributor receives. Implementations range from a plain proportional split to data valuation
 * schemes (Shapley values, leave-one-out) computed off-chain and attested on-chain.
 * @dev `FederatedTraining` additionally refuses to pay out more than `rewardPerRound` in total for a
 * round, whatever the policy returns.
 */
interface IRewardPolicy {
    /**
     * @notice The reward, in token base units, owed to one contributor of an accepted round.
     * @param rewardPerRound The round's total reward, shared by all its contributors.
     * @param samples Training samples the contributor declared for its update (> 0).
     * @param totalSamples Sum of the samples declared by every contributor of the round (>= samples).
     * @return The contributor's reward in token base units.
     */
    function rewardFor(uint256 rewardPerRound, uint64 samples, uint128 totalSamples) external view returns (uint256);
}
