"""Test harness for the Solidity ledger: a fresh in-process chain with the committed artifacts.

Contracts are deployed from ``fedchain_magics/chain/artifacts/*.json`` (never recompiled here), on
an eth-tester/py-evm (Prague) chain whose prefunded accounts play every role. Kept out of
``conftest.py`` so test modules can import it by a name no other test directory uses.
"""

from __future__ import annotations

import ast
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from eth_abi import decode as abi_decode
from eth_tester import EthereumTester, PyEVMBackend
from eth_tester.exceptions import TransactionFailed
from eth_typing import ChecksumAddress
from eth_utils import keccak, to_checksum_address
from web3 import EthereumTesterProvider, Web3
from web3.contract import Contract
from web3.exceptions import ContractLogicError
from web3.types import TxReceipt

REPO_ROOT = Path(__file__).resolve().parents[2]
CONTRACTS_DIR = REPO_ROOT / "contracts"
ARTIFACTS_DIR = REPO_ROOT / "fedchain_magics" / "chain" / "artifacts"

# Deployer, coordinator, aggregator, key holder, outsider, 5 validators, then 64 participants.
NUM_ACCOUNTS = 74
NUM_VALIDATORS = 5
TX_GAS_LIMIT = 5_000_000
DEPLOY_GAS_LIMIT = 10_000_000  # FederatedTraining is ~23 KB of code: ~4.9M gas to deploy
ZERO_ADDRESS = "0x" + "00" * 20
ZERO_DIGEST = b"\x00" * 32

# The token: its whole cap is minted to the deployer (the treasury) at deployment.
TOKEN_UNIT = 10**18
SUPPLY_CAP = 10**9 * TOKEN_UNIT
COORDINATOR_FUNDS = SUPPLY_CAP // 2  # moved from the treasury so the coordinator can fund escrows
ADMIN_TRANSFER_DELAY_S = 3_600
UPDATES_HASH_BITS = 104

# Enums, as declared in IFederatedTraining.sol.
NONE, COLLECTING, AGGREGATED, VALIDATING, ACCEPTED, REJECTED, CANCELLED = range(7)
ROLE_NONE, ROLE_PARTICIPANT, ROLE_VALIDATOR, ROLE_COORDINATOR, ROLE_AGGREGATOR, ROLE_KEY_HOLDER = (
    range(6)
)
TOO_FEW_UPDATES, AGGREGATOR_SILENT, KEY_HOLDER_SILENT = range(3)
MISSING, ALTERED, MALFORMED, WRONG_SHAPE, OVERSIZED = range(5)


def digest(label: str) -> bytes:
    """A sha256 digest standing in for an off-chain blob named ``label``."""
    return hashlib.sha256(label.encode()).digest()


def update_digest(task_id: int, round_number: int, index: int) -> bytes:
    """The digest the harness's ``index``-th participant commits to a round."""
    return digest(f"update-{task_id}-{round_number}-{index}")


def update_term(participant: str, update_digest: bytes) -> int:
    """An update's term in its round's set hash, computed independently of the contract."""
    encoded = bytes(12) + bytes.fromhex(participant.removeprefix("0x")) + update_digest
    return int.from_bytes(keccak(encoded), "big") % 2**UPDATES_HASH_BITS


def updates_hash(pairs: Sequence[tuple[str, bytes]]) -> int:
    """The set hash of (participant, digest) pairs: the sum of their terms modulo 2^104."""
    return sum(update_term(participant, digest) for participant, digest in pairs) % (
        2**UPDATES_HASH_BITS
    )


def load_artifact(contract_name: str) -> dict[str, Any]:
    return json.loads((ARTIFACTS_DIR / f"{contract_name}.json").read_text())


def artifact_names() -> list[str]:
    return sorted(path.stem for path in ARTIFACTS_DIR.glob("*.json"))


def abi_type(item: Mapping[str, Any]) -> str:
    """The canonical ABI type of an ABI input or output, expanding tuples (structs)."""
    type_name: str = item["type"]
    if type_name.startswith("tuple"):
        components = ",".join(abi_type(component) for component in item["components"])
        return f"({components}){type_name[len('tuple') :]}"
    return type_name


def _plain(value: Any) -> Any:
    """Event arguments as plain dicts (web3 returns nested ``AttributeDict`` for structs)."""
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    return value


@dataclass(frozen=True)
class DecodedError:
    name: str
    args: tuple[Any, ...]


