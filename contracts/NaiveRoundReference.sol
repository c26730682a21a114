// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/**
 * @title NaiveRoundReference
 * @notice The straightforward round contract of ENVIRONMENT.md ("Measured chain costs"), kept only
 * as a yardstick for the gas of a round: participants register, each submits a digest and its
 * samples (a stored struct and a push to an array), and `finalize` loops over the submitters to
 * mint each its share of the round's reward. Not used by fedchain; the bench deploys and drives it
 * beside FederatedTraining in the same run.
 * @dev Deliberately naive: `finalize` loops over participants, so its gas grows with them.
 */
contract NaiveRoundReference is ERC20 {
    /// @notice One submission, stored per round and submitter.
    struct Submission {
        bytes32 digest;
        uint64 samples;
        uint64 blockNumber;
        bool submitted;
    }

    /// @notice Reward minted per round, split by samples.
    uint256 public immutable rewardPerRound;

    /// @notice The round taking submissions (the first is 1).
    uint256 public round = 1;

    /// @notice Samples submitted in the current round.
    uint256 public totalSamples;

    /// @notice Whether an account registered.
    mapping(address account => bool) public registered;

    /// @notice Each round's submission of each account.
    mapping(uint256 round => mapping(address account => Submission)) public submissions;

    /// @notice The current round's submitters, in order.
    address[] public submitters;

    /// @notice `account` registered.
    event Registered(address indexed account);
    /// @notice `account` submitted `digest` for `round`, trained on `samples` samples.
    event Submitted(uint256 indexed round, address indexed account, bytes32 digest, uint64 samples);
    /// @notice `round` was finalized: `submitterCount` submitters were minted `reward` in total.
    event Finalized(uint256 indexed round, uint256 submitterCount, uint256 reward);

    /// @dev `account` already registered.
    error NaiveAlreadyRegistered(address account);
    /// @dev `account` did not register.
    error NaiveNotRegistered(address account);
    /// @dev `account` already submitted to `round`.
    error NaiveAlreadySubmitted(uint256 round, address account);

    /**
     * @notice Deploys the reference; it mints `rewardPerRound_` base units each finalized round.
     * @param rewardPerRound_ Reward per round, split by samples.
     */
    constructor(uint256 rewardPerRound_) ERC20("Naive reward", "NAIVE") {
        rewardPerRound = rewardPerRound_;
    }

    /// @notice Registers the caller. Emits {Registered}.
    function register() external {
        if (registered[msg.sender]) {
            revert NaiveAlreadyRegistered(msg.sender);
        }
        registered[msg.sender] = true;
        emit Registered(msg.sender);
    }

    /**
     * @notice Submits the caller's update digest to the current round. Emits {Submitted}.
     * @param digest The update's digest.
     * @param samples Samples the update was trained on.
     */
    function submit(bytes32 digest, uint64 samples) external {
        if (!registered[msg.sender]) {
            revert NaiveNotRegistered(msg.sender);
        }
        Submission storage submission = submissions[round][msg.sender];
        if (submission.submitted) {
            revert NaiveAlreadySubmitted(round, msg.sender);
        }
        submissions[round][msg.sender] =
            Submission({digest: digest, samples: samples, blockNumber: uint64(block.number), submitted: true});
        submitters.push(msg.sender);
        totalSamples += samples;
        emit Submitted(round, msg.sender, digest, samples);
    }

    /// @notice Mints every submitter its share of the round's reward and opens the next round.
    /// Anyone may call it. Emits {Finalized}.
    function finalize() external {
        uint256 count = submitters.length;
        uint256 minted;
        for (uint256 i = 0; i < count; ++i) {
            address account = submitters[i];
            uint256 amount = rewardPerRound * submissions[round][account].samples / totalSamples;
            _mint(account, amount);
            minted += amount;
        }
        emit Finalized(round, count, minted);
        delete submitters;
        totalSamples = 0;
        round += 1;
    }
}
