// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IRewardPolicy} from "./IRewardPolicy.sol";

/**
 * @title IFederatedTraining
 * @notice The types, events and errors of the `FederatedTraining` ledger, kept apart from its logic
 * (as OpenZeppelin keeps `IERC20` and `draft-IERC6093`) so that clients and indexers read one file.
 * @dev Every event carries the task id, and where it applies the round and the digest, as indexed
 * topics: a client filters logs by topic instead of scanning every log of a type.
 */
interface IFederatedTraining {
    // ------------------------------------------------------------------------------------------
    // Types
    // ------------------------------------------------------------------------------------------

    /// @notice Configuration of a task, fixed at creation (only the public context changes, with the key holder).
    struct TaskParams {
        bytes32 modelSpecDigest; // sha256 of the model layout description
        bytes32 publicContextDigest; // sha256 of the encryption public context blob
        bytes32 initialModelDigest; // sha256 of the initial model blob
        uint32 minParticipants; // min included updates for a round to be aggregated (>= 1)
        uint32 maxRounds; // rounds put to a vote before the task ends (>= 1)
        uint32 validatorQuorum; // accept votes needed, at least a majority of the round's validators (>= 1)
        uint64 submissionWindowBlocks; // blocks a round collects updates (1 .. MAX_WINDOW_BLOCKS)
        uint64 validationWindowBlocks; // blocks validators have to vote (1 .. MAX_WINDOW_BLOCKS)
        uint256 rewardPerRound; // reward token base units escrowed per round, paid for accepted rounds
        uint32 maxSamplesPerUpdate; // most samples one update may declare (>= 1)
        uint64 aggregationWindowBlocks; // blocks the aggregator, then the key holder, has to act (1 .. MAX_WINDOW_BLOCKS)
        bool admissionControlled; // only accounts the coordinator admitted may join (see `admit`)
        bool masked; // updates carry pairwise masks: no single update can be decrypted (see `advertiseMaskingKey`)
    }

    /**
     * @notice Where a round stands. `None` is a round that was never opened. `Collecting` takes
     * updates until its submission window closes, then awaits its aggregate. A rejected aggregate
     * sends an `Aggregated` round back to `Collecting` (its window stays closed). `Accepted` and
     * `Rejected` are the outcome of a vote; `Cancelled` ends a stalled round without a vote.
     */
    enum RoundPhase {
        None,
        Collecting,
        Aggregated,
        Validating,
        Accepted,
        Rejected,
        Cancelled
    }

    /// @notice The one role an account holds in a task: roles never overlap.
    enum Role {
        None,
        Participant,
        Validator,
        Coordinator,
        Aggregator,
        KeyHolder
    }

    /// @notice Why a round was cancelled.
    enum CancelReason {
        TooFewUpdates, // collection closed with fewer than minParticipants included updates
        AggregatorSilent, // no aggregate by the round's action deadline
        KeyHolderSilent // neither model nor rejection by the round's action deadline
    }

    /// @notice Why the aggregator excluded an update from its round.
    enum ExclusionReason {
        Missing, // no blob under the digest
        Altered, // the blob's digest is not the committed digest
        Malformed, // the blob does not deserialize
        WrongShape, // the blob does not fit the task's model
        Oversized // the blob exceeds the task's size bound
    }

    /// @notice A task: its parameters, its roles and its progress.
    struct Task {
        TaskParams params;
        address coordinator; // created the task, funded its escrow, manages roles and rounds
        address aggregator;
        address keyHolder;
        uint32 participantCount;
        uint32 validatorCount;
        uint32 currentRound; // the latest opened round (0 before the first)
        uint32 lastAcceptedRound;
        uint32 votedRounds; // rounds that reached a vote outcome: counted against maxRounds
        uint32 acceptedRounds;
        bool ended; // no round opens any more: maxRounds voted, or closed by the coordinator
        bool escrowReclaimed;
        bytes32 currentModelDigest;
        uint32 rewardedRejectedRounds; // rejected rounds whose reward its policy still pays (see IRewardPolicy)
        address governor; // zero until the coordinator hands the validator set and round rules over (see `handOverGovernance`)
    }

