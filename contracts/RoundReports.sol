// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IFederatedTraining} from "./IFederatedTraining.sol";
import {ITrainingRegistry} from "./ITrainingRegistry.sol";

/**
 * @title RoundReports
 * @notice Where a valued round's off-chain evidence is anchored: the key holder's group report (the
 * round's groups of at least k parties and the decrypted sum of each, never a single update) and each
 * validator's scores of those groups. The blobs live in the task's blob store under these sha256
 * digests; anyone can fetch them, check them against the digests, and recompute the score table
 * whose Merkle root the reward policy pays by.
 * @dev Reads roles and phases from the training registry; one slot per report, so every call costs
 * the same whatever the number of parties or validators.
 */
contract RoundReports {
    /// @notice The training registry whose tasks and rounds the reports belong to.
    ITrainingRegistry public immutable registry;

    mapping(uint256 taskId => mapping(uint32 round => bytes32 digest)) private _groupReports;
    mapping(uint256 taskId => mapping(uint32 round => mapping(address validator => bytes32 digest))) private
        _scoreReports;

    /// @notice The key holder anchored the round's group report.
    event GroupsReported(uint256 indexed taskId, uint32 indexed round, bytes32 reportDigest);
    /// @notice A validator anchored its scores of the round's groups.
    event ScoresReported(uint256 indexed taskId, uint32 indexed round, address indexed validator, bytes32 scoresDigest);

    /// @dev The constructor's registry is the zero address.
    error ReportsInvalidRegistry();
    /// @dev A report's digest is zero.
    error ReportsZeroDigest();
    /// @dev Only the task's key holder reports a round's groups.
    error ReportsNotKeyHolder(uint256 taskId, address account);
    /// @dev Only a validator of the task reports scores.
    error ReportsNotValidator(uint256 taskId, address account);
    /// @dev The round has no committed model yet (groups) or is not being validated or decided (scores).
    error ReportsWrongPhase(uint256 taskId, uint32 round, IFederatedTraining.RoundPhase phase);
    /// @dev The round's groups, or this validator's scores, were reported already.
    error ReportsAlreadyReported(uint256 taskId, uint32 round, address account);

    /// @param trainingRegistry The FederatedTraining deployment the reports refer to.
    constructor(ITrainingRegistry trainingRegistry) {
        if (address(trainingRegistry) == address(0)) {
            revert ReportsInvalidRegistry();
        }
        registry = trainingRegistry;
    }

    /**
     * @notice Anchors the round's group report (its groups, their capped weights and decrypted sums).
     * @dev Only the task's key holder, once per round, after the round's model is committed.
     * @param taskId The task.
     * @param round The round, in phase Validating or decided.
     * @param reportDigest sha256 of the report blob.
     */
    function reportGroups(uint256 taskId, uint32 round, bytes32 reportDigest) external {
        if (reportDigest == bytes32(0)) revert ReportsZeroDigest();
        if (registry.getTask(taskId).keyHolder != msg.sender) revert ReportsNotKeyHolder(taskId, msg.sender);
        _checkDecided(taskId, round);
        if (_groupReports[taskId][round] != bytes32(0)) revert ReportsAlreadyReported(taskId, round, msg.sender);
        _groupReports[taskId][round] = reportDigest;
        emit GroupsReported(taskId, round, reportDigest);
    }

    /**
     * @notice Anchors a validator's scores of the round's groups.
     * @dev Only a validator of the task, once per round, once the round's model is committed.
     * @param taskId The task.
     * @param round The round, in phase Validating or decided.
     * @param scoresDigest sha256 of the scores blob.
     */
    function reportScores(uint256 taskId, uint32 round, bytes32 scoresDigest) external {
        if (scoresDigest == bytes32(0)) revert ReportsZeroDigest();
        if (!registry.isValidator(taskId, msg.sender)) revert ReportsNotValidator(taskId, msg.sender);
        _checkDecided(taskId, round);
        if (_scoreReports[taskId][round][msg.sender] != bytes32(0)) {
            revert ReportsAlreadyReported(taskId, round, msg.sender);
        }
        _scoreReports[taskId][round][msg.sender] = scoresDigest;
        emit ScoresReported(taskId, round, msg.sender, scoresDigest);
    }

    /// @notice The round's group report digest (zero if none).
    function groupReport(uint256 taskId, uint32 round) external view returns (bytes32) {
        return _groupReports[taskId][round];
    }

    /// @notice A validator's scores digest for the round (zero if none).
    function scoreReport(uint256 taskId, uint32 round, address validator) external view returns (bytes32) {
        return _scoreReports[taskId][round][validator];
    }

    function _checkDecided(uint256 taskId, uint32 round) private view {
        IFederatedTraining.RoundPhase phase = registry.getRound(taskId, round).phase;
        if (
            phase != IFederatedTraining.RoundPhase.Validating && phase != IFederatedTraining.RoundPhase.Accepted
                && phase != IFederatedTraining.RoundPhase.Rejected
        ) {
            revert ReportsWrongPhase(taskId, round, phase);
        }
    }
}
