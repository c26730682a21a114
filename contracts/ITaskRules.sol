// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IFederatedTraining} from "./IFederatedTraining.sol";

/// @notice The one view of the registry that {TaskRules} reads.
interface ITaskRegistryView {
    /// @notice The task `taskId` (reverts for an unknown task).
    function getTask(uint256 taskId) external view returns (IFederatedTraining.Task memory);
}

/**
 * @title ITaskRules
 * @notice What the task stakes read from `TaskRules`: the offence figures a task's round runs
 * under. A task with rules on `TaskRules` takes what an offence costs (`slashPpm`) and what counts
 * as a low standing (`slashBelowStandingPpm`) from them, round by round; its stakers' own contract
 * (the stakes and the dispute bond) stays on the task stakes.
 */
interface ITaskRules {
    /// @notice The registry whose tasks these rules belong to.
    function registry() external view returns (ITaskRegistryView);

    /**
     * @notice The offence figures in force in round `round` of the task (round 0: those of round
     * 1), or `set` false for a task without rules (never reverts, so a caller needs one call).
     * @param taskId The task.
     * @param round The round the offence is in.
     * @return set Whether the task has rules here (fixed once its round 1 opened).
     * @return slashPpm The part of the remaining stake an offence takes, in parts per million.
     * @return slashBelowStandingPpm A proven standing below this (1e6: the median party) is slashed.
     */
    function slashingRulesFor(uint256 taskId, uint32 round)
        external
        view
        returns (bool set, uint32 slashPpm, uint32 slashBelowStandingPpm);
}