    /**
     * @notice A round of a task. The first five fields share one storage slot (the one a commit
     * updates); the next seven share a second one, written when the round opens.
     */
    struct Round {
        RoundPhase phase;
        uint48 submissionDeadlineBlock; // updates are taken up to and including this block
        uint32 commitCount; // included updates (committed minus excluded)
        uint64 totalSamples; // samples of the included updates
        uint104 updatesHash; // sum mod 2^104 of updateTerm(participant, digest) over included updates
        uint48 actionDeadlineBlock; // the aggregator (Collecting) or key holder (Aggregated) acts by it
        uint48 validationDeadlineBlock; // votes are taken up to and including this block
        uint32 eligibleParticipants; // participants registered when the round opened
        uint32 validatorCount; // validators registered when the round opened: the electorate
        uint32 excludedCount; // updates the aggregator excluded
        uint32 acceptVotes;
        uint32 rejectVotes;
        bytes32 aggregateDigest; // zero until aggregated, and again after a rejected aggregate
        bytes32 modelDigest;
    }

    /**
     * @notice An account the coordinator admitted to an admission-controlled task, in one slot.
     * `sampleCap` bounds the samples its updates may declare (0: the task's `maxSamplesPerUpdate`).
     */
    struct Admission {
        bool admitted;
        uint32 sampleCap;
    }

    /// @notice One committed update, stored under its digest (one fresh storage slot per commit).
    struct Contribution {
        address participant;
        uint32 round;
        uint32 samples;
        bool excluded;
        bool rewardClaimed;
    }

    /// @notice An account's role in a task, packed into one storage slot.
    struct Member {
        Role role;
        uint32 firstRound; // the first round it may commit to (participant) or vote in (validator)
        uint32 lastCommittedRound; // participants: the latest round it committed an update to
        uint32 maxSamplesPerUpdate; // participants: the task's bound, copied at join (saves a read per commit)
        bool masked; // participants: the task is masked, copied at join (saves a read per commit)
        uint32 lastAdvertisedRound; // masked participants: the latest round it advertised a masking key in
        uint32 lastRevealedRound; // masked participants: the latest round it revealed its masks in
    }

    /**
     * @notice A participant's commitment to its update, signed off-chain as EIP-712 typed data
     * `UpdateCommitment(uint256 taskId,uint32 round,bytes32 updateDigest,uint64 samples)` under this
     * contract's domain (chain id and address), as the aggregator submits it in a batch.
     * `r` and `vs` are the signature in its 64-byte (EIP-2098) form.
     */
    struct SignedUpdate {
        bytes32 updateDigest;
        uint64 samples;
        bytes32 r;
        bytes32 vs;
    }

    /**
     * @notice A leaf of a round's batch: `keccak256(bytes.concat(keccak256(abi.encode(participant,
     * updateDigest, samples))))` in the batch's Merkle tree (pairs hashed in sorted order).
     */
    struct BatchLeaf {
        address participant;
        bytes32 updateDigest;
        uint64 samples;
    }

    /// @notice A round's batch of signed commitments: its Merkle root, its size, whether it was paid.
    struct Batch {
        bytes32 root;
        uint32 leafCount;
        bool paid;
    }

    /**
     * @notice A round of a masked task: its masking-key advertisement and its reveals, in one slot.
     * Advertisement closes once every eligible participant advertised, or after its deadline;
     * updates are taken only then, so every party masks against the same set of peers.
     */
    struct MaskedRound {
        uint48 advertisementDeadlineBlock; // keys are taken up to and including this block
        uint32 advertisedCount; // participants that advertised a masking key this round
        uint32 revealedCount; // included participants that revealed their masks this round
    }

    // ------------------------------------------------------------------------------------------
    // Events
    // ------------------------------------------------------------------------------------------

