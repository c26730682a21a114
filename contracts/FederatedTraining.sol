// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {Hashes} from "@openzeppelin/contracts/utils/cryptography/Hashes.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {IFederatedTraining} from "./IFederatedTraining.sol";
import {IRewardPolicy} from "./IRewardPolicy.sol";

/**
 * @title FederatedTraining
 * @notice The ledger of federated training tasks. A coordinator creates a task, escrowing its whole
 * reward pool, and names three distinct accounts: itself, the aggregator and the key holder.
 * Validators are added and participants join, never both. Each round, participants commit a digest
 * of their (encrypted) update; the aggregator commits the digest of the aggregate of exactly the
 * round's included updates, the key holder the digest of the decrypted model, and the validators
 * registered before the round opened vote on it. An accepted round becomes the task's current
 * model and its contributors claim their share of the round's escrowed reward, split by a pluggable
 * {IRewardPolicy}, which may pay a rejected round's contributors too. When the task ends, what its
 * paying rounds did not take returns to the coordinator.
 *
 * Only digests live here: the blobs they name are stored off-chain.
 *
 * Round life cycle: `None -> Collecting -> Aggregated -> Validating -> Accepted | Rejected`.
 * A rejected aggregate sends `Aggregated` back to `Collecting` (window closed) for a fresh
 * aggregate; a stalled `Collecting` or `Aggregated` round can be `Cancelled` by anyone. Only
 * `Accepted` and `Rejected` rounds (a model was voted on) count against `maxRounds`.
 *
 * @dev No function loops over participants or validators: the gas of every call is independent of
 * how many accounts take part in a task. A commit writes one fresh storage slot (its digest's
 * {Contribution}) and updates two warm-able ones (the committer's {Member} slot and the round's
 * first slot).
 */
