// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IFederatedTraining} from "./IFederatedTraining.sol";
import {IRewardPolicy} from "./IRewardPolicy.sol";

/**
 * @title ITrainingRegistry
 * @notice The part of `FederatedTraining` that its satellite contracts (the contribution reward
 * policy, the task stakes) read or call: its views and the one call anyone may make, `cancelRound`.
 */
interface ITrainingRegistry is IFederatedTraining {
    /// @notice The reward token.
    function token() external view returns (IERC20);

    /// @notice The reward policy the registry asks what each contributor is owed.
    function rewardPolicy() external view returns (IRewardPolicy);

    /// @notice The task `taskId` (reverts for an unknown task).
    function getTask(uint256 taskId) external view returns (Task memory);

    /// @notice The round `round` of the task (phase `None` if it never opened).
    function getRound(uint256 taskId, uint32 round) external view returns (Round memory);

    /// @notice The role and progress of `account` in the task.
    function getMember(uint256 taskId, address account) external view returns (Member memory);

    /// @notice Whether `account` joined the task as a participant.
    function isParticipant(uint256 taskId, address account) external view returns (bool);

    /// @notice Whether `account` is a validator of the task.
    function isValidator(uint256 taskId, address account) external view returns (bool);

    /// @notice Cancels a stalled round (anyone may call it).
    function cancelRound(uint256 taskId, uint32 round) external;
}
