"""The in-process chain's gas estimate (two EVM runs, ``estimate_gas_in_two_runs``) is a limit
that works and is close to the least one that does, which py-evm's exact bisection finds."""

from eth.estimators.gas import binary_gas_search_exact

from fedchain_magics.chain import Keystore, Ledger
from fedchain_magics.chain.artifacts import load_artifact


def _token(ledger, owner):
    artifact = load_artifact("FedToken")
    address = ledger.deploy(
        owner, artifact.abi, artifact.bytecode, owner.address, 0, owner.address, 10**30, 10**24
    )
    return ledger.web3.eth.contract(address=address, abi=artifact.abi)


def test_the_two_run_estimate_is_a_working_limit_near_the_least_one(tmp_path):
    ledger = Ledger.open_embedded(tmp_path / "ledger")
    keys = Keystore(tmp_path / "keys")
    owner, other = keys.load_or_create("owner"), keys.load_or_create("other")
    ledger.fund(owner.address)
    token = _token(ledger, owner)
    chain = ledger._backend.chain
    calls = [  # a fresh balance slot, then an existing one, then a delegation (nested storage)
        token.functions.transfer(other.address, 5),
        token.functions.transfer(other.address, 7),
        token.functions.delegate(owner.address),
    ]
    for function in calls:
        two_runs = function.estimate_gas({"from": owner.address})
        chain.gas_estimator = binary_gas_search_exact
        try:
            least = function.estimate_gas({"from": owner.address})
        finally:
            del chain.gas_estimator  # back to the class's two-run estimator
        assert least <= two_runs <= least + least // 50
        transaction = function.build_transaction({"from": owner.address, "gas": two_runs})
        result = ledger._sign_and_send(owner, dict(transaction), function.fn_name)
        assert result.gas_used <= two_runs
    ledger.close()
