// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

import {FedToken} from "./FedToken.sol";
import {IRewardPolicy} from "./IRewardPolicy.sol";

/**
 * @title FederatedTraining
 * @notice The ledger of federated training tasks. A coordinator creates a task, names its
 * aggregator, key holder and validators; participants join and, each round, commit a digest of
 * their (encrypted) model update with the number of samples it was trained on. The aggregator
 * commits the digest of the encrypted aggregate, the key holder the digest of the decrypted model,
 * and validators vote on it. An accepted round becomes the task's current model and its
 * contributors claim FCR rewards, split by a pluggable {IRewardPolicy}.
 *
 * Only digests live here: the blobs they name are stored off-chain. An update's digest is recorded
 * only in its {UpdateCommitted} event (part of the receipts trie), which keeps a commit to a single
 * fresh storage slot.
 *
 * Round life cycle: `None -> Collecting -> Aggregated -> Validating -> Accepted | Rejected`; a
 * Collecting round whose submission window closed with too few updates can also become Rejected.
 *
 * @dev No function loops over participants or validators: the gas of every call is independent of
 * how many accounts take part in a task.
 */
contract FederatedTraining {
    /// @notice Configuration of a task, fixed at creation.
    struct TaskParams {
        bytes32 modelSpecDigest; // sha256 of the model layout description
        bytes32 publicContextDigest; // sha256 of the encryption public context blob
        bytes32 initialModelDigest; // sha256 of the initial model blob
        uint32 minParticipants; // min update commitments for a round to be aggregated (>= 1)
        uint32 maxRounds; // >= 1
        uint32 validatorQuorum; // accept votes needed (>= 1)
        uint64 submissionWindowBlocks; // >= 1
        uint64 validationWindowBlocks; // >= 1
        uint256 rewardPerRound; // FCR base units minted per accepted round, shared by contributors
    }

    /// @notice Where a round stands. `None` is a round that was never opened.
    enum RoundPhase {
        None,
        Collecting,
        Aggregated,
        Validating,
        Accepted,
        Rejected
    }

    /// @notice A task: its parameters, its roles and its progress.
    struct Task {
        TaskParams params;
        address coordinator;
        address aggregator;
        address keyHolder;
        uint32 participantCount;
        uint32 validatorCount;
        uint32 currentRound;
        uint32 lastAcceptedRound;
        bytes32 currentModelDigest;
    }

    /**
     * @notice A round of a task. The first four fields share one storage slot, written when the
     * round opens, so that a commit only updates it.
     */
    struct Round {
        uint64 submissionDeadlineBlock;
        uint32 commitCount;
        uint128 totalSamples;
        RoundPhase phase;
        bytes32 aggregateDigest;
        bytes32 modelDigest;
        uint64 validationDeadlineBlock;
        uint32 acceptVotes;
        uint32 rejectVotes;
    }

    /// @notice One participant's update in one round, packed into a single storage slot.
    struct Contribution {
        uint64 samples;
        uint64 committedAtBlock;
        bool rewardClaimed;
    }

    /// @notice Longest submission or validation window a task may set, in blocks.
    uint64 public constant MAX_WINDOW_BLOCKS = type(uint32).max;

    /// @notice The reward token; this contract must hold its `MINTER_ROLE`.
    FedToken public immutable token;

    /// @notice The incentive mechanism that splits a round's reward between its contributors.
    IRewardPolicy public immutable rewardPolicy;

    uint256 private _taskCount;
    mapping(uint256 taskId => Task) private _tasks;
    mapping(uint256 taskId => mapping(uint32 round => Round)) private _rounds;
    mapping(uint256 taskId => mapping(uint32 round => mapping(address participant => Contribution)))
        private _contributions;
    mapping(uint256 taskId => mapping(address account => bool)) private _participants;
    mapping(uint256 taskId => mapping(address account => bool)) private _validators;
    mapping(uint256 taskId => mapping(uint32 round => mapping(address validator => bool))) private _votes;
    mapping(uint256 taskId => mapping(uint32 round => uint256 amount)) private _rewardPaid;

    /// @notice A task was created; `coordinator` (its creator) manages validators and rounds.
    event TaskCreated(
        uint256 indexed taskId, address indexed coordinator, address aggregator, address keyHolder, TaskParams params
    );

    /// @notice `validator` may now vote on the task's rounds.
    event ValidatorAdded(uint256 indexed taskId, address indexed validator, uint32 validatorCount);

    /// @notice `participant` joined the task and may commit updates.
    event ParticipantJoined(uint256 indexed taskId, address indexed participant, uint32 participantCount);

    /// @notice A round opened; updates are accepted up to and including `submissionDeadlineBlock`.
    event RoundOpened(uint256 indexed taskId, uint32 indexed round, uint64 submissionDeadlineBlock);

    /// @notice `participant` committed the digest of its update, trained on `samples` samples.
    event UpdateCommitted(
        uint256 indexed taskId, uint32 indexed round, address indexed participant, bytes32 updateDigest, uint64 samples
    );

    /// @notice The aggregator committed the digest of the aggregate of the round's `commitCount` updates.
    event AggregateCommitted(
        uint256 indexed taskId, uint32 indexed round, bytes32 aggregateDigest, uint32 commitCount, uint128 totalSamples
    );

    /// @notice The key holder committed the decrypted model; votes are open up to `validationDeadlineBlock`.
    event ModelCommitted(uint256 indexed taskId, uint32 indexed round, bytes32 modelDigest, uint64 validationDeadlineBlock);

    /// @notice `validator` voted on the round's model; `metricPpm` is its measured metric in parts per million.
    event VoteCast(uint256 indexed taskId, uint32 indexed round, address indexed validator, bool accept, uint32 metricPpm);

    /// @notice The round was accepted or rejected; `modelDigest` is the task's current model afterwards.
    event RoundFinalized(uint256 indexed taskId, uint32 indexed round, bool accepted, bytes32 modelDigest);

    /// @notice The key holder refused a round's aggregate: recomputing the sum of the committed
    /// updates gave `recomputedDigest`, not the committed one. Evidence for a later dispute.
    event AggregateRejected(
        uint256 indexed taskId, uint32 indexed round, address indexed keyHolder, bytes32 recomputedDigest
    );

    /// @notice `participant` claimed `amount` token base units for its contribution to the round.
    event RewardClaimed(uint256 indexed taskId, uint32 indexed round, address indexed participant, uint256 amount);

    /// @dev No task has id `taskId`.
    error TrainingUnknownTask(uint256 taskId);
    /// @dev A parameter of the constructor, {createTask} or {addValidator} is out of range.
    error TrainingInvalidParams(string reason);
    /// @dev `account` is not the task's coordinator.
    error TrainingNotCoordinator(uint256 taskId, address account);
    /// @dev `account` is not the task's aggregator.
    error TrainingNotAggregator(uint256 taskId, address account);
    /// @dev `account` is not the task's key holder.
    error TrainingNotKeyHolder(uint256 taskId, address account);
    /// @dev `account` is not a validator of the task.
    error TrainingNotValidator(uint256 taskId, address account);
    /// @dev `account` has not joined the task.
    error TrainingNotParticipant(uint256 taskId, address account);
    /// @dev `account` already joined the task.
    error TrainingAlreadyJoined(uint256 taskId, address account);
    /// @dev `account` already is a validator of the task.
    error TrainingAlreadyValidator(uint256 taskId, address account);
    /// @dev `round` is not the task's current round (or no round was opened yet).
    error TrainingNotCurrentRound(uint256 taskId, uint32 round, uint32 currentRound);
    /// @dev The round is in phase `actual`, the call needs `expected`.
    error TrainingWrongPhase(uint256 taskId, uint32 round, RoundPhase expected, RoundPhase actual);
    /// @dev The round's submission window closed at `deadlineBlock`.
    error TrainingSubmissionWindowClosed(uint256 taskId, uint32 round, uint64 deadlineBlock);
    /// @dev The round's submission window is open until `deadlineBlock` (and not every participant committed).
    error TrainingSubmissionWindowOpen(uint256 taskId, uint32 round, uint64 deadlineBlock);
    /// @dev `participant` already committed an update for the round.
    error TrainingAlreadyCommitted(uint256 taskId, uint32 round, address participant);
    /// @dev An update must declare at least one sample.
    error TrainingZeroSamples(uint256 taskId, uint32 round);
    /// @dev A committed digest is zero.
    error TrainingZeroDigest();
    /// @dev The round has `commitCount` updates, aggregation needs `minParticipants`.
    error TrainingTooFewUpdates(uint256 taskId, uint32 round, uint32 commitCount, uint32 minParticipants);
    /// @dev The round's validation window closed at `deadlineBlock`.
    error TrainingValidationWindowClosed(uint256 taskId, uint32 round, uint64 deadlineBlock);
    /// @dev The round's validation window is open until `deadlineBlock`.
    error TrainingValidationWindowOpen(uint256 taskId, uint32 round, uint64 deadlineBlock);
    /// @dev `validator` already voted on the round.
    error TrainingAlreadyVoted(uint256 taskId, uint32 round, address validator);
    /// @dev The round was not accepted, so it pays no reward.
    error TrainingRoundNotAccepted(uint256 taskId, uint32 round);
    /// @dev `account` committed no update to the round.
    error TrainingNoContribution(uint256 taskId, uint32 round, address account);
    /// @dev `account` already claimed its reward for the round.
    error TrainingRewardAlreadyClaimed(uint256 taskId, uint32 round, address account);
    /// @dev The reward policy asked for `amount`, more than the `remaining` part of the round's reward.
    error TrainingRewardExceedsPool(uint256 taskId, uint32 round, uint256 amount, uint256 remaining);
    /// @dev The task already ran all of its `maxRounds` rounds.
    error TrainingMaxRoundsReached(uint256 taskId, uint32 maxRounds);
    /// @dev The current round `round` is neither accepted nor rejected yet.
    error TrainingRoundStillOpen(uint256 taskId, uint32 round);
    /// @dev The task has `validatorCount` validators, fewer than its `quorum`.
    error TrainingNotEnoughValidators(uint256 taskId, uint32 validatorCount, uint32 quorum);

    /**
     * @notice Deploys the registry. The deployer must then grant the token's `MINTER_ROLE` to it.
     * @param token_ The reward token.
     * @param rewardPolicy_ The incentive mechanism that splits each round's reward.
     */
    constructor(FedToken token_, IRewardPolicy rewardPolicy_) {
        if (address(token_) == address(0)) {
            revert TrainingInvalidParams("token is the zero address");
        }
        if (address(rewardPolicy_) == address(0)) {
            revert TrainingInvalidParams("rewardPolicy is the zero address");
        }
        token = token_;
        rewardPolicy = rewardPolicy_;
    }

    // ------------------------------------------------------------------------------------------
    // Task set-up
    // ------------------------------------------------------------------------------------------

    /**
     * @notice Creates a task; the caller becomes its coordinator. Task ids start at 1.
     * @dev Reverts with {TrainingInvalidParams} when a count or window is zero, a window exceeds
     * {MAX_WINDOW_BLOCKS}, a digest is zero or a role is the zero address. Emits {TaskCreated}.
     * @param params The task's configuration; `initialModelDigest` becomes its current model.
     * @param aggregator Account that commits the aggregate of each round's updates.
     * @param keyHolder Account that holds the decryption key and commits each round's model.
     * @return taskId The new task's id.
     */
    function createTask(TaskParams calldata params, address aggregator, address keyHolder)
        external
        returns (uint256 taskId)
    {
        _validateParams(params, aggregator, keyHolder);
        taskId = ++_taskCount;
        Task storage task = _tasks[taskId];
        task.params = params;
        task.coordinator = msg.sender;
        task.aggregator = aggregator;
        task.keyHolder = keyHolder;
        task.currentModelDigest = params.initialModelDigest;
        emit TaskCreated(taskId, msg.sender, aggregator, keyHolder, params);
    }

    /**
     * @notice Adds `validator` to the task's validators. Coordinator only; one validator per call.
     * @dev Emits {ValidatorAdded}.
     * @param taskId The task.
     * @param validator Account that will vote on the task's rounds.
     */
    function addValidator(uint256 taskId, address validator) external {
        Task storage task = _existingTask(taskId);
        _checkCoordinator(task, taskId);
        if (validator == address(0)) {
            revert TrainingInvalidParams("validator is the zero address");
        }
        if (_validators[taskId][validator]) {
            revert TrainingAlreadyValidator(taskId, validator);
        }
        _validators[taskId][validator] = true;
        uint32 validatorCount = ++task.validatorCount;
        emit ValidatorAdded(taskId, validator, validatorCount);
    }

    /**
     * @notice Joins the task as a participant, allowed to commit updates. Anyone, once per task.
     * @dev Emits {ParticipantJoined}.
     * @param taskId The task.
     */
    function join(uint256 taskId) external {
        Task storage task = _existingTask(taskId);
        if (_participants[taskId][msg.sender]) {
            revert TrainingAlreadyJoined(taskId, msg.sender);
        }
        _participants[taskId][msg.sender] = true;
        uint32 participantCount = ++task.participantCount;
        emit ParticipantJoined(taskId, msg.sender, participantCount);
    }

    // ------------------------------------------------------------------------------------------
    // Rounds
    // ------------------------------------------------------------------------------------------

    /**
     * @notice Opens the task's next round (the first is round 1). Coordinator only.
     * @dev Requires the previous round to be Accepted or Rejected, fewer than `maxRounds` rounds so
     * far and at least `validatorQuorum` validators. Updates are accepted up to and including block
     * `block.number + submissionWindowBlocks`. Emits {RoundOpened}.
     * @param taskId The task.
     * @return round The number of the opened round.
     */
    function openRound(uint256 taskId) external returns (uint32 round) {
        Task storage task = _existingTask(taskId);
        _checkCoordinator(task, taskId);
        uint32 previous = task.currentRound;
        if (previous != 0) {
            RoundPhase previousPhase = _rounds[taskId][previous].phase;
            if (previousPhase != RoundPhase.Accepted && previousPhase != RoundPhase.Rejected) {
                revert TrainingRoundStillOpen(taskId, previous);
            }
        }
        uint32 maxRounds = task.params.maxRounds;
        if (previous >= maxRounds) {
            revert TrainingMaxRoundsReached(taskId, maxRounds);
        }
        uint32 quorum = task.params.validatorQuorum;
        if (task.validatorCount < quorum) {
            revert TrainingNotEnoughValidators(taskId, task.validatorCount, quorum);
        }
        round = previous + 1;
        task.currentRound = round;
        uint64 deadlineBlock = uint64(block.number) + task.params.submissionWindowBlocks;
        Round storage r = _rounds[taskId][round];
        r.submissionDeadlineBlock = deadlineBlock;
        r.phase = RoundPhase.Collecting;
        emit RoundOpened(taskId, round, deadlineBlock);
    }

    /**
     * @notice Commits the digest of the caller's update for the current round. Participants only,
     * once per round, until the submission deadline (inclusive).
     * @dev The digest is recorded only in the {UpdateCommitted} event; storage keeps the samples and
     * block of the commit (one fresh slot) and the round's counters (one updated slot).
     * @param taskId The task.
     * @param round The current round, which must be Collecting.
     * @param updateDigest sha256 of the (encrypted) update blob; not zero.
     * @param samples Number of training samples behind the update; not zero.
     */
    function commitUpdate(uint256 taskId, uint32 round, bytes32 updateDigest, uint64 samples) external {
        // A Collecting round is always its task's current round, so the task itself is not read
        // unless the call fails.
        Round storage r = _roundInPhase(taskId, round, RoundPhase.Collecting);
        if (!_participants[taskId][msg.sender]) {
            revert TrainingNotParticipant(taskId, msg.sender);
        }
        uint64 deadlineBlock = r.submissionDeadlineBlock;
        if (block.number > deadlineBlock) {
            revert TrainingSubmissionWindowClosed(taskId, round, deadlineBlock);
        }
        if (updateDigest == bytes32(0)) {
            revert TrainingZeroDigest();
        }
        if (samples == 0) {
            revert TrainingZeroSamples(taskId, round);
        }
        Contribution storage contribution = _contributions[taskId][round][msg.sender];
        if (contribution.samples != 0) {
            revert TrainingAlreadyCommitted(taskId, round, msg.sender);
        }
        _contributions[taskId][round][msg.sender] =
            Contribution({samples: samples, committedAtBlock: uint64(block.number), rewardClaimed: false});
        r.commitCount += 1;
        r.totalSamples += samples;
        emit UpdateCommitted(taskId, round, msg.sender, updateDigest, samples);
    }

    /**
     * @notice Commits the digest of the aggregate of the round's updates and closes the round to
     * further commits. Aggregator only.
     * @dev Requires at least `minParticipants` updates, and either the submission window closed or
     * every participant committed. Collecting -> Aggregated. Emits {AggregateCommitted}.
     * @param taskId The task.
     * @param round The current round, which must be Collecting.
     * @param aggregateDigest sha256 of the encrypted aggregate blob; not zero.
     */
    function commitAggregate(uint256 taskId, uint32 round, bytes32 aggregateDigest) external {
        Task storage task = _existingTask(taskId);
        if (msg.sender != task.aggregator) {
            revert TrainingNotAggregator(taskId, msg.sender);
        }
        Round storage r = _roundInPhase(taskId, round, RoundPhase.Collecting);
        if (aggregateDigest == bytes32(0)) {
            revert TrainingZeroDigest();
        }
        uint32 commitCount = r.commitCount;
        uint32 minParticipants = task.params.minParticipants;
        if (commitCount < minParticipants) {
            revert TrainingTooFewUpdates(taskId, round, commitCount, minParticipants);
        }
        uint64 deadlineBlock = r.submissionDeadlineBlock;
        if (block.number <= deadlineBlock && commitCount != task.participantCount) {
            revert TrainingSubmissionWindowOpen(taskId, round, deadlineBlock);
        }
        r.phase = RoundPhase.Aggregated;
        r.aggregateDigest = aggregateDigest;
        emit AggregateCommitted(taskId, round, aggregateDigest, commitCount, r.totalSamples);
    }

    /**
     * @notice Commits the digest of the round's decrypted model and opens the vote. Key holder only.
     * @dev Aggregated -> Validating; votes are accepted up to and including block
     * `block.number + validationWindowBlocks`. Emits {ModelCommitted}.
     * @param taskId The task.
     * @param round The current round, which must be Aggregated.
     * @param modelDigest sha256 of the new model blob; not zero.
     */
    function commitModel(uint256 taskId, uint32 round, bytes32 modelDigest) external {
        Task storage task = _existingTask(taskId);
        if (msg.sender != task.keyHolder) {
            revert TrainingNotKeyHolder(taskId, msg.sender);
        }
        Round storage r = _roundInPhase(taskId, round, RoundPhase.Aggregated);
        if (modelDigest == bytes32(0)) {
            revert TrainingZeroDigest();
        }
        uint64 deadlineBlock = uint64(block.number) + task.params.validationWindowBlocks;
        r.phase = RoundPhase.Validating;
        r.modelDigest = modelDigest;
        r.validationDeadlineBlock = deadlineBlock;
        emit ModelCommitted(taskId, round, modelDigest, deadlineBlock);
    }

    /**
     * @notice Rejects the round's aggregate because it is not the sum of the committed updates.
     * Key holder only, instead of {commitModel}.
     * @dev Anyone with the public context can recompute the sum from the committed update blobs;
     * the key holder does so before decrypting and, on a mismatch, calls this rather than
     * decrypting a forged sum. Aggregated -> Rejected (the current model is kept). Emits
     * {AggregateRejected} then {RoundFinalized}.
     * @param taskId The task.
     * @param round The current round, which must be Aggregated.
     * @param recomputedDigest sha256 of the sum the key holder recomputed (evidence); not zero.
     */
    function rejectAggregate(uint256 taskId, uint32 round, bytes32 recomputedDigest) external {
        Task storage task = _existingTask(taskId);
        if (msg.sender != task.keyHolder) {
            revert TrainingNotKeyHolder(taskId, msg.sender);
        }
        Round storage r = _roundInPhase(taskId, round, RoundPhase.Aggregated);
        if (recomputedDigest == bytes32(0)) {
            revert TrainingZeroDigest();
        }
        emit AggregateRejected(taskId, round, msg.sender, recomputedDigest);
        _finalize(task, r, taskId, round, false);
    }

    /**
     * @notice Votes on the round's model. Validators only, once per round, until the validation
     * deadline (inclusive).
     * @dev Emits {VoteCast}. The vote that brings the accept votes to `validatorQuorum` accepts the
     * round: the task's current model becomes the round's model. The vote that makes the quorum
     * unreachable (reject votes > validatorCount - validatorQuorum) rejects it and keeps the
     * current model. Either emits {RoundFinalized} in the same transaction.
     * @param taskId The task.
     * @param round The current round, which must be Validating.
     * @param accept Whether the validator accepts the model.
     * @param metricPpm The metric the validator measured (e.g. accuracy) in parts per million.
     */
    function vote(uint256 taskId, uint32 round, bool accept, uint32 metricPpm) external {
        Task storage task = _existingTask(taskId);
        if (!_validators[taskId][msg.sender]) {
            revert TrainingNotValidator(taskId, msg.sender);
        }
        Round storage r = _roundInPhase(taskId, round, RoundPhase.Validating);
        uint64 deadlineBlock = r.validationDeadlineBlock;
        if (block.number > deadlineBlock) {
            revert TrainingValidationWindowClosed(taskId, round, deadlineBlock);
        }
        if (_votes[taskId][round][msg.sender]) {
            revert TrainingAlreadyVoted(taskId, round, msg.sender);
        }
        _votes[taskId][round][msg.sender] = true;
        uint32 quorum = task.params.validatorQuorum;
        if (accept) {
            uint32 acceptVotes = ++r.acceptVotes;
            emit VoteCast(taskId, round, msg.sender, true, metricPpm);
            if (acceptVotes >= quorum) {
                _finalize(task, r, taskId, round, true);
            }
        } else {
            uint32 rejectVotes = ++r.rejectVotes;
            emit VoteCast(taskId, round, msg.sender, false, metricPpm);
            if (rejectVotes > task.validatorCount - quorum) {
                _finalize(task, r, taskId, round, false);
            }
        }
    }

    /**
     * @notice Rejects a round that timed out. Anyone may call it.
     * @dev Applies to a Validating round past its validation deadline, and to a Collecting round
     * whose submission window closed with fewer than `minParticipants` updates (it can never be
     * aggregated). The current model is kept. Emits {RoundFinalized}.
     * @param taskId The task.
     * @param round The current round.
     */
    function finalizeRound(uint256 taskId, uint32 round) external {
        Task storage task = _existingTask(taskId);
        Round storage r = _rounds[taskId][round];
        if (r.phase == RoundPhase.Collecting) {
            uint64 submissionDeadlineBlock = r.submissionDeadlineBlock;
            if (block.number <= submissionDeadlineBlock) {
                revert TrainingSubmissionWindowOpen(taskId, round, submissionDeadlineBlock);
            }
            if (r.commitCount >= task.params.minParticipants) {
                // Enough updates: the round waits for its aggregate, it has not failed.
                revert TrainingWrongPhase(taskId, round, RoundPhase.Validating, RoundPhase.Collecting);
            }
        } else {
            _roundInPhase(taskId, round, RoundPhase.Validating);
            uint64 validationDeadlineBlock = r.validationDeadlineBlock;
            if (block.number <= validationDeadlineBlock) {
                revert TrainingValidationWindowOpen(taskId, round, validationDeadlineBlock);
            }
        }
        _finalize(task, r, taskId, round, false);
    }

    // ------------------------------------------------------------------------------------------
    // Rewards
    // ------------------------------------------------------------------------------------------

    /**
     * @notice Claims the caller's reward for an accepted round it contributed to, once. The
     * amount is set by {rewardPolicy} and minted to the caller.
     * @dev Reverts with {TrainingRewardExceedsPool} if the policy would pay out more than the round's
     * `rewardPerRound` in total. Emits {RewardClaimed} (and the token's {Transfer} when non-zero).
     * @param taskId The task.
     * @param round An accepted round of the task.
     * @return amount The reward minted, in token base units.
     */
    function claimReward(uint256 taskId, uint32 round) external returns (uint256 amount) {
        Round storage r = _rounds[taskId][round];
        if (r.phase != RoundPhase.Accepted) {
            _existingTask(taskId);
            revert TrainingRoundNotAccepted(taskId, round);
        }
        Contribution storage contribution = _contributions[taskId][round][msg.sender];
        uint64 samples = contribution.samples;
        if (samples == 0) {
            revert TrainingNoContribution(taskId, round, msg.sender);
        }
        if (contribution.rewardClaimed) {
            revert TrainingRewardAlreadyClaimed(taskId, round, msg.sender);
        }
        uint256 rewardPerRound = _tasks[taskId].params.rewardPerRound;
        amount = rewardPolicy.rewardFor(rewardPerRound, samples, r.totalSamples);
        uint256 paid = _rewardPaid[taskId][round];
        if (amount > rewardPerRound - paid) {
            revert TrainingRewardExceedsPool(taskId, round, amount, rewardPerRound - paid);
        }
        contribution.rewardClaimed = true;
        _rewardPaid[taskId][round] = paid + amount;
        emit RewardClaimed(taskId, round, msg.sender, amount);
        if (amount != 0) {
            token.mint(msg.sender, amount);
        }
    }

    // ------------------------------------------------------------------------------------------
    // Views
    // ------------------------------------------------------------------------------------------

    /**
     * @notice Number of tasks created so far (the id of the latest one).
     * @return The number of tasks.
     */
    function taskCount() external view returns (uint256) {
        return _taskCount;
    }

    /**
     * @notice A task's parameters, roles and progress.
     * @dev Reverts with {TrainingUnknownTask} for an id that was never created.
     * @param taskId The task.
     * @return The task.
     */
    function getTask(uint256 taskId) external view returns (Task memory) {
        return _existingTask(taskId);
    }

    /**
     * @notice A round of a task; all zero (phase `None`) for a round that was never opened.
     * @param taskId The task.
     * @param round The round number (the first is 1).
     * @return The round.
     */
    function getRound(uint256 taskId, uint32 round) external view returns (Round memory) {
        return _rounds[taskId][round];
    }

    /**
     * @notice What `participant` committed to a round; all zero if it committed nothing.
     * @param taskId The task.
     * @param round The round number.
     * @param participant The account.
     * @return The contribution.
     */
    function getContribution(uint256 taskId, uint32 round, address participant)
        external
        view
        returns (Contribution memory)
    {
        return _contributions[taskId][round][participant];
    }

    /**
     * @notice Whether `account` joined the task.
     * @param taskId The task.
     * @param account The account.
     * @return True for a participant.
     */
    function isParticipant(uint256 taskId, address account) external view returns (bool) {
        return _participants[taskId][account];
    }

    /**
     * @notice Whether `account` is a validator of the task.
     * @param taskId The task.
     * @param account The account.
     * @return True for a validator.
     */
    function isValidator(uint256 taskId, address account) external view returns (bool) {
        return _validators[taskId][account];
    }

    /**
     * @notice Whether `validator` voted on the round.
     * @param taskId The task.
     * @param round The round number.
     * @param validator The account.
     * @return True once it voted.
     */
    function hasVoted(uint256 taskId, uint32 round, address validator) external view returns (bool) {
        return _votes[taskId][round][validator];
    }

    /**
     * @notice The reward {claimReward} would pay `participant` for the round now.
     * @dev 0 when the round is not accepted, the account did not contribute, already claimed, or
     * the claim would exceed the round's reward.
     * @param taskId The task.
     * @param round The round number.
     * @param participant The account.
     * @return The claimable reward in token base units.
     */
    function pendingReward(uint256 taskId, uint32 round, address participant) external view returns (uint256) {
        Round storage r = _rounds[taskId][round];
        Contribution memory contribution = _contributions[taskId][round][participant];
        if (r.phase != RoundPhase.Accepted || contribution.samples == 0 || contribution.rewardClaimed) {
            return 0;
        }
        uint256 rewardPerRound = _tasks[taskId].params.rewardPerRound;
        uint256 amount = rewardPolicy.rewardFor(rewardPerRound, contribution.samples, r.totalSamples);
        return amount > rewardPerRound - _rewardPaid[taskId][round] ? 0 : amount;
    }

    /**
     * @notice Total reward already claimed for the round, in token base units (<= `rewardPerRound`).
     * @param taskId The task.
     * @param round The round number.
     * @return The amount paid out so far.
     */
    function rewardPaid(uint256 taskId, uint32 round) external view returns (uint256) {
        return _rewardPaid[taskId][round];
    }

    // ------------------------------------------------------------------------------------------
    // Internals
    // ------------------------------------------------------------------------------------------

    function _existingTask(uint256 taskId) private view returns (Task storage task) {
        task = _tasks[taskId];
        if (task.coordinator == address(0)) {
            revert TrainingUnknownTask(taskId);
        }
    }

    function _checkCoordinator(Task storage task, uint256 taskId) private view {
        if (msg.sender != task.coordinator) {
            revert TrainingNotCoordinator(taskId, msg.sender);
        }
    }

    /**
     * @dev Returns the round if it is in phase `expected`, one of the phases only the current round
     * can be in (Collecting, Aggregated, Validating). Otherwise reverts with the most useful error:
     * unknown task, not the current round, or wrong phase.
     */
    function _roundInPhase(uint256 taskId, uint32 round, RoundPhase expected) private view returns (Round storage r) {
        r = _rounds[taskId][round];
        RoundPhase actual = r.phase;
        if (actual != expected) {
            uint32 currentRound = _existingTask(taskId).currentRound;
            if (currentRound == 0 || round != currentRound) {
                revert TrainingNotCurrentRound(taskId, round, currentRound);
            }
            revert TrainingWrongPhase(taskId, round, expected, actual);
        }
    }

    function _finalize(Task storage task, Round storage r, uint256 taskId, uint32 round, bool accepted) private {
        if (accepted) {
            r.phase = RoundPhase.Accepted;
            task.currentModelDigest = r.modelDigest;
            task.lastAcceptedRound = round;
        } else {
            r.phase = RoundPhase.Rejected;
        }
        emit RoundFinalized(taskId, round, accepted, task.currentModelDigest);
    }

    function _validateParams(TaskParams calldata params, address aggregator, address keyHolder) private pure {
        if (params.modelSpecDigest == bytes32(0)) {
            revert TrainingInvalidParams("modelSpecDigest is zero");
        }
        if (params.publicContextDigest == bytes32(0)) {
            revert TrainingInvalidParams("publicContextDigest is zero");
        }
        if (params.initialModelDigest == bytes32(0)) {
            revert TrainingInvalidParams("initialModelDigest is zero");
        }
        if (params.minParticipants == 0) {
            revert TrainingInvalidParams("minParticipants must be >= 1");
        }
        if (params.maxRounds == 0) {
            revert TrainingInvalidParams("maxRounds must be >= 1");
        }
        if (params.validatorQuorum == 0) {
            revert TrainingInvalidParams("validatorQuorum must be >= 1");
        }
        if (params.submissionWindowBlocks == 0 || params.submissionWindowBlocks > MAX_WINDOW_BLOCKS) {
            revert TrainingInvalidParams("submissionWindowBlocks must be in [1, 2^32 - 1]");
        }
        if (params.validationWindowBlocks == 0 || params.validationWindowBlocks > MAX_WINDOW_BLOCKS) {
            revert TrainingInvalidParams("validationWindowBlocks must be in [1, 2^32 - 1]");
        }
        if (aggregator == address(0)) {
            revert TrainingInvalidParams("aggregator is the zero address");
        }
        if (keyHolder == address(0)) {
            revert TrainingInvalidParams("keyHolder is the zero address");
        }
    }
}
