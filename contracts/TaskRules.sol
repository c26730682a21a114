// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Checkpoints} from "@openzeppelin/contracts/utils/structs/Checkpoints.sol";
import {IFederatedTraining} from "./IFederatedTraining.sol";
import {ITaskRegistryView, ITaskRules} from "./ITaskRules.sol";

/**
 * @title TaskRules
 * @notice The rules of a task that governance may change while it runs, kept beside the
 * `FederatedTraining` registry (whose task parameters are fixed at creation): the valuation
 * group size k, the valuation policy, the standing below which a party earns no share, the cap on
 * one update's weight, and the offence figures of its stakes: the part of the remaining stake an
 * offence takes and the standing below which a party is slashed. The engine applies the valuation
 * rules (it reads k and the policy at each round's opening); `TaskStakes` reads the offence
 * figures of the round an offence is in ({slashingRulesFor}), so for a task with rules here they
 * are the only ones slashing uses.
 *
 * What a staker agreed to when it staked is not here and no vote changes it: the stake itself,
 * the roles' stake, the dispute bond and window stay as the coordinator fixed them on `TaskStakes`
 * before round 1 (stakers already paid them).
 *
 * A task's coordinator sets its first rules before round 1 opens and hands the task to a governor
 * (the {FedGovernor}'s timelock) with {handOver}; from then on only that governor changes them.
 * A change takes effect from the round after the one open when it executes, so a round is always
 * run under the rules in force when it opened; {rulesFor} answers for any round.
 * @dev Every version of a task's rules is kept; a checkpoint maps the first round of each version
 * to it (two changes while the same round is open share one checkpoint: the later wins, built on
 * the earlier). {rulesFor} and {slashingRulesFor} are O(1) for the rounds of the last two
 * versions and a binary search over the task's rule changes (never over participants) for older
 * rounds. No function loops.
 */