class RevertDecoder:
    """Decodes revert data into a custom error's name and arguments, from the artifacts' ABIs."""

    def __init__(self, abis: Sequence[list[dict[str, Any]]]) -> None:
        self._errors: dict[bytes, tuple[str, list[str]]] = {
            # Error(string) and Panic(uint256) are not in any ABI.
            keccak(text="Error(string)")[:4]: ("Error", ["string"]),
            keccak(text="Panic(uint256)")[:4]: ("Panic", ["uint256"]),
        }
        for abi in abis:
            for item in abi:
                if item["type"] != "error":
                    continue
                types = [abi_type(argument) for argument in item["inputs"]]
                signature = f"{item['name']}({','.join(types)})"
                self._errors[keccak(text=signature)[:4]] = (item["name"], types)

    def decode(self, data: bytes) -> DecodedError:
        if len(data) < 4 or data[:4] not in self._errors:
            raise AssertionError(f"revert data matches no known error: 0x{data.hex()}")
        name, types = self._errors[data[:4]]
        values = abi_decode(types, data[4:])
        return DecodedError(
            name,
            tuple(
                to_checksum_address(value) if type_name == "address" else value
                for type_name, value in zip(types, values, strict=True)
            ),
        )


def revert_data(error: Exception) -> bytes:
    """The raw revert data behind a failed call or gas estimate.

    JSON-RPC providers raise web3's ``ContractCustomError`` carrying the data as hex. eth-tester
    raises ``TransactionFailed`` instead: from ``estimate_gas`` wrapping py-evm's ``Revert(data)``,
    from ``call`` with the repr of the data (``"b'...'"``), which web3's ``EthereumTesterProvider``
    prefixes with ``"execution reverted: "``.
    """
    if isinstance(error, ContractLogicError) and isinstance(error.data, str):
        return bytes.fromhex(error.data.removeprefix("0x"))
    payload: Any = error.args[0] if error.args else None
    if isinstance(payload, Exception) and payload.args:
        payload = payload.args[0]
    if isinstance(payload, bytes):
        return payload
    if isinstance(payload, str):
        representation = payload.removeprefix("execution reverted: ")
        if representation.startswith(("b'", 'b"')):
            data = ast.literal_eval(representation)
            if isinstance(data, bytes):
                return data
    raise AssertionError(f"no revert data in {type(error).__name__}: {error}")


