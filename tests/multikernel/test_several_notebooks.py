"""Several notebooks, one task: six real kernels, each with its own workspace and only its own
data and keys, run three rounds through a served ledger and its HTTP blob store (with pairwise
masks on: each hospital's kernel advertises its masking key when it trains and reveals its masks
after the sum; the key holder unmasks only the sum), and on a Hardhat node with blobs in S3.

coordinator (also the aggregator, and it serves the ledger) | key holder | three hospitals |
one validator. A hospital's kernel is killed mid-round, restarted, rejoins, and the round
completes. Only the key holder's workspace ever holds a secret context; the rewards follow each
hospital's share of the samples.
"""

from __future__ import annotations

import json
import re

import pytest
from kernel_helpers import kernels, run_all

from fedchain_magics.chain import Deployment, Ledger, TrainingContract

pytestmark = pytest.mark.slow

ROUNDS = 3
HOSPITALS = ("hospital-a", "hospital-b", "hospital-c")
REWARD_PER_ROUND = 90  # tokens

SETUP = """
import warnings, json
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from fedchain_magics.data import load_dataset, split_iid, standardize, train_test_split_stratified
from fedchain_magics.models import initialize
from fedchain_magics.magics import loaded_state
warnings.simplefilter("ignore", ConvergenceWarning)
%load_ext fedchain_magics
_X, _y = load_dataset("breast_cancer")
_Xtr, _Xte, _ytr, _yte = train_test_split_stratified(_X, _y, 0.25, seed=0)
_Xtr, _Xte = standardize(_Xtr, _Xte)
model = initialize(LogisticRegression(max_iter=5), _Xtr[:20], _ytr[:20], classes=[0, 1])
"""
# Each party keeps only its own rows (the others are dropped from the kernel).
HOSPITAL_DATA = """
_shard = split_iid(_Xtr, _ytr, {parts}, seed=0)[{index}]
X, y = _shard.X[: {rows}], _shard.y[: {rows}]
del _X, _y, _Xtr, _ytr, _Xte, _yte, _shard
"""
VALIDATOR_DATA = "Xv, yv = _Xte, _yte\ndel _X, _y, _Xtr, _ytr"
ADDRESS = (
    "print(loaded_state(get_ipython()).session.require_federation().keystore.address_of({name!r}))"
)
TRAIN = """%%fedtrain 1 --as {name}
global_model.fit(X, y)
"""


def _hospital_rows(index: int) -> int:
    return (60, 90, 120)[index]


NAMES = ["coordinator", "key-holder", *HOSPITALS, "validator"]


def test_six_kernels_run_three_rounds_over_a_served_ledger(tmp_path):
    with kernels(tmp_path, NAMES) as k:
        url, connect = serve_from_the_coordinator(k)
        _run_three_rounds(
            tmp_path, k, url, connect, rejoin=f"%fedchain connect {url} --dir ws", masked=True
        )


def test_the_same_on_a_hardhat_node_with_blobs_in_s3(tmp_path):
    """Every kernel signs with its own Hardhat development key (for gas only) and keeps its
    blobs in one S3 bucket (SeaweedFS on loopback), configured from the environment."""
    from hardhat_node import hardhat_node
    from seaweedfs_server import seaweedfs_server

    with hardhat_node() as (url, _), seaweedfs_server() as s3:
        import s3fs

        s3fs.S3FileSystem(**s3.storage_options(), skip_instance_cache=True).mkdir("fedchain")
        environment = {
            name: {
                "FSSPEC_S3": json.dumps(s3.storage_options()),
                "FEDCHAIN_FAUCET_KEY": _hardhat_key(index + 1),
            }
            for index, name in enumerate(NAMES)
        }
        blobs = "s3://fedchain/task"
        faucet = "--faucet-key-env FEDCHAIN_FAUCET_KEY"
        with kernels(tmp_path, NAMES, environment) as k:
            run_all({kernel: SETUP for kernel in k.values()})
            k["coordinator"].run(f"%fedchain connect {url} --dir ws --blobs {blobs} {faucet}")
            status = k["coordinator"].run("%fedchain status")
            contract = re.search(r"contract:\s+(0x[0-9a-fA-F]{40})", status).group(1)
            connect = (
                f"%fedchain connect {url} --dir ws --blobs {blobs} --contract {contract} {faucet}"
            )
            _run_three_rounds(
                tmp_path, k, url, connect, rejoin=f"%fedchain connect {url} --dir ws {faucet}",
                join_options=faucet,
            )  # fmt: skip


def _hardhat_key(index: int) -> str:
    from eth_account import Account

    Account.enable_unaudited_hdwallet_features()
    mnemonic = "test test test test test test test test test test test junk"  # Hardhat's own
    return Account.from_mnemonic(mnemonic, account_path=f"m/44'/60'/0'/0/{index}").key.hex()


def serve_from_the_coordinator(k) -> tuple[str, str]:
    """Every kernel loads the extension; the coordinator's starts a ledger in ws/ and serves it.
    Returns the JSON-RPC URL and the magic that connects another kernel to it and its blobs."""
    run_all({kernel: SETUP for kernel in k.values()})
    k["coordinator"].run("%fedchain start --dir ws")
    served = k["coordinator"].run("%fedchain serve")
    url = re.search(r"json-rpc: (\S+)", served).group(1)
    blobs = re.search(r"blobs:\s+(\S+)", served).group(1)
    return url, f"%fedchain connect {url} --dir ws --blobs {blobs}"