    /// @notice The registry was deployed, paying rewards in `token` split by `rewardPolicy`.
    event RegistryDeployed(IERC20 indexed token, IRewardPolicy indexed rewardPolicy);

    /// @notice A task was created; `coordinator` (its creator) funded its escrow and manages it.
    event TaskCreated(
        uint256 indexed taskId, address indexed coordinator, address aggregator, address keyHolder, TaskParams params
    );

    /// @notice `funder` escrowed `amount` reward token base units (rewardPerRound x maxRounds) for the task.
    event EscrowFunded(uint256 indexed taskId, address indexed funder, uint256 amount);

    /// @notice The task's unspent escrow, `amount` base units, went back to `funder`.
    event EscrowReclaimed(uint256 indexed taskId, address indexed funder, uint256 amount);

    /// @notice `validator` may vote in the task's rounds from `firstRound` on.
    event ValidatorAdded(uint256 indexed taskId, address indexed validator, uint32 validatorCount, uint32 firstRound);

    /// @notice The governor removed `validator`: it votes in none of the task's rounds from now on.
    event ValidatorRemoved(uint256 indexed taskId, address indexed validator, uint32 validatorCount);

    /// @notice `by` (the coordinator, or the governor before) handed the task's validator set and
    /// round rules to `governor`.
    event GovernanceHandedOver(uint256 indexed taskId, address indexed by, address indexed governor);

    /// @notice Rounds from `fromRound` on need `minParticipants` included updates and
    /// `validatorQuorum` accept votes; `by` is the coordinator or, once handed over, the governor.
    event RoundRulesChanged(
        uint256 indexed taskId, uint32 indexed fromRound, address indexed by, uint32 minParticipants, uint32 validatorQuorum
    );

    /// @notice `participant` joined the task and may commit updates from `firstRound` on.
    event ParticipantJoined(
        uint256 indexed taskId, address indexed participant, uint32 participantCount, uint32 firstRound
    );

    /// @notice The coordinator admitted `account` to the task; its updates declare at most
    /// `sampleCap` samples (the task's `maxSamplesPerUpdate` when admitted with no cap).
    event ParticipantAdmitted(uint256 indexed taskId, address indexed account, uint32 sampleCap);

    /// @notice The coordinator revoked `account`'s admission: it may not join, nor commit from now on
    /// (an update it already committed stays in its round).
    event AdmissionRevoked(uint256 indexed taskId, address indexed account, bool wasParticipant);

    /// @notice `participant` advertised its round masking public key (64 bytes, x || y on secp256k1).
    event MaskingKeyAdvertised(
        uint256 indexed taskId, uint32 indexed round, address indexed participant, bytes publicKey
    );

    /// @notice `participant` revealed what removes its masks from the round's sum: the blob
    /// `revealDigest` holds its self-mask seed and its pairwise seeds with the round's
    /// advertisers whose updates are not in the sum.
    event MasksRevealed(uint256 indexed taskId, uint32 indexed round, address indexed participant, bytes32 revealDigest);

    /// @notice The coordinator handed the aggregator role from `previous` to `next`.
    event AggregatorChanged(uint256 indexed taskId, address indexed previous, address indexed next);

    /// @notice The coordinator handed the key holder role from `previous` to `next`; the task's
    /// public context is now `publicContextDigest`.
    event KeyHolderChanged(
        uint256 indexed taskId, address indexed previous, address indexed next, bytes32 publicContextDigest
    );

    /// @notice A round opened with its electorate fixed: `eligibleParticipants` may commit up to
    /// `submissionDeadlineBlock`, `validatorCount` validators will vote.
    event RoundOpened(
        uint256 indexed taskId,
        uint32 indexed round,
        uint64 submissionDeadlineBlock,
        uint64 actionDeadlineBlock,
        uint32 eligibleParticipants,
        uint32 validatorCount
    );

    /// @notice `participant` committed the digest of its update, trained on `samples` samples.
    event UpdateCommitted(
        uint256 indexed taskId, uint32 indexed round, bytes32 indexed updateDigest, address participant, uint64 samples
    );