@dataclass
class Ledger:
    """A fresh chain with FedToken, ProportionalRewardPolicy and FederatedTraining deployed."""

    w3: Web3
    tester: EthereumTester
    token: Contract
    policy: Contract
    training: Contract
    deployer: str
    coordinator: str
    aggregator: str
    key_holder: str
    outsider: str
    validators: list[ChecksumAddress]
    participants: list[ChecksumAddress]
    errors: RevertDecoder = field(repr=False)
    stakes: Contract | None = None  # TaskStakes, deployed by ``build_scored_ledger``
    rules: Contract | None = None  # the TaskRules TaskStakes reads, deployed with it
    _event_decoders: dict[tuple[str, bytes], Any] = field(default_factory=dict, repr=False)

    # -- transactions ---------------------------------------------------------------------------

    def send(self, call: Any, sender: str) -> TxReceipt:
        """Sends a contract call as a transaction and returns its (successful) receipt."""
        tx_hash = call.transact({"from": sender, "gas": TX_GAS_LIMIT})
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash)
        if receipt["status"] != 1:
            raise AssertionError(f"transaction reverted with {self.simulate_revert(call, sender)}")
        return receipt

    def simulate_revert(self, call: Any, sender: str) -> DecodedError:
        """Runs ``call`` from ``sender`` without committing it; returns the error it reverts with.

        It runs as a gas estimate straight on eth-tester, which executes it on top of the pending
        block exactly as a sent transaction would (an ``eth_call`` runs on the latest block) and
        keeps the revert data intact: through web3's ``EthereumTesterProvider`` a custom error whose
        arguments happen to decode as a string loses its selector and comes back as a reason string.
        """
        transaction = call.build_transaction({"from": sender, "gas": TX_GAS_LIMIT})
        request = {"from": sender, "data": transaction["data"], "gas": TX_GAS_LIMIT}
        if transaction.get("to"):  # absent (or empty) for a deployment
            request["to"] = transaction["to"]
        try:
            self.tester.estimate_gas(request)
        except (TransactionFailed, ContractLogicError) as error:
            return self.errors.decode(revert_data(error))
        raise AssertionError("expected a revert, the call succeeded")

    def assert_reverts(self, call: Any, sender: str, name: str, *args: Any) -> None:
        """Asserts that ``call`` sent from ``sender`` reverts with custom error ``name(*args)``."""
        assert self.simulate_revert(call, sender) == DecodedError(name, args)

    def mine_past(self, deadline_block: int) -> None:
        """Mines empty blocks so that the next transaction runs after block ``deadline_block``."""
        missing = deadline_block - self.w3.eth.block_number
        if missing > 0:
            self.tester.mine_blocks(missing)

    # -- receipts -------------------------------------------------------------------------------

    def events(self, receipt: TxReceipt) -> list[tuple[str, dict[str, Any]]]:
        """Every log of the receipt (all emitted by our contracts), decoded, in order."""
        if not self._event_decoders:
            contracts = (self.training, self.token, self.policy, self.stakes, self.rules)
            for contract in (contract for contract in contracts if contract is not None):
                for item in contract.abi:
                    if item["type"] == "event":
                        types = ",".join(abi_type(argument) for argument in item["inputs"])
                        topic = keccak(text=f"{item['name']}({types})")
                        decoder = contract.events[item["name"]]()
                        self._event_decoders[(contract.address, topic)] = decoder
        decoded = []
        for log in receipt["logs"]:
            event = self._event_decoders[(log["address"], bytes(log["topics"][0]))]
            decoded.append((event.event_name, _plain(event.process_log(log)["args"])))
        return decoded

    # -- task scaffolding -----------------------------------------------------------------------

    def task_params(self, **overrides: Any) -> dict[str, Any]:
        params: dict[str, Any] = {
            "modelSpecDigest": digest("model-spec"),
            "publicContextDigest": digest("public-context"),
            "initialModelDigest": digest("model-0"),
            "minParticipants": 2,
            "maxRounds": 3,
            "validatorQuorum": 2,
            "submissionWindowBlocks": 20,
            "validationWindowBlocks": 10,
            "rewardPerRound": 1_000 * TOKEN_UNIT,
            "maxSamplesPerUpdate": 1_000_000,
            "aggregationWindowBlocks": 15,
            "admissionControlled": False,
            "masked": False,
        }
        unknown = set(overrides) - set(params)
        assert not unknown, f"unknown task parameters {unknown}"
        params.update(overrides)
        return params

    def balance(self, account: str) -> int:
        return int(self.token.functions.balanceOf(account).call())

    def approve_escrow(self, funder: str, amount: int) -> None:
        self.send(self.token.functions.approve(self.training.address, amount), funder)

    def create_task(
        self, *, aggregator: str | None = None, key_holder: str | None = None, **overrides: Any
    ) -> int:
        """The coordinator approves the task's reward pool and creates the task."""
        params = self.task_params(**overrides)
        self.approve_escrow(self.coordinator, params["rewardPerRound"] * params["maxRounds"])
        call = self.training.functions.createTask(
            params, aggregator or self.aggregator, key_holder or self.key_holder
        )
        self.send(call, self.coordinator)
        return int(self.training.functions.taskCount().call())

    def setup_task(self, *, validators: int = 3, participants: int = 4, **overrides: Any) -> int:
        """Creates a task with that many validators added and participants joined."""
        task_id = self.create_task(**overrides)
        for validator in self.validators[:validators]:
            self.send(self.training.functions.addValidator(task_id, validator), self.coordinator)
        for participant in self.participants[:participants]:
            self.send(self.training.functions.join(task_id), participant)
        return task_id

    def open_round(self, task_id: int) -> int:
        self.send(self.training.functions.openRound(task_id), self.coordinator)
        return int(self.training.functions.getTask(task_id).call().currentRound)

    def round(self, task_id: int, round_number: int) -> Any:
        return self.training.functions.getRound(task_id, round_number).call()

    def commit_updates(
        self, task_id: int, round_number: int, samples: Sequence[int], *, first: int = 0
    ) -> list[TxReceipt]:
        """Participants ``first``, ``first + 1``, ... commit an update with those sample counts."""
        return [
            self.send(
                self.training.functions.commitUpdate(
                    task_id, round_number, update_digest(task_id, round_number, i), count
                ),
                self.participants[i],
            )
            for i, count in enumerate(samples, start=first)
        ]

    def included_updates(self, task_id: int, round_number: int) -> list[tuple[str, bytes]]:
        """(participant, digest) of the round's committed and not excluded updates, from the logs
        filtered by their indexed task and round topics."""
        events = self.training.events
        topics = {"taskId": task_id, "round": round_number}
        committed = events.UpdateCommitted().get_logs(argument_filters=topics, from_block=0)
        excluded = {
            bytes(log["args"]["updateDigest"])
            for log in events.UpdateExcluded().get_logs(argument_filters=topics, from_block=0)
        }
        return [
            (log["args"]["participant"], bytes(log["args"]["updateDigest"]))
            for log in committed
            if bytes(log["args"]["updateDigest"]) not in excluded
        ]

    def commit_aggregate(self, task_id: int, round_number: int, aggregate: bytes) -> TxReceipt:
        """The aggregator commits ``aggregate`` as the sum of the round's included updates."""
        included = self.included_updates(task_id, round_number)
        call = self.training.functions.commitAggregate(
            task_id, round_number, aggregate, len(included), updates_hash(included)
        )
        return self.send(call, self.aggregator)

    def aggregate_and_commit_model(self, task_id: int, round_number: int) -> bytes:
        """Collection closes (mining past the deadline if needed), the aggregator and the key
        holder commit; returns the round's model digest."""
        self.close_collection(task_id, round_number)
        self.commit_aggregate(task_id, round_number, digest(f"aggregate-{round_number}"))
        model_digest = digest(f"model-{task_id}-{round_number}")
        self.send(
            self.training.functions.commitModel(task_id, round_number, model_digest),
            self.key_holder,
        )
        return model_digest

    def close_collection(self, task_id: int, round_number: int) -> None:
        """Mines past the submission deadline unless every eligible participant committed."""
        state = self.round(task_id, round_number)
        if state.commitCount + state.excludedCount != state.eligibleParticipants:
            self.mine_past(state.submissionDeadlineBlock)

    def vote_all(self, task_id: int, round_number: int, accept: bool = True) -> TxReceipt:
        """Every validator of the round's electorate votes; the last vote tallies."""
        count = self.round(task_id, round_number).validatorCount
        receipts = [
            self.send(
                self.training.functions.vote(task_id, round_number, accept, 900_000), validator
            )
            for validator in self.validators[:count]
        ]
        return receipts[-1]

    def run_accepted_round(self, task_id: int, samples: Sequence[int]) -> int:
        """Opens a round, commits ``samples``, aggregates, votes it through; returns its number."""
        round_number = self.open_round(task_id)
        self.commit_updates(task_id, round_number, samples)
        self.aggregate_and_commit_model(task_id, round_number)
        self.vote_all(task_id, round_number)
        assert self.round(task_id, round_number).phase == ACCEPTED
        return round_number

    def claim(self, task_id: int, round_number: int, index: int) -> TxReceipt:
        """The ``index``-th participant claims its reward for the round."""
        call = self.training.functions.claimReward(
            task_id, round_number, update_digest(task_id, round_number, index)
        )
        return self.send(call, self.participants[index])


