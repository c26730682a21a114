// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IFederatedTraining} from "./IFederatedTraining.sol";

/**
 * @title IRoundKeysRegistry
 * @notice The views of `FederatedTraining` that `RoundKeys` reads: roles and round phases.
 */
interface IRoundKeysRegistry {
    /// @notice The task `taskId` (reverts for an unknown task).
    function getTask(uint256 taskId) external view returns (IFederatedTraining.Task memory);

    /// @notice The round `round` of the task (phase `None` if it never opened).
    function getRound(uint256 taskId, uint32 round) external view returns (IFederatedTraining.Round memory);

    /// @notice Whether `account` is a validator of the task.
    function isValidator(uint256 taskId, address account) external view returns (bool);

    /// @notice `account`'s role in the task and the latest rounds it acted in.
    function getMember(uint256 taskId, address account) external view returns (IFederatedTraining.Member memory);
}

/**
 * @title RoundKeys
 * @notice Per-round encryption keys of masked tasks. The key holder registers a fresh public
 * context for a round before that round takes updates, and publishes the round's secret context
 * once the round's model is committed: every individual update is masked, so the secret reveals
 * only the sum, and anyone can then re-decrypt the aggregate and check the committed model bit for
 * bit. A validator whose re-decryption differs records its evidence here. Each participant of a
 * masked round also deals here, before the round's set is fixed, the Shamir shares of its masking
 * secret and self-mask secret to its peers (encrypted to each, one blob): once the aggregate fixes
 * who is in the sum, survivors reveal the shares that set allows, so a silent party never stalls
 * the round.
 * @dev The blobs live in the task's blob store under these sha256 digests. Round 1 of a task with
 * no registered key uses the task's own public context (see {roundPublicContext}). Every call
 * reads a fixed number of slots: no loop over participants or validators.
 */