contract FederatedTraining is IFederatedTraining {
    using SafeERC20 for IERC20;

    /// @notice Longest submission, validation or aggregation window a task may set, in blocks.
    uint64 public constant MAX_WINDOW_BLOCKS = type(uint32).max;

    /// @notice EIP-712 type hash of the commitment a participant signs for a batch.
    bytes32 public constant UPDATE_COMMITMENT_TYPEHASH =
        keccak256("UpdateCommitment(uint256 taskId,uint32 round,bytes32 updateDigest,uint64 samples)");

    /// @dev EIP-712 domain of the signed commitments ("FedChain FederatedTraining", version "1"),
    /// fixed at deployment for the chain it was deployed on. OpenZeppelin's EIP712 would add the
    /// ERC-5267 `eip712Domain()` view, 0.6 KB this contract lacks under EIP-170.
    bytes32 private immutable _domainSeparator;
    uint256 private immutable _deployedChainId;

    /// @notice The reward token, escrowed per task at creation. A plain ERC-20 (no transfer fee).
    IERC20 public immutable token;

    /// @notice The incentive mechanism that splits a round's reward between its contributors.
    IRewardPolicy public immutable rewardPolicy;

    uint256 private _taskCount;
    mapping(uint256 taskId => Task) private _tasks;
    mapping(uint256 taskId => mapping(uint32 round => Round)) private _rounds;
    mapping(uint256 taskId => mapping(bytes32 updateDigest => Contribution)) private _contributions;
    mapping(uint256 taskId => mapping(address account => Member)) private _members;
    mapping(uint256 taskId => mapping(uint32 round => mapping(address validator => bool))) private _votes;
    mapping(uint256 taskId => mapping(uint32 round => uint256 amount)) private _rewardPaid;
    mapping(uint256 taskId => mapping(address account => Admission)) private _admissions;
    mapping(uint256 taskId => mapping(uint32 round => MaskedRound)) private _maskedRounds;
    mapping(uint256 taskId => mapping(uint32 round => Batch)) private _batches;

    /**
     * @notice Deploys the registry. It mints nothing: every task escrows its rewards in `token_`.
     * @dev Emits {RegistryDeployed}.
     * @param token_ The reward token.
     * @param rewardPolicy_ The incentive mechanism that splits each round's reward.
     */
    constructor(IERC20 token_, IRewardPolicy rewardPolicy_) {
        if (address(token_) == address(0)) {
            revert TrainingInvalidToken(address(token_));
        }
        if (address(rewardPolicy_) == address(0)) {
            revert TrainingInvalidRewardPolicy(address(rewardPolicy_));
        }
        token = token_;
        rewardPolicy = rewardPolicy_;
        _deployedChainId = block.chainid;
        _domainSeparator = _buildDomainSeparator();
        emit RegistryDeployed(token_, rewardPolicy_);
    }

    // ------------------------------------------------------------------------------------------
    // Task set-up
    // ------------------------------------------------------------------------------------------

    /**
     * @notice Creates a task; the caller becomes its coordinator and escrows its reward pool,
     * `rewardPerRound x maxRounds` reward token base units, which it must have approved first.
     * Task ids start at 1.
     * @dev Reverts with one specific error per invalid parameter, {TrainingRolesNotDistinct} unless
     * the caller, `aggregator` and `keyHolder` differ, {TrainingRewardPoolOverflow},
     * {TrainingEscrowNotApproved} or {TrainingEscrowExceedsBalance}. Emits {TaskCreated} and
     * {EscrowFunded}, then pulls the escrow (checks-effects-interactions).
     * @param params The task's configuration; `initialModelDigest` becomes its current model.
     * @param aggregator Account that commits the aggregate of each round's updates.
     * @param keyHolder Account that holds the decryption key and commits each round's model.
     * @return taskId The new task's id.
     */
    function createTask(TaskParams calldata params, address aggregator, address keyHolder)
        external
        returns (uint256 taskId)
    {
        _validateParams(params);
        if (aggregator == address(0)) {
            revert TrainingInvalidAggregator(aggregator);
        }
        if (keyHolder == address(0)) {
            revert TrainingInvalidKeyHolder(keyHolder);
        }
        if (msg.sender == aggregator || msg.sender == keyHolder || aggregator == keyHolder) {
            revert TrainingRolesNotDistinct(msg.sender, aggregator, keyHolder);
        }
        uint256 pool = _rewardPool(params.rewardPerRound, params.maxRounds);
        uint256 allowance = token.allowance(msg.sender, address(this));
        if (allowance < pool) {
            revert TrainingEscrowNotApproved(msg.sender, allowance, pool);
        }
        uint256 balance = token.balanceOf(msg.sender);
        if (balance < pool) {
            revert TrainingEscrowExceedsBalance(msg.sender, balance, pool);
        }

        taskId = ++_taskCount;
        Task storage task = _tasks[taskId];
        task.params = params;
        task.coordinator = msg.sender;
        task.aggregator = aggregator;
        task.keyHolder = keyHolder;
        task.currentModelDigest = params.initialModelDigest;
        _members[taskId][msg.sender].role = Role.Coordinator;
        _members[taskId][aggregator].role = Role.Aggregator;
        _members[taskId][keyHolder].role = Role.KeyHolder;
        emit TaskCreated(taskId, msg.sender, aggregator, keyHolder, params);
        emit EscrowFunded(taskId, msg.sender, pool);
        if (pool != 0) {
            token.safeTransferFrom(msg.sender, address(this), pool);
        }
    }

    /**
     * @notice Adds `validator` to the task's validators. The task's manager only (its coordinator,
     * or the governor it handed the task to); one validator per call.
     * @dev A validator votes from the round after the current one: the electorate of a round is
     * fixed when it opens. An account holding any role in the task (a participant included) is
     * refused with {TrainingRoleConflict}. Emits {ValidatorAdded}.
     * @param taskId The task.
     * @param validator Account that will vote on the task's rounds.
     */
    function addValidator(uint256 taskId, address validator) external {
        Task storage task = _existingTask(taskId);
        _checkManager(task, taskId);
        if (validator == address(0)) {
            revert TrainingInvalidValidator(validator);
        }
        Member storage member = _members[taskId][validator];
        _checkNoRole(member, taskId, validator);
        uint32 firstRound = task.currentRound + 1;
        member.role = Role.Validator;
        member.firstRound = firstRound;
        uint32 validatorCount = ++task.validatorCount;
        emit ValidatorAdded(taskId, validator, validatorCount, firstRound);
    }

    /**
     * @notice Removes `validator` from the task's validators. The task's manager only, between
     * rounds ({TrainingRoundStillOpen}): a round's electorate never changes while it runs.
     * @dev Reverts with {TrainingNotValidator} unless `validator` is one. The account holds no role
     * in the task afterwards. Emits {ValidatorRemoved}.
     * @param taskId The task.
     * @param validator A validator of the task.
     */
    function removeValidator(uint256 taskId, address validator) external {
        Task storage task = _existingTask(taskId);
        _checkManager(task, taskId);
        _checkBetweenRounds(taskId, task.currentRound);
        if (_members[taskId][validator].role != Role.Validator) {
            revert TrainingNotValidator(taskId, validator);
        }
        delete _members[taskId][validator];
        emit ValidatorRemoved(taskId, validator, --task.validatorCount);
    }

    /**
     * @notice Sets the included updates and accept votes the task's next rounds need. The task's
     * manager only, between rounds ({TrainingRoundStillOpen}), so a round runs under the rules it
     * opened with; zero is refused as at creation.
     * @dev Emits {RoundRulesChanged}.
     * @param taskId The task.
     * @param minParticipants Included updates a round needs to be aggregated (>= 1).
     * @param validatorQuorum Accept votes a round needs (>= 1; never less than a majority).
     */
    function setRoundRules(uint256 taskId, uint32 minParticipants, uint32 validatorQuorum) external {
        Task storage task = _existingTask(taskId);
        _checkManager(task, taskId);
        uint32 round = task.currentRound;
        _checkBetweenRounds(taskId, round);
        if (minParticipants == 0) {
            revert TrainingInvalidMinParticipants(minParticipants);
        }
        if (validatorQuorum == 0) {
            revert TrainingInvalidValidatorQuorum(validatorQuorum);
        }
        task.params.minParticipants = minParticipants;
        task.params.validatorQuorum = validatorQuorum;
        emit RoundRulesChanged(taskId, round + 1, msg.sender, minParticipants, validatorQuorum);
    }

    /**
     * @notice Hands the task's validator set and round rules to `governor` (a governance
     * timelock): from now on only it adds or removes validators and sets the round rules.
     * The task's manager only: its coordinator first (which keeps running rounds), then the
     * governor, which may move the task to another governor. Zero is refused ({TrainingInvalidGovernor}).
     * @dev Emits {GovernanceHandedOver}.
     * @param taskId The task.
     * @param governor The account that manages the task from now on.
     */
    function handOverGovernance(uint256 taskId, address governor) external {
        Task storage task = _existingTask(taskId);
        _checkManager(task, taskId);
        if (governor == address(0)) {
            revert TrainingInvalidGovernor(taskId, governor);
        }
        task.governor = governor;
        emit GovernanceHandedOver(taskId, msg.sender, governor);
    }

    /**
     * @notice Joins the task as a participant. Anyone holding no role in the task, once; in an
     * admission-controlled task, only an account the coordinator admitted ({TrainingNotAdmitted}).
     * @dev A participant commits from the round after the current one: joining while a round
     * collects does not let the newcomer into it. Its updates declare at most its admission's
     * sample cap, or the task's `maxSamplesPerUpdate`. Emits {ParticipantJoined}.
     * @param taskId The task.
     */
    function join(uint256 taskId) external {
        Task storage task = _existingTask(taskId);
        Member storage member = _members[taskId][msg.sender];
        _checkNoRole(member, taskId, msg.sender);
        uint32 maxSamples = task.params.maxSamplesPerUpdate;
        if (task.params.admissionControlled) {
            Admission storage admission = _admissions[taskId][msg.sender];
            if (!admission.admitted) {
                revert TrainingNotAdmitted(taskId, msg.sender);
            }
            uint32 sampleCap = admission.sampleCap;
            if (sampleCap != 0) {
                maxSamples = sampleCap;
            }
        }
        uint32 firstRound = task.currentRound + 1;
        member.role = Role.Participant;
        member.firstRound = firstRound;
        member.maxSamplesPerUpdate = maxSamples;
        member.masked = task.params.masked;
        uint32 participantCount = ++task.participantCount;
        emit ParticipantJoined(taskId, msg.sender, participantCount, firstRound);
    }

    /**
     * @notice Admits `accounts` to an admission-controlled task, each with at most `sampleCap`
     * samples an update (0: the task's `maxSamplesPerUpdate`). Coordinator only.
     * @dev Admitting an account again replaces its cap; a participant that already joined keeps
     * its membership and commits under the new cap from its next commit, and one whose admission
     * was revoked takes part again. An account holding another role is refused with
     * {TrainingRoleConflict}. The cost is constant per admitted account (one slot each).
     * Emits {ParticipantAdmitted} for each account.
     * @param taskId The task, created with `admissionControlled`.
     * @param accounts The accounts to admit.
     * @param sampleCap The most samples each of their updates may declare; at most `maxSamplesPerUpdate`.
     */
    function admit(uint256 taskId, address[] calldata accounts, uint32 sampleCap) external {
        Task storage task = _existingTask(taskId);
        _checkCoordinator(task, taskId);
        if (!task.params.admissionControlled) {
            revert TrainingNotAdmissionControlled(taskId);
        }
        uint32 taskMax = task.params.maxSamplesPerUpdate;
        if (sampleCap > taskMax) {
            revert TrainingInvalidSampleCap(taskId, sampleCap, taskMax);
        }
        uint32 effectiveCap = sampleCap == 0 ? taskMax : sampleCap;
        for (uint256 i = 0; i < accounts.length; ++i) {
            address account = accounts[i];
            if (account == address(0)) {
                revert TrainingInvalidAccount(account);
            }
            Member storage member = _members[taskId][account];
            Role role = member.role;
            if (role == Role.Participant) {
                if (member.maxSamplesPerUpdate == 0) {
                    ++task.participantCount; // a revoked participant takes part again
                }
                member.maxSamplesPerUpdate = effectiveCap;
            } else if (role != Role.None) {
                revert TrainingRoleConflict(taskId, account, role);
            }
            _admissions[taskId][account] = Admission({admitted: true, sampleCap: sampleCap});
            emit ParticipantAdmitted(taskId, account, effectiveCap);
        }
    }

    /**
     * @notice Revokes `account`'s admission to an admission-controlled task. Coordinator only.
     * @dev The account may no longer join; if it joined, it commits no further update (an update it
     * committed stays in its round) and stops counting toward later rounds' participants. A round
     * already open still counts it, so that round collects until its window closes unless the
     * account committed. Emits {AdmissionRevoked}.
     * @param taskId The task, created with `admissionControlled`.
     * @param account An admitted account.
     */
    function revokeAdmission(uint256 taskId, address account) external {
        Task storage task = _existingTask(taskId);
        _checkCoordinator(task, taskId);
        if (!task.params.admissionControlled) {
            revert TrainingNotAdmissionControlled(taskId);
        }
        Admission storage admission = _admissions[taskId][account];
        if (!admission.admitted) {
            revert TrainingNotAdmitted(taskId, account);
        }
        delete _admissions[taskId][account];
        Member storage member = _members[taskId][account];
        bool wasParticipant = member.role == Role.Participant;
        if (wasParticipant) {
            member.maxSamplesPerUpdate = 0;
            --task.participantCount;
        }
        emit AdmissionRevoked(taskId, account, wasParticipant);
    }

    /**
     * @notice Hands the aggregator role to `newAggregator`. Coordinator only, between rounds.
     * @dev The current round must have finished (cancel a stalled one first with {cancelRound}).
     * `newAggregator` must hold no role in the task; the previous aggregator loses its role.
     * Emits {AggregatorChanged}.
     * @param taskId The task.
     * @param newAggregator The new aggregator.
     */
    function setAggregator(uint256 taskId, address newAggregator) external {
        Task storage task = _existingTask(taskId);
        _checkCoordinator(task, taskId);
        _checkBetweenRounds(taskId, task.currentRound);
        if (newAggregator == address(0)) {
            revert TrainingInvalidAggregator(newAggregator);
        }
        Member storage member = _members[taskId][newAggregator];
        _checkNoRole(member, taskId, newAggregator);
        address previous = task.aggregator;
        delete _members[taskId][previous];
        member.role = Role.Aggregator;
        task.aggregator = newAggregator;
        emit AggregatorChanged(taskId, previous, newAggregator);
    }

    /**
     * @notice Hands the key holder role to `newKeyHolder`, with the public context of its key.
     * Coordinator only, between rounds.
     * @dev As {setAggregator}. `publicContextDigest` becomes the task's public context: pass the
     * current one if the new key holder holds the same key. Emits {KeyHolderChanged}.
     * @param taskId The task.
     * @param newKeyHolder The new key holder.
     * @param publicContextDigest sha256 of the public context the participants encrypt under from now on.
     */
    function setKeyHolder(uint256 taskId, address newKeyHolder, bytes32 publicContextDigest) external {
        Task storage task = _existingTask(taskId);
        _checkCoordinator(task, taskId);
        _checkBetweenRounds(taskId, task.currentRound);
        if (newKeyHolder == address(0)) {
            revert TrainingInvalidKeyHolder(newKeyHolder);
        }
        if (publicContextDigest == bytes32(0)) {
            revert TrainingInvalidPublicContextDigest();
        }
        Member storage member = _members[taskId][newKeyHolder];
        _checkNoRole(member, taskId, newKeyHolder);
        address previous = task.keyHolder;
        delete _members[taskId][previous];
        member.role = Role.KeyHolder;
        task.keyHolder = newKeyHolder;
        task.params.publicContextDigest = publicContextDigest;
        emit KeyHolderChanged(taskId, previous, newKeyHolder, publicContextDigest);
    }

    // ------------------------------------------------------------------------------------------
    // Rounds
    // ------------------------------------------------------------------------------------------

    /**
     * @notice Opens the task's next round. Coordinator only.
     * @dev Requires the task not to have ended, the previous round to have finished and at least
     * `validatorQuorum` validators. Fixes the round's electorate: the participants and validators
     * registered now. Updates are taken up to and including block `block.number +
     * submissionWindowBlocks`; the aggregator must act by `aggregationWindowBlocks` after that.
     * Emits {RoundOpened}.
     * @param taskId The task.
     * @return round The number of the opened round.
     */
    function openRound(uint256 taskId) external returns (uint32 round) {
        Task storage task = _existingTask(taskId);
        _checkCoordinator(task, taskId);
        if (task.ended) {
            revert TrainingTaskEnded(taskId);
        }
        _checkBetweenRounds(taskId, task.currentRound);
        uint32 validatorCount = task.validatorCount;
        if (validatorCount < task.params.validatorQuorum) {
            revert TrainingNotEnoughValidators(taskId, validatorCount, task.params.validatorQuorum);
        }
        round = ++task.currentRound;
        uint48 submissionDeadlineBlock = uint48(block.number + task.params.submissionWindowBlocks);
        uint48 actionDeadlineBlock = submissionDeadlineBlock + uint48(task.params.aggregationWindowBlocks);
        Round storage r = _rounds[taskId][round];
        r.phase = RoundPhase.Collecting;
        r.submissionDeadlineBlock = submissionDeadlineBlock;
        r.actionDeadlineBlock = actionDeadlineBlock;
        r.eligibleParticipants = task.participantCount;
        r.validatorCount = validatorCount;
        if (task.params.masked) {
            // Keys are advertised in the first half of the submission window, updates after.
            _maskedRounds[taskId][round].advertisementDeadlineBlock =
                uint48(block.number + task.params.submissionWindowBlocks / 2);
        }
        emit RoundOpened(
            taskId, round, submissionDeadlineBlock, actionDeadlineBlock, task.participantCount, validatorCount
        );
    }

    /**
     * @notice Commits the digest of the caller's update for the current round. Participants that
     * joined before the round opened only, once per round, within the submission window.
     * @dev A digest is accepted once per task, whoever commits it: a replayed digest is refused
     * with {TrainingDigestAlreadyCommitted}. `samples` must be in `[1, maxSamplesPerUpdate]`.
     * Writes one fresh slot (the digest's {Contribution}) and adds the update to the round's
     * count, samples and set hash. Emits {UpdateCommitted}.
     * @param taskId The task.
     * @param round The current round, which must be Collecting.
     * @param updateDigest sha256 of the encrypted update blob; not zero.
     * @param samples Training samples the update was computed on.
     */
    function commitUpdate(uint256 taskId, uint32 round, bytes32 updateDigest, uint64 samples) external {
        Member storage member = _members[taskId][msg.sender];
        if (member.role != Role.Participant) {
            _existingTask(taskId);
            revert TrainingNotParticipant(taskId, msg.sender);
        }
        Round storage r = _rounds[taskId][round];
        RoundPhase phase = r.phase;
        if (phase != RoundPhase.Collecting) {
            _revertWrongPhase(taskId, round, RoundPhase.Collecting, phase);
        }
        uint48 deadlineBlock = r.submissionDeadlineBlock;
        if (block.number > deadlineBlock) {
            revert TrainingSubmissionWindowClosed(taskId, round, deadlineBlock);
        }
        _checkCanCommit(member, taskId, round, msg.sender, updateDigest, samples);
        if (member.masked) {
            _checkMaskedCommit(member, r, taskId, round);
        }
        Contribution storage contribution = _contributions[taskId][updateDigest];
        address committer = contribution.participant;
        if (committer != address(0)) {
            revert TrainingDigestAlreadyCommitted(taskId, updateDigest, committer);
        }
        assembly ("memory-safe") {
            // One store of the fresh slot, in {Contribution}'s layout: participant in bits 0-159,
            // round in 160-191, samples (<= maxSamplesPerUpdate, a uint32) in 192-223, flags clear.
            sstore(contribution.slot, or(caller(), or(shl(160, round), shl(192, samples))))
        }
        member.lastCommittedRound = round;
        unchecked {
            // < 2^32 commits of < 2^32 samples each: the count and the total cannot overflow;
            // the set hash is a sum modulo 2^104 by design.
            r.commitCount += 1;
            r.totalSamples += samples;
            r.updatesHash += _updateTerm(msg.sender, updateDigest);
        }
        emit UpdateCommitted(taskId, round, updateDigest, msg.sender, samples);
    }

    /**
     * @notice Advertises the caller's masking public key for the round of a masked task.
     * Participants of the round's snapshot only, once a round, while the advertisement is open.
     * @dev The key is a fresh secp256k1 key for this round (not the account key): each pair of
     * advertisers derives a shared seed from it (ECDH), and masks that cancel in the sum. The
     * advertisement closes once every eligible participant advertised, or after its deadline
     * (half the submission window); updates are taken only then. Emits {MaskingKeyAdvertised}.
     * @param taskId A masked task.
     * @param round The current round, which must be Collecting.
     * @param publicKey 64 bytes: x || y of the round masking public key.
     * @param proof The masking key's signature of {maskingKeyDigest} for the caller: proof that
     * the caller holds the key, so no one can advertise (replay) another party's key.
     */
    function advertiseMaskingKey(uint256 taskId, uint32 round, bytes calldata publicKey, bytes calldata proof)
        external
    {
        Member storage member = _members[taskId][msg.sender];
        if (member.role != Role.Participant) {
            _existingTask(taskId);
            revert TrainingNotParticipant(taskId, msg.sender);
        }
        if (!member.masked) {
            revert TrainingNotMasked(taskId);
        }
        if (publicKey.length != 64) {
            revert TrainingInvalidMaskingKey(taskId, publicKey.length);
        }
        (address signer, ECDSA.RecoverError failure,) =
            ECDSA.tryRecover(maskingKeyDigest(taskId, round, msg.sender), proof);
        if (failure != ECDSA.RecoverError.NoError || signer != address(uint160(uint256(keccak256(publicKey))))) {
            revert TrainingMaskingKeyNotProven(taskId, round, msg.sender);
        }
        Round storage r = _roundInPhase(taskId, round, RoundPhase.Collecting);
        if (round < member.firstRound) {
            revert TrainingNotInRoundSnapshot(taskId, round, msg.sender, member.firstRound);
        }
        if (member.lastAdvertisedRound == round) {
            revert TrainingAlreadyAdvertised(taskId, round, msg.sender);
        }
        MaskedRound storage m = _maskedRounds[taskId][round];
        if (_advertisementClosed(m, r)) {
            revert TrainingAdvertisementClosed(taskId, round, m.advertisementDeadlineBlock);
        }
        member.lastAdvertisedRound = round;
        m.advertisedCount += 1;
        emit MaskingKeyAdvertised(taskId, round, msg.sender, publicKey);
    }

    /**
     * @notice Reveals what removes the caller's masks from the round's sum, once its aggregate
     * is committed. Participants whose update is in the aggregate only, once a round.
     * @dev The blob `revealDigest` (in the blob store) holds the caller's self-mask seed and its
     * pairwise seeds with the round's advertisers whose updates are not in the sum; a seed with
     * a peer that is in the sum is never revealed, so no single update can be unmasked. It also
     * holds the caller's Shamir shares of its peers' secrets that the sum allows (see RoundKeys),
     * which stand in for a silent party's reveal. The key holder commits the model once the
     * reveals unmask the sum; validators re-check it. Emits
     * {MasksRevealed}.
     * @param taskId A masked task.
     * @param round The current round, which must be Aggregated.
     * @param updateDigest The caller's update in the round (it must not be excluded).
     * @param revealDigest sha256 of the reveal blob; not zero.
     */
    function revealMasks(uint256 taskId, uint32 round, bytes32 updateDigest, bytes32 revealDigest) external {
        Member storage member = _members[taskId][msg.sender];
        if (!member.masked) {
            _existingTask(taskId);
            revert TrainingNotMasked(taskId);
        }
        _roundInPhase(taskId, round, RoundPhase.Aggregated);
        Contribution storage contribution = _contributions[taskId][updateDigest];
        if (contribution.participant != msg.sender || contribution.round != round) {
            revert TrainingNoContribution(taskId, round, msg.sender);
        }
        if (contribution.excluded) {
            revert TrainingContributionExcluded(taskId, round, updateDigest);
        }
        if (member.lastRevealedRound == round) {
            revert TrainingAlreadyRevealed(taskId, round, msg.sender);
        }
        if (revealDigest == bytes32(0)) {
            revert TrainingZeroDigest();
        }
        member.lastRevealedRound = round;
        _maskedRounds[taskId][round].revealedCount += 1;
        emit MasksRevealed(taskId, round, msg.sender, revealDigest);
    }

    /**
     * @notice Excludes a committed update whose blob the aggregator cannot use (missing, altered,
     * malformed, wrong shape, oversized). Aggregator only, once collection closed, before the
     * aggregate is committed (or after it was rejected).
     * @dev Removes the update from the round's count, samples and set hash; its participant earns
     * nothing for the round and cannot commit to it again. The round proceeds if it still has
     * `minParticipants` updates, and can be cancelled otherwise. Emits {UpdateExcluded}.
     * @param taskId The task.
     * @param round The current round, which must be Collecting with its window closed.
     * @param updateDigest The excluded update's digest.
     * @param reason Why the blob is unusable (evidence anyone can check against the blob store).
     */
    function excludeUpdate(uint256 taskId, uint32 round, bytes32 updateDigest, ExclusionReason reason) external {
        _excludeUpdate(taskId, round, updateDigest, reason);
    }

    function _excludeUpdate(uint256 taskId, uint32 round, bytes32 updateDigest, ExclusionReason reason) private {
        Task storage task = _existingTask(taskId);
        if (msg.sender != task.aggregator) {
            revert TrainingNotAggregator(taskId, msg.sender);
        }
        Round storage r = _roundInPhase(taskId, round, RoundPhase.Collecting);
        _checkCollectionClosed(r, taskId, round);
        if (task.params.masked && _maskedRounds[taskId][round].revealedCount != 0) {
            revert TrainingMasksRevealed(taskId, round);
        }
        Contribution storage contribution = _contributions[taskId][updateDigest];
        if (contribution.participant == address(0) || contribution.round != round) {
            revert TrainingUnknownUpdate(taskId, round, updateDigest);
        }
        if (contribution.excluded) {
            revert TrainingUpdateAlreadyExcluded(taskId, round, updateDigest);
        }
        contribution.excluded = true;
        unchecked {
            r.commitCount -= 1;
            r.totalSamples -= contribution.samples;
            r.updatesHash -= _updateTerm(contribution.participant, updateDigest);
            r.excludedCount += 1;
        }
        emit UpdateExcluded(taskId, round, updateDigest, contribution.participant, reason);
    }

    /**
     * @notice Commits the digest of the aggregate (the encrypted sum) of the round's included
     * updates, naming the set it summed. Aggregator only.
     * @dev Collection must be closed: the submission deadline passed, or every eligible participant
     * committed. `updateCount` and `updatesHash` (see {_updateTerm}) must equal the round's: an
     * aggregate of any other set is refused with {TrainingUpdateSetMismatch}. Collecting ->
     * Aggregated; the key holder must act by `aggregationWindowBlocks` from now. Emits {AggregateCommitted}.
     * @param taskId The task.
     * @param round The current round, which must be Collecting.
     * @param aggregateDigest sha256 of the aggregate blob; not zero.
     * @param updateCount How many updates the aggregate sums.
     * @param updatesHash The set hash of the updates the aggregate sums.
     */
    function commitAggregate(
        uint256 taskId,
        uint32 round,
        bytes32 aggregateDigest,
        uint32 updateCount,
        uint104 updatesHash
    ) external {
        Task storage task = _existingTask(taskId);
        if (msg.sender != task.aggregator) {
            revert TrainingNotAggregator(taskId, msg.sender);
        }
        Round storage r = _roundInPhase(taskId, round, RoundPhase.Collecting);
        _checkCollectionClosed(r, taskId, round);
        uint32 commitCount = r.commitCount;
        if (commitCount < task.params.minParticipants) {
            revert TrainingTooFewUpdates(taskId, round, commitCount, task.params.minParticipants);
        }
        if (commitCount != updateCount || r.updatesHash != updatesHash) {
            revert TrainingUpdateSetMismatch(taskId, round, commitCount, r.updatesHash, updateCount, updatesHash);
        }
        if (aggregateDigest == bytes32(0)) {
            revert TrainingZeroDigest();
        }
        r.phase = RoundPhase.Aggregated;
        r.aggregateDigest = aggregateDigest;
        r.actionDeadlineBlock = uint48(block.number + task.params.aggregationWindowBlocks);
        emit AggregateCommitted(taskId, round, aggregateDigest, commitCount, r.totalSamples, updatesHash);
    }

    /**
     * @notice Commits the digest of the round's decrypted model and opens the vote. Key holder only.
     * @dev Aggregated -> Validating; votes are taken for `validationWindowBlocks` blocks.
     * Emits {ModelCommitted}.
     * @param taskId The task.
     * @param round The current round, which must be Aggregated.
     * @param modelDigest sha256 of the new global model blob; not zero.
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
        if (task.params.masked && _maskedRounds[taskId][round].revealedCount == 0) {
            revert TrainingMasksNotRevealed(taskId, round, 0, r.commitCount);
        }
        uint48 deadlineBlock = uint48(block.number + task.params.validationWindowBlocks);
        r.phase = RoundPhase.Validating;
        r.modelDigest = modelDigest;
        r.validationDeadlineBlock = deadlineBlock;
        emit ModelCommitted(taskId, round, modelDigest, deadlineBlock);
    }

    /**
     * @notice Refuses the round's aggregate because it is not the sum of the included updates.
     * Key holder only, instead of {commitModel}.
     * @dev Anyone with the public context can recompute the sum from the included update blobs.
     * A refusal does not end the round: Aggregated -> Collecting (window still closed), the
     * aggregate is cleared and the aggregator has `aggregationWindowBlocks` from now to exclude
     * unusable updates and commit a fresh aggregate. A key holder can so delay a round, never void
     * it, and the coordinator can replace a key holder that keeps doing so. Emits {AggregateRejected}.
     * @param taskId The task.
     * @param round The current round, which must be Aggregated.
     * @param recomputedDigest sha256 of the sum the key holder recomputed (evidence); not zero, not
     * the committed aggregate.
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
        bytes32 aggregateDigest = r.aggregateDigest;
        if (recomputedDigest == aggregateDigest) {
            revert TrainingAggregateMatches(taskId, round, aggregateDigest);
        }
        uint48 deadlineBlock = uint48(block.number + task.params.aggregationWindowBlocks);
        r.phase = RoundPhase.Collecting;
        r.aggregateDigest = bytes32(0);
        r.actionDeadlineBlock = deadlineBlock;
        emit AggregateRejected(taskId, round, aggregateDigest, msg.sender, recomputedDigest, deadlineBlock);
    }

    /**
     * @notice Votes on the round's model. Validators registered before the round opened only, once
     * per round, until the validation deadline (inclusive).
     * @dev Emits {VoteCast}. Votes are tallied when every validator of the round's electorate has
     * voted (here, emitting {RoundFinalized}) or, after the deadline, by {finalizeRound}; the
     * round is accepted iff its accept votes reach the task's quorum and a majority of the round's validators.
     * @param taskId The task.
     * @param round The current round, which must be Validating.
     * @param accept Whether the validator accepts the model.
     * @param metricPpm The metric the validator measured (e.g. accuracy) in parts per million.
     */
    function vote(uint256 taskId, uint32 round, bool accept, uint32 metricPpm) external {
        Member memory m = _members[taskId][msg.sender];
        if (m.role != Role.Validator) {
            _existingTask(taskId);
            revert TrainingNotValidator(taskId, msg.sender);
        }
        Round storage r = _roundInPhase(taskId, round, RoundPhase.Validating);
        uint64 deadlineBlock = r.validationDeadlineBlock;
        if (block.number > deadlineBlock) {
            revert TrainingValidationWindowClosed(taskId, round, deadlineBlock);
        }
        if (round < m.firstRound) {
            revert TrainingNotInRoundSnapshot(taskId, round, msg.sender, m.firstRound);
        }
        if (_votes[taskId][round][msg.sender]) {
            revert TrainingAlreadyVoted(taskId, round, msg.sender);
        }
        _votes[taskId][round][msg.sender] = true;
        uint32 votes;
        if (accept) {
            votes = ++r.acceptVotes + r.rejectVotes;
        } else {
            votes = r.acceptVotes + ++r.rejectVotes;
        }
        emit VoteCast(taskId, round, msg.sender, accept, metricPpm);
        if (votes == r.validatorCount) {
            _tally(_tasks[taskId], r, taskId, round);
        }
    }

    /**
     * @notice Tallies the votes of a round whose validation window closed. Anyone may call it.
     * @dev Accepted iff the accept votes reach the task's quorum and a majority of the round's validators; a rejected round keeps the
     * current model. Either counts against `maxRounds`. Emits {RoundFinalized} (and {TaskEnded}
     * for the task's last round).
     * @param taskId The task.
     * @param round The current round, which must be Validating.
     */
    function finalizeRound(uint256 taskId, uint32 round) external {
        Round storage r = _roundInPhase(taskId, round, RoundPhase.Validating);
        uint64 deadlineBlock = r.validationDeadlineBlock;
        if (block.number <= deadlineBlock) {
            revert TrainingValidationWindowOpen(taskId, round, deadlineBlock);
        }
        _tally(_tasks[taskId], r, taskId, round);
    }

    /**
     * @notice Cancels a stalled round. Anyone may call it.
     * @dev A Collecting round is stalled once collection closed with fewer than `minParticipants`
     * included updates, or when no aggregate came by its action deadline; an Aggregated round when
     * the key holder neither committed the model nor rejected the aggregate by its action deadline.
     * A cancelled round pays nothing and does not count against `maxRounds`; the next round can
     * open (after a role change if one is needed). Emits {RoundCancelled}.
     * @param taskId The task.
     * @param round The current round, which must be Collecting or Aggregated.
     */
    function cancelRound(uint256 taskId, uint32 round) external {
        Round storage r = _rounds[taskId][round];
        RoundPhase phase = r.phase;
        CancelReason reason;
        if (phase == RoundPhase.Collecting) {
            bool closed = _collectionClosed(r);
            if (closed && r.commitCount < _tasks[taskId].params.minParticipants) {
                reason = CancelReason.TooFewUpdates;
            } else if (closed && block.number > r.actionDeadlineBlock) {
                reason = CancelReason.AggregatorSilent;
            } else {
                revert TrainingRoundNotStalled(
                    taskId, round, closed ? r.actionDeadlineBlock : r.submissionDeadlineBlock
                );
            }
        } else if (phase == RoundPhase.Aggregated) {
            if (block.number <= r.actionDeadlineBlock) {
                revert TrainingRoundNotStalled(taskId, round, r.actionDeadlineBlock);
            }
            reason = CancelReason.KeyHolderSilent;
        } else {
            _revertWrongPhase(taskId, round, RoundPhase.Collecting, phase);
        }
        r.phase = RoundPhase.Cancelled;
        emit RoundCancelled(taskId, round, reason);
    }

    /**
     * @notice Ends the task early: no round opens any more. Coordinator only, between rounds.
     * @dev Emits {TaskEnded}. The escrow's remainder can then be reclaimed with {reclaimEscrow};
     * rewards of accepted rounds stay claimable.
     * @param taskId The task.
     */
    function closeTask(uint256 taskId) external {
        Task storage task = _existingTask(taskId);
        _checkCoordinator(task, taskId);
        if (task.ended) {
            revert TrainingTaskEnded(taskId);
        }
        _checkBetweenRounds(taskId, task.currentRound);
        task.ended = true;
        emit TaskEnded(taskId, task.acceptedRounds, task.votedRounds, true);
    }

    // ------------------------------------------------------------------------------------------
    // Batched commitments
    // ------------------------------------------------------------------------------------------

    /**
     * @notice Commits a round's batch of updates that participants signed off-chain, in one
     * transaction. Aggregator only, once per round, within the submission window; not in a masked task.
     * @dev Each update's signer is recovered from its EIP-712 {UPDATE_COMMITMENT_TYPEHASH}
     * signature, which binds the chain, this contract, the task, the round, the digest and the
     * samples; every check of {commitUpdate} then holds for it as for its own commit (member of the
     * round's snapshot, admission and sample bound, one update per participant per round, a digest
     * not committed on its own before), and digests must be strictly increasing, so none repeats
     * in the batch. Any failing update refuses the whole batch. No per-update record is stored
     * (the round keeps the Merkle root of the leaves, see {BatchLeaf}); each update is logged as
     * {UpdateCommitted} and counts in the round as a commit does. Emits {BatchCommitted}.
     * @param taskId The task.
     * @param round The current round, which must be Collecting.
     * @param updates The signed updates, ordered by increasing digest.
     * @return root The batch's Merkle root.
     */
    function commitBatch(uint256 taskId, uint32 round, SignedUpdate[] calldata updates)
        external
        returns (bytes32 root)
    {
        Task storage task = _existingTask(taskId);
        if (msg.sender != task.aggregator) {
            revert TrainingNotAggregator(taskId, msg.sender);
        }
        if (task.params.masked) {
            revert TrainingBatchMasked(taskId);
        }
        Round storage r = _roundInPhase(taskId, round, RoundPhase.Collecting);
        if (block.number > r.submissionDeadlineBlock) {
            revert TrainingSubmissionWindowClosed(taskId, round, r.submissionDeadlineBlock);
        }
        Batch storage batch = _batches[taskId][round];
        if (batch.root != bytes32(0)) {
            revert TrainingBatchAlreadyCommitted(taskId, round);
        }
        uint256 count = updates.length;
        if (count == 0) {
            revert TrainingEmptyBatch(taskId, round);
        }
        bytes32[] memory nodes = new bytes32[](count);
        uint64 totalSamples;
        uint104 updatesHash;
        bytes32 previous;
        for (uint256 i = 0; i < count; ++i) {
            SignedUpdate calldata update = updates[i];
            bytes32 digest = update.updateDigest;
            uint64 samples = update.samples;
            address participant = _batchSigner(taskId, round, update, i);
            Member storage member = _members[taskId][participant];
            if (member.role != Role.Participant) {
                revert TrainingNotParticipant(taskId, participant);
            }
            _checkCanCommit(member, taskId, round, participant, digest, samples);
            if (digest <= previous) {
                revert TrainingBatchNotSorted(taskId, round, i);
            }
            previous = digest;
            address committer = _contributions[taskId][digest].participant;
            if (committer != address(0)) {
                revert TrainingDigestAlreadyCommitted(taskId, digest, committer);
            }
            member.lastCommittedRound = round;
            unchecked {
                totalSamples += samples; // < 2^32 updates of < 2^32 samples each
                updatesHash += _updateTerm(participant, digest); // a sum modulo 2^104 by design
            }
            nodes[i] = _leafHash(participant, digest, samples);
            emit UpdateCommitted(taskId, round, digest, participant, samples);
        }
        unchecked {
            r.commitCount += uint32(count);
            r.totalSamples += totalSamples;
            r.updatesHash += updatesHash;
        }
        root = _merkleRoot(nodes);
        batch.root = root;
        batch.leafCount = uint32(count);
        emit BatchCommitted(taskId, round, root, uint32(count), totalSamples);
    }

    /**
     * @notice Excludes an update of the round's batch whose blob the aggregator cannot use, as
     * {excludeUpdate} does for a committed one. Aggregator only, with the same conditions.
     * @dev The leaf's inclusion is proven against the batch root; its contribution record is
     * written now (excluded), so it earns nothing. Emits {UpdateExcluded}.
     * @param taskId The task.
     * @param round The current round, which must be Collecting with its window closed.
     * @param leaf The excluded update's leaf.
     * @param proof The leaf's Merkle proof in the round's batch.
     * @param reason Why the blob is unusable.
     */
    function excludeBatchedUpdate(
        uint256 taskId,
        uint32 round,
        BatchLeaf calldata leaf,
        bytes32[] calldata proof,
        ExclusionReason reason
    ) external {
        _checkInBatch(taskId, round, leaf, proof);
        _recordLeaf(taskId, round, leaf);
        _excludeUpdate(taskId, round, leaf.updateDigest, reason);
    }

    /**
     * @notice Claims the caller's reward for its update in an accepted round's batch, once, as
     * {claimReward} does for a committed update; refused once the batch was paid by {payBatch}.
     * @dev The leaf's inclusion is proven against the batch root and its contribution record
     * written now (claimed). Emits {RewardClaimed}, then transfers.
     * @param taskId The task.
     * @param round An accepted round of the task.
     * @param leaf The caller's leaf.
     * @param proof The leaf's Merkle proof in the round's batch.
     * @return amount The reward paid, in token base units.
     */
    function claimBatchedReward(uint256 taskId, uint32 round, BatchLeaf calldata leaf, bytes32[] calldata proof)
        external
        returns (uint256 amount)
    {
        Round storage r = _paidRound(taskId, round);
        if (_batches[taskId][round].paid) {
            revert TrainingBatchAlreadyPaid(taskId, round);
        }
        _checkInBatch(taskId, round, leaf, proof);
        amount = _claim(r, _recordLeaf(taskId, round, leaf), taskId, round, leaf.updateDigest);
    }

    /**
     * @notice Pays every included, unclaimed update of an accepted round's batch in one
     * transaction. Anyone may call it, once per round.
     * @dev `leaves` must be the batch's leaves in order: they must hash to its root. A leaf whose
     * digest has a contribution record (excluded, already claimed, or a digest committed before)
     * is skipped. Each payment is logged as {RewardClaimed} and split by {rewardPolicy} as a
     * claim is. Emits {BatchPaid}, then transfers (checks-effects-interactions).
     * @param taskId The task.
     * @param round An accepted round of the task with a batch.
     * @param leaves The batch's leaves, in the order they were committed.
     * @return total The reward paid, in token base units.
     */
    function payBatch(uint256 taskId, uint32 round, BatchLeaf[] calldata leaves) external returns (uint256 total) {
        Round storage r = _paidRound(taskId, round);
        Batch storage batch = _batches[taskId][round];
        bytes32 root = batch.root;
        if (root == bytes32(0)) {
            revert TrainingNoBatch(taskId, round);
        }
        if (batch.paid) {
            revert TrainingBatchAlreadyPaid(taskId, round);
        }
        uint256 count = leaves.length;
        bytes32[] memory nodes = new bytes32[](count);
        for (uint256 i = 0; i < count; ++i) {
            nodes[i] = _leafHash(leaves[i].participant, leaves[i].updateDigest, leaves[i].samples);
        }
        bytes32 computedRoot = _merkleRoot(nodes);
        if (computedRoot != root) {
            revert TrainingBatchMismatch(taskId, round, root, computedRoot);
        }
        uint256[] memory amounts = new uint256[](count);
        uint256 rewardPerRound = _tasks[taskId].params.rewardPerRound;
        uint256 paid = _rewardPaid[taskId][round];
        uint64 roundSamples = r.totalSamples;
        uint32 paidCount;
        for (uint256 i = 0; i < count; ++i) {
            BatchLeaf calldata leaf = leaves[i];
            if (_contributions[taskId][leaf.updateDigest].participant != address(0)) {
                continue; // excluded, claimed on its own, or a digest committed before
            }
            uint256 amount =
                rewardPolicy.rewardFor(taskId, round, leaf.participant, rewardPerRound, leaf.samples, roundSamples);
            if (amount > rewardPerRound - paid) {
                revert TrainingRewardExceedsPool(taskId, round, amount, rewardPerRound - paid);
            }
            paid += amount;
            total += amount;
            amounts[i] = amount;
            ++paidCount;
            emit RewardClaimed(taskId, round, leaf.participant, leaf.updateDigest, amount);
        }
        batch.paid = true;
        _rewardPaid[taskId][round] = paid;
        emit BatchPaid(taskId, round, msg.sender, paidCount, total);
        for (uint256 i = 0; i < count; ++i) {
            if (amounts[i] != 0) {
                token.safeTransfer(leaves[i].participant, amounts[i]);
            }
        }
    }

    // ------------------------------------------------------------------------------------------
    // Rewards and escrow
    // ------------------------------------------------------------------------------------------

    /**
     * @notice Claims the caller's reward for its update to a paying round (accepted, or rejected
     * in a task whose policy pays rejected rounds), once. The amount is
     * set by {rewardPolicy} and paid from the task's escrow.
     * @dev Reverts with {TrainingRewardExceedsPool} if the policy would pay out more than the round's
     * `rewardPerRound` in total, {TrainingContributionExcluded} for an excluded update. Emits
     * {RewardClaimed}, then transfers (checks-effects-interactions).
     * @param taskId The task.
     * @param round An accepted round of the task.
     * @param updateDigest The digest of the caller's update to the round.
     * @return amount The reward paid, in token base units.
     */
    function claimReward(uint256 taskId, uint32 round, bytes32 updateDigest) external returns (uint256 amount) {
        Round storage r = _paidRound(taskId, round);
        amount = _claim(r, _contributions[taskId][updateDigest], taskId, round, updateDigest);
    }

    /// @dev The round, if it pays its contributors: accepted, or rejected in a task whose policy
    /// pays rejected rounds.
    function _paidRound(uint256 taskId, uint32 round) private view returns (Round storage r) {
        r = _rounds[taskId][round];
        if (!_pays(r.phase, taskId)) {
            _existingTask(taskId);
            revert TrainingRoundNotAccepted(taskId, round);
        }
    }

    function _pays(RoundPhase phase, uint256 taskId) private view returns (bool) {
        return phase == RoundPhase.Accepted
            || (phase == RoundPhase.Rejected && rewardPolicy.paysRejectedRounds(taskId));
    }

    /// @dev Pays `msg.sender` for its included, unclaimed contribution to the accepted round `r`.
    function _claim(
        Round storage r,
        Contribution storage contribution,
        uint256 taskId,
        uint32 round,
        bytes32 updateDigest
    ) private returns (uint256 amount) {
        Contribution memory c = contribution;
        if (c.participant != msg.sender || c.round != round) {
            revert TrainingNoContribution(taskId, round, msg.sender);
        }
        if (c.excluded) {
            revert TrainingContributionExcluded(taskId, round, updateDigest);
        }
        if (c.rewardClaimed) {
            revert TrainingRewardAlreadyClaimed(taskId, round, msg.sender);
        }
        uint256 rewardPerRound = _tasks[taskId].params.rewardPerRound;
        amount = rewardPolicy.rewardFor(taskId, round, msg.sender, rewardPerRound, c.samples, r.totalSamples);
        uint256 paid = _rewardPaid[taskId][round];
        if (amount > rewardPerRound - paid) {
            revert TrainingRewardExceedsPool(taskId, round, amount, rewardPerRound - paid);
        }
        contribution.rewardClaimed = true;
        _rewardPaid[taskId][round] = paid + amount;
        emit RewardClaimed(taskId, round, msg.sender, updateDigest, amount);
        if (amount != 0) {
            token.safeTransfer(msg.sender, amount);
        }
    }

    /**
     * @notice Returns the part of an ended task's escrow that no accepted round took to its
     * coordinator (who funded it). Anyone may call it, once.
     * @dev The remainder is `rewardPerRound x (maxRounds - acceptedRounds - rewardedRejectedRounds)`;
     * each accepted round (and each rejected round its policy pays)
     * keeps its `rewardPerRound` for its contributors' claims (rounding dust stays there). Emits
     * {EscrowReclaimed}, then transfers.
     * @param taskId An ended task.
     * @return amount The amount returned, in token base units.
     */
    function reclaimEscrow(uint256 taskId) external returns (uint256 amount) {
        Task storage task = _existingTask(taskId);
        if (!task.ended) {
            revert TrainingTaskNotEnded(taskId);
        }
        if (task.escrowReclaimed) {
            revert TrainingEscrowAlreadyReclaimed(taskId);
        }
        amount = _unallocated(task);
        task.escrowReclaimed = true;
        address funder = task.coordinator;
        emit EscrowReclaimed(taskId, funder, amount);
        if (amount != 0) {
            token.safeTransfer(funder, amount);
        }
    }

    // ------------------------------------------------------------------------------------------
    // Views
    // ------------------------------------------------------------------------------------------

    /**
     * @notice What a round masking key signs to prove its holder advertises it: the chain, this
     * contract, the task, the round and the advertising account.
     */
    function maskingKeyDigest(uint256 taskId, uint32 round, address participant) public view returns (bytes32) {
        return keccak256(abi.encode("fedchain masking key", block.chainid, address(this), taskId, round, participant));
    }

    /**
     * @notice The EIP-712 digest a participant signs to have its update committed in a batch.
     * @param taskId The task.
     * @param round The round.
     * @param updateDigest sha256 of the update blob.
     * @param samples Training samples the update was computed on.
     * @return The typed-data hash under this contract's domain.
     */
    function updateCommitmentHash(uint256 taskId, uint32 round, bytes32 updateDigest, uint64 samples)
        public
        view
        returns (bytes32)
    {
        bytes32 domainSeparator = block.chainid == _deployedChainId ? _domainSeparator : _buildDomainSeparator();
        return MessageHashUtils.toTypedDataHash(
            domainSeparator, keccak256(abi.encode(UPDATE_COMMITMENT_TYPEHASH, taskId, round, updateDigest, samples))
        );
    }

    /**
     * @notice A round's batch: its Merkle root, its size and whether it was paid; all zero if none.
     * @param taskId The task.
     * @param round The round.
     * @return The batch.
     */
    function getBatch(uint256 taskId, uint32 round) external view returns (Batch memory) {
        return _batches[taskId][round];
    }

    /**
     * @notice Whether `leaf` is in the round's batch: anyone's proof of a participant's inclusion.
     * @param taskId The task.
     * @param round The round.
     * @param leaf The participant, its update's digest and samples.
     * @param proof The leaf's Merkle proof (sibling hashes from the leaf up).
     * @return True when the proof leads to the round's batch root.
     */
    function isInBatch(uint256 taskId, uint32 round, BatchLeaf calldata leaf, bytes32[] calldata proof)
        public
        view
        returns (bool)
    {
        bytes32 root = _batches[taskId][round].root;
        return root != bytes32(0)
            && MerkleProof.verifyCalldata(proof, root, _leafHash(leaf.participant, leaf.updateDigest, leaf.samples));
    }

    /// @dev The term an update adds to its round's set hash: the low 104 bits of
    /// `keccak256(abi.encode(participant, updateDigest))` (clients compute it the same way). A
    /// round's `updatesHash` is the sum of its included updates' terms modulo 2^104, so an update
    /// can be removed again.
    function _updateTerm(address participant, bytes32 updateDigest) private pure returns (uint104) {
        bytes32 hash;
        assembly ("memory-safe") {
            // keccak256(abi.encode(participant, updateDigest)), hashed in the scratch space.
            mstore(0x00, participant)
            mstore(0x20, updateDigest)
            hash := keccak256(0x00, 0x40)
        }
        return uint104(uint256(hash));
    }

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
     * @notice The update committed under `updateDigest` to the task; all zero if none.
     * @param taskId The task.
     * @param updateDigest The update's digest.
     * @return The contribution.
     */
    function getContribution(uint256 taskId, bytes32 updateDigest) external view returns (Contribution memory) {
        return _contributions[taskId][updateDigest];
    }

    /**
     * @notice A masked task's round: its advertisement deadline, the keys advertised and the
     * masks revealed so far (all zero for a task that is not masked).
     * @param taskId The task.
     * @param round The round.
     */
    function getMaskedRound(uint256 taskId, uint32 round) external view returns (MaskedRound memory) {
        return _maskedRounds[taskId][round];
    }

    /**
     * @notice `account`'s role in the task; all zero if it holds none.
     * @param taskId The task.
     * @param account The account.
     * @return The member record.
     */
    function getMember(uint256 taskId, address account) external view returns (Member memory) {
        return _members[taskId][account];
    }

    /**
     * @notice `account`'s admission to the task: whether it is admitted, and the most samples its
     * updates may declare (its cap, or the task's `maxSamplesPerUpdate`; 0 when not admitted).
     * In an open task every account counts as admitted under the task's bound.
     * @param taskId The task.
     * @param account Any account.
     */
    function admission(uint256 taskId, address account) external view returns (bool admitted, uint32 sampleCap) {
        Task storage task = _existingTask(taskId);
        uint32 taskMax = task.params.maxSamplesPerUpdate;
        if (!task.params.admissionControlled) {
            return (true, taskMax);
        }
        Admission storage a = _admissions[taskId][account];
        if (!a.admitted) {
            return (false, 0);
        }
        return (true, a.sampleCap == 0 ? taskMax : a.sampleCap);
    }

    /**
     * @notice Whether `account` joined the task.
     * @param taskId The task.
     * @param account The account.
     * @return True for a participant.
     */
    function isParticipant(uint256 taskId, address account) external view returns (bool) {
        return _members[taskId][account].role == Role.Participant;
    }

    /**
     * @notice Whether `account` is a validator of the task.
     * @param taskId The task.
     * @param account The account.
     * @return True for a validator.
     */
    function isValidator(uint256 taskId, address account) external view returns (bool) {
        return _members[taskId][account].role == Role.Validator;
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
     * @notice The reward {claimReward} would pay for the update `updateDigest` to the round now.
     * @dev 0 when the round is not accepted, the update is not the round's, was excluded or
     * already paid, or the claim would exceed the round's reward.
     * @param taskId The task.
     * @param round The round number.
     * @param updateDigest The update's digest.
     * @return The claimable reward in token base units.
     */
    function pendingReward(uint256 taskId, uint32 round, bytes32 updateDigest) external view returns (uint256) {
        Round storage r = _rounds[taskId][round];
        Contribution memory c = _contributions[taskId][updateDigest];
        if (c.round != round || c.samples == 0 || c.excluded || c.rewardClaimed || !_pays(r.phase, taskId)) {
            return 0;
        }
        uint256 rewardPerRound = _tasks[taskId].params.rewardPerRound;
        uint256 amount = rewardPolicy.rewardFor(taskId, round, c.participant, rewardPerRound, c.samples, r.totalSamples);
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

    /**
     * @notice The part of the task's escrow no paying round has taken (what {reclaimEscrow}
     * returns once the task ended); 0 after it was reclaimed.
     * @param taskId The task.
     * @return The amount in token base units.
     */
    function unallocatedEscrow(uint256 taskId) external view returns (uint256) {
        Task storage task = _existingTask(taskId);
        if (task.escrowReclaimed) {
            return 0;
        }
        return _unallocated(task);
    }

    // ------------------------------------------------------------------------------------------
    // Internals
    // ------------------------------------------------------------------------------------------

    /// @dev The signer of a batch's update `index`, or a revert if its signature is invalid.
    function _batchSigner(uint256 taskId, uint32 round, SignedUpdate calldata update, uint256 index)
        private
        view
        returns (address signer)
    {
        ECDSA.RecoverError failure;
        (signer, failure,) = ECDSA.tryRecover(
            updateCommitmentHash(taskId, round, update.updateDigest, update.samples), update.r, update.vs
        );
        if (failure != ECDSA.RecoverError.NoError) {
            revert TrainingBatchSignatureInvalid(taskId, round, index);
        }
    }

    function _checkInBatch(uint256 taskId, uint32 round, BatchLeaf calldata leaf, bytes32[] calldata proof)
        private
        view
    {
        if (!isInBatch(taskId, round, leaf, proof)) {
            revert TrainingNotInBatch(taskId, round, leaf.participant, leaf.updateDigest);
        }
    }

    /// @dev The contribution record of a proven batch leaf, written on first use (exclusion or claim).
    function _recordLeaf(uint256 taskId, uint32 round, BatchLeaf calldata leaf)
        private
        returns (Contribution storage contribution)
    {
        contribution = _contributions[taskId][leaf.updateDigest];
        if (contribution.participant == address(0)) {
            contribution.participant = leaf.participant;
            contribution.round = round;
            contribution.samples = uint32(leaf.samples); // checked <= maxSamplesPerUpdate at commit
        }
    }

    /// @dev A batch leaf, hashed twice as OpenZeppelin's standard Merkle tree does.
    function _leafHash(address participant, bytes32 updateDigest, uint64 samples) private pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(participant, updateDigest, samples))));
    }

    /// @dev The root of the tree whose leaves are `nodes` in order: each level hashes adjacent pairs
    /// (sorted, as {MerkleProof} expects) and carries an odd last node up. Overwrites `nodes`.
    function _merkleRoot(bytes32[] memory nodes) private pure returns (bytes32) {
        uint256 count = nodes.length;
        if (count == 0) {
            return bytes32(0);
        }
        while (count > 1) {
            uint256 next = 0;
            for (uint256 i = 0; i + 1 < count; i += 2) {
                nodes[next++] = Hashes.commutativeKeccak256(nodes[i], nodes[i + 1]);
            }
            if (count % 2 == 1) {
                nodes[next++] = nodes[count - 1];
            }
            count = next;
        }
        return nodes[0];
    }

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

    /// @dev The EIP-712 domain separator on the current chain (recomputed after a fork changes its id).
    function _buildDomainSeparator() private view returns (bytes32) {
        return keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("FedChain FederatedTraining"),
                keccak256("1"),
                block.chainid,
                address(this)
            )
        );
    }

    /// @dev Reverts unless the caller manages the task's validators and round rules: its
    /// coordinator until it hands them to a governor, then the governor.
    function _checkManager(Task storage task, uint256 taskId) private view {
        address manager = task.governor == address(0) ? task.coordinator : task.governor;
        if (msg.sender != manager) {
            revert TrainingNotManager(taskId, msg.sender, manager);
        }
    }

    function _checkNoRole(Member storage member, uint256 taskId, address account) private view {
        Role role = member.role;
        if (role != Role.None) {
            revert TrainingRoleConflict(taskId, account, role);
        }
    }

    /// @dev Reverts unless no round was opened or the current one finished.
    function _checkBetweenRounds(uint256 taskId, uint32 currentRound) private view {
        RoundPhase phase = _rounds[taskId][currentRound].phase;
        if (currentRound != 0 && phase < RoundPhase.Accepted) {
            revert TrainingRoundStillOpen(taskId, currentRound);
        }
    }

    /// @dev The checks of {commitUpdate} on the committer's member slot and its arguments.
    function _checkCanCommit(
        Member storage member,
        uint256 taskId,
        uint32 round,
        address account,
        bytes32 updateDigest,
        uint64 samples
    ) private view {
        if (round < member.firstRound) {
            revert TrainingNotInRoundSnapshot(taskId, round, account, member.firstRound);
        }
        if (member.lastCommittedRound == round) {
            revert TrainingAlreadyCommitted(taskId, round, account);
        }
        if (updateDigest == bytes32(0)) {
            revert TrainingZeroDigest();
        }
        if (samples == 0) {
            revert TrainingZeroSamples(taskId, round);
        }
        uint32 maxSamples = member.maxSamplesPerUpdate;
        if (samples > maxSamples) {
            _revertTooManySamples(taskId, round, account, samples, maxSamples);
        }
    }

    /// @dev Why `samples` is over the committer's bound: a revoked admission (bound 0), its
    /// admission's cap, or the task's `maxSamplesPerUpdate`. Read only on this failure path.
    function _revertTooManySamples(uint256 taskId, uint32 round, address account, uint64 samples, uint32 maxSamples)
        private
        view
    {
        if (maxSamples == 0) {
            revert TrainingNotAdmitted(taskId, account);
        }
        if (maxSamples < _tasks[taskId].params.maxSamplesPerUpdate) {
            revert TrainingSamplesOverCap(taskId, round, samples, maxSamples);
        }
        revert TrainingTooManySamples(taskId, round, samples, maxSamples);
    }

    /// @dev A masked commit: the committer advertised a key this round, and the advertisement closed
    /// (so every party masks against the same set of advertisers).
    function _checkMaskedCommit(Member storage member, Round storage r, uint256 taskId, uint32 round) private view {
        if (member.lastAdvertisedRound != round) {
            revert TrainingNoMaskingKey(taskId, round, msg.sender);
        }
        MaskedRound storage m = _maskedRounds[taskId][round];
        if (!_advertisementClosed(m, r)) {
            revert TrainingAdvertisementOpen(taskId, round, m.advertisementDeadlineBlock);
        }
    }

    function _advertisementClosed(MaskedRound storage m, Round storage r) private view returns (bool) {
        return block.number > m.advertisementDeadlineBlock || m.advertisedCount == r.eligibleParticipants;
    }

    /// @dev Collection is closed once the submission deadline passed, or every participant of the
    /// round's electorate committed (excluded updates included): no further commit can come.
    function _collectionClosed(Round storage r) private view returns (bool) {
        return block.number > r.submissionDeadlineBlock || r.commitCount + r.excludedCount == r.eligibleParticipants;
    }

    function _checkCollectionClosed(Round storage r, uint256 taskId, uint32 round) private view {
        if (!_collectionClosed(r)) {
            revert TrainingSubmissionWindowOpen(taskId, round, r.submissionDeadlineBlock);
        }
    }

    /**
     * @dev Returns the round if it is in phase `expected`, one of the phases only the current round
     * can be in (Collecting, Aggregated, Validating). Otherwise reverts with the most useful error.
     */
    function _roundInPhase(uint256 taskId, uint32 round, RoundPhase expected) private view returns (Round storage r) {
        r = _rounds[taskId][round];
        RoundPhase actual = r.phase;
        if (actual != expected) {
            _revertWrongPhase(taskId, round, expected, actual);
        }
    }

    /// @dev Reverts with unknown task, not the current round, or wrong phase, whichever applies first.
    function _revertWrongPhase(uint256 taskId, uint32 round, RoundPhase expected, RoundPhase actual) private view {
        uint32 currentRound = _existingTask(taskId).currentRound;
        if (currentRound == 0 || round != currentRound) {
            revert TrainingNotCurrentRound(taskId, round, currentRound);
        }
        revert TrainingWrongPhase(taskId, round, expected, actual);
    }

    /// @dev Accept votes a round needs: the task's quorum, and never less than a majority of the
    /// validators registered when the round opened.
    function _effectiveQuorum(uint32 quorum, uint32 validatorCount) private pure returns (uint32) {
        uint32 majority = validatorCount / 2 + 1;
        return quorum > majority ? quorum : majority;
    }

    /// @dev The escrow no round took: accepted rounds and paid rejected ones keep theirs.
    function _unallocated(Task storage task) private view returns (uint256) {
        return task.params.rewardPerRound
            * (task.params.maxRounds - task.acceptedRounds - task.rewardedRejectedRounds);
    }

    function _rewardPool(uint256 rewardPerRound, uint32 maxRounds) private pure returns (uint256) {
        if (rewardPerRound > type(uint256).max / maxRounds) {
            revert TrainingRewardPoolOverflow(rewardPerRound, maxRounds);
        }
        return rewardPerRound * maxRounds;
    }

    function _tally(Task storage task, Round storage r, uint256 taskId, uint32 round) private {
        uint32 acceptVotes = r.acceptVotes;
        bool accepted = acceptVotes >= _effectiveQuorum(task.params.validatorQuorum, r.validatorCount);
        if (accepted) {
            r.phase = RoundPhase.Accepted;
            task.currentModelDigest = r.modelDigest;
            task.lastAcceptedRound = round;
            task.acceptedRounds += 1;
        } else {
            r.phase = RoundPhase.Rejected;
            if (rewardPolicy.paysRejectedRounds(taskId)) {
                task.rewardedRejectedRounds += 1; // its reward stays for the claims its policy pays
            }
        }
        uint32 votedRounds = ++task.votedRounds;
        emit RoundFinalized(taskId, round, task.currentModelDigest, accepted, acceptVotes, r.rejectVotes);
        if (votedRounds == task.params.maxRounds) {
            task.ended = true;
            emit TaskEnded(taskId, task.acceptedRounds, votedRounds, false);
        }
    }

    function _validateParams(TaskParams calldata params) private pure {
        if (params.modelSpecDigest == bytes32(0)) {
            revert TrainingInvalidModelSpecDigest();
        }
        if (params.publicContextDigest == bytes32(0)) {
            revert TrainingInvalidPublicContextDigest();
        }
        if (params.initialModelDigest == bytes32(0)) {
            revert TrainingInvalidInitialModelDigest();
        }
        if (params.minParticipants == 0) {
            revert TrainingInvalidMinParticipants(params.minParticipants);
        }
        if (params.maxRounds == 0) {
            revert TrainingInvalidMaxRounds(params.maxRounds);
        }
        if (params.validatorQuorum == 0) {
            revert TrainingInvalidValidatorQuorum(params.validatorQuorum);
        }
        if (params.maxSamplesPerUpdate == 0) {
            revert TrainingInvalidMaxSamplesPerUpdate(params.maxSamplesPerUpdate);
        }
        if (params.submissionWindowBlocks == 0 || params.submissionWindowBlocks > MAX_WINDOW_BLOCKS) {
            revert TrainingInvalidSubmissionWindow(params.submissionWindowBlocks, MAX_WINDOW_BLOCKS);
        }
        if (params.validationWindowBlocks == 0 || params.validationWindowBlocks > MAX_WINDOW_BLOCKS) {
            revert TrainingInvalidValidationWindow(params.validationWindowBlocks, MAX_WINDOW_BLOCKS);
        }
        if (params.aggregationWindowBlocks == 0 || params.aggregationWindowBlocks > MAX_WINDOW_BLOCKS) {
            revert TrainingInvalidAggregationWindow(params.aggregationWindowBlocks, MAX_WINDOW_BLOCKS);
        }
    }
}