def _deploy(w3: Web3, contract_name: str, deployer: str, *args: Any) -> Contract:
    artifact = load_artifact(contract_name)
    factory = w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
    tx_hash = factory.constructor(*args).transact({"from": deployer, "gas": DEPLOY_GAS_LIMIT})
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash)
    assert receipt["status"] == 1, f"deploying {contract_name} failed"
    contract = w3.eth.contract(
        address=receipt["contractAddress"], abi=artifact["abi"], decode_tuples=True
    )
    return cast(Contract, contract)


def build_ledger(policy_factory: Callable[[Web3, str], Contract] | None = None) -> Ledger:
    """A fresh chain: FedToken (whole cap minted to the deployer), the reward policy and
    FederatedTraining; the coordinator holds ``COORDINATOR_FUNDS`` to fund escrows.

    ``policy_factory(w3, deployer)`` replaces the ProportionalRewardPolicy when given.
    """
    backend = PyEVMBackend(
        genesis_state=PyEVMBackend.generate_genesis_state(num_accounts=NUM_ACCOUNTS)
    )
    tester = EthereumTester(backend)
    w3 = Web3(EthereumTesterProvider(tester))
    accounts = list(w3.eth.accounts)
    deployer, coordinator, aggregator, key_holder, outsider = accounts[:5]
    validators = accounts[5 : 5 + NUM_VALIDATORS]
    participants = accounts[5 + NUM_VALIDATORS :]

    token = _deploy(
        w3, "FedToken", deployer, deployer, ADMIN_TRANSFER_DELAY_S, deployer, SUPPLY_CAP, SUPPLY_CAP
    )
    if policy_factory is None:
        policy = _deploy(w3, "ProportionalRewardPolicy", deployer)
    else:
        policy = policy_factory(w3, deployer)
    training = _deploy(w3, "FederatedTraining", deployer, token.address, policy.address)
    funding = token.functions.transfer(coordinator, COORDINATOR_FUNDS).transact(
        {"from": deployer, "gas": TX_GAS_LIMIT}
    )
    assert w3.eth.wait_for_transaction_receipt(funding)["status"] == 1

    return Ledger(
        w3=w3,
        tester=tester,
        token=token,
        policy=policy,
        training=training,
        deployer=deployer,
        coordinator=coordinator,
        aggregator=aggregator,
        key_holder=key_holder,
        outsider=outsider,
        validators=validators,
        participants=participants,
        errors=RevertDecoder([load_artifact(name)["abi"] for name in artifact_names()]),
    )


