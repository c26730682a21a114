// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {IRewardPolicy} from "./IRewardPolicy.sol";

/**
 * @title ProportionalRewardPolicy
 * @notice Splits a round's reward in proportion to the samples each contributor trained on
 * (the FedAvg weighting), rounding down, so the payouts of a round never exceed its reward.
 */
contract ProportionalRewardPolicy is IRewardPolicy {
    /// @dev `samples` is zero or larger than `totalSamples`: not a share of the round.
    error ProportionalRewardInvalidShare(uint64 samples, uint64 totalSamples);

    /**
     * @notice Returns `floor(rewardPerRound * samples / totalSamples)`, computed without overflow.
     * @dev Reverts with {ProportionalRewardInvalidShare} unless `0 < samples <= totalSamples`. The
     * task, round and participant do not change a proportional share.
     * @param rewardPerRound The round's total reward in token base units.
     * @param samples Samples declared by the contributor.
     * @param totalSamples Samples declared by all included contributors of the round.
     * @return The contributor's reward in token base units.
     */
    function rewardFor(uint256, uint32, address, uint256 rewardPerRound, uint64 samples, uint64 totalSamples)
        external
        pure
        returns (uint256)
    {
        if (samples == 0 || samples > totalSamples) {
            revert ProportionalRewardInvalidShare(samples, totalSamples);
        }
        return Math.mulDiv(rewardPerRound, samples, totalSamples);
    }

    /// @inheritdoc IRewardPolicy
    /// @dev A proportional split pays accepted rounds only.
    function paysRejectedRounds(uint256) external pure returns (bool) {
        return false;
    }
}
