// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {IContributionScores} from "./IContributionScores.sol";
import {IFederatedTraining} from "./IFederatedTraining.sol";
import {IRewardPolicy} from "./IRewardPolicy.sol";
import {ITaskStakes} from "./ITaskStakes.sol";
import {ITrainingRegistry} from "./ITrainingRegistry.sol";

/**
 * @title ContributionRewardPolicy
 * @notice Pays each contributor of an accepted round by its measured contribution. A task is
 * proportional (the FedAvg weighting, as {ProportionalRewardPolicy}) unless its coordinator
 * enabled scoring before round 1; in a scored task the coordinator posts, once per decided
 * round, the Merkle root of the round's score table, and each contributor's share is paid once
 * proven against it. A scored task's rejected rounds pay too, by their tables: the groups that
 * helped are paid although the validators voted the round's model down.
 * @dev A score table leaf is (participant, sharePpm, standingPpm): `sharePpm` the party's part
 * of the round's reward in parts per million (the table's shares sum to at most 1e6, checked
 * off-chain; the registry refuses to pay a round beyond its `rewardPerRound` whatever the table
 * says), `standingPpm` its running standing (1e6 = the median party), which the task stakes
 * slash below a threshold. The table itself is a blob in the blob store whose digest is posted
 * with the root, so anyone can rebuild the tree and audit it. Every task, scored or not, pays
 * nothing for a round whose dispute was upheld, and nothing to a contributor whose stake does
 * not cover the round when its task requires stakes (see {TaskStakes}). No function loops.
 */