    /// @notice The aggregator committed a batch of `leafCount` signed updates (each also logged as
    /// {UpdateCommitted}) whose Merkle root is `root`.
    event BatchCommitted(
        uint256 indexed taskId, uint32 indexed round, bytes32 indexed root, uint32 leafCount, uint64 totalSamples
    );

    /// @notice The round's batch was paid in one transaction: `paidCount` leaves got `amount` in
    /// total (each also logged as {RewardClaimed}).
    event BatchPaid(uint256 indexed taskId, uint32 indexed round, address indexed payer, uint32 paidCount, uint256 amount);

    /// @notice The aggregator excluded an update whose blob it could not use; it earns nothing.
    event UpdateExcluded(
        uint256 indexed taskId,
        uint32 indexed round,
        bytes32 indexed updateDigest,
        address participant,
        ExclusionReason reason
    );

    /// @notice The aggregator committed the aggregate of exactly the round's `updateCount` included
    /// updates, whose set hash is `updatesHash`.
    event AggregateCommitted(
        uint256 indexed taskId,
        uint32 indexed round,
        bytes32 indexed aggregateDigest,
        uint32 updateCount,
        uint64 totalSamples,
        uint104 updatesHash
    );

    /// @notice The key holder refused the aggregate: recomputing the sum of the included updates
    /// gave `recomputedDigest`. The round awaits a fresh aggregate until `actionDeadlineBlock`.
    event AggregateRejected(
        uint256 indexed taskId,
        uint32 indexed round,
        bytes32 indexed aggregateDigest,
        address keyHolder,
        bytes32 recomputedDigest,
        uint64 actionDeadlineBlock
    );

    /// @notice The key holder committed the decrypted model; votes are open up to `validationDeadlineBlock`.
    event ModelCommitted(
        uint256 indexed taskId, uint32 indexed round, bytes32 indexed modelDigest, uint64 validationDeadlineBlock
    );

    /// @notice `validator` voted on the round's model; `metricPpm` is its measured metric in parts per million.
    event VoteCast(uint256 indexed taskId, uint32 indexed round, address indexed validator, bool accept, uint32 metricPpm);

    /// @notice The votes were tallied: the round was accepted or rejected; `modelDigest` is the
    /// task's current model afterwards.
    event RoundFinalized(
        uint256 indexed taskId,
        uint32 indexed round,
        bytes32 indexed modelDigest,
        bool accepted,
        uint32 acceptVotes,
        uint32 rejectVotes
    );

    /// @notice A stalled round was cancelled for `reason`; it does not count against maxRounds.
    event RoundCancelled(uint256 indexed taskId, uint32 indexed round, CancelReason reason);

    /// @notice The task ended (`closedByCoordinator` false: its maxRounds were voted); no round opens any more.
    event TaskEnded(uint256 indexed taskId, uint32 acceptedRounds, uint32 votedRounds, bool closedByCoordinator);

    /// @notice `participant` claimed `amount` token base units for its update `updateDigest` to the round.
    event RewardClaimed(
        uint256 indexed taskId, uint32 indexed round, address indexed participant, bytes32 updateDigest, uint256 amount
    );

    // ------------------------------------------------------------------------------------------
    // Errors
    // ------------------------------------------------------------------------------------------

