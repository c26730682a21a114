"""Standard clients against a served in-process chain: web3.py's HTTPProvider and
``Ledger.connect``, while the serving kernel keeps using the same chain."""

from __future__ import annotations

import threading

import pytest
from eth_account import Account
from eth_utils import keccak, to_checksum_address
from web3 import Web3

from fedchain_magics.chain import ContractRevertError, Ledger, TrainingContract, verify_journal
from fedchain_magics.chain.ledger import DEFAULT_FUNDING_WEI
from fedchain_magics.server import DRIP_WEI
from fedchain_magics.server.faucet import Faucet, FaucetLimitError

TRANSFER = "0x" + keccak(text="Transfer(address,address,uint256)").hex()


def topic_of(address: str) -> str:
    return "0x" + bytes.fromhex(address[2:].lower()).rjust(32, b"\0").hex()


@pytest.fixture(scope="module")
def deployed(served):
    """The contracts, deployed through the server by a notebook that has no funded key."""
    remote = Ledger.connect(served.url)
    deployer = Account.create()
    assert remote.fund(deployer.address) is not None  # the node's faucet paid for the gas
    registry = TrainingContract.deploy(remote, deployer)
    return remote, deployer, registry


def test_a_notebook_deploys_and_transacts_through_the_server(served, deployed):
    remote, deployer, registry = deployed
    assert not remote.embedded and remote.chain_id == served.ledger.chain_id
    assert remote.balance_wei(deployer.address) < DRIP_WEI  # it paid for three deployments
    recipient = Account.create().address
    registry.transfer_tokens(deployer, recipient, 7)
    # the serving kernel sees the same chain, block for block
    assert served.ledger.head_hash() == remote.head_hash()
    kernel_view = TrainingContract(served.ledger, registry.deployment)
    assert kernel_view.token_balance(recipient) == 7


def test_a_revert_comes_back_as_the_contracts_custom_error_and_sends_nothing(served, deployed):
    _, deployer, registry = deployed
    head = served.ledger.head_hash()
    with pytest.raises(ContractRevertError) as caught:
        registry.join(deployer, 42)
    assert caught.value.error_name == "TrainingUnknownTask"
    assert caught.value.error_args == {"taskId": 42}
    assert served.ledger.head_hash() == head
    # on the wire: geth's shape, code 3 and the revert bytes as data
    call = registry.contract.functions.join(42).build_transaction(
        {"from": deployer.address, "gas": 100_000}
    )
    answer = served.rpc(
        "eth_call", {"from": deployer.address, "to": call["to"], "data": call["data"]}
    )
    error = answer["error"]
    selector = "0x" + keccak(text="TrainingUnknownTask(uint256)")[:4].hex()
    assert error["code"] == 3 and error["message"] == "execution reverted"
    assert error["data"] == selector + (42).to_bytes(32, "big").hex()


def test_get_logs_filters_by_address_topics_and_block(served, deployed):
    _, deployer, registry = deployed
    token = registry.deployment.token
    first, second = Account.create().address, Account.create().address
    registry.transfer_tokens(deployer, first, 1)
    registry.transfer_tokens(deployer, second, 2)
    web3 = Web3(Web3.HTTPProvider(served.url))
    to_second = web3.eth.get_logs(
        {"address": token, "fromBlock": 0, "toBlock": "latest",
         "topics": [TRANSFER, None, topic_of(second)]}
    )  # fmt: skip
    assert [int.from_bytes(log["data"], "big") for log in to_second] == [2]
    either = web3.eth.get_logs(
        {"address": [token], "fromBlock": "earliest",
         "topics": [TRANSFER, None, [topic_of(first), topic_of(second)]]}
    )  # fmt: skip
    assert [int.from_bytes(log["data"], "big") for log in either] == [1, 2]
    by_hash = web3.eth.get_logs({"blockHash": to_second[0]["blockHash"]})
    assert [log["transactionHash"] for log in by_hash] == [to_second[0]["transactionHash"]]
    assert web3.eth.get_logs({"address": token, "fromBlock": 0, "toBlock": 1}) == []
    assert to_second[0]["removed"] is False