contract ContributionRewardPolicy is IRewardPolicy, IContributionScores {
    /// @notice Parts per million: a whole round's reward.
    uint32 public constant PPM = 1_000_000;

    /// @notice The account that deployed the policy: the only one that may bind it, once.
    address public immutable deployer;
    /// @notice The registry whose rewards this policy splits (zero until bound).
    ITrainingRegistry public registry;
    /// @notice The task stakes consulted for disputes and stakes (zero until bound).
    ITaskStakes public stakes;

    /// @dev A posted score table: its Merkle root and the digest of its blob.
    struct RoundScores {
        bytes32 scoresRoot;
        bytes32 scoreTableDigest;
    }

    /// @dev A proven share, in one slot.
    struct ProvenShare {
        bool proven;
        uint32 sharePpm;
        uint32 standingPpm;
    }

    mapping(uint256 taskId => bool) private _scored;
    mapping(uint256 taskId => mapping(uint32 round => RoundScores)) private _scores;
    mapping(uint256 taskId => mapping(uint32 round => mapping(address participant => ProvenShare))) private _shares;

    /// @notice The policy was bound to `registry`, consulting `stakes`.
    event RegistryBound(address indexed registry, address indexed stakes);
    /// @notice The task's coordinator enabled scoring: its rounds pay by posted score tables.
    event ScoringEnabled(uint256 indexed taskId, address indexed coordinator);
    /// @notice The coordinator posted the round's score table: root `scoresRoot`, blob `scoreTableDigest`.
    event ScoresPosted(uint256 indexed taskId, uint32 indexed round, bytes32 scoresRoot, bytes32 scoreTableDigest);
    /// @notice `participant`'s row of the round's score table was proven.
    event ShareProven(
        uint256 indexed taskId, uint32 indexed round, address indexed participant, uint32 sharePpm, uint32 standingPpm
    );

    /// @dev Only the deployer may bind the policy; `account` is not it.
    error PolicyNotDeployer(address account);
    /// @dev The policy is already bound to a registry.
    error PolicyAlreadyBound(address registry);
    /// @dev The policy is not bound to a registry yet.
    error PolicyNotBound();
    /// @dev `registry` does not pay through this policy (or `stakes` is the zero address).
    error PolicyRegistryMismatch(address registry, address stakes);
    /// @dev `account` is not the task's coordinator.
    error PolicyNotCoordinator(uint256 taskId, address account);
    /// @dev Scoring must be enabled before round 1 opens; the task is at round `currentRound`.
    error PolicyRoundsStarted(uint256 taskId, uint32 currentRound);
    /// @dev The task already pays by score.
    error PolicyScoringAlreadyEnabled(uint256 taskId);
    /// @dev The task pays in proportion to samples: it takes no scores.
    error PolicyNotScored(uint256 taskId);
    /// @dev The round is not decided (accepted or rejected): it takes no scores yet.
    error PolicyRoundNotDecided(uint256 taskId, uint32 round);
    /// @dev The round's scores were already posted.
    error PolicyScoresAlreadyPosted(uint256 taskId, uint32 round);
    /// @dev A score table's root and digest must not be zero.
    error PolicyZeroScores();
    /// @dev The round's scores are not posted yet.
    error PolicyScoresNotPosted(uint256 taskId, uint32 round);
    /// @dev The row (participant, sharePpm, standingPpm) is not in the round's posted score table.
    error PolicyInvalidProof(uint256 taskId, uint32 round, address participant);
    /// @dev `participant`'s share of the round was already proven.
    error PolicyShareAlreadyProven(uint256 taskId, uint32 round, address participant);
    /// @dev `participant`'s share of the round is not proven yet (see {proveShare}).
    error PolicyShareNotProven(uint256 taskId, uint32 round, address participant);
    /// @dev A share above 1e6 ppm is more than the whole round.
    error PolicyInvalidShare(uint256 taskId, uint32 round, address participant, uint32 sharePpm);
    /// @dev `samples` is zero or larger than `totalSamples` (proportional tasks).
    error PolicyInvalidSamples(uint64 samples, uint64 totalSamples);
    /// @dev The round's dispute was upheld: it pays nothing.
    error PolicyRoundDisputed(uint256 taskId, uint32 round);
    /// @dev The round's dispute is open: it pays once validators settle it.
    error PolicyDisputeOpen(uint256 taskId, uint32 round);
    /// @dev The round may be disputed up to and including `deadlineBlock`: it pays after.
    error PolicyDisputeWindowOpen(uint256 taskId, uint32 round, uint64 deadlineBlock);
    /// @dev The task requires a stake and `participant`'s does not cover the round.
    error PolicyStakeMissing(uint256 taskId, uint32 round, address participant);

    constructor() {
        deployer = msg.sender;
    }

    /**
     * @notice Binds the policy to the registry that pays through it and to the task stakes it
     * consults. Deployer only, once (the registry's constructor takes the policy, so the policy
     * is deployed first).
     * @dev Reverts with {PolicyRegistryMismatch} unless `registry_.rewardPolicy()` is this policy.
     * Emits {RegistryBound}.
     * @param registry_ The `FederatedTraining` registry.
     * @param stakes_ The task stakes of that registry.
     */
    function bindRegistry(ITrainingRegistry registry_, ITaskStakes stakes_) external {
        if (msg.sender != deployer) {
            revert PolicyNotDeployer(msg.sender);
        }
        if (address(registry) != address(0)) {
            revert PolicyAlreadyBound(address(registry));
        }
        if (address(stakes_) == address(0) || address(registry_.rewardPolicy()) != address(this)) {
            revert PolicyRegistryMismatch(address(registry_), address(stakes_));
        }
        registry = registry_;
        stakes = stakes_;
        emit RegistryBound(address(registry_), address(stakes_));
    }

    /**
     * @notice Makes the task pay by posted score tables instead of samples. The task's
     * coordinator only, before round 1 opens, once.
     * @dev Emits {ScoringEnabled}.
     * @param taskId The task.
     */
    function enableScoring(uint256 taskId) external {
        IFederatedTraining.Task memory task = _boundRegistry().getTask(taskId);
        if (msg.sender != task.coordinator) {
            revert PolicyNotCoordinator(taskId, msg.sender);
        }
        if (task.currentRound != 0) {
            revert PolicyRoundsStarted(taskId, task.currentRound);
        }
        if (_scored[taskId]) {
            revert PolicyScoringAlreadyEnabled(taskId);
        }
        _scored[taskId] = true;
        emit ScoringEnabled(taskId, msg.sender);
    }

    /**
     * @notice Posts the score table of a decided (accepted or rejected) round of a scored task. The task's
     * coordinator only, once per round, after the round's dispute window (when the task takes
     * disputes) with no dispute open or upheld.
     * @dev Emits {ScoresPosted}.
     * @param taskId A scored task.
     * @param round An accepted or rejected round of the task.
     * @param scoresRoot_ The Merkle root of the table's leaves (see {scoreLeaf}).
     * @param scoreTableDigest_ sha256 of the score table blob, from which anyone rebuilds the tree.
     */
    function postScores(uint256 taskId, uint32 round, bytes32 scoresRoot_, bytes32 scoreTableDigest_) external {
        ITrainingRegistry registry_ = _boundRegistry();
        if (msg.sender != registry_.getTask(taskId).coordinator) {
            revert PolicyNotCoordinator(taskId, msg.sender);
        }
        if (!_scored[taskId]) {
            revert PolicyNotScored(taskId);
        }
        IFederatedTraining.RoundPhase phase = registry_.getRound(taskId, round).phase;
        if (phase != IFederatedTraining.RoundPhase.Accepted && phase != IFederatedTraining.RoundPhase.Rejected) {
            revert PolicyRoundNotDecided(taskId, round);
        }
        RoundScores storage scores = _scores[taskId][round];
        if (scores.scoresRoot != bytes32(0)) {
            revert PolicyScoresAlreadyPosted(taskId, round);
        }
        if (scoresRoot_ == bytes32(0) || scoreTableDigest_ == bytes32(0)) {
            revert PolicyZeroScores();
        }
        (ITaskStakes.DisputeState dispute, uint64 deadlineBlock,) = stakes.claimStatus(taskId, round, address(0));
        _checkSettled(taskId, round, dispute, deadlineBlock);
        scores.scoresRoot = scoresRoot_;
        scores.scoreTableDigest = scoreTableDigest_;
        emit ScoresPosted(taskId, round, scoresRoot_, scoreTableDigest_);
    }

    /**
     * @notice Proves one row of a round's posted score table, so the registry pays it. Anyone may
     * call it, once per row.
     * @dev Stores the share and standing in one slot. Emits {ShareProven}.
     * @param taskId A scored task.
     * @param round A round whose scores were posted.
     * @param participant The row's party.
     * @param sharePpm The row's share of the round's reward, in parts per million (<= 1e6).
     * @param standingPpm The row's running standing, in parts per million of the median party's.
     * @param proof The Merkle proof of the row's leaf against the round's root.
     */
    function proveShare(
        uint256 taskId,
        uint32 round,
        address participant,
        uint32 sharePpm,
        uint32 standingPpm,
        bytes32[] calldata proof
    ) external {
        bytes32 root = _scores[taskId][round].scoresRoot;
        if (root == bytes32(0)) {
            revert PolicyScoresNotPosted(taskId, round);
        }
        ProvenShare storage share = _shares[taskId][round][participant];
        if (share.proven) {
            revert PolicyShareAlreadyProven(taskId, round, participant);
        }
        if (!MerkleProof.verifyCalldata(proof, root, scoreLeaf(participant, sharePpm, standingPpm))) {
            revert PolicyInvalidProof(taskId, round, participant);
        }
        if (sharePpm > PPM) {
            revert PolicyInvalidShare(taskId, round, participant, sharePpm);
        }
        share.proven = true;
        share.sharePpm = sharePpm;
        share.standingPpm = standingPpm;
        emit ShareProven(taskId, round, participant, sharePpm, standingPpm);
    }

    /**
     * @notice The reward owed to one contributor of an accepted round: `rewardPerRound x
     * sharePpm / 1e6` in a scored task, `rewardPerRound x samples / totalSamples` otherwise.
     * @dev Reverts with {PolicyRoundDisputed}, {PolicyDisputeOpen} or {PolicyDisputeWindowOpen}
     * for a round that is or may still be disputed, {PolicyStakeMissing} for a contributor without
     * the task's stake, and in a scored task {PolicyScoresNotPosted} or {PolicyShareNotProven}.
     * @inheritdoc IRewardPolicy
     */
    function rewardFor(
        uint256 taskId,
        uint32 round,
        address participant,
        uint256 rewardPerRound,
        uint64 samples,
        uint64 totalSamples
    ) external view returns (uint256) {
        (ITaskStakes.DisputeState dispute, uint64 deadlineBlock, bool stakeCovers) =
            _boundStakes().claimStatus(taskId, round, participant);
        _checkSettled(taskId, round, dispute, deadlineBlock);
        if (!stakeCovers) {
            revert PolicyStakeMissing(taskId, round, participant);
        }
        if (!_scored[taskId]) {
            if (samples == 0 || samples > totalSamples) {
                revert PolicyInvalidSamples(samples, totalSamples);
            }
            return Math.mulDiv(rewardPerRound, samples, totalSamples);
        }
        if (_scores[taskId][round].scoresRoot == bytes32(0)) {
            revert PolicyScoresNotPosted(taskId, round);
        }
        ProvenShare memory share = _shares[taskId][round][participant];
        if (!share.proven) {
            revert PolicyShareNotProven(taskId, round, participant);
        }
        return Math.mulDiv(rewardPerRound, share.sharePpm, PPM);
    }

    /// @inheritdoc IContributionScores
    function scoreLeaf(address participant, uint32 sharePpm, uint32 standingPpm) public pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(participant, sharePpm, standingPpm))));
    }

    /// @inheritdoc IContributionScores
    function scoresRoot(uint256 taskId, uint32 round) external view returns (bytes32) {
        return _scores[taskId][round].scoresRoot;
    }

    /// @notice sha256 of the round's score table blob; zero until posted.
    function scoreTableDigest(uint256 taskId, uint32 round) external view returns (bytes32) {
        return _scores[taskId][round].scoreTableDigest;
    }

    /// @notice Whether the task pays by score.
    function isScored(uint256 taskId) external view returns (bool) {
        return _scored[taskId];
    }

    /// @inheritdoc IRewardPolicy
    /// @dev A scored task's rejected rounds pay by their score tables; a proportional task's do not.
    function paysRejectedRounds(uint256 taskId) external view returns (bool) {
        return _scored[taskId];
    }

    /**
     * @notice `participant`'s proven row of the round's score table.
     * @return proven Whether it was proven; then its share and standing in parts per million.
     */
    function provenShare(uint256 taskId, uint32 round, address participant)
        external
        view
        returns (bool proven, uint32 sharePpm, uint32 standingPpm)
    {
        ProvenShare memory share = _shares[taskId][round][participant];
        return (share.proven, share.sharePpm, share.standingPpm);
    }

    function _boundRegistry() private view returns (ITrainingRegistry registry_) {
        registry_ = registry;
        if (address(registry_) == address(0)) {
            revert PolicyNotBound();
        }
    }

    function _boundStakes() private view returns (ITaskStakes stakes_) {
        stakes_ = stakes;
        if (address(stakes_) == address(0)) {
            revert PolicyNotBound();
        }
    }

    /// @dev Reverts unless the round can no longer be disputed, and was not upheld.
    function _checkSettled(uint256 taskId, uint32 round, ITaskStakes.DisputeState dispute, uint64 deadlineBlock)
        private
        view
    {
        if (dispute == ITaskStakes.DisputeState.Upheld) {
            revert PolicyRoundDisputed(taskId, round);
        }
        if (dispute == ITaskStakes.DisputeState.Open) {
            revert PolicyDisputeOpen(taskId, round);
        }
        if (block.number <= deadlineBlock) {
            revert PolicyDisputeWindowOpen(taskId, round, deadlineBlock);
        }
    }
}