    /// @dev The constructor's reward token is the zero address.
    error TrainingInvalidToken(address token);
    /// @dev The constructor's reward policy is the zero address.
    error TrainingInvalidRewardPolicy(address rewardPolicy);
    /// @dev No task has id `taskId`.
    error TrainingUnknownTask(uint256 taskId);
    /// @dev `modelSpecDigest` is zero.
    error TrainingInvalidModelSpecDigest();
    /// @dev `publicContextDigest` (at creation or on a key holder change) is zero.
    error TrainingInvalidPublicContextDigest();
    /// @dev `initialModelDigest` is zero.
    error TrainingInvalidInitialModelDigest();
    /// @dev `minParticipants` is zero.
    error TrainingInvalidMinParticipants(uint32 minParticipants);
    /// @dev `maxRounds` is zero.
    error TrainingInvalidMaxRounds(uint32 maxRounds);
    /// @dev `validatorQuorum` is zero.
    error TrainingInvalidValidatorQuorum(uint32 validatorQuorum);
    /// @dev `maxSamplesPerUpdate` is zero.
    error TrainingInvalidMaxSamplesPerUpdate(uint32 maxSamplesPerUpdate);
    /// @dev `submissionWindowBlocks` is zero or above `maxBlocks`.
    error TrainingInvalidSubmissionWindow(uint64 blocks, uint64 maxBlocks);
    /// @dev `validationWindowBlocks` is zero or above `maxBlocks`.
    error TrainingInvalidValidationWindow(uint64 blocks, uint64 maxBlocks);
    /// @dev `aggregationWindowBlocks` is zero or above `maxBlocks`.
    error TrainingInvalidAggregationWindow(uint64 blocks, uint64 maxBlocks);
    /// @dev The aggregator is the zero address.
    error TrainingInvalidAggregator(address aggregator);
    /// @dev The key holder is the zero address.
    error TrainingInvalidKeyHolder(address keyHolder);
    /// @dev The validator is the zero address.
    error TrainingInvalidValidator(address validator);
    /// @dev Coordinator, aggregator and key holder must be three different accounts.
    error TrainingRolesNotDistinct(address coordinator, address aggregator, address keyHolder);
    /// @dev `account` already holds `role` in the task: one role per account.
    error TrainingRoleConflict(uint256 taskId, address account, Role role);
    /// @dev `rewardPerRound` x `maxRounds` does not fit in 256 bits.
    error TrainingRewardPoolOverflow(uint256 rewardPerRound, uint32 maxRounds);
    /// @dev `funder` allowed this contract `allowance` reward token base units; the escrow needs `needed`.
    error TrainingEscrowNotApproved(address funder, uint256 allowance, uint256 needed);
    /// @dev `funder` holds `balance` reward token base units; the escrow needs `needed`.
    error TrainingEscrowExceedsBalance(address funder, uint256 balance, uint256 needed);
    /// @dev `account` is not the task's coordinator.
    error TrainingNotCoordinator(uint256 taskId, address account);
    /// @dev `account` may not change the task's validators or round rules: `manager` does (the
    /// coordinator, or the governor it handed them to).
    error TrainingNotManager(uint256 taskId, address account, address manager);
    /// @dev `governor` is the zero address.
    error TrainingInvalidGovernor(uint256 taskId, address governor);
    /// @dev `account` is not the task's aggregator.
    error TrainingNotAggregator(uint256 taskId, address account);
    /// @dev `account` is not the task's key holder.
    error TrainingNotKeyHolder(uint256 taskId, address account);
    /// @dev `account` is not a validator of the task.
    error TrainingNotValidator(uint256 taskId, address account);
    /// @dev `account` has not joined the task.
    error TrainingNotParticipant(uint256 taskId, address account);
    /// @dev `account` joined (or became a validator) after the round opened: it takes part from `firstRound`.
    error TrainingNotInRoundSnapshot(uint256 taskId, uint32 round, address account, uint32 firstRound);
    /// @dev `round` is not the task's current round (or no round was opened yet).
    error TrainingNotCurrentRound(uint256 taskId, uint32 round, uint32 currentRound);
    /// @dev The round is in phase `actual`, the call needs `expected`.
    error TrainingWrongPhase(uint256 taskId, uint32 round, RoundPhase expected, RoundPhase actual);
    /// @dev The round's submission window closed at `deadlineBlock`.
    error TrainingSubmissionWindowClosed(uint256 taskId, uint32 round, uint64 deadlineBlock);
    /// @dev The round's submission window is open until `deadlineBlock` (and not every eligible participant committed).
    error TrainingSubmissionWindowOpen(uint256 taskId, uint32 round, uint64 deadlineBlock);
    /// @dev `participant` already committed an update for the round.
    error TrainingAlreadyCommitted(uint256 taskId, uint32 round, address participant);
    /// @dev `updateDigest` was already committed to the task, by `committer`.
    error TrainingDigestAlreadyCommitted(uint256 taskId, bytes32 updateDigest, address committer);
    /// @dev An update must declare at least one sample.
    error TrainingZeroSamples(uint256 taskId, uint32 round);
    /// @dev An update declared `samples` samples, more than the task's `maxSamplesPerUpdate`.
    error TrainingTooManySamples(uint256 taskId, uint32 round, uint64 samples, uint32 maxSamplesPerUpdate);
    /// @dev A committed digest is zero.
    error TrainingZeroDigest();
    /// @dev The round has `commitCount` included updates, aggregation needs `minParticipants`.
    error TrainingTooFewUpdates(uint256 taskId, uint32 round, uint32 commitCount, uint32 minParticipants);
    /// @dev The aggregate names `statedCount` updates hashing to `statedHash`; the round holds
    /// `commitCount` included updates hashing to `updatesHash`.
    error TrainingUpdateSetMismatch(
        uint256 taskId, uint32 round, uint32 commitCount, uint104 updatesHash, uint32 statedCount, uint104 statedHash
    );
    /// @dev No update `updateDigest` was committed to the round.
    error TrainingUnknownUpdate(uint256 taskId, uint32 round, bytes32 updateDigest);
    /// @dev The update `updateDigest` was already excluded from the round.
    error TrainingUpdateAlreadyExcluded(uint256 taskId, uint32 round, bytes32 updateDigest);
    /// @dev The key holder's recomputed digest equals the committed aggregate: nothing to reject.
    error TrainingAggregateMatches(uint256 taskId, uint32 round, bytes32 aggregateDigest);
    /// @dev The round's validation window closed at `deadlineBlock`.
    error TrainingValidationWindowClosed(uint256 taskId, uint32 round, uint64 deadlineBlock);
    /// @dev The round's validation window is open until `deadlineBlock`.
    error TrainingValidationWindowOpen(uint256 taskId, uint32 round, uint64 deadlineBlock);
    /// @dev `validator` already voted on the round.
    error TrainingAlreadyVoted(uint256 taskId, uint32 round, address validator);
    /// @dev The round is not stalled: whoever must act has until `deadlineBlock`.
    error TrainingRoundNotStalled(uint256 taskId, uint32 round, uint64 deadlineBlock);
    /// @dev The round was not accepted, so it pays no reward.
    error TrainingRoundNotAccepted(uint256 taskId, uint32 round);
    /// @dev `account` committed no such update to the round.
    error TrainingNoContribution(uint256 taskId, uint32 round, address account);
    /// @dev The update `updateDigest` was excluded from the round: it earns nothing.
    error TrainingContributionExcluded(uint256 taskId, uint32 round, bytes32 updateDigest);
    /// @dev `account` already claimed its reward for the round.
    error TrainingRewardAlreadyClaimed(uint256 taskId, uint32 round, address account);
    /// @dev The reward policy asked for `amount`, more than the `remaining` part of the round's reward.
    error TrainingRewardExceedsPool(uint256 taskId, uint32 round, uint256 amount, uint256 remaining);
    /// @dev The task ended: no round opens any more.
    error TrainingTaskEnded(uint256 taskId);
    /// @dev The task has not ended: its escrow still backs future rounds.
    error TrainingTaskNotEnded(uint256 taskId);
    /// @dev The task's escrow remainder was already reclaimed.
    error TrainingEscrowAlreadyReclaimed(uint256 taskId);
    /// @dev The current round `round` has not finished (accepted, rejected or cancelled) yet.
    error TrainingRoundStillOpen(uint256 taskId, uint32 round);
    /// @dev The task is open to anyone: there is no admission to grant or revoke.
    error TrainingNotAdmissionControlled(uint256 taskId);
    /// @dev The task is admission-controlled and `account` is not admitted (never, or revoked).
    error TrainingNotAdmitted(uint256 taskId, address account);
    /// @dev An admitted account cannot be the zero address.
    error TrainingInvalidAccount(address account);
    /// @dev An admission's `sampleCap` is above the task's `maxSamplesPerUpdate`.
    error TrainingInvalidSampleCap(uint256 taskId, uint32 sampleCap, uint32 maxSamplesPerUpdate);
    /// @dev An update declared `samples` samples, more than the `sampleCap` its participant was admitted with.
    error TrainingSamplesOverCap(uint256 taskId, uint32 round, uint64 samples, uint32 sampleCap);
    /// @dev The task is not masked: it takes no masking keys nor reveals.
    error TrainingNotMasked(uint256 taskId);
    /// @dev A masking public key must be 64 bytes (x || y on secp256k1).
    error TrainingInvalidMaskingKey(uint256 taskId, uint256 length);
    /// @dev The masking key's proof is not its signature for `participant`: a replayed or forged key.
    error TrainingMaskingKeyNotProven(uint256 taskId, uint32 round, address participant);
    /// @dev `participant` already advertised a masking key in the round.
    error TrainingAlreadyAdvertised(uint256 taskId, uint32 round, address participant);
    /// @dev The round's masking-key advertisement closed (every participant advertised, or its deadline passed).
    error TrainingAdvertisementClosed(uint256 taskId, uint32 round, uint64 deadlineBlock);
    /// @dev The round still takes masking keys until `deadlineBlock` (or every participant advertised).
    error TrainingAdvertisementOpen(uint256 taskId, uint32 round, uint64 deadlineBlock);
    /// @dev `participant` advertised no masking key in the round, so it cannot commit a masked update.
    error TrainingNoMaskingKey(uint256 taskId, uint32 round, address participant);
    /// @dev `participant` already revealed its masks in the round.
    error TrainingAlreadyRevealed(uint256 taskId, uint32 round, address participant);
    /// @dev No included participant revealed its masks yet (`revealedCount` of `commitCount`): a masked
    /// model needs reveals; a silent party's are recovered from its peers' revealed Shamir shares.
    error TrainingMasksNotRevealed(uint256 taskId, uint32 round, uint32 revealedCount, uint32 commitCount);
    /// @dev Masks were revealed for the round's included set: no update can be excluded any more.
    error TrainingMasksRevealed(uint256 taskId, uint32 round);
    /// @dev The task has `validatorCount` validators, fewer than its `quorum`.
    error TrainingNotEnoughValidators(uint256 taskId, uint32 validatorCount, uint32 quorum);
    /// @dev The round already holds its batch: one batch per round.
    error TrainingBatchAlreadyCommitted(uint256 taskId, uint32 round);
    /// @dev A batch must hold at least one signed update.
    error TrainingEmptyBatch(uint256 taskId, uint32 round);
    /// @dev A masked task takes no batches: its reveals need each update's own record.
    error TrainingBatchMasked(uint256 taskId);
    /// @dev The batch's update at `index` carries no valid signature.
    error TrainingBatchSignatureInvalid(uint256 taskId, uint32 round, uint256 index);
    /// @dev A batch's digests must be strictly increasing (so none repeats); the one at `index` is not.
    error TrainingBatchNotSorted(uint256 taskId, uint32 round, uint256 index);
    /// @dev The round has no batch.
    error TrainingNoBatch(uint256 taskId, uint32 round);
    /// @dev The leaf (`participant`, `updateDigest`) and its proof do not lead to the round's batch root.
    error TrainingNotInBatch(uint256 taskId, uint32 round, address participant, bytes32 updateDigest);
    /// @dev The leaves given hash to `computedRoot`, not the round's batch root `root`.
    error TrainingBatchMismatch(uint256 taskId, uint32 round, bytes32 root, bytes32 computedRoot);
    /// @dev The round's batch was already paid.
    error TrainingBatchAlreadyPaid(uint256 taskId, uint32 round);
}