def build_scored_ledger() -> Ledger:
    """A fresh chain deployed as ``TrainingContract.deploy`` does: the ContributionRewardPolicy as
    the registry's policy, TaskRules, TaskStakes reading both, and the policy bound to them."""
    ledger = build_ledger(lambda w3, deployer: _deploy(w3, "ContributionRewardPolicy", deployer))
    w3, deployer, training = ledger.w3, ledger.deployer, ledger.training.address
    ledger.rules = _deploy(w3, "TaskRules", deployer, training)
    ledger.stakes = _deploy(
        w3, "TaskStakes", deployer, training, ledger.policy.address, ledger.rules.address
    )
    bind = ledger.policy.functions.bindRegistry(ledger.training.address, ledger.stakes.address)
    ledger.send(bind, ledger.deployer)
    return ledger


# -- governance ---------------------------------------------------------------------------------

VOTING_DELAY_BLOCKS = 1
VOTING_PERIOD_BLOCKS = 10
TIMELOCK_DELAY_S = 60
QUORUM_PERCENT = 25
# TaskRules.ValuationPolicy and OpenZeppelin's IGovernor.ProposalState / vote support.
PROPORTIONAL, LEAVE_ONE_OUT, SHAPLEY = range(3)
PENDING, ACTIVE, CANCELED, DEFEATED, SUCCEEDED, QUEUED, EXPIRED, EXECUTED = range(8)
AGAINST, FOR, ABSTAIN = range(3)


@dataclass
class Governance:
    """TaskRules over the ledger's registry, and the governor acting through its timelock."""

    rules: Contract
    timelock: Contract
    governor: Contract


def deploy_governance(
    ledger: Ledger,
    *,
    voting_delay: int = VOTING_DELAY_BLOCKS,
    voting_period: int = VOTING_PERIOD_BLOCKS,
    timelock_delay_s: int = TIMELOCK_DELAY_S,
    quorum_percent: int = QUORUM_PERCENT,
) -> Governance:
    """Deploys FedTimelock and FedGovernor (and TaskRules, unless the ledger has the one its
    TaskStakes reads) as ``chain/governance.py`` does: the governor proposes and cancels on the
    timelock, anyone executes, the deployer renounces."""
    w3, deployer = ledger.w3, ledger.deployer
    rules = ledger.rules or _deploy(w3, "TaskRules", deployer, ledger.training.address)
    timelock = _deploy(w3, "FedTimelock", deployer, timelock_delay_s, [], [ZERO_ADDRESS], deployer)
    governor = _deploy(
        w3, "FedGovernor", deployer, ledger.token.address, timelock.address, voting_delay,
        voting_period, 0, quorum_percent,
    )  # fmt: skip
    roles = timelock.functions
    for role in (roles.PROPOSER_ROLE().call(), roles.CANCELLER_ROLE().call()):
        ledger.send(roles.grantRole(role, governor.address), deployer)
    ledger.send(roles.renounceRole(roles.DEFAULT_ADMIN_ROLE().call(), deployer), deployer)
    return Governance(rules, timelock, governor)


def rules_tuple(
    group_size: int = 3,
    policy: int = SHAPLEY,
    min_standing_ppm: int = 800_000,
    max_weight_over_median_ppm: int = 2_000_000,
    slash_ppm: int = 100_000,
    slash_below_standing_ppm: int = 0,
) -> tuple[int, int, int, int, int, int]:
    """A TaskRules.Rules value (the engine's defaults unless given)."""
    return (
        group_size,
        policy,
        min_standing_ppm,
        max_weight_over_median_ppm,
        slash_ppm,
        slash_below_standing_ppm,
    )
