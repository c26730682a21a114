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
     * @notice The reward, in token base units, owed to one contributor of an accepted round (or
     * of a rejected round of a task whose rejected rounds it pays, see {paysRejectedRounds}).
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

    /**
     * @notice Whether the task's rejected rounds pay their contributors too (a policy that values
     * each contribution can pay the ones that helped in a round the validators voted down). The
     * answer must not change once the task's first round opened: the registry reserves a rejected
     * round's reward when the vote ends and pays its claims by the same answer.
     * @param taskId The task.
     * @return True when a rejected round of the task pays by {rewardFor} like an accepted one.
     */
    function paysRejectedRounds(uint256 taskId) external view returns (bool);
}