contract TaskRules is ITaskRules {
    using Checkpoints for Checkpoints.Trace208;

    /// @notice Parts per million: 1.0.
    uint32 public constant PPM = 1_000_000;
    /// @notice The smallest valuation group: a decrypted sum never isolates fewer parties.
    uint8 public constant MIN_GROUP_SIZE = 2;

    /// @notice How a round's contributions are valued (and rewards shared).
    enum ValuationPolicy {
        Proportional, // by capped declared samples (the engine's valuation "off")
        LeaveOneOut, // leave-one-group-out over groups of at least k
        Shapley // Shapley values over groups of at least k
    }

    /// @notice A task's rules, in one storage slot.
    struct Rules {
        uint8 groupSize; // k: the fewest parties in any decrypted group sum (>= 2)
        ValuationPolicy valuationPolicy;
        uint32 minStandingPpm; // a party whose standing (1e6 = the median party) is below this earns no share
        uint32 maxWeightOverMedianPpm; // an update's weight is capped at this multiple of the round's median (>= 1e6)
        uint32 slashPpm; // part of the remaining stake an offence takes (<= 1e6)
        uint32 slashBelowStandingPpm; // a proven standing below this (1e6 = the median party) is slashed
    }

    /// @notice Who changes a task's rules, and how many versions of them exist.
    struct Governance {
        address governor; // zero while the coordinator still sets the rules
        uint32 versions;
    }

    /// @inheritdoc ITaskRules
    ITaskRegistryView public immutable registry;

    mapping(uint256 taskId => Governance) private _governance;
    mapping(uint256 taskId => mapping(uint256 version => Rules)) private _versions;
    mapping(uint256 taskId => Checkpoints.Trace208) private _firstRounds;

    /// @notice The task's rules changed: `rules` apply from round `fromRound` on; `by` is the
    /// coordinator (first rules) or the governor.
    event RulesChanged(uint256 indexed taskId, uint32 indexed fromRound, address indexed by, Rules rules);
    /// @notice The coordinator handed the task's rules to `governor`, which alone changes them now.
    event RulesHandedOver(uint256 indexed taskId, address indexed coordinator, address indexed governor);

    /// @dev `account` is not the task's coordinator.
    error RulesNotCoordinator(uint256 taskId, address account);
    /// @dev First rules are set before round 1 opens; the task's round `currentRound` has.
    error RulesRoundsStarted(uint256 taskId, uint32 currentRound);
    /// @dev The task's rules belong to `governor` already: the coordinator no longer sets them.
    error RulesAlreadyGoverned(uint256 taskId, address governor);
    /// @dev `account` is not the task's governor (`governor`, zero while it has none).
    error RulesNotGovernor(uint256 taskId, address account, address governor);
    /// @dev The task has no rules yet (its coordinator sets them with {setInitialRules}).
    error RulesNotSet(uint256 taskId);
    /// @dev The task ended: its rules no longer change.
    error RulesTaskEnded(uint256 taskId);
    /// @dev A governor cannot be the zero address.
    error RulesInvalidGovernor();
    /// @dev k must be at least {MIN_GROUP_SIZE}.
    error RulesInvalidGroupSize(uint8 groupSize);
    /// @dev The standing threshold is at most 1e6 (the median party).
    error RulesInvalidMinStanding(uint32 minStandingPpm);
    /// @dev An update's weight cap is at least 1e6 (the median's weight).
    error RulesInvalidWeightCap(uint32 maxWeightOverMedianPpm);
    /// @dev A slash takes at most the whole stake (1e6).
    error RulesInvalidSlashPpm(uint32 slashPpm);
    /// @dev The slashing threshold is at most 1e6 (the median party).
    error RulesInvalidSlashStanding(uint32 slashBelowStandingPpm);

    /**
     * @notice Deploys the rules of `registry`'s tasks.
     * @param registry_ The FederatedTraining registry.
     */
    constructor(ITaskRegistryView registry_) {
        registry = registry_;
    }

    // -- the coordinator ------------------------------------------------------------------------

    /**
     * @notice Sets the task's first rules, which apply from round 1. Its coordinator only, before
     * round 1 opens and before it hands the task over; a second call replaces the first. From
     * then on `TaskStakes` slashes the task by these rules' `slashPpm` and
     * `slashBelowStandingPpm`, whatever figures its stake rules were given.
     * @dev Emits {RulesChanged} with `fromRound` 1.
     * @param taskId The task.
     * @param rules Its rules (each field checked as its setter checks it).
     */
    function setInitialRules(uint256 taskId, Rules calldata rules) external {
        IFederatedTraining.Task memory task = registry.getTask(taskId);
        if (msg.sender != task.coordinator) {
            revert RulesNotCoordinator(taskId, msg.sender);
        }
        address governor = _governance[taskId].governor;
        if (governor != address(0)) {
            revert RulesAlreadyGoverned(taskId, governor);
        }
        if (task.currentRound != 0) {
            revert RulesRoundsStarted(taskId, task.currentRound);
        }
        _check(rules);
        _store(taskId, 1, rules);
    }

    /**
     * @notice Hands the task's rules to `governor` (the governance timelock): from now on only it
     * changes them. Its coordinator only, once the rules are set, once.
     * @dev Emits {RulesHandedOver}.
     * @param taskId The task.
     * @param governor The account that alone changes the rules from now on.
     */
    function handOver(uint256 taskId, address governor) external {
        IFederatedTraining.Task memory task = registry.getTask(taskId);
        if (msg.sender != task.coordinator) {
            revert RulesNotCoordinator(taskId, msg.sender);
        }
        Governance storage governance = _governance[taskId];
        if (governance.governor != address(0)) {
            revert RulesAlreadyGoverned(taskId, governance.governor);
        }
        if (governance.versions == 0) {
            revert RulesNotSet(taskId);
        }
        if (governor == address(0)) {
            revert RulesInvalidGovernor();
        }
        governance.governor = governor;
        emit RulesHandedOver(taskId, msg.sender, governor);
    }

    // -- the governor ---------------------------------------------------------------------------

    /**
     * @notice Sets k, the fewest parties in a valuation group, from the next round on. The
     * task's governor only.
     * @dev Emits {RulesChanged}.
     * @param taskId The task.
     * @param groupSize The new k (at least {MIN_GROUP_SIZE}).
     */
    function setGroupSize(uint256 taskId, uint8 groupSize) external {
        (Rules memory rules, uint32 fromRound) = _nextRules(taskId);
        rules.groupSize = groupSize;
        _check(rules);
        _store(taskId, fromRound, rules);
    }

    /**
     * @notice Sets the valuation policy from the next round on. The task's governor only.
     * @dev Emits {RulesChanged}.
     * @param taskId The task.
     * @param policy The new policy.
     */
    function setValuationPolicy(uint256 taskId, ValuationPolicy policy) external {
        (Rules memory rules, uint32 fromRound) = _nextRules(taskId);
        rules.valuationPolicy = policy;
        _store(taskId, fromRound, rules);
    }

    /**
     * @notice Sets the standing below which a party earns no share, from the next round on. The
     * task's governor only.
     * @dev Emits {RulesChanged}.
     * @param taskId The task.
     * @param minStandingPpm The threshold in parts per million of the median party (at most 1e6).
     */
    function setMinStanding(uint256 taskId, uint32 minStandingPpm) external {
        (Rules memory rules, uint32 fromRound) = _nextRules(taskId);
        rules.minStandingPpm = minStandingPpm;
        _check(rules);
        _store(taskId, fromRound, rules);
    }

    /**
     * @notice Sets the cap on one update's weight, from the next round on. The task's governor
     * only.
     * @dev Emits {RulesChanged}.
     * @param taskId The task.
     * @param maxWeightOverMedianPpm The cap as a multiple of the round's median declared samples,
     * in parts per million (at least 1e6).
     */
    function setMaxWeightOverMedian(uint256 taskId, uint32 maxWeightOverMedianPpm) external {
        (Rules memory rules, uint32 fromRound) = _nextRules(taskId);
        rules.maxWeightOverMedianPpm = maxWeightOverMedianPpm;
        _check(rules);
        _store(taskId, fromRound, rules);
    }

    /**
     * @notice Sets the part of the remaining stake an offence takes, for offences in the next
     * round on (`TaskStakes` reads it for the round an offence is in). The task's governor only.
     * The stakes themselves do not change: stakers keep what they staked.
     * @dev Emits {RulesChanged}.
     * @param taskId The task.
     * @param slashPpm The part of the remaining stake an offence takes (at most 1e6).
     */
    function setSlash(uint256 taskId, uint32 slashPpm) external {
        (Rules memory rules, uint32 fromRound) = _nextRules(taskId);
        rules.slashPpm = slashPpm;
        _check(rules);
        _store(taskId, fromRound, rules);
    }

    /**
     * @notice Sets the standing below which a proven score row is slashed, for the score tables
     * of the next round on. The task's governor only.
     * @dev Emits {RulesChanged}.
     * @param taskId The task.
     * @param slashBelowStandingPpm The threshold in parts per million of the median party (at
     * most 1e6; 0: no standing is slashed).
     */
    function setSlashBelowStanding(uint256 taskId, uint32 slashBelowStandingPpm) external {
        (Rules memory rules, uint32 fromRound) = _nextRules(taskId);
        rules.slashBelowStandingPpm = slashBelowStandingPpm;
        _check(rules);
        _store(taskId, fromRound, rules);
    }

    // -- views ----------------------------------------------------------------------------------

    /**
     * @notice The rules in force in round `round` of the task (round 0: those of round 1).
     * @dev Reverts with {RulesNotSet} for a task without rules.
     * @param taskId The task.
     * @param round The round.
     * @return The rules that round runs under.
     */
    function rulesFor(uint256 taskId, uint32 round) external view returns (Rules memory) {
        if (_governance[taskId].versions == 0) {
            revert RulesNotSet(taskId);
        }
        return _rulesAt(taskId, round);
    }

    /// @inheritdoc ITaskRules
    /// @dev The same lookup as {rulesFor}: O(1) for the rounds of the last two versions.
    function slashingRulesFor(uint256 taskId, uint32 round)
        external
        view
        returns (bool set, uint32 slashPpm, uint32 slashBelowStandingPpm)
    {
        if (_governance[taskId].versions == 0) {
            return (false, 0, 0);
        }
        Rules storage rules = _rulesAt(taskId, round);
        return (true, rules.slashPpm, rules.slashBelowStandingPpm);
    }

    /**
     * @notice The task's latest rules and the first round they apply to (a round not opened yet
     * when a change is pending).
     * @dev Reverts with {RulesNotSet} for a task without rules.
     * @param taskId The task.
     * @return rules The latest rules.
     * @return fromRound The first round they apply to.
     */
    function latestRules(uint256 taskId) external view returns (Rules memory rules, uint32 fromRound) {
        if (_governance[taskId].versions == 0) {
            revert RulesNotSet(taskId);
        }
        (, uint48 latestFrom, uint208 latestVersion) = _firstRounds[taskId].latestCheckpoint();
        return (_versions[taskId][latestVersion], uint32(latestFrom));
    }

    /**
     * @notice Whether the task has rules.
     * @param taskId The task.
     * @return True once its coordinator set them.
     */
    function hasRules(uint256 taskId) external view returns (bool) {
        return _governance[taskId].versions != 0;
    }

    /**
     * @notice The account that alone changes the task's rules (zero while its coordinator does).
     * @param taskId The task.
     * @return The governor.
     */
    function governedBy(uint256 taskId) external view returns (address) {
        return _governance[taskId].governor;
    }

    // -- internals ------------------------------------------------------------------------------

    /// @dev The latest rules, to be changed by the governor, and the round a change applies from.
    function _nextRules(uint256 taskId) private view returns (Rules memory rules, uint32 fromRound) {
        address governor = _governance[taskId].governor;
        if (msg.sender != governor || governor == address(0)) {
            revert RulesNotGovernor(taskId, msg.sender, governor);
        }
        IFederatedTraining.Task memory task = registry.getTask(taskId);
        if (task.ended) {
            revert RulesTaskEnded(taskId);
        }
        rules = _versions[taskId][_firstRounds[taskId].latest()];
        fromRound = task.currentRound + 1;
    }

    /// @dev The version of a task with rules that round `round` runs under.
    function _rulesAt(uint256 taskId, uint32 round) private view returns (Rules storage) {
        Checkpoints.Trace208 storage firstRounds = _firstRounds[taskId];
        (, uint48 latestFrom, uint208 latestVersion) = firstRounds.latestCheckpoint();
        if (round >= latestFrom) {
            return _versions[taskId][latestVersion];
        }
        return _versions[taskId][firstRounds.upperLookupRecent(round)];
    }

    function _store(uint256 taskId, uint32 fromRound, Rules memory rules) private {
        Governance storage governance = _governance[taskId];
        uint32 version = governance.versions;
        if (fromRound == 1 && version != 0) {
            version = 0; // first rules set again before round 1: replace them
        } else {
            governance.versions = version + 1;
        }
        _versions[taskId][version] = rules;
        _firstRounds[taskId].push(fromRound, version);
        emit RulesChanged(taskId, fromRound, msg.sender, rules);
    }

    function _check(Rules memory rules) private pure {
        if (rules.groupSize < MIN_GROUP_SIZE) {
            revert RulesInvalidGroupSize(rules.groupSize);
        }
        if (rules.minStandingPpm > PPM) {
            revert RulesInvalidMinStanding(rules.minStandingPpm);
        }
        if (rules.maxWeightOverMedianPpm < PPM) {
            revert RulesInvalidWeightCap(rules.maxWeightOverMedianPpm);
        }
        if (rules.slashPpm > PPM) {
            revert RulesInvalidSlashPpm(rules.slashPpm);
        }
        if (rules.slashBelowStandingPpm > PPM) {
            revert RulesInvalidSlashStanding(rules.slashBelowStandingPpm);
        }
    }
}
