// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Governor} from "@openzeppelin/contracts/governance/Governor.sol";
import {GovernorCountingSimple} from "@openzeppelin/contracts/governance/extensions/GovernorCountingSimple.sol";
import {GovernorSettings} from "@openzeppelin/contracts/governance/extensions/GovernorSettings.sol";
import {GovernorTimelockControl} from "@openzeppelin/contracts/governance/extensions/GovernorTimelockControl.sol";
import {GovernorVotes} from "@openzeppelin/contracts/governance/extensions/GovernorVotes.sol";
import {GovernorVotesQuorumFraction} from
    "@openzeppelin/contracts/governance/extensions/GovernorVotesQuorumFraction.sol";
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {IVotes} from "@openzeppelin/contracts/governance/utils/IVotes.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @notice The part of {FedToken} the quorum reads: the delegated supply at a past block.
interface IDelegatedSupply {
    /// @notice The sum of all delegated balances at the end of block `timepoint`.
    function getPastDelegatedSupply(uint256 timepoint) external view returns (uint256);
}

/**
 * @title FedGovernor
 * @notice Token holders of the reward token (FCR) propose, vote on, queue and execute changes to
 * what governance owns: the rules of the tasks handed to its timelock ({TaskRules}).
 * @dev OpenZeppelin's Governor with {GovernorSettings} (voting delay and period in blocks, the
 * token's block-number clock; all three settings governable), {GovernorCountingSimple}
 * (for/against/abstain; quorum counts for + abstain), {GovernorVotes} and
 * {GovernorTimelockControl} (a passed proposal is queued on the timelock and executed by it after
 * its delay). The quorum is {GovernorVotesQuorumFraction}'s numerator (percent, governable) of the
 * supply *delegated* at the proposal's snapshot, not of the total supply: most FCR sits
 * undelegated in the treasury and in task escrows, which would make any fraction of the total
 * either unreachable or meaningless. Undelegated tokens neither vote nor count toward quorum.
 */
contract FedGovernor is
    Governor,
    GovernorSettings,
    GovernorCountingSimple,
    GovernorVotes,
    GovernorVotesQuorumFraction,
    GovernorTimelockControl
{
    /**
     * @notice Deploys the governor of `token`'s holders, acting through `timelock`.
     * @param token The voting token (FedToken).
     * @param timelock The timelock that executes passed proposals; it must grant this governor its
     * proposer and canceller roles.
     * @param initialVotingDelay Blocks between a proposal and the start of its vote (its snapshot).
     * @param initialVotingPeriod Blocks the vote stays open.
     * @param initialProposalThreshold Votes an account needs to propose (0: anyone).
     * @param quorumPercent Percent of the delegated supply at the snapshot that must vote for or
     * abstain.
     */
    constructor(
        IVotes token,
        TimelockController timelock,
        uint48 initialVotingDelay,
        uint32 initialVotingPeriod,
        uint256 initialProposalThreshold,
        uint256 quorumPercent
    )
        Governor("FedChain Governor")
        GovernorSettings(initialVotingDelay, initialVotingPeriod, initialProposalThreshold)
        GovernorVotes(token)
        GovernorVotesQuorumFraction(quorumPercent)
        GovernorTimelockControl(timelock)
    {}

    /**
     * @notice Votes a proposal snapshotted at `timepoint` needs (for + abstain): the quorum
     * numerator at that block, in percent, of the supply delegated then.
     * @param timepoint A past block number (a proposal's snapshot).
     * @return The quorum in token base units.
     */
    function quorum(uint256 timepoint)
        public
        view
        override(Governor, GovernorVotesQuorumFraction)
        returns (uint256)
    {
        uint256 delegated = IDelegatedSupply(address(token())).getPastDelegatedSupply(timepoint);
        return Math.mulDiv(delegated, quorumNumerator(timepoint), quorumDenominator());
    }

    /**
     * @notice Where a proposal stands (Pending, Active, Canceled, Defeated, Succeeded, Queued,
     * Expired or Executed).
     * @param proposalId The proposal.
     * @return Its state.
     */
    function state(uint256 proposalId)
        public
        view
        override(Governor, GovernorTimelockControl)
        returns (ProposalState)
    {
        return super.state(proposalId);
    }

    /**
     * @notice Whether a passed proposal must be queued on the timelock before it executes (always).
     * @param proposalId The proposal.
     * @return True.
     */
    function proposalNeedsQueuing(uint256 proposalId)
        public
        view
        override(Governor, GovernorTimelockControl)
        returns (bool)
    {
        return super.proposalNeedsQueuing(proposalId);
    }

    /**
     * @notice Votes an account needs to make a proposal.
     * @return The threshold in token base units.
     */
    function proposalThreshold() public view override(Governor, GovernorSettings) returns (uint256) {
        return super.proposalThreshold();
    }

    function _queueOperations(
        uint256 proposalId,
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) internal override(Governor, GovernorTimelockControl) returns (uint48) {
        return super._queueOperations(proposalId, targets, values, calldatas, descriptionHash);
    }

    function _executeOperations(
        uint256 proposalId,
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) internal override(Governor, GovernorTimelockControl) {
        super._executeOperations(proposalId, targets, values, calldatas, descriptionHash);
    }

    function _cancel(
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) internal override(Governor, GovernorTimelockControl) returns (uint256) {
        return super._cancel(targets, values, calldatas, descriptionHash);
    }

    function _executor() internal view override(Governor, GovernorTimelockControl) returns (address) {
        return super._executor();
    }
}