def prepare_roles(k, connect: str, rows: dict[str, int]) -> tuple[str, str]:
    """Each hospital loads its shard (one of ``len(rows)``, its number of rows) and the validator
    its test rows; the key holder and the validator connect, the key holder makes its BFV keys.
    Returns the ``%fedtask create`` options naming the key holder and its public context, and
    the validator's address."""
    for index, (hospital, count) in enumerate(rows.items()):
        k[hospital].run(HOSPITAL_DATA.format(index=index, rows=count, parts=len(rows)))
    k["validator"].run(VALIDATOR_DATA)
    k["key-holder"].run(connect)
    published = k["key-holder"].run("%fedkeys encryption --scheme bfv")
    create_keys = re.search(r"(--key-holder \S+ --public-context \S+)", published).group(1)
    k["validator"].run(connect)
    validator = re.search(r"(0x[0-9a-fA-F]{40})", k["validator"].run("%fedkeys account v1"))
    return create_keys, validator.group(1)


def _run_three_rounds(tmp_path, k, url, connect, *, rejoin, join_options="", masked=False):
    rows = {hospital: _hospital_rows(index) for index, hospital in enumerate(HOSPITALS)}
    create_keys, validator = prepare_roles(k, connect, rows)
    k["coordinator"].run(
        f"%fedtask create model --rounds {ROUNDS} --min-participants 3 "
        f"--reward {REWARD_PER_ROUND} --validators {validator} {create_keys}"
        + (" --privacy masked" if masked else "")
    )
    card = re.search(r"(fedchain-invite:\S+)", k["coordinator"].run("%fedtask invite 1"))
    run_all(
        {
            k[hospital]: f"%fedjoin --invite {card.group(1)} --as {hospital} --data X,y "
            f"--dir ws {join_options}\n%fedtask use 1 model"
            for hospital in HOSPITALS
        }
    )
    k["validator"].run("%fedtask use 1 model\n%fedjoin 1 --as v1 --validator --data Xv,yv")
    assert "task 1:    this workspace is key holder" in k["key-holder"].run("%fedchain status")

    for round_number in range(1, ROUNDS + 1):
        k["coordinator"].run("%fedtask next 1")
        if round_number == 2:  # a hospital's kernel dies mid-round and comes back
            k["hospital-c"].kill()
            k["hospital-c"].restart()
            k["hospital-c"].run(SETUP)
            k["hospital-c"].run(HOSPITAL_DATA.format(index=2, rows=_hospital_rows(2), parts=3))
            rejoined = k["hospital-c"].run(
                f"{rejoin}\n%fedtask use 1 model\n%fedjoin 1 --as hospital-c --data X,y"
            )
            assert "had joined task 1 already" in rejoined
        if masked:  # every party's key is in (each advertises as it trains) before any update
            run_all({k[h]: TRAIN.format(name=h) for h in HOSPITALS})
            run_all({k[h]: f"%fedsubmit 1 --as {h}" for h in HOSPITALS})
        else:
            run_all({k[h]: [TRAIN.format(name=h), f"%fedsubmit 1 --as {h}"] for h in HOSPITALS})
        summed = k["coordinator"].run("%fedaggregate 1")
        assert "key holder's kernel runs %fedaggregate 1" in summed
        if masked:
            revealed = run_all({k[h]: "%fedaggregate 1" for h in HOSPITALS})
            assert all("revealed what removes their masks" in text for text in revealed.values())
        decrypted = k["key-holder"].run("%fedaggregate 1")
        assert "decrypted it and committed the new model" in decrypted
        voted = k["validator"].run("%fedvalidate 1 --as v1")
        assert "accept" in voted.lower()

    for hospital in HOSPITALS:
        k[hospital].run(f"%fedrewards 1 --claim --as {hospital}")
    addresses = {
        hospital: k[hospital].run(ADDRESS.format(name=hospital)).strip() for hospital in HOSPITALS
    }
    _assert_only_the_key_holder_holds_a_secret(tmp_path, NAMES)
    _assert_rewards_follow_the_samples(tmp_path, url, addresses)


def _assert_only_the_key_holder_holds_a_secret(root, names):
    for name in names:
        secrets = [
            path
            for path in (root / name).rglob("*")
            if path.suffix in (".sealed", ".secret-context")
        ]
        assert bool(secrets) == (name == "key-holder"), (name, secrets)


def _assert_rewards_follow_the_samples(root, url, addresses):
    ledger = Ledger.connect(url)
    try:
        [deployment_file] = (root / "hospital-a" / "ws").glob("deployment-*.json")
        registry = TrainingContract(ledger, Deployment(**json.loads(deployment_file.read_text())))
        rows = {h: _hospital_rows(i) for i, h in enumerate(HOSPITALS)}
        total = sum(rows.values())
        unit = 10**18
        for hospital, address in addresses.items():
            expected = ROUNDS * REWARD_PER_ROUND * unit * rows[hospital] // total
            assert abs(registry.token_balance(address) - expected) <= ROUNDS, hospital
    finally:
        ledger.close()
