// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/**
 * @title FedToken
 * @notice The FedChain Reward token (FCR) paid to the contributors of accepted training rounds.
 * @dev A plain OpenZeppelin ERC-20 whose supply grows only through {mint}, which is restricted to
 * holders of {MINTER_ROLE} (in a deployment: the `FederatedTraining` registry). The admin passed
 * to the constructor holds `DEFAULT_ADMIN_ROLE` and grants or revokes the minter role.
 */
contract FedToken is ERC20, AccessControl {
    /// @notice Role allowed to mint new tokens.
    bytes32 public constant MINTER_ROLE = keccak256("MINTER_ROLE");

    /// @dev The admin passed to the constructor is the zero address.
    error FedTokenInvalidAdmin(address admin);

    /**
     * @notice Deploys the token with no supply and grants `DEFAULT_ADMIN_ROLE` to `admin`.
     * @param admin Account that administers the roles (and grants {MINTER_ROLE}).
     */
    constructor(address admin) ERC20("FedChain Reward", "FCR") {
        if (admin == address(0)) {
            revert FedTokenInvalidAdmin(admin);
        }
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /**
     * @notice Creates `amount` tokens (base units) and assigns them to `to`.
     * @dev Only accounts holding {MINTER_ROLE}. Emits a {Transfer} event from the zero address.
     * @param to Recipient of the new tokens.
     * @param amount Number of base units to mint.
     */
    function mint(address to, uint256 amount) external onlyRole(MINTER_ROLE) {
        _mint(to, amount);
    }
}
