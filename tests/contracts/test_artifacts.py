"""The committed artifacts: well-formed, up to date with contracts/*.sol, and the ABI the chain
layer is written against."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from ledger_harness import ARTIFACTS_DIR, CONTRACTS_DIR, abi_type, artifact_names, load_artifact

DEPLOYABLE = sorted(
    [
        "ContributionRewardPolicy",
        "FedGovernor",
        "FedTimelock",
        "FedToken",
        "FederatedTraining",
        "NaiveRoundReference",
        "ProportionalRewardPolicy",
        "RoundKeys",
        "RoundReports",
        "TaskRules",
        "TaskStakes",
    ]
)
COMPILER = {"solc": "0.8.30", "evmVersion": "prague", "optimizerRuns": 200, "viaIR": True}

TASK_PARAMS = (
    "(bytes32,bytes32,bytes32,uint32,uint32,uint32,uint64,uint64,uint256,uint32,uint64,bool,bool)"
)
TASK = (
    f"({TASK_PARAMS},address,address,address,uint32,uint32,uint32,uint32,uint32,uint32,bool,bool,"
    "bytes32,uint32,address)"
)
ROUND = (
    "(uint8,uint48,uint32,uint64,uint104,uint48,uint48,uint32,uint32,uint32,uint32,uint32,"
    "bytes32,bytes32)"
)
CONTRIBUTION = "(address,uint32,uint32,bool,bool)"
MEMBER = "(uint8,uint32,uint32,uint32,bool,uint32,uint32)"

TRAINING_FUNCTIONS = {
    f"createTask({TASK_PARAMS},address,address)->(uint256)",
    "addValidator(uint256,address)->()",
    "removeValidator(uint256,address)->()",
    "setRoundRules(uint256,uint32,uint32)->()",
    "handOverGovernance(uint256,address)->()",
    "join(uint256)->()",
    "admit(uint256,address[],uint32)->()",
    "revokeAdmission(uint256,address)->()",
    "admission(uint256,address)->(bool,uint32)",
    "advertiseMaskingKey(uint256,uint32,bytes,bytes)->()",
    "maskingKeyDigest(uint256,uint32,address)->(bytes32)",
    "revealMasks(uint256,uint32,bytes32,bytes32)->()",
    "getMaskedRound(uint256,uint32)->((uint48,uint32,uint32))",
    "setAggregator(uint256,address)->()",
    "setKeyHolder(uint256,address,bytes32)->()",
    "openRound(uint256)->(uint32)",
    "commitUpdate(uint256,uint32,bytes32,uint64)->()",
    "excludeUpdate(uint256,uint32,bytes32,uint8)->()",
    "commitAggregate(uint256,uint32,bytes32,uint32,uint104)->()",
    "commitModel(uint256,uint32,bytes32)->()",
    "rejectAggregate(uint256,uint32,bytes32)->()",
    "vote(uint256,uint32,bool,uint32)->()",
    "finalizeRound(uint256,uint32)->()",
    "cancelRound(uint256,uint32)->()",
    "closeTask(uint256)->()",
    "claimReward(uint256,uint32,bytes32)->(uint256)",
    "reclaimEscrow(uint256)->(uint256)",
    "token()->(address)",
    "rewardPolicy()->(address)",
    "taskCount()->(uint256)",
    f"getTask(uint256)->({TASK})",
    f"getRound(uint256,uint32)->({ROUND})",
    f"getContribution(uint256,bytes32)->({CONTRIBUTION})",
    f"getMember(uint256,address)->({MEMBER})",
    "isParticipant(uint256,address)->(bool)",
    "isValidator(uint256,address)->(bool)",
    "hasVoted(uint256,uint32,address)->(bool)",
    "pendingReward(uint256,uint32,bytes32)->(uint256)",
    "rewardPaid(uint256,uint32)->(uint256)",
    "unallocatedEscrow(uint256)->(uint256)",
    "MAX_WINDOW_BLOCKS()->(uint64)",
    # Batched commitments (EIP-712 signed leaves, a Merkle root per round).
    "commitBatch(uint256,uint32,(bytes32,uint64,bytes32,bytes32)[])->(bytes32)",
    "excludeBatchedUpdate(uint256,uint32,(address,bytes32,uint64),bytes32[],uint8)->()",
    "claimBatchedReward(uint256,uint32,(address,bytes32,uint64),bytes32[])->(uint256)",
    "payBatch(uint256,uint32,(address,bytes32,uint64)[])->(uint256)",
    "getBatch(uint256,uint32)->((bytes32,uint32,bool))",
    "isInBatch(uint256,uint32,(address,bytes32,uint64),bytes32[])->(bool)",
    "updateCommitmentHash(uint256,uint32,bytes32,uint64)->(bytes32)",
    "UPDATE_COMMITMENT_TYPEHASH()->(bytes32)",
}

TRAINING_EVENTS = {
    "RegistryDeployed(address indexed,address indexed)",
    f"TaskCreated(uint256 indexed,address indexed,address,address,{TASK_PARAMS})",
    "EscrowFunded(uint256 indexed,address indexed,uint256)",
    "EscrowReclaimed(uint256 indexed,address indexed,uint256)",
    "ValidatorAdded(uint256 indexed,address indexed,uint32,uint32)",
    "ValidatorRemoved(uint256 indexed,address indexed,uint32)",
    "GovernanceHandedOver(uint256 indexed,address indexed,address indexed)",
    "RoundRulesChanged(uint256 indexed,uint32 indexed,address indexed,uint32,uint32)",
    "ParticipantJoined(uint256 indexed,address indexed,uint32,uint32)",
    "ParticipantAdmitted(uint256 indexed,address indexed,uint32)",
    "AdmissionRevoked(uint256 indexed,address indexed,bool)",
    "MaskingKeyAdvertised(uint256 indexed,uint32 indexed,address indexed,bytes)",
    "MasksRevealed(uint256 indexed,uint32 indexed,address indexed,bytes32)",
    "AggregatorChanged(uint256 indexed,address indexed,address indexed)",
    "KeyHolderChanged(uint256 indexed,address indexed,address indexed,bytes32)",
    "RoundOpened(uint256 indexed,uint32 indexed,uint64,uint64,uint32,uint32)",
    "UpdateCommitted(uint256 indexed,uint32 indexed,bytes32 indexed,address,uint64)",
    "UpdateExcluded(uint256 indexed,uint32 indexed,bytes32 indexed,address,uint8)",
    "AggregateCommitted(uint256 indexed,uint32 indexed,bytes32 indexed,uint32,uint64,uint104)",
    "AggregateRejected(uint256 indexed,uint32 indexed,bytes32 indexed,address,bytes32,uint64)",
    "ModelCommitted(uint256 indexed,uint32 indexed,bytes32 indexed,uint64)",
    "VoteCast(uint256 indexed,uint32 indexed,address indexed,bool,uint32)",
    "RoundFinalized(uint256 indexed,uint32 indexed,bytes32 indexed,bool,uint32,uint32)",
    "RoundCancelled(uint256 indexed,uint32 indexed,uint8)",
    "TaskEnded(uint256 indexed,uint32,uint32,bool)",
    "RewardClaimed(uint256 indexed,uint32 indexed,address indexed,bytes32,uint256)",
    "BatchCommitted(uint256 indexed,uint32 indexed,bytes32 indexed,uint32,uint64)",
    "BatchPaid(uint256 indexed,uint32 indexed,address indexed,uint32,uint256)",
}


def _signature(item: dict[str, Any], key: str = "inputs") -> str:
    return ",".join(abi_type(argument) for argument in item[key])


def _functions(abi: list[dict[str, Any]]) -> set[str]:
    return {
        f"{item['name']}({_signature(item)})->({_signature(item, 'outputs')})"
        for item in abi
        if item["type"] == "function"
    }


def test_one_artifact_per_deployable_contract() -> None:
    assert artifact_names() == DEPLOYABLE


@pytest.mark.parametrize("name", DEPLOYABLE)
def test_artifact_format(name: str) -> None:
    path = ARTIFACTS_DIR / f"{name}.json"
    text = path.read_text()
    artifact = json.loads(text)
    assert list(artifact) == [
        "contractName",
        "abi",
        "bytecode",
        "deployedBytecode",
        "sourceHash",
        "compiler",
    ]
    assert artifact["contractName"] == name
    assert artifact["compiler"] == COMPILER
    assert list(artifact["compiler"]) == list(COMPILER)
    for key in ("bytecode", "deployedBytecode"):
        assert artifact[key].startswith("0x")
        assert len(artifact[key]) > 2
        bytes.fromhex(artifact[key][2:])
    assert len(bytes.fromhex(artifact["deployedBytecode"][2:])) <= 24_576  # EIP-170
    # Byte-reproducible rendering: JSON.stringify(artifact, null, 2) plus a newline.
    assert text == json.dumps(artifact, indent=2, ensure_ascii=False) + "\n"


@pytest.mark.parametrize("name", DEPLOYABLE)
def test_source_hash_matches_the_solidity_source(name: str) -> None:
    """A cheap staleness check that needs no compiler (the solc test below is the full one)."""
    source = (CONTRACTS_DIR / f"{name}.sol").read_bytes()
    assert load_artifact(name)["sourceHash"] == hashlib.sha256(source).hexdigest(), (
        f"{name}.sol changed since its artifact was built: run `make contracts`"
    )


def test_training_abi_surface() -> None:
    abi = load_artifact("FederatedTraining")["abi"]
    assert _functions(abi) == TRAINING_FUNCTIONS
    events = {
        f"{item['name']}("
        + ",".join(
            abi_type(argument) + (" indexed" if argument["indexed"] else "")
            for argument in item["inputs"]
        )
        + ")"
        for item in abi
        if item["type"] == "event"
    }
    assert events == TRAINING_EVENTS
    errors = {item["name"] for item in abi if item["type"] == "error"}
    # Our errors carry the component prefix; SafeERC20's is the library's own.
    assert {name for name in errors if not name.startswith("Training")} == {
        "SafeERC20FailedOperation",
    }
    task_fields = next(item for item in abi if item.get("name") == "getTask")["outputs"][0]
    assert [field["name"] for field in task_fields["components"]] == [
        "params",
        "coordinator",
        "aggregator",
        "keyHolder",
        "participantCount",
        "validatorCount",
        "currentRound",
        "lastAcceptedRound",
        "votedRounds",
        "acceptedRounds",
        "ended",
        "escrowReclaimed",
        "currentModelDigest",
        "rewardedRejectedRounds",
        "governor",
    ]
    params = next(item for item in abi if item.get("name") == "createTask")["inputs"][0]
    assert [field["name"] for field in params["components"]][-5:] == [
        "rewardPerRound",
        "maxSamplesPerUpdate",
        "aggregationWindowBlocks",
        "admissionControlled",
        "masked",
    ]


def test_policy_and_token_abi() -> None:
    assert _functions(load_artifact("ProportionalRewardPolicy")["abi"]) == {
        "rewardFor(uint256,uint32,address,uint256,uint64,uint64)->(uint256)",
        "paysRejectedRounds(uint256)->(bool)",
    }
    token_functions = _functions(load_artifact("FedToken")["abi"])
    assert {
        "mint(address,uint256)->()",
        "cap()->(uint256)",
        "MINTER_ROLE()->(bytes32)",
        "grantRole(bytes32,address)->()",
        "balanceOf(address)->(uint256)",
        "beginDefaultAdminTransfer(address)->()",
        "acceptDefaultAdminTransfer()->()",
        "defaultAdmin()->(address)",
    } <= token_functions


def test_sources_pin_the_compiler() -> None:
    """Every source names the exact compiler version the artifacts are built with."""
    for path in sorted(CONTRACTS_DIR.glob("*.sol")):
        assert f"pragma solidity {COMPILER['solc']};" in path.read_text(), path.name


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.fail("`node` is not on PATH: the solc tests need Node.js (20 or later)")
    if not (CONTRACTS_DIR / "node_modules" / "solc").is_dir():
        pytest.fail(
            "contracts/node_modules is missing: run `cd contracts && npm ci` (or `make test`)"
        )
    return node


@pytest.mark.solc
def test_a_fresh_compile_matches_every_committed_artifact_and_names_one_that_differs(
    tmp_path: Path,
) -> None:
    """One compile (the slowest step of the contract tests) proves both: --check, run on a copy
    of contracts/ whose ProportionalRewardPolicy artifact was altered, names exactly that one,
    so every other committed artifact equals a fresh compile of its source."""
    node = _node()
    contracts = tmp_path / "contracts"
    contracts.mkdir()
    for path in CONTRACTS_DIR.iterdir():
        if path.suffix in {".sol", ".mjs", ".json"}:
            shutil.copy(path, contracts / path.name)
    (contracts / "node_modules").symlink_to(CONTRACTS_DIR / "node_modules")
    artifacts = tmp_path / "fedchain_magics" / "chain" / "artifacts"
    shutil.copytree(ARTIFACTS_DIR, artifacts)
    policy = artifacts / "ProportionalRewardPolicy.json"
    policy.write_text(policy.read_text().replace('"optimizerRuns": 200', '"optimizerRuns": 201'))

    result = subprocess.run(
        [node, "compile.mjs", "--check"],
        cwd=contracts,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    named = [line.strip() for line in result.stderr.splitlines() if ".json (" in line]
    assert named == ["ProportionalRewardPolicy.json (differs from a fresh compile)"], (
        result.stderr + "\n(any other artifact named here is stale: run `make contracts`)"
    )
