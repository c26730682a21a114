// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {AccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Capped} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Capped.sol";

/**
 * @title FedToken
 * @notice The FedChain Reward token (FCR) paid to the contributors of accepted training rounds.
 * Its supply can never exceed its cap: a deployment mints `initialSupply` to a treasury, which
 * funds task escrows; the training registry itself never mints.
 * @dev OpenZeppelin's ERC-20 with {ERC20Capped}. Further minting, up to the cap, is restricted to
 * {MINTER_ROLE}, which nobody holds unless the admin grants it. The admin role follows
 * {AccessControlDefaultAdminRules}: one admin, handed over in two steps (the new admin accepts after
 * a delay), renounced in two steps.
 */
contract FedToken is ERC20Capped, AccessControlDefaultAdminRules {
    /// @notice Role allowed to mint tokens, up to the cap.
    bytes32 public constant MINTER_ROLE = keccak256("MINTER_ROLE");

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
}
