// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {IContributionScores} from "./IContributionScores.sol";
import {IFederatedTraining} from "./IFederatedTraining.sol";
import {ITaskRules} from "./ITaskRules.sol";
import {ITaskStakes} from "./ITaskStakes.sol";
import {ITrainingRegistry} from "./ITrainingRegistry.sol";

/**
 * @title TaskStakes
 * @notice Stakes, slashing and disputes for the tasks of one `FederatedTraining` registry, in its
 * reward token. A task's coordinator sets its stake rules before round 1; participants stake
 * `requiredStake`, the aggregator and the key holder `roleStake`. Anyone holding on-chain
 * evidence slashes an offender, at most once per (task, round, party, offence): a proven score
 * table row below the task's standing threshold, a role whose silence cancelled a round, a masked
 * party that advertised a key and committed nothing, an aggregator whose round a dispute upheld.
 * A slash takes `slashPpm` of what is left of the stake; slashed tokens (and the bonds of
 * dismissed disputes) go to the task's stakers that were never slashed, pro rata of their stake,
 * paid with their stake when the task ended.
 *
 * Each figure has one source. What a staker agrees to when it stakes (`requiredStake`,
 * `roleStake`, `disputeBond`, `disputeWindowBlocks`) is fixed here by {setStakeRules} and no vote
 * changes it. The offence figures (`slashPpm` and the slashing threshold `minStandingPpm`) of a
 * task that has rules on {taskRules} come from there, read for the round the offence is in: a
 * governance vote changing them applies from the round after the one open when it executed, as
 * every rule does. A task without rules there uses the figures given to {setStakeRules}.
 * Whether a task has rules on {taskRules} is fixed once its round 1 opens (first rules are set
 * before it), so every offence of a task reads the same source; {offenceRules} says which.
 * @dev O(1) per call: the slashed pool is shared through a per-task accumulator (tokens per staked
 * unit, scaled by 1e18) and each staker's debt, never by a loop. Tokens slashed while no honest
 * staker is left wait in the pool's residual and are shared at the next slash or bond. Rounding
 * dust of the accumulator stays in this contract. The registry does not record who held a role in a
 * round (only events say when roles change), so {recordRoundRoles} records them while a round is
 * open (roles change only between rounds); a silence or dispute slash needs that record.
 */