def test_results_are_in_the_standard_wire_format(served, deployed):
    block = served.rpc("eth_getBlockByNumber", "latest", True)["result"]
    assert int(block["number"], 16) == served.ledger.block_number()
    assert {"baseFeePerGas", "parentHash", "logsBloom", "miner", "mixHash"} <= set(block)
    assert len(block["logsBloom"]) == 2 + 512
    transaction = block["transactions"][0]
    assert transaction["type"] == "0x2" and transaction["input"].startswith("0x")
    assert {"maxFeePerGas", "maxPriorityFeePerGas", "blockHash", "yParity"} <= set(transaction)
    receipt = served.rpc("eth_getTransactionReceipt", transaction["hash"])["result"]
    assert receipt["status"] == "0x1" and len(receipt["logsBloom"]) == 2 + 512
    assert "state_root" not in receipt and "root" not in receipt
    assert (
        served.rpc("eth_getTransactionByHash", transaction["hash"])["result"]["hash"]
        == (transaction["hash"])
    )
    for tag in ("earliest", "safe", "finalized", "pending", "0x0"):
        assert served.rpc("eth_getBlockByNumber", tag, False)["result"]["hash"].startswith("0x")
    assert (
        served.rpc("eth_getBlockByHash", block["hash"], False)["result"]["number"]
        == (block["number"])
    )
    assert served.rpc("eth_getBlockByNumber", "0xffffff", False)["result"] is None
    assert served.rpc("eth_accounts")["result"] == []
    assert served.rpc("eth_chainId")["result"] == hex(served.ledger.chain_id)
    assert served.rpc("net_version")["result"] == str(served.ledger.chain_id)
    history = served.rpc("eth_feeHistory", "0x2", "latest", [50])["result"]
    assert len(history["baseFeePerGas"]) == 3 and len(history["reward"]) == 2
    assert int(served.rpc("eth_gasPrice")["result"], 16) > int(block["baseFeePerGas"], 16)


def test_the_faucet_drips_once_per_need_and_is_bounded(served):
    address = Account.create().address
    first = served.rpc("fedchain_requestFunds", address)["result"]
    assert first.startswith("0x") and served.ledger.balance_wei(address) == DRIP_WEI
    assert served.rpc("fedchain_requestFunds", address)["result"] is None  # funded already
    assert served.rpc("fedchain_requestFunds", "0x12")["error"]["code"] == -32602

    now = [0.0]
    faucet = Faucet(served.ledger.embedded_provider, drips_per_hour=1, clock=lambda: now[0])
    spender = Account.create()
    faucet.request(spender.address)
    _spend_almost_everything(served.ledger, spender)
    with pytest.raises(FaucetLimitError, match="1 drips of gas money in the last hour"):
        faucet.request(spender.address)
    now[0] += 3601
    assert faucet.request(spender.address) is not None


def test_the_kernel_and_remote_clients_share_the_chain_safely(served, deployed):
    """The kernel mines and funds while remote clients send transactions: every request holds
    the one lock, so the journal stays whole and nothing is lost."""
    _, deployer, registry = deployed
    start = served.ledger.block_number()
    errors: list[BaseException] = []

    def remote_transfers() -> None:
        try:
            client = Ledger.connect(served.url)
            client_registry = TrainingContract(client, registry.deployment)
            for _ in range(6):
                client_registry.transfer_tokens(deployer, deployer.address, 1)
        except BaseException as error:  # reported below
            errors.append(error)

    thread = threading.Thread(target=remote_transfers)
    thread.start()
    for _ in range(6):
        served.ledger.mine_blocks(1)
        served.ledger.fund(Account.create().address)
    thread.join(timeout=120)
    assert not errors
    assert served.ledger.block_number() == start + 6 + 6 + 6
    assert verify_journal(served.root / "chain").ok


def _spend_almost_everything(ledger: Ledger, account) -> None:
    web3 = ledger.web3
    base_fee = int(web3.eth.get_block("latest")["baseFeePerGas"])
    fee = 2 * base_fee + 10**9
    transaction = {
        "to": to_checksum_address("0x" + "11" * 20),
        "value": ledger.balance_wei(account.address) - 21_000 * fee,
        "gas": 21_000,
        "maxFeePerGas": fee,
        "maxPriorityFeePerGas": 10**9,
        "nonce": web3.eth.get_transaction_count(account.address),
        "chainId": ledger.chain_id,
    }
    web3.eth.send_raw_transaction(account.sign_transaction(transaction).raw_transaction)
    assert ledger.balance_wei(account.address) < DEFAULT_FUNDING_WEI // 2
