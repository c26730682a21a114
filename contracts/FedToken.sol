// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {AccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Capped} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Capped.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {ERC20Votes} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Votes.sol";
import {Checkpoints} from "@openzeppelin/contracts/utils/structs/Checkpoints.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

/**
 * @title FedToken
 * @notice The FedChain Reward token (FCR) paid to the contributors of accepted training rounds.
 * Its supply can never exceed its cap: a deployment mints `initialSupply` to a treasury, which
 * funds task escrows; the training registry itself never mints.
 * @dev OpenZeppelin's ERC-20 with {ERC20Capped}. Further minting, up to the cap, is restricted to
 * {MINTER_ROLE}, which nobody holds unless the admin grants it. The admin role follows
 * {AccessControlDefaultAdminRules}: one admin, handed over in two steps (the new admin accepts after
 * a delay), renounced in two steps.
 *
 * The token carries voting power ({ERC20Votes}, block-number clock; {ERC20Permit} gives it the
 * EIP-712 domain that signed delegation needs): an account's balance counts in {FedGovernor} only
 * once it is delegated (to itself or to another account). Besides each delegate's votes, the
 * token checkpoints the delegated supply, the sum of all delegated balances, so that a quorum
 * can be a fraction of the voting power actually in play ({getPastDelegatedSupply}) rather than
 * of a total supply mostly held, undelegated, by the treasury and the task escrows.
 */
contract FedToken is ERC20Capped, ERC20Permit, ERC20Votes, AccessControlDefaultAdminRules {
    using Checkpoints for Checkpoints.Trace208;

    /// @notice Role allowed to mint tokens, up to the cap.
    bytes32 public constant MINTER_ROLE = keccak256("MINTER_ROLE");

    Checkpoints.Trace208 private _delegatedSupplyCheckpoints;

    /// @notice The sum of all delegated balances changed from `previous` to `current` base units.
    event DelegatedSupplyChanged(uint256 previous, uint256 current);

    /**
     * @notice Deploys the token, mints `initialSupply` to `treasury` and makes `admin` its admin.
     * @dev Reverts with `ERC20InvalidCap` for a zero cap, `ERC20ExceededCap` if `initialSupply`
     * exceeds it, `ERC20InvalidReceiver` for a zero treasury (with a non-zero supply) and
     * `AccessControlInvalidDefaultAdmin` for a zero admin.
     * @param admin The account that administers roles (two-step transfer).
     * @param adminTransferDelay Seconds a new admin waits before accepting the role.
     * @param treasury Recipient of the initial supply.
     * @param supplyCap The most base units that can ever exist.
     * @param initialSupply Base units minted to `treasury` now (the whole cap in a standard deployment).
     */
    constructor(address admin, uint48 adminTransferDelay, address treasury, uint256 supplyCap, uint256 initialSupply)
        ERC20("FedChain Reward", "FCR")
        ERC20Permit("FedChain Reward")
        ERC20Capped(supplyCap)
        AccessControlDefaultAdminRules(adminTransferDelay, admin)
    {
        if (initialSupply != 0) {
            _mint(treasury, initialSupply);
        }
    }

    /**
     * @notice Creates `amount` tokens (base units) and assigns them to `to`, within the cap.
     * @dev Only accounts holding {MINTER_ROLE}. Emits a {Transfer} event from the zero address.
     * @param to Recipient of the new tokens.
     * @param amount Number of base units to mint.
     */
    function mint(address to, uint256 amount) external onlyRole(MINTER_ROLE) {
        _mint(to, amount);
    }

    /**
     * @notice The sum of all delegated balances (the votes of every delegate) now.
     * @return Base units delegated.
     */
    function delegatedSupply() external view returns (uint256) {
        return _delegatedSupplyCheckpoints.latest();
    }

    /**
     * @notice The sum of all delegated balances at the end of block `timepoint`.
     * @dev Reverts with `ERC5805FutureLookup` unless `timepoint` is in the past.
     * @param timepoint A past block number.
     * @return Base units delegated then.
     */
    function getPastDelegatedSupply(uint256 timepoint) external view returns (uint256) {
        uint48 currentTimepoint = clock();
        if (timepoint >= currentTimepoint) {
            revert ERC5805FutureLookup(timepoint, currentTimepoint);
        }
        return _delegatedSupplyCheckpoints.upperLookupRecent(SafeCast.toUint48(timepoint));
    }

    /**
     * @notice The account's nonce for {permit} and {delegateBySig} (one sequence for both).
     * @param owner The account.
     * @return Its next nonce.
     */
    function nonces(address owner) public view override(ERC20Permit, Nonces) returns (uint256) {
        return super.nonces(owner);
    }

    /// @dev Every balance change: the cap (on mints), then the voting units follow the tokens.
    function _update(address from, address to, uint256 value) internal override(ERC20, ERC20Capped, ERC20Votes) {
        super._update(from, to, value);
    }

    /// @dev Votes moving between "no delegate" and a delegate change the delegated supply.
    function _moveDelegateVotes(address from, address to, uint256 amount) internal override {
        super._moveDelegateVotes(from, to, amount);
        if (amount == 0 || (from == address(0)) == (to == address(0))) {
            return;
        }
        uint256 previous = _delegatedSupplyCheckpoints.latest();
        uint256 current = from == address(0) ? previous + amount : previous - amount;
        _delegatedSupplyCheckpoints.push(clock(), SafeCast.toUint208(current));
        emit DelegatedSupplyChanged(previous, current);
    }
}
