"""FedToken: a capped supply minted at deployment, and an admin handed over in two steps."""

from __future__ import annotations

from ledger_harness import (
    ADMIN_TRANSFER_DELAY_S,
    SUPPLY_CAP,
    TX_GAS_LIMIT,
    ZERO_ADDRESS,
    Ledger,
    load_artifact,
)

DEFAULT_ADMIN_ROLE = b"\x00" * 32


def _factory(ledger: Ledger):  # type: ignore[no-untyped-def]
    artifact = load_artifact("FedToken")
    return ledger.w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])


def test_the_whole_cap_is_minted_to_the_treasury_at_deployment(ledger: Ledger) -> None:
    token = ledger.token.functions
    assert token.cap().call() == SUPPLY_CAP
    assert token.totalSupply().call() == SUPPLY_CAP
    assert token.defaultAdmin().call() == ledger.deployer
    assert token.defaultAdminDelay().call() == ADMIN_TRANSFER_DELAY_S
    minter_role = token.MINTER_ROLE().call()
    assert not token.hasRole(minter_role, ledger.deployer).call()


def test_mint_needs_the_minter_role_and_stays_under_the_cap(ledger: Ledger) -> None:
    token = ledger.token.functions
    minter_role = token.MINTER_ROLE().call()
    for account in (ledger.outsider, ledger.deployer):  # even the admin must grant itself the role
        ledger.assert_reverts(
            token.mint(account, 1),
            account,
            "AccessControlUnauthorizedAccount",
            account,
            minter_role,
        )
    ledger.send(token.grantRole(minter_role, ledger.deployer), ledger.deployer)
    ledger.assert_reverts(
        token.mint(ledger.deployer, 1),
        ledger.deployer,
        "ERC20ExceededCap",
        SUPPLY_CAP + 1,
        SUPPLY_CAP,
    )


def test_partial_initial_supply_can_be_minted_up_to_the_cap(ledger: Ledger) -> None:
    tx_hash = (
        _factory(ledger)
        .constructor(ledger.deployer, 0, ledger.deployer, 1_000, 600)
        .transact({"from": ledger.deployer, "gas": TX_GAS_LIMIT})
    )
    address = ledger.w3.eth.wait_for_transaction_receipt(tx_hash)["contractAddress"]
    token = ledger.w3.eth.contract(address=address, abi=load_artifact("FedToken")["abi"])
    minter_role = token.functions.MINTER_ROLE().call()
    ledger.send(token.functions.grantRole(minter_role, ledger.outsider), ledger.deployer)
    ledger.send(token.functions.mint(ledger.outsider, 400), ledger.outsider)
    assert token.functions.totalSupply().call() == 1_000
    ledger.assert_reverts(
        token.functions.mint(ledger.outsider, 1), ledger.outsider, "ERC20ExceededCap", 1_001, 1_000
    )


def test_invalid_constructor_arguments(ledger: Ledger) -> None:
    factory = _factory(ledger)
    deployer = ledger.deployer
    ledger.assert_reverts(
        factory.constructor(ZERO_ADDRESS, 0, deployer, 1, 1),
        deployer,
        "AccessControlInvalidDefaultAdmin",
        ZERO_ADDRESS,
    )
    ledger.assert_reverts(
        factory.constructor(deployer, 0, deployer, 0, 0), deployer, "ERC20InvalidCap", 0
    )
    ledger.assert_reverts(
        factory.constructor(deployer, 0, deployer, 10, 11), deployer, "ERC20ExceededCap", 11, 10
    )


def test_admin_is_handed_over_in_two_steps_after_a_delay(ledger: Ledger) -> None:
    token = ledger.token.functions
    successor = ledger.outsider
    # The admin role cannot be granted directly (that would make two admins).
    ledger.assert_reverts(
        token.grantRole(DEFAULT_ADMIN_ROLE, successor),
        ledger.deployer,
        "AccessControlEnforcedDefaultAdminRules",
    )
    ledger.send(token.beginDefaultAdminTransfer(successor), ledger.deployer)
    pending, schedule = token.pendingDefaultAdmin().call()
    assert pending == successor
    ledger.assert_reverts(
        token.acceptDefaultAdminTransfer(),
        successor,
        "AccessControlEnforcedDefaultAdminDelay",
        schedule,
    )
    ledger.tester.time_travel(schedule + 1)
    ledger.send(token.acceptDefaultAdminTransfer(), successor)
    assert token.defaultAdmin().call() == successor
    assert not token.hasRole(DEFAULT_ADMIN_ROLE, ledger.deployer).call()
    assert ledger.tester.get_block_by_number("latest")["timestamp"] > schedule


# -- voting power (ERC20Votes) and the delegated supply ----------------------------------------


def test_votes_follow_delegated_balances_and_the_delegated_supply_is_checkpointed(
    ledger: Ledger,
) -> None:
    token = ledger.token.functions
    alice, bob, carol = ledger.participants[:3]
    assert (token.name().call(), token.symbol().call()) == ("FedChain Reward", "FCR")
    ledger.send(token.transfer(alice, 100), ledger.deployer)
    ledger.send(token.transfer(bob, 50), ledger.deployer)
    assert token.getVotes(alice).call() == 0  # balances vote only once delegated
    receipt = ledger.send(token.delegate(alice), alice)
    assert ledger.events(receipt) == [
        (
            "DelegateChanged",
            {"delegator": alice, "fromDelegate": ZERO_ADDRESS, "toDelegate": alice},
        ),
        ("DelegateVotesChanged", {"delegate": alice, "previousVotes": 0, "newVotes": 100}),
        ("DelegatedSupplyChanged", {"previous": 0, "current": 100}),
    ]
    delegated_at = receipt["blockNumber"]
    ledger.send(token.delegate(alice), bob)  # bob's 50 count for alice
    assert token.getVotes(alice).call() == 150
    assert token.delegatedSupply().call() == 150
    # A transfer from a delegated balance to an undelegated one takes its votes out of play.
    receipt = ledger.send(token.transfer(carol, 30), alice)
    assert ledger.events(receipt)[1:] == [
        ("DelegateVotesChanged", {"delegate": alice, "previousVotes": 150, "newVotes": 120}),
        ("DelegatedSupplyChanged", {"previous": 150, "current": 120}),
    ]
    # Between two delegated balances the delegated supply does not move (no event for it).
    ledger.send(token.delegate(carol), carol)
    receipt = ledger.send(token.transfer(carol, 10), bob)
    assert [name for name, _ in ledger.events(receipt)] == [
        "Transfer", "DelegateVotesChanged", "DelegateVotesChanged",
    ]  # fmt: skip
    assert token.delegatedSupply().call() == 150
    assert token.getPastDelegatedSupply(delegated_at).call() == 100
    assert token.getPastDelegatedSupply(delegated_at - 1).call() == 0
    head = ledger.w3.eth.block_number
    ledger.assert_reverts(
        token.getPastDelegatedSupply(head + 1), ledger.outsider, "ERC5805FutureLookup", head + 1,
        head + 1,
    )  # fmt: skip
    assert token.getPastTotalSupply(head - 1).call() == SUPPLY_CAP
    assert token.CLOCK_MODE().call() == "mode=blocknumber&from=default"
