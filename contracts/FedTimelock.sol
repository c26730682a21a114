// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

/**
 * @title FedTimelock
 * @notice OpenZeppelin's {TimelockController}, unchanged: it holds what governance owns (the
 * governed tasks' rules in {TaskRules}) and runs a passed proposal only after `minDelay` seconds.
 * @dev Declared here only so that the build emits its artifact. A deployment gives
 * {FedGovernor} the proposer and canceller roles, lets anyone execute (executor `address(0)`),
 * and renounces the temporary admin, so that the timelock administers itself.
 */
contract FedTimelock is TimelockController {
    /**
     * @notice Deploys the timelock.
     * @param minDelay Seconds between queuing an operation and executing it.
     * @param proposers Accounts that may schedule (and cancel) operations: the governor.
     * @param executors Accounts that may execute ready operations (`address(0)`: anyone).
     * @param admin A temporary admin that wires the roles and renounces (`address(0)`: none).
     */
    constructor(uint256 minDelay, address[] memory proposers, address[] memory executors, address admin)
        TimelockController(minDelay, proposers, executors, admin)
    {}
}