contract TaskStakes is ITaskStakes {
    using SafeERC20 for IERC20;

    /// @notice Parts per million: a whole stake.
    uint32 public constant PPM = 1_000_000;
    uint256 private constant POOL_SCALE = 1e18;

    /// @notice What a party was slashed for.
    enum Offence {
        LowStanding, // a proven score table row with standing below the task's threshold
        AggregatorSilent, // the round was cancelled: no aggregate by its deadline
        KeyHolderSilent, // the round was cancelled: neither model nor rejection by its deadline
        MissedRound, // a masked party advertised its key and committed no update
        DisputeUpheld // the aggregator of a round whose dispute validators upheld
    }

    /// @notice A task's stake rules, fixed by its coordinator before round 1 (`slashPpm` and
    /// `minStandingPpm` are zero, and unused, for a task with rules on {taskRules}).
    struct StakeRules {
        uint128 requiredStake; // each participant stakes this (0: participants need no stake)
        uint128 roleStake; // the aggregator and the key holder each stake this
        uint96 disputeBond; // a participant opening a dispute deposits this
        uint64 disputeWindowBlocks; // blocks after a round's validation deadline it may be disputed (0: no disputes)
        uint32 slashPpm; // part of the remaining stake lost per offence, in parts per million
        uint32 minStandingPpm; // a proven standing below this is slashed
        bool set;
    }

    /// @notice One account's stake in a task.
    struct Stake {
        uint128 amount; // what is left of the stake
        uint128 slashedAmount; // what slashes took from it
        uint32 coversFromRound; // the first round the stake covers (rounds opened after staking)
        IFederatedTraining.Role role; // the role it staked for
        bool staked;
        bool withdrawn;
        bool slashed; // slashed at least once: it takes no part of the slashed pool
        uint256 poolDebt; // amount x the pool accumulator when staked (honest stakers only)
    }

    /// @notice A round's dispute.
    struct Dispute {
        address opener;
        DisputeState state;
        uint32 upholdVotes;
        uint32 dismissVotes;
        uint32 electorate; // the task's validators when it was opened: a majority decides
        uint64 voteDeadlineBlock; // votes are taken up to and including this block
        uint96 bond;
    }

    /// @notice The aggregator and key holder of a round, recorded while it was open.
    struct RoundRoles {
        address aggregator;
        address keyHolder;
    }

    struct TaskPool {
        uint256 accumulatorPerStake; // slashed tokens per staked unit of an honest staker, x 1e18
        uint128 honestStake; // sum of the stakes of stakers never slashed nor withdrawn
        uint128 residual; // slashed tokens waiting for an honest staker
    }

    /// @notice The registry whose tasks these stakes cover.
    ITrainingRegistry public immutable registry;
    /// @notice The score tables the low-standing slash reads.
    IContributionScores public immutable scores;
    /// @notice The token stakes and bonds are paid in: the registry's reward token.
    IERC20 public immutable token;
    /// @notice The task rules (over the same registry) whose offence figures a task with rules
    /// there is slashed by.
    ITaskRules public immutable taskRules;

    mapping(uint256 taskId => StakeRules) private _rules;
    mapping(uint256 taskId => mapping(address account => Stake)) private _stakes;
    mapping(uint256 taskId => TaskPool) private _pools;
    mapping(uint256 taskId => mapping(uint32 round => RoundRoles)) private _roundRoles;
    mapping(uint256 taskId => mapping(uint32 round => Dispute)) private _disputes;
    mapping(uint256 taskId => mapping(uint32 round => mapping(address validator => bool))) private _disputeVotes;
    mapping(bytes32 offenceKey => bool) private _offences;

    /// @notice The stakes were deployed for `registry`, reading scores from `scores` and the
    /// offence figures of tasks with rules from `taskRules`.
    event StakesDeployed(
        address indexed registry, address indexed scores, address indexed token, address taskRules
    );
    /// @notice The task's coordinator set its stake rules.
    event StakeRulesSet(
        uint256 indexed taskId,
        uint128 requiredStake,
        uint128 roleStake,
        uint32 slashPpm,
        uint32 minStandingPpm,
        uint96 disputeBond,
        uint64 disputeWindowBlocks
    );
    /// @notice `account` staked `amount` for `role`; the stake covers rounds from `coversFromRound` on.
    event Staked(
        uint256 indexed taskId, address indexed account, IFederatedTraining.Role role, uint256 amount, uint32 coversFromRound
    );
    /// @notice `party` lost `amount` of its stake for `offence` in the round; `remaining` is left.
    event Slashed(
        uint256 indexed taskId,
        uint32 indexed round,
        address indexed party,
        Offence offence,
        uint256 amount,
        uint256 remaining
    );
    /// @notice `account` withdrew what was left of its stake, `returned`, plus `poolShare` of the slashed pool.
    event StakeWithdrawn(uint256 indexed taskId, address indexed account, uint256 returned, uint256 poolShare);
    /// @notice The round's aggregator and key holder were recorded while it was open.
    event RoundRolesRecorded(uint256 indexed taskId, uint32 indexed round, address aggregator, address keyHolder);
    /// @notice `opener` disputed the round's aggregate with `bond`; validators vote up to `voteDeadlineBlock`.
    event DisputeOpened(
        uint256 indexed taskId,
        uint32 indexed round,
        address indexed opener,
        bytes32 evidenceDigest,
        uint256 bond,
        uint64 voteDeadlineBlock
    );
    /// @notice `validator` voted to uphold (or dismiss) the round's dispute.
    event DisputeVoteCast(uint256 indexed taskId, uint32 indexed round, address indexed validator, bool uphold);
    /// @notice The round's dispute was settled: upheld, dismissed or lapsed.
    event DisputeResolved(
        uint256 indexed taskId, uint32 indexed round, DisputeState state, uint32 upholdVotes, uint32 dismissVotes
    );

    /// @dev A constructor address is zero.
    error StakesInvalidAddress();
    /// @dev The task rules belong to `rulesRegistry`, not to this registry `registry`.
    error StakesRulesRegistryMismatch(address registry, address rulesRegistry);
    /// @dev The task has rules on {taskRules}: its `slashPpm` and slashing threshold are set there
    /// (before round 1 by its coordinator, then by its governor), not here.
    error StakesSlashingOnTaskRules(uint256 taskId, address taskRules);
    /// @dev `account` is not the task's coordinator.
    error StakesNotCoordinator(uint256 taskId, address account);
    /// @dev Stake rules are set before round 1; the task is at round `currentRound`.
    error StakesRoundsStarted(uint256 taskId, uint32 currentRound);
    /// @dev The task's stake rules were already set.
    error StakesRulesAlreadySet(uint256 taskId);
    /// @dev `slashPpm` is above 1e6 (more than the whole stake).
    error StakesInvalidSlashPpm(uint32 slashPpm);
    /// @dev `minStandingPpm` is above 1e6: it would slash the median party, or better ones.
    error StakesInvalidMinStanding(uint32 minStandingPpm);
    /// @dev The task has no stake rules.
    error StakesNoRules(uint256 taskId);
    /// @dev The task ended: no stake is taken any more.
    error StakesTaskEnded(uint256 taskId);
    /// @dev `account` holds `role` in the task, which stakes nothing.
    error StakesNothingToStake(uint256 taskId, address account, IFederatedTraining.Role role);
    /// @dev `account` already staked in the task.
    error StakesAlreadyStaked(uint256 taskId, address account);
    /// @dev `account` has no stake in the task.
    error StakesNotStaked(uint256 taskId, address account);
    /// @dev `account` already withdrew its stake.
    error StakesAlreadyWithdrawn(uint256 taskId, address account);
    /// @dev The task has not ended: stakes stay until it does.
    error StakesTaskNotEnded(uint256 taskId);
    /// @dev `party` was already slashed for `offence` in the round.
    error StakesAlreadySlashed(uint256 taskId, uint32 round, address party, Offence offence);
    /// @dev The round's scores are not posted.
    error StakesScoresNotPosted(uint256 taskId, uint32 round);
    /// @dev The row is not in the round's posted score table.
    error StakesInvalidProof(uint256 taskId, uint32 round, address party);
    /// @dev `party`'s standing `standingPpm` is not below the task's `minStandingPpm`.
    error StakesStandingNotLow(uint256 taskId, uint32 round, address party, uint32 standingPpm, uint32 minStandingPpm);
    /// @dev The round is not open (Collecting, Aggregated or Validating) as the task's current round.
    error StakesRoundNotOpen(uint256 taskId, uint32 round);
    /// @dev The round's roles were already recorded.
    error StakesRolesAlreadyRecorded(uint256 taskId, uint32 round);
    /// @dev The round's roles were not recorded while it was open: who held them is not known on-chain.
    error StakesRolesNotRecorded(uint256 taskId, uint32 round);
    /// @dev The round was not cancelled.
    error StakesRoundNotCancelled(uint256 taskId, uint32 round);
    /// @dev The round was cancelled for too few updates: no role was silent.
    error StakesNoSilentRole(uint256 taskId, uint32 round);
    /// @dev `party` did not advertise a masking key in the round and then miss its commit.
    error StakesRoundNotMissed(uint256 taskId, uint32 round, address party);
    /// @dev The round still takes updates up to `deadlineBlock`.
    error StakesRoundStillCollecting(uint256 taskId, uint32 round, uint64 deadlineBlock);
    /// @dev The task takes no disputes (its `disputeWindowBlocks` is 0).
    error StakesDisputesDisabled(uint256 taskId);
    /// @dev `account` is not a participant of the task.
    error StakesNotParticipant(uint256 taskId, address account);
    /// @dev `account` is not a validator of the task.
    error StakesNotValidator(uint256 taskId, address account);
    /// @dev A dispute's evidence digest must not be zero.
    error StakesZeroEvidence();
    /// @dev A round is disputed while Validating or Accepted; it is in `phase`.
    error StakesRoundNotDisputable(uint256 taskId, uint32 round, IFederatedTraining.RoundPhase phase);
    /// @dev The round could be disputed up to block `deadlineBlock`.
    error StakesDisputeWindowClosed(uint256 taskId, uint32 round, uint64 deadlineBlock);
    /// @dev The round was already disputed; its dispute is `state`.
    error StakesDisputeExists(uint256 taskId, uint32 round, DisputeState state);
    /// @dev The round has no open dispute.
    error StakesNoOpenDispute(uint256 taskId, uint32 round);
    /// @dev `validator` already voted on the round's dispute.
    error StakesAlreadyVotedOnDispute(uint256 taskId, uint32 round, address validator);
    /// @dev The dispute's votes closed at `deadlineBlock`.
    error StakesDisputeVotingClosed(uint256 taskId, uint32 round, uint64 deadlineBlock);
    /// @dev The dispute's votes are open until `deadlineBlock`.
    error StakesDisputeVotingOpen(uint256 taskId, uint32 round, uint64 deadlineBlock);
    /// @dev The task's last round may still be disputed up to `deadlineBlock` (or its dispute is open).
    error StakesLastRoundUnsettled(uint256 taskId, uint32 round, uint64 deadlineBlock);

    /**
     * @param registry_ The `FederatedTraining` registry; stakes are in its reward token.
     * @param scores_ The contribution reward policy holding the registry's score tables.
     * @param taskRules_ The `TaskRules` of the same registry.
     */
    constructor(ITrainingRegistry registry_, IContributionScores scores_, ITaskRules taskRules_) {
        if (
            address(registry_) == address(0) || address(scores_) == address(0)
                || address(taskRules_) == address(0)
        ) {
            revert StakesInvalidAddress();
        }
        address rulesRegistry = address(taskRules_.registry());
        if (rulesRegistry != address(registry_)) {
            revert StakesRulesRegistryMismatch(address(registry_), rulesRegistry);
        }
        registry = registry_;
        scores = scores_;
        token = registry_.token();
        taskRules = taskRules_;
        emit StakesDeployed(address(registry_), address(scores_), address(token), address(taskRules_));
    }

    // ------------------------------------------------------------------------------------------
    // Rules and stakes
    // ------------------------------------------------------------------------------------------

    /**
     * @notice Sets the task's stake rules. Its coordinator only, before round 1 opens, once. For a
     * task with rules on {taskRules} the offence figures are those rules' (`slashPpm` and
     * `minStandingPpm` must be 0 here); if the coordinator sets rules there after this call (also
     * before round 1), theirs are the ones slashing uses from then on.
     * @dev One call to {taskRules} when an offence figure is given. Emits {StakeRulesSet}.
     * @param taskId The task.
     * @param requiredStake What each participant stakes (0: none).
     * @param roleStake What the aggregator and the key holder each stake (0: none).
     * @param slashPpm The part of the remaining stake an offence takes, in parts per million (<= 1e6).
     * @param minStandingPpm A proven standing below this (parts per million of the median party's) is slashed.
     * @param disputeBond What opening a dispute deposits.
     * @param disputeWindowBlocks Blocks after a round's validation deadline it may be disputed (0: no disputes).
     */
    function setStakeRules(
        uint256 taskId,
        uint128 requiredStake,
        uint128 roleStake,
        uint32 slashPpm,
        uint32 minStandingPpm,
        uint96 disputeBond,
        uint64 disputeWindowBlocks
    ) external {
        IFederatedTraining.Task memory task = registry.getTask(taskId);
        if (msg.sender != task.coordinator) {
            revert StakesNotCoordinator(taskId, msg.sender);
        }
        if (task.currentRound != 0) {
            revert StakesRoundsStarted(taskId, task.currentRound);
        }
        StakeRules storage rules = _rules[taskId];
        if (rules.set) {
            revert StakesRulesAlreadySet(taskId);
        }
        if (slashPpm > PPM) {
            revert StakesInvalidSlashPpm(slashPpm);
        }
        if (minStandingPpm > PPM) {
            revert StakesInvalidMinStanding(minStandingPpm);
        }
        if (slashPpm != 0 || minStandingPpm != 0) {
            (bool ruled,,) = taskRules.slashingRulesFor(taskId, 1);
            if (ruled) {
                revert StakesSlashingOnTaskRules(taskId, address(taskRules));
            }
        }
        _rules[taskId] = StakeRules({
            requiredStake: requiredStake,
            roleStake: roleStake,
            disputeBond: disputeBond,
            disputeWindowBlocks: disputeWindowBlocks,
            slashPpm: slashPpm,
            minStandingPpm: minStandingPpm,
            set: true
        });
        emit StakeRulesSet(taskId, requiredStake, roleStake, slashPpm, minStandingPpm, disputeBond, disputeWindowBlocks);
    }

    /**
     * @notice Stakes exactly what the caller's role requires: `requiredStake` for a participant,
     * `roleStake` for the aggregator or the key holder. Once per task, before it ends.
     * @dev The caller must have approved the amount to this contract. The stake covers the
     * rounds opened after it. Emits {Staked}, then pulls the tokens.
     * @param taskId The task.
     */
    function stake(uint256 taskId) external {
        StakeRules storage rules = _rules[taskId];
        if (!rules.set) {
            revert StakesNoRules(taskId);
        }
        IFederatedTraining.Task memory task = registry.getTask(taskId);
        if (task.ended) {
            revert StakesTaskEnded(taskId);
        }
        IFederatedTraining.Role role = registry.getMember(taskId, msg.sender).role;
        uint128 amount;
        if (role == IFederatedTraining.Role.Participant) {
            amount = rules.requiredStake;
        } else if (role == IFederatedTraining.Role.Aggregator || role == IFederatedTraining.Role.KeyHolder) {
            amount = rules.roleStake;
        }
        if (amount == 0) {
            revert StakesNothingToStake(taskId, msg.sender, role);
        }
        Stake storage s = _stakes[taskId][msg.sender];
        if (s.staked) {
            revert StakesAlreadyStaked(taskId, msg.sender);
        }
        TaskPool storage pool = _pools[taskId];
        uint32 coversFromRound = task.currentRound + 1;
        s.amount = amount;
        s.coversFromRound = coversFromRound;
        s.role = role;
        s.staked = true;
        s.poolDebt = uint256(amount) * pool.accumulatorPerStake;
        pool.honestStake += amount;
        emit Staked(taskId, msg.sender, role, amount, coversFromRound);
        token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /**
     * @notice Returns what is left of the caller's stake, with (if it was never slashed) its
     * pro-rata part of the task's slashed pool. Once the task ended and its last round can no
     * longer be disputed.
     * @dev Emits {StakeWithdrawn}, then transfers.
     * @param taskId The task.
     * @return returned The stake returned.
     * @return poolShare The part of the slashed pool paid with it.
     */
    function withdrawStake(uint256 taskId) external returns (uint256 returned, uint256 poolShare) {
        Stake storage s = _stakes[taskId][msg.sender];
        if (!s.staked) {
            revert StakesNotStaked(taskId, msg.sender);
        }
        if (s.withdrawn) {
            revert StakesAlreadyWithdrawn(taskId, msg.sender);
        }
        IFederatedTraining.Task memory task = registry.getTask(taskId);
        if (!task.ended) {
            revert StakesTaskNotEnded(taskId);
        }
        uint32 lastRound = task.currentRound;
        (DisputeState dispute, uint64 deadlineBlock) = _disputeStatus(taskId, lastRound);
        if (dispute == DisputeState.Open || block.number <= deadlineBlock) {
            revert StakesLastRoundUnsettled(taskId, lastRound, deadlineBlock);
        }
        returned = s.amount;
        if (!s.slashed) {
            TaskPool storage pool = _pools[taskId];
            poolShare = (returned * pool.accumulatorPerStake - s.poolDebt) / POOL_SCALE;
            pool.honestStake -= uint128(returned);
        }
        s.withdrawn = true;
        emit StakeWithdrawn(taskId, msg.sender, returned, poolShare);
        if (returned + poolShare != 0) {
            token.safeTransfer(msg.sender, returned + poolShare);
        }
    }

    // ------------------------------------------------------------------------------------------
    // Slashing
    // ------------------------------------------------------------------------------------------

    /**
     * @notice Slashes a party whose proven row of a posted score table has a standing below the
     * slashing threshold in force in that round ({offenceRules}). Anyone may call it, once per
     * (round, party).
     * @dev Emits {Slashed}.
     * @param taskId The task.
     * @param round A round whose scores were posted.
     * @param party The row's party.
     * @param sharePpm The row's share.
     * @param standingPpm The row's standing.
     * @param proof The row's Merkle proof against the round's root.
     */
    function slashLowStanding(
        uint256 taskId,
        uint32 round,
        address party,
        uint32 sharePpm,
        uint32 standingPpm,
        bytes32[] calldata proof
    ) external {
        bytes32 root = scores.scoresRoot(taskId, round);
        if (root == bytes32(0)) {
            revert StakesScoresNotPosted(taskId, round);
        }
        if (!MerkleProof.verifyCalldata(proof, root, scores.scoreLeaf(party, sharePpm, standingPpm))) {
            revert StakesInvalidProof(taskId, round, party);
        }
        (uint32 slashPpm, uint32 minStandingPpm,) = _offenceRules(taskId, round);
        if (standingPpm >= minStandingPpm) {
            revert StakesStandingNotLow(taskId, round, party, standingPpm, minStandingPpm);
        }
        _slash(taskId, round, party, Offence.LowStanding, slashPpm);
    }

    /**
     * @notice Records the current round's aggregator and key holder while the round is open
     * (roles change only between rounds), so a silence or an upheld dispute can slash them later.
     * Anyone may call it, once per round.
     * @dev Emits {RoundRolesRecorded}.
     * @param taskId The task.
     */
    function recordRoundRoles(uint256 taskId) external {
        IFederatedTraining.Task memory task = registry.getTask(taskId);
        uint32 round = task.currentRound;
        if (_roundRoles[taskId][round].aggregator != address(0)) {
            revert StakesRolesAlreadyRecorded(taskId, round);
        }
        if (!_recordRoles(taskId, task, round)) {
            revert StakesRoundNotOpen(taskId, round);
        }
    }

    /**
     * @notice Cancels a stalled round through the registry and, if a role's silence stalled it,
     * slashes that role in the same transaction. Anyone may call it.
     * @dev Records the round's roles first if they were not. Reverts as the registry's
     * `cancelRound` does. Emits {RoundRolesRecorded} (if not yet recorded) and {Slashed} for a
     * silent role that staked.
     * @param taskId The task.
     * @param round The current round, stalled.
     */
    function cancelStalledRound(uint256 taskId, uint32 round) external {
        if (_roundRoles[taskId][round].aggregator == address(0)) {
            IFederatedTraining.Task memory task = registry.getTask(taskId);
            if (round == task.currentRound) {
                _recordRoles(taskId, task, round);
            }
        }
        registry.cancelRound(taskId, round);
        (bool silent, address party, Offence offence) = _silentRole(taskId, round);
        if (silent && party != address(0) && _stakes[taskId][party].staked) {
            (uint32 slashPpm,,) = _offenceRules(taskId, round);
            _slash(taskId, round, party, offence, slashPpm);
        }
    }

    /**
     * @notice Slashes the role whose silence got the round cancelled: the aggregator (no
     * aggregate by the deadline) or the key holder (neither model nor rejection). Anyone may call
     * it, once per round; the round's roles must have been recorded while it was open.
     * @dev The registry keeps the cancellation's reason only in its event; it is read back from
     * the round: an aggregate digest means the key holder was silent, none with enough updates
     * means the aggregator was. Emits {Slashed}.
     * @param taskId The task.
     * @param round A cancelled round.
     */
    function slashSilentRole(uint256 taskId, uint32 round) external {
        (bool silent, address party, Offence offence) = _silentRole(taskId, round);
        if (!silent) {
            revert StakesNoSilentRole(taskId, round);
        }
        if (party == address(0)) {
            revert StakesRolesNotRecorded(taskId, round);
        }
        (uint32 slashPpm,,) = _offenceRules(taskId, round);
        _slash(taskId, round, party, offence, slashPpm);
    }

    /**
     * @notice Slashes a masked task's party that advertised its masking key in the round and
     * committed no update by the end of collection. Anyone may call it, once per (round, party),
     * before the party advertises in a later round (the registry keeps only its latest).
     * @dev Reads the party's member slot: its latest advertised round is `round`, its latest
     * committed round is not, and its admission was not revoked. Emits {Slashed}.
     * @param taskId A masked task.
     * @param round The round it missed.
     * @param party The participant.
     */
    function slashMissedRound(uint256 taskId, uint32 round, address party) external {
        IFederatedTraining.Member memory member = registry.getMember(taskId, party);
        if (
            member.role != IFederatedTraining.Role.Participant || !member.masked || member.lastAdvertisedRound != round
                || member.lastCommittedRound == round || member.maxSamplesPerUpdate == 0
        ) {
            revert StakesRoundNotMissed(taskId, round, party);
        }
        IFederatedTraining.Round memory r = registry.getRound(taskId, round);
        if (r.phase == IFederatedTraining.RoundPhase.Collecting && block.number <= r.submissionDeadlineBlock) {
            revert StakesRoundStillCollecting(taskId, round, r.submissionDeadlineBlock);
        }
        (uint32 slashPpm,,) = _offenceRules(taskId, round);
        _slash(taskId, round, party, Offence.MissedRound, slashPpm);
    }

    // ------------------------------------------------------------------------------------------
    // Disputes
    // ------------------------------------------------------------------------------------------

    /**
     * @notice Disputes the round's aggregate, depositing the task's dispute bond. A participant
     * of the task only, one dispute per round, while the round is Validating or Accepted and up to
     * `disputeWindowBlocks` after its validation deadline (the policy takes the round's scores,
     * and pays it, only after that).
     * @dev Records the round's roles if it is still open. The caller must have approved the bond.
     * Validators vote up to `validationWindowBlocks` from now. Emits {DisputeOpened}, then pulls the bond.
     * @param taskId The task.
     * @param round The disputed round.
     * @param evidenceDigest sha256 of the evidence blob (what the verification found).
     */
    function openDispute(uint256 taskId, uint32 round, bytes32 evidenceDigest) external {
        StakeRules storage rules = _rules[taskId];
        uint64 windowBlocks = rules.disputeWindowBlocks;
        if (windowBlocks == 0) {
            revert StakesDisputesDisabled(taskId);
        }
        if (!registry.isParticipant(taskId, msg.sender)) {
            revert StakesNotParticipant(taskId, msg.sender);
        }
        if (evidenceDigest == bytes32(0)) {
            revert StakesZeroEvidence();
        }
        IFederatedTraining.Round memory r = registry.getRound(taskId, round);
        if (r.phase != IFederatedTraining.RoundPhase.Validating && r.phase != IFederatedTraining.RoundPhase.Accepted) {
            revert StakesRoundNotDisputable(taskId, round, r.phase);
        }
        uint64 deadlineBlock = uint64(r.validationDeadlineBlock) + windowBlocks;
        if (block.number > deadlineBlock) {
            revert StakesDisputeWindowClosed(taskId, round, deadlineBlock);
        }
        Dispute storage d = _disputes[taskId][round];
        if (d.state != DisputeState.None) {
            revert StakesDisputeExists(taskId, round, d.state);
        }
        IFederatedTraining.Task memory task = registry.getTask(taskId);
        if (round == task.currentRound && _roundRoles[taskId][round].aggregator == address(0)) {
            _recordRoles(taskId, task, round);
        }
        uint96 bond = rules.disputeBond;
        uint64 voteDeadlineBlock = uint64(block.number) + task.params.validationWindowBlocks;
        d.opener = msg.sender;
        d.state = DisputeState.Open;
        d.electorate = task.validatorCount;
        d.voteDeadlineBlock = voteDeadlineBlock;
        d.bond = bond;
        emit DisputeOpened(taskId, round, msg.sender, evidenceDigest, bond, voteDeadlineBlock);
        if (bond != 0) {
            token.safeTransferFrom(msg.sender, address(this), bond);
        }
    }

    /**
     * @notice Votes on the round's open dispute, after re-running the round's verification
     * off-chain. The task's validators only, once each, until the vote's deadline.
     * @dev A majority of the task's validators (when the dispute opened) decides at once: upheld,
     * the round pays nothing, its recorded aggregator's stake is slashed and the bond refunded;
     * dismissed, the bond goes to the task's honest stakers. Emits {DisputeVoteCast}, and
     * {DisputeResolved} (with {Slashed}) for the deciding vote.
     * @param taskId The task.
     * @param round The disputed round.
     * @param uphold Whether the verification found the aggregate wrong.
     */
    function voteOnDispute(uint256 taskId, uint32 round, bool uphold) external {
        if (!registry.isValidator(taskId, msg.sender)) {
            revert StakesNotValidator(taskId, msg.sender);
        }
        Dispute storage d = _disputes[taskId][round];
        if (d.state != DisputeState.Open) {
            revert StakesNoOpenDispute(taskId, round);
        }
        if (block.number > d.voteDeadlineBlock) {
            revert StakesDisputeVotingClosed(taskId, round, d.voteDeadlineBlock);
        }
        if (_disputeVotes[taskId][round][msg.sender]) {
            revert StakesAlreadyVotedOnDispute(taskId, round, msg.sender);
        }
        _disputeVotes[taskId][round][msg.sender] = true;
        uint32 majority = d.electorate / 2 + 1;
        uint32 upholdVotes = d.upholdVotes;
        uint32 dismissVotes = d.dismissVotes;
        if (uphold) {
            d.upholdVotes = ++upholdVotes;
        } else {
            d.dismissVotes = ++dismissVotes;
        }
        emit DisputeVoteCast(taskId, round, msg.sender, uphold);
        if (upholdVotes >= majority) {
            d.state = DisputeState.Upheld;
            emit DisputeResolved(taskId, round, DisputeState.Upheld, upholdVotes, dismissVotes);
            address aggregator = _roundRoles[taskId][round].aggregator;
            if (aggregator != address(0) && _stakes[taskId][aggregator].staked) {
                (uint32 slashPpm,,) = _offenceRules(taskId, round);
                _slash(taskId, round, aggregator, Offence.DisputeUpheld, slashPpm);
            }
            _refundBond(d);
        } else if (dismissVotes >= majority) {
            d.state = DisputeState.Dismissed;
            emit DisputeResolved(taskId, round, DisputeState.Dismissed, upholdVotes, dismissVotes);
            _distribute(taskId, d.bond);
        }
    }

    /**
     * @notice Closes a dispute whose vote deadline passed with no majority: it lapses, the bond
     * is refunded and the round pays as usual. Anyone may call it.
     * @dev Emits {DisputeResolved}, then transfers.
     * @param taskId The task.
     * @param round The disputed round.
     */
    function closeDispute(uint256 taskId, uint32 round) external {
        Dispute storage d = _disputes[taskId][round];
        if (d.state != DisputeState.Open) {
            revert StakesNoOpenDispute(taskId, round);
        }
        if (block.number <= d.voteDeadlineBlock) {
            revert StakesDisputeVotingOpen(taskId, round, d.voteDeadlineBlock);
        }
        d.state = DisputeState.Lapsed;
        emit DisputeResolved(taskId, round, DisputeState.Lapsed, d.upholdVotes, d.dismissVotes);
        _refundBond(d);
    }

    // ------------------------------------------------------------------------------------------
    // Views
    // ------------------------------------------------------------------------------------------

    /// @inheritdoc ITaskStakes
    function claimStatus(uint256 taskId, uint32 round, address participant)
        external
        view
        returns (DisputeState dispute, uint64 disputeDeadlineBlock, bool stakeCovers)
    {
        (dispute, disputeDeadlineBlock) = _disputeStatus(taskId, round);
        Stake storage s = _stakes[taskId][participant];
        stakeCovers = _rules[taskId].requiredStake == 0 || (s.staked && round >= s.coversFromRound);
    }

    /// @notice The task's stake rules (`set` false: none). The offence figures in force in a
    /// round are {offenceRules}'.
    function stakeRules(uint256 taskId) external view returns (StakeRules memory) {
        return _rules[taskId];
    }

    /**
     * @notice The offence figures an offence in round `round` of the task is slashed by.
     * @param taskId The task.
     * @param round The round the offence is in.
     * @return slashPpm The part of the remaining stake the offence takes, in parts per million.
     * @return minStandingPpm A proven standing below this (1e6: the median party) is slashed.
     * @return onTaskRules Whether they come from {taskRules} (the task has rules there) rather
     * than from {setStakeRules}.
     */
    function offenceRules(uint256 taskId, uint32 round)
        external
        view
        returns (uint32 slashPpm, uint32 minStandingPpm, bool onTaskRules)
    {
        return _offenceRules(taskId, round);
    }

    /// @notice `account`'s stake in the task.
    function stakeOf(uint256 taskId, address account) external view returns (Stake memory) {
        return _stakes[taskId][account];
    }

    /// @notice The part of the task's slashed pool `account` would withdraw now (0 once slashed or withdrawn).
    function poolShareOf(uint256 taskId, address account) external view returns (uint256) {
        Stake storage s = _stakes[taskId][account];
        if (!s.staked || s.slashed || s.withdrawn) {
            return 0;
        }
        return (uint256(s.amount) * _pools[taskId].accumulatorPerStake - s.poolDebt) / POOL_SCALE;
    }

    /// @notice The task's pool: its accumulator, the honest stake it is shared over, its residual.
    function taskPool(uint256 taskId) external view returns (TaskPool memory) {
        return _pools[taskId];
    }

    /// @notice The round's dispute.
    function disputeOf(uint256 taskId, uint32 round) external view returns (Dispute memory) {
        return _disputes[taskId][round];
    }

    /// @notice The round's recorded aggregator and key holder (zero if not recorded).
    function roundRoles(uint256 taskId, uint32 round) external view returns (RoundRoles memory) {
        return _roundRoles[taskId][round];
    }

    /// @notice Whether `party` was slashed for `offence` in the round.
    function isSlashed(uint256 taskId, uint32 round, address party, Offence offence) external view returns (bool) {
        return _offences[_offenceKey(taskId, round, party, offence)];
    }

    /// @notice Whether `validator` voted on the round's dispute.
    function hasVotedOnDispute(uint256 taskId, uint32 round, address validator) external view returns (bool) {
        return _disputeVotes[taskId][round][validator];
    }

    // ------------------------------------------------------------------------------------------
    // Internals
    // ------------------------------------------------------------------------------------------

    /// @dev The offence figures of the round, and whether they are the task's rules on
    /// {taskRules} (if it has some: one external call, O(1) for recent rounds) or its own.
    function _offenceRules(uint256 taskId, uint32 round)
        private
        view
        returns (uint32 slashPpm, uint32 minStandingPpm, bool onTaskRules)
    {
        (onTaskRules, slashPpm, minStandingPpm) = taskRules.slashingRulesFor(taskId, round);
        if (!onTaskRules) {
            StakeRules storage rules = _rules[taskId];
            (slashPpm, minStandingPpm) = (rules.slashPpm, rules.minStandingPpm);
        }
    }

    function _slash(uint256 taskId, uint32 round, address party, Offence offence, uint32 slashPpm)
        private
    {
        bytes32 key = _offenceKey(taskId, round, party, offence);
        if (_offences[key]) {
            revert StakesAlreadySlashed(taskId, round, party, offence);
        }
        Stake storage s = _stakes[taskId][party];
        if (!s.staked) {
            revert StakesNotStaked(taskId, party);
        }
        if (s.withdrawn) {
            revert StakesAlreadyWithdrawn(taskId, party);
        }
        _offences[key] = true;
        uint128 before = s.amount;
        uint128 amount = uint128(uint256(before) * slashPpm / PPM);
        uint128 remaining = before - amount;
        s.amount = remaining;
        s.slashedAmount += amount;
        uint256 toShare = amount;
        if (!s.slashed) {
            // The party leaves the honest stakers: what it had accrued goes back to the pool.
            TaskPool storage pool = _pools[taskId];
            s.slashed = true;
            toShare += (uint256(before) * pool.accumulatorPerStake - s.poolDebt) / POOL_SCALE;
            pool.honestStake -= before;
        }
        emit Slashed(taskId, round, party, offence, amount, remaining);
        _distribute(taskId, toShare);
    }

    /// @dev Shares `amount` (with any residual) over the task's honest stake, or keeps it as residual.
    function _distribute(uint256 taskId, uint256 amount) private {
        TaskPool storage pool = _pools[taskId];
        uint256 total = amount + pool.residual;
        if (total == 0) {
            return;
        }
        uint128 honestStake = pool.honestStake;
        if (honestStake == 0) {
            pool.residual = uint128(total);
        } else {
            pool.accumulatorPerStake += total * POOL_SCALE / honestStake;
            pool.residual = 0;
        }
    }

    function _refundBond(Dispute storage d) private {
        uint96 bond = d.bond;
        if (bond != 0) {
            token.safeTransfer(d.opener, bond);
        }
    }

    /// @dev Records the round's roles if it is open; returns whether it was.
    function _recordRoles(uint256 taskId, IFederatedTraining.Task memory task, uint32 round) private returns (bool) {
        if (round == 0) {
            return false;
        }
        IFederatedTraining.RoundPhase phase = registry.getRound(taskId, round).phase;
        if (phase == IFederatedTraining.RoundPhase.None || phase >= IFederatedTraining.RoundPhase.Accepted) {
            return false;
        }
        _roundRoles[taskId][round] = RoundRoles({aggregator: task.aggregator, keyHolder: task.keyHolder});
        emit RoundRolesRecorded(taskId, round, task.aggregator, task.keyHolder);
        return true;
    }

    /// @dev Whether a role's silence got the round cancelled, and that role's recorded holder
    /// (zero if not recorded). Reverts unless the round was cancelled.
    function _silentRole(uint256 taskId, uint32 round)
        private
        view
        returns (bool silent, address party, Offence offence)
    {
        IFederatedTraining.Round memory r = registry.getRound(taskId, round);
        if (r.phase != IFederatedTraining.RoundPhase.Cancelled) {
            revert StakesRoundNotCancelled(taskId, round);
        }
        RoundRoles memory roles = _roundRoles[taskId][round];
        if (r.aggregateDigest != bytes32(0)) {
            return (true, roles.keyHolder, Offence.KeyHolderSilent);
        }
        if (r.commitCount >= registry.getTask(taskId).params.minParticipants) {
            return (true, roles.aggregator, Offence.AggregatorSilent);
        }
        return (false, address(0), Offence.LowStanding);
    }

    /// @dev The round's dispute state and the last block it may be disputed in (0: no disputes).
    function _disputeStatus(uint256 taskId, uint32 round) private view returns (DisputeState, uint64) {
        uint64 windowBlocks = _rules[taskId].disputeWindowBlocks;
        DisputeState state = _disputes[taskId][round].state;
        if (windowBlocks == 0) {
            return (state, 0);
        }
        uint64 validationDeadlineBlock = registry.getRound(taskId, round).validationDeadlineBlock;
        if (validationDeadlineBlock == 0) {
            return (state, 0);
        }
        return (state, validationDeadlineBlock + windowBlocks);
    }

    function _offenceKey(uint256 taskId, uint32 round, address party, Offence offence) private pure returns (bytes32) {
        return keccak256(abi.encode(taskId, round, party, offence));
    }
}