contract RoundKeys {
    /// @notice A round's keys: the public context's digest and, once published, the secret's.
    struct RoundKey {
        bytes32 publicContextDigest;
        bytes32 secretDigest;
    }

    /// @notice A validator's evidence that the committed model is not the decryption.
    struct Mismatch {
        bool recorded;
        bytes32 recomputedModelDigest; // zero: the published secret is not the round key's secret
    }

    /// @notice The training registry whose tasks and rounds the keys belong to.
    IRoundKeysRegistry public immutable registry;

    mapping(uint256 taskId => mapping(uint32 round => RoundKey)) private _keys;
    mapping(uint256 taskId => mapping(bytes32 publicContextDigest => bool used)) private _usedDigests;
    mapping(uint256 taskId => mapping(uint32 round => mapping(address validator => Mismatch))) private _mismatches;
    mapping(uint256 taskId => mapping(uint32 round => mapping(address dealer => bytes32 bundleDigest))) private
        _shareBundles;

    /// @notice The key holder registered the round's public context `publicContextDigest`.
    event RoundKeyRegistered(uint256 indexed taskId, uint32 indexed round, bytes32 publicContextDigest);
    /// @notice The key holder published the round's secret context (blob `secretDigest`).
    event RoundSecretPublished(uint256 indexed taskId, uint32 indexed round, bytes32 secretDigest);
    /// @notice `validator` decrypted the round's aggregate with the published secret `secretDigest`
    /// and got the model `recomputedModelDigest`, not the committed `modelDigest`.
    event DecryptionMismatchRecorded(
        uint256 indexed taskId,
        uint32 indexed round,
        address indexed validator,
        bytes32 modelDigest,
        bytes32 recomputedModelDigest,
        bytes32 secretDigest
    );

    /// @notice `dealer` dealt its Shamir shares for the round (blob `bundleDigest`).
    event SharesDealt(uint256 indexed taskId, uint32 indexed round, address indexed dealer, bytes32 bundleDigest);

    /// @dev The constructor's registry is the zero address.
    error KeysInvalidRegistry();
    /// @dev A registered or published digest is zero.
    error KeysZeroDigest();
    /// @dev The task is not masked: publishing its secret would reveal every single update.
    error KeysNotMasked(uint256 taskId);
    /// @dev Only the task's key holder registers and publishes round keys.
    error KeysNotKeyHolder(uint256 taskId, address account);
    /// @dev Only a validator of the task records a mismatch.
    error KeysNotValidator(uint256 taskId, address account);
    /// @dev A key is registered for the next round (`currentRound` + 1), or for the current round
    /// while it is collecting and holds no update yet.
    error KeysNotNextRound(uint256 taskId, uint32 round, uint32 currentRound);
    /// @dev The round already has the public context `publicContextDigest`.
    error KeysAlreadyRegistered(uint256 taskId, uint32 round, bytes32 publicContextDigest);
    /// @dev `publicContextDigest` was already used by the task (a round's, or the task's own): keys are fresh each round.
    error KeysDigestReused(uint256 taskId, bytes32 publicContextDigest);
    /// @dev The round's model is not committed (or the round was cancelled): it is in `phase`.
    error KeysModelNotCommitted(uint256 taskId, uint32 round, IFederatedTraining.RoundPhase phase);
    /// @dev The round's secret was already published, as `secretDigest`.
    error KeysAlreadyPublished(uint256 taskId, uint32 round, bytes32 secretDigest);
    /// @dev The round's secret is not published yet.
    error KeysSecretNotPublished(uint256 taskId, uint32 round);
    /// @dev The evidence names the secret `given`, the round's published secret is `published`.
    error KeysSecretMismatch(uint256 taskId, uint32 round, bytes32 published, bytes32 given);
    /// @dev The recomputed model is the committed model `modelDigest`: there is no mismatch.
    error KeysModelMatches(uint256 taskId, uint32 round, bytes32 modelDigest);
    /// @dev `validator` already recorded a mismatch for the round.
    error KeysAlreadyRecorded(uint256 taskId, uint32 round, address validator);
    /// @dev Only a participant that advertised a masking key in the round deals shares for it.
    error KeysNotAdvertiser(uint256 taskId, uint32 round, address account);
    /// @dev Shares are dealt while the round collects, before its aggregate fixes who is in the sum.
    error KeysRoundNotCollecting(uint256 taskId, uint32 round, IFederatedTraining.RoundPhase phase);
    /// @dev `dealer` already dealt its shares for the round, as `bundleDigest`.
    error KeysAlreadyDealt(uint256 taskId, uint32 round, address dealer, bytes32 bundleDigest);

    /// @param trainingRegistry The FederatedTraining deployment the keys refer to.
    constructor(IRoundKeysRegistry trainingRegistry) {
        if (address(trainingRegistry) == address(0)) {
            revert KeysInvalidRegistry();
        }
        registry = trainingRegistry;
    }

    /**
     * @notice Registers the public context the round's updates are encrypted and summed under.
     * @dev Only the key holder of a masked task; once per round; for the next round (before it
     * opens), or for the current round while it collects and holds no update (a round opened
     * before its key, after a cancelled round). The digest must be new to the task.
     * @param taskId The task.
     * @param round The round the key is for.
     * @param publicContextDigest sha256 of the public context blob (no secret key in it).
     */
    function registerRoundKey(uint256 taskId, uint32 round, bytes32 publicContextDigest) external {
        if (publicContextDigest == bytes32(0)) revert KeysZeroDigest();
        IFederatedTraining.Task memory task = _keyHolderTask(taskId);
        uint32 current = task.currentRound;
        if (round != current + 1) {
            if (round != current || !_collectingEmpty(taskId, round)) {
                revert KeysNotNextRound(taskId, round, current);
            }
        }
        RoundKey storage key = _keys[taskId][round];
        if (key.publicContextDigest != bytes32(0)) {
            revert KeysAlreadyRegistered(taskId, round, key.publicContextDigest);
        }
        if (_usedDigests[taskId][publicContextDigest] || publicContextDigest == task.params.publicContextDigest) {
            revert KeysDigestReused(taskId, publicContextDigest);
        }
        _usedDigests[taskId][publicContextDigest] = true;
        key.publicContextDigest = publicContextDigest;
        emit RoundKeyRegistered(taskId, round, publicContextDigest);
    }

    /**
     * @notice Publishes the round's secret context, so anyone can re-decrypt its aggregate.
     * @dev Only the key holder of a masked task, once per round, after the round's model is
     * committed (phase Validating, Accepted or Rejected).
     * @param taskId The task.
     * @param round The round whose secret it is.
     * @param secretDigest sha256 of the secret context blob.
     */
    function publishRoundSecret(uint256 taskId, uint32 round, bytes32 secretDigest) external {
        if (secretDigest == bytes32(0)) revert KeysZeroDigest();
        _keyHolderTask(taskId);
        _committedModel(taskId, round);
        RoundKey storage key = _keys[taskId][round];
        if (key.secretDigest != bytes32(0)) revert KeysAlreadyPublished(taskId, round, key.secretDigest);
        key.secretDigest = secretDigest;
        emit RoundSecretPublished(taskId, round, secretDigest);
    }

    /**
     * @notice Records a validator's evidence that the round's committed model is not the
     * decryption of its aggregate with the published secret.
     * @dev Only a validator of the task, once per round, once the secret is published. Anyone can
     * redo the check from the blobs: the aggregate, the reveals, the secret and the models.
     * @param taskId The task.
     * @param round The round.
     * @param recomputedModelDigest sha256 of the model the validator decrypted (zero when the
     * published secret is not the secret of the round's public context).
     * @param secretDigest The published secret the validator decrypted with.
     */
    function recordMismatch(uint256 taskId, uint32 round, bytes32 recomputedModelDigest, bytes32 secretDigest)
        external
    {
        if (!registry.isValidator(taskId, msg.sender)) revert KeysNotValidator(taskId, msg.sender);
        bytes32 modelDigest = _committedModel(taskId, round);
        bytes32 published = _keys[taskId][round].secretDigest;
        if (published == bytes32(0)) revert KeysSecretNotPublished(taskId, round);
        if (published != secretDigest) revert KeysSecretMismatch(taskId, round, published, secretDigest);
        if (recomputedModelDigest == modelDigest) revert KeysModelMatches(taskId, round, modelDigest);
        Mismatch storage evidence = _mismatches[taskId][round][msg.sender];
        if (evidence.recorded) revert KeysAlreadyRecorded(taskId, round, msg.sender);
        evidence.recorded = true;
        evidence.recomputedModelDigest = recomputedModelDigest;
        emit DecryptionMismatchRecorded(taskId, round, msg.sender, modelDigest, recomputedModelDigest, secretDigest);
    }

    /**
     * @notice Records the caller's share bundle for the round: the Shamir shares of its masking
     * secret and of its self-mask secret, one for each of its peers and encrypted to it, with the
     * commitments that let anyone check a share once it is revealed.
     * @dev Only a participant that advertised a masking key in the round, once, while the round
     * collects (so before the aggregate fixes who is in the sum). The blob is in the task's store.
     * @param taskId A masked task.
     * @param round The round the shares are for.
     * @param bundleDigest sha256 of the share bundle blob; not zero.
     */
    function dealShares(uint256 taskId, uint32 round, bytes32 bundleDigest) external {
        if (bundleDigest == bytes32(0)) revert KeysZeroDigest();
        if (registry.getMember(taskId, msg.sender).lastAdvertisedRound != round || round == 0) {
            revert KeysNotAdvertiser(taskId, round, msg.sender);
        }
        IFederatedTraining.RoundPhase phase = registry.getRound(taskId, round).phase;
        if (phase != IFederatedTraining.RoundPhase.Collecting) revert KeysRoundNotCollecting(taskId, round, phase);
        bytes32 dealt = _shareBundles[taskId][round][msg.sender];
        if (dealt != bytes32(0)) revert KeysAlreadyDealt(taskId, round, msg.sender, dealt);
        _shareBundles[taskId][round][msg.sender] = bundleDigest;
        emit SharesDealt(taskId, round, msg.sender, bundleDigest);
    }

    /// @notice The share bundle `dealer` dealt for the round (zero if none).
    function shareBundle(uint256 taskId, uint32 round, address dealer) external view returns (bytes32) {
        return _shareBundles[taskId][round][dealer];
    }

    /// @notice The round's registered public context and published secret digests (zero if none).
    function roundKey(uint256 taskId, uint32 round) external view returns (RoundKey memory) {
        return _keys[taskId][round];
    }

    /// @notice The public context the round's updates are encrypted under: its registered one, or
    /// for round 1 with none registered the task's own; zero while the round has none.
    function roundPublicContext(uint256 taskId, uint32 round) external view returns (bytes32) {
        bytes32 registered = _keys[taskId][round].publicContextDigest;
        if (registered != bytes32(0) || round != 1) return registered;
        return registry.getTask(taskId).params.publicContextDigest;
    }

    /// @notice `validator`'s mismatch evidence for the round (`recorded` false if none).
    function mismatch(uint256 taskId, uint32 round, address validator) external view returns (Mismatch memory) {
        return _mismatches[taskId][round][validator];
    }

    function _keyHolderTask(uint256 taskId) private view returns (IFederatedTraining.Task memory task) {
        task = registry.getTask(taskId);
        if (!task.params.masked) revert KeysNotMasked(taskId);
        if (task.keyHolder != msg.sender) revert KeysNotKeyHolder(taskId, msg.sender);
    }

    function _collectingEmpty(uint256 taskId, uint32 round) private view returns (bool) {
        IFederatedTraining.Round memory r = registry.getRound(taskId, round);
        return r.phase == IFederatedTraining.RoundPhase.Collecting && r.commitCount == 0 && r.excludedCount == 0;
    }

    function _committedModel(uint256 taskId, uint32 round) private view returns (bytes32) {
        IFederatedTraining.Round memory r = registry.getRound(taskId, round);
        if (
            r.phase != IFederatedTraining.RoundPhase.Validating && r.phase != IFederatedTraining.RoundPhase.Accepted
                && r.phase != IFederatedTraining.RoundPhase.Rejected
        ) {
            revert KeysModelNotCommitted(taskId, round, r.phase);
        }
        return r.modelDigest;
    }
}
