"""A federation as one kernel sees it: one ledger, its contracts, the blob store, the named
accounts of this workspace, the verification record, and the events the engine emits."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils import is_address, to_checksum_address

from ..chain import (
    Deployment,
    Keystore,
    Ledger,
    RoundReportsContract,
    TaskParams,
    TaskState,
    TrainingContract,
)
from ..chain.governance import GovernanceContracts
from ..chain.scores import ScoresContract
from ..chain.stakes import StakesContract
from ..chain.training import bound_stakes, serves_registry
from ..crypto import CryptoError, generate_scheme, load_scheme
from ..models import adapter_for
from ..models.codec import encode_parameters
from ..server import LedgerServer
from ..storage import BlobStore, LocalBlobStore, StorageError, open_blob_store
from . import round_keys
from .errors import InvalidInputError, UnknownTaskError
from .events import EventBus, LedgerEvent
from .invitation import Invitation
from .retention import GarbageReport, collect_garbage, prune_after_round
from .task import FederatedTask, TaskConfig, manifest_bytes
from .tokens import TokenInfo
from .verifications import VerificationRecord
from .watch import HeadWatcher

DEFAULT_WORKSPACE = ".fedchain"
TREASURY = "deployer"
"""The account that deployed the contracts here; the capped token's whole supply is minted to
it, and it funds the reward pools of the tasks this workspace creates."""


CONNECTION_FILENAME = "connection.json"
"""Where a workspace records the node and blob store it was opened with (no secrets)."""


@dataclass(frozen=True)
class KeyPublication:
    """What a key holder hands the coordinator: its address and its public context's digest."""

    name: str
    address: str
    public_context_digest: bytes
    scheme: str


@dataclass(frozen=True)
class AccountBalance:
    name: str | None
    address: str
    balance: int


class Federation:
    """Everything one kernel needs to take part in federated tasks on one ledger (the kernel's
    own state, variables and captured updates, is the :class:`~.session.Session`'s).

    ``Federation.open()`` starts (or restores) the in-process chain in ``.fedchain/``;
    ``Federation.open(url="http://...")`` uses a JSON-RPC node instead. The contracts are
    deployed on first use and their addresses recorded in the workspace.
    """

    def __init__(
        self,
        workspace: Path,
        ledger: Ledger,
        registry: TrainingContract,
        store: BlobStore,
        keystore: Keystore,
    ) -> None:
        self.workspace = workspace
        self.ledger = ledger
        self.registry = registry
        self.store = store
        self.keystore = keystore
        self.events = EventBus()
        self.verifications = VerificationRecord(workspace)
        self._tasks: dict[int, FederatedTask] = {}
        self._token: TokenInfo | None = None
        self.server: LedgerServer | None = None
        self.blob_location: str | None = None
        self.head = HeadWatcher(ledger.block_number)
        """Listen for the head moving, whoever moved it (this kernel or another)."""
        self._round_reports: RoundReportsContract | None = None
        self.decryptions: list[tuple[int, int, tuple[str, ...]]] = []
        """Every sum this kernel's key holders decrypted: (task, round, the parties in it)."""

    @property
    def round_reports(self) -> RoundReportsContract | None:
        """The RoundReports contract of this deployment (None in one made before it existed)."""
        address = self.registry.deployment.round_reports
        if not address:
            return None
        if self._round_reports is None:
            self._round_reports = RoundReportsContract(
                self.ledger, address, first_block=self.registry.deployment.deployed_at_block
            )
        return self._round_reports

    def record_decryption(self, task_id: int, round_number: int, parties: Sequence[str]) -> None:
        """Note a sum about to be decrypted here, with the parties whose updates it holds (in
        memory and appended to ``decryptions.jsonl``): the evidence of what a key holder saw."""
        entry = (task_id, round_number, tuple(parties))
        self.decryptions.append(entry)
        line = json.dumps({"task": task_id, "round": round_number, "parties": list(parties)})
        with open(self.workspace / "decryptions.jsonl", "a", encoding="utf-8") as log:
            log.write(line + "\n")

    @property
    def governance(self) -> GovernanceContracts | None:
        """This deployment's governance contracts (TaskRules, FedGovernor, FedTimelock); None
        until a task is first put under governance (``engine/governance.py`` deploys them)."""
        from . import governance

        return governance.contracts(self)

    @property
    def scores(self) -> ScoresContract | None:
        """The ContributionRewardPolicy's client (score tables, proven shares); None in a
        deployment made before it existed."""
        if not self.registry.deployment.task_stakes:
            return None
        client = self.__dict__.get("_scores_client")
        if client is None:
            client = ScoresContract(self.ledger, self.registry.deployment.reward_policy)
            self.__dict__["_scores_client"] = client
        return client

    @property
    def stakes(self) -> StakesContract | None:
        """The TaskStakes client (stakes, slashing, disputes); None in a deployment made before
        it existed."""
        address = self.registry.deployment.task_stakes
        if not address:
            return None
        client = self.__dict__.get("_stakes_client")
        if client is None:
            deployed_at = self.registry.deployment.deployed_at_block
            client = StakesContract(self.ledger, address, from_block=deployed_at)
            self.__dict__["_stakes_client"] = client
        return client

    @classmethod
    def open(
        cls,
        workspace: Path | str = DEFAULT_WORKSPACE,
        *,
        url: str | None = None,
        faucet_key: str | None = None,
        passphrase: str | None = None,
        blobs: str | None = None,
        token: str | None = None,
        contract: str | None = None,
    ) -> Federation:
        """Open the federation kept in ``workspace``; deploy the contracts if there are none.

        ``url``: a JSON-RPC node or a served ledger (default: the in-process chain in the
        workspace). ``blobs``: the blob store (a folder, ``http(s)://`` of a served ledger,
        ``s3://``); default: the one recorded when the workspace was opened with this ``url``,
        else the workspace's ``blobs/`` folder. ``token``: the served ledger's bearer token.
        ``contract``: on a node, the FederatedTraining address another workspace deployed (a
        served ledger tells its own); without one, this workspace deploys the contracts.
        """
        root = _ledger_directory(Path(workspace))
        recorded = _recorded_connection(root)
        if blobs is None and recorded.get("url") == url:
            blobs = recorded.get("blobs")
        store = (
            LocalBlobStore(root / "blobs") if blobs is None else open_blob_store(blobs, token=token)
        )
        if url is None:
            ledger = Ledger.open_embedded(root / "chain")
            deployment_path = root / "deployment.json"
        else:
            ledger = Ledger.connect(url, faucet_key=faucet_key, token=token)
            deployment_path = root / f"deployment-{ledger.chain_id}.json"
        try:
            keystore = Keystore(root / "keystore", passphrase=passphrase)
            if not deployment_path.exists() and contract is not None:
                TrainingContract.at(ledger, contract).save(deployment_path)
            if not deployment_path.exists() and (served := _served_deployment(ledger)):
                TrainingContract(ledger, served).save(deployment_path)  # join, don't redeploy
            if deployment_path.exists():
                registry = TrainingContract.load(ledger, deployment_path, cache_dir=root / "cache")
            else:
                deployer = keystore.load_or_create("deployer")
                ledger.fund(deployer.address)
                registry = TrainingContract.deploy(ledger, deployer, cache_dir=root / "cache")
                registry.save(deployment_path)
            if url is not None or blobs is not None:
                _record_connection(root, url, blobs)
        except BaseException:
            ledger.close()  # releases the ledger directory's lock for the next try
            raise
        federation = cls(root, ledger, registry, store, keystore)
        federation.blob_location = blobs
        return federation

    def close(self) -> None:
        self.head.close()
        if self.server is not None:
            self.server.stop()
            self.server = None
        self.ledger.close()

    # -- serving and invitations ----------------------------------------------------------------

    def serve(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str | None = None,
        allow_remote: bool = False,
    ) -> LedgerServer:
        """Serve this workspace's in-process chain (JSON-RPC) and blob store to other kernels;
        stopped by :meth:`close`. A second call returns the running server."""
        if self.server is not None:
            return self.server
        if not self.ledger.embedded:
            raise InvalidInputError(
                f"this workspace uses the node at {self.ledger.url}; give other kernels that "
                "URL instead of serving it again"
            )
        if not isinstance(self.store, LocalBlobStore):
            raise InvalidInputError(
                f"this workspace keeps its blobs at {self.blob_location}; serve a workspace "
                "whose blobs are local, or give other kernels that store's URL"
            )
        self.server = LedgerServer(
            self.ledger, blob_root=self.store.root, host=host, port=port, token=token,
            allow_remote=allow_remote,
        ).start()  # fmt: skip
        self.server.rpc.deployment = asdict(self.registry.deployment)
        return self.server

    def invitation(
        self, task_id: int, *, chain_url: str | None = None, blob_url: str | None = None
    ) -> Invitation:
        """The card another kernel joins ``task_id`` with (see :mod:`.invitation`)."""
        state = self.registry.task(self.task(task_id).task_id)
        served = self.server
        chain_url = chain_url or (served.url if served else self.ledger.url)
        if chain_url is None:
            raise InvalidInputError(
                "this ledger runs inside this kernel and is not served: run `%fedchain serve` "
                "(Federation.serve()) first, so other kernels can reach it"
            )
        blob_url = blob_url or (served.blob_url if served else self.blob_location)
        if blob_url is None or "://" not in blob_url or blob_url.startswith("file://"):
            raise InvalidInputError(
                "this workspace's blobs are in a local folder other kernels cannot read: serve "
                "it (`%fedchain serve`) or open the workspace with a shared blob store URL"
            )
        deployment = self.registry.deployment
        return Invitation(
            chain_url=chain_url,
            chain_id=deployment.chain_id,
            training=to_checksum_address(deployment.training),
            token=to_checksum_address(deployment.token),
            reward_policy=to_checksum_address(deployment.reward_policy),
            deployed_at_block=deployment.deployed_at_block,
            task_id=state.task_id,
            blob_url=blob_url,
            model_spec_digest="0x" + state.params.model_spec_digest.hex(),
            public_context_digest="0x" + state.params.public_context_digest.hex(),
            **_satellites(deployment),
        )

    @classmethod
    def accept(
        cls,
        invitation: Invitation | str,
        workspace: Path | str = DEFAULT_WORKSPACE,
        *,
        token: str | None = None,
        faucet_key: str | None = None,
        passphrase: str | None = None,
    ) -> Federation:
        """Open ``workspace`` on the invitation's chain and blob store, after checking the card
        against both: the chain id, the contract's code, the task's on-chain digests, and the
        blobs they name (re-hashed; the public context must hold no secret key)."""
        card = invitation if isinstance(invitation, Invitation) else Invitation.parse(invitation)
        root = _ledger_directory(Path(workspace))
        deployment_path = _check_deployment_record(root, card)
        ledger = Ledger.connect(card.chain_url, faucet_key=faucet_key, token=token)
        try:
            if ledger.chain_id != card.chain_id:
                raise InvalidInputError(
                    f"the invitation is for chain {card.chain_id} but {card.chain_url} is chain "
                    f"{ledger.chain_id}; ask the coordinator for the right endpoint"
                )
            if not ledger.web3.eth.get_code(card.training):  # type: ignore[arg-type]
                raise InvalidInputError(
                    f"no fedchain contract at {card.training} on {card.chain_url}; the "
                    "invitation belongs to another ledger"
                )
            deployment = _invited_deployment(ledger, card)
            registry = TrainingContract(ledger, deployment, cache_dir=root / "cache")
            store = open_blob_store(card.blob_url, token=token)
            _check_invited_task(registry, store, card)
            keystore = Keystore(root / "keystore", passphrase=passphrase)
            if not deployment_path.exists():
                registry.save(deployment_path)
            _record_connection(root, card.chain_url, card.blob_url)
        except BaseException:
            ledger.close()
            raise
        federation = cls(root, ledger, registry, store, keystore)
        federation.blob_location = card.blob_url
        return federation

    def __enter__(self) -> Federation:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- accounts -------------------------------------------------------------------------------

    def account(self, name: str) -> LocalAccount:
        """The account called ``name`` (created on first use), funded for gas."""
        account = self.keystore.load_or_create(name)
        self.ledger.fund(account.address)
        return account

    def signer(self, name: str) -> LocalAccount:
        """The account called ``name`` (created on first use) to sign something off-chain, such
        as a batched commitment: not funded, since it sends nothing."""
        return self.keystore.load_or_create(name)

    def address(self, name: str) -> str:
        """The address of the account called ``name`` (created on first use, not funded)."""
        return str(self.keystore.load_or_create(name).address)

    def address_of(self, name_or_address: str) -> str:
        """A ``0x`` address as given (checksummed), or the address of the account called so
        here (:meth:`address`: nothing is sent to read it)."""
        if name_or_address.startswith("0x"):
            if not is_address(name_or_address):
                raise InvalidInputError(
                    f"`{name_or_address}` is not an account address (0x and 40 hex digits); "
                    "check it"
                )
            return str(to_checksum_address(name_or_address))
        return self.address(name_or_address)

    def name_of(self, address: str) -> str | None:
        """The local name of ``address``, if this workspace's keystore holds it."""
        lowered = address.lower()
        for name in self.keystore.names():
            if self.keystore.address_of(name).lower() == lowered:
                return name
        return None

    def names_by_address(self) -> dict[str, str]:
        return {self.keystore.address_of(name).lower(): name for name in self.keystore.names()}

    def account_names(self) -> list[str]:
        """The accounts this workspace holds, less the deployer's."""
        return [name for name in self.keystore.names() if name != "deployer"]

    def token(self) -> TokenInfo:
        """The reward token's symbol and decimals (constant for a deployment: read once)."""
        if self._token is None:
            registry = self.registry
            decimals = self.ledger.call(registry.token.functions.decimals())
            self._token = TokenInfo(symbol=str(registry.token_symbol()), decimals=int(decimals))
        return self._token

    # -- tasks ----------------------------------------------------------------------------------

    def create_task(
        self,
        model: Any,
        config: TaskConfig | None = None,
        *,
        coordinator: str = "coordinator",
        aggregator: str = "aggregator",
        key_holder: str = "key-holder",
        validators: tuple[str, ...] | list[str] = ("validator-1",),
        public_context_digest: bytes | None = None,
    ) -> FederatedTask:
        """Register a training task for ``model`` and return its handle.

        ``aggregator``, ``key_holder`` and each validator are account names of this workspace
        or addresses (``0x...``) of other kernels' accounts. With a key holder named here, its
        encryption keys are generated here and its secret context sealed in ``keys/``. With a
        key holder elsewhere, give the ``public_context_digest`` it published
        (:meth:`generate_keys`): the coordinator then never holds the secret key.
        """
        config = config or TaskConfig()
        config.check(validator_count=len(validators))
        adapter = adapter_for(model)  # raises a clear error for an unsupported model
        adapter.get_parameters(model)  # an unfitted estimator is refused before any write
        lowered = [name.lower() for name in validators]
        repeated = sorted({name for name in validators if lowered.count(name.lower()) > 1})
        if repeated:
            raise InvalidInputError(
                f"validator names repeat: {', '.join(repeated)}; name each once"
            )
        roles = [coordinator, aggregator, key_holder, *validators]
        lowered = [name.lower() for name in roles]
        shared = sorted({n for n in roles if lowered.count(n.lower()) > 1} - set(repeated))
        if shared:
            raise InvalidInputError(
                f"{', '.join(shared)} cannot hold two roles of one task; give the coordinator, "
                "aggregator, key holder and each validator an account of its own"
            )
        for name in (coordinator, aggregator, key_holder, *validators):
            if not name.startswith("0x"):
                self.keystore.exists(name)  # refuses an invalid account name before any write
            else:
                self.address_of(name)  # refuses a malformed address
        if coordinator.startswith("0x"):
            raise InvalidInputError(
                "the coordinator signs the task's creation: name an account of this workspace"
            )
        remote_keys = key_holder.startswith("0x")
        if remote_keys and public_context_digest is None:
            raise InvalidInputError(
                f"the key holder {key_holder} is another kernel's: give the public context "
                "digest it published (`%fedkeys encryption` printed it)"
            )
        if not remote_keys and public_context_digest is not None:
            raise InvalidInputError(
                "a published public context goes with the key holder's address (0x...), not a "
                "local name: keys made here are generated with the task"
            )
        if remote_keys:
            scheme = self._published_public_scheme(public_context_digest)  # type: ignore[arg-type]
            config = replace(config, scheme=scheme.name)
        top_up = self._treasury_top_up(coordinator, config.reward_per_round * config.rounds)
        if not remote_keys:
            scheme = generate_scheme(
                config.scheme,
                max_parties=config.max_parties,
                parameter_count=adapter.get_parameters(model).size,  # small models: small ring
            )
        coordinator_account = self.account(coordinator)
        accounts = {
            "coordinator": coordinator_account.address,
            "aggregator": self._role_address(aggregator),
            "key_holder": self._role_address(key_holder),
        }
        validator_accounts = [self._role_address(name) for name in validators]
        if not remote_keys:
            public_context_digest = self.store.put(scheme.public_context_bytes())
            # Sealed before the task exists, keyed by the public context (unique to these keys):
            # a task on-chain never lacks its key, and no other ledger's key is overwritten.
            self._keep_secret_context(public_context_digest, scheme.secret_context_bytes())
        manifest = manifest_bytes(
            adapter.spec(model),
            scheme.describe(),
            config,
            round_keys=(
                round_keys.contract_address(self, coordinator_account)
                if config.privacy == "masked"
                else None
            ),
        )
        manifest_digest = self.store.put(manifest)
        initial_model_digest = self.store.put(encode_parameters(adapter.get_parameters(model)))
        params = TaskParams(
            model_spec_digest=manifest_digest,
            public_context_digest=public_context_digest,  # type: ignore[arg-type]
            initial_model_digest=initial_model_digest,
            min_participants=config.min_participants,
            max_rounds=config.rounds,
            validator_quorum=config.validator_quorum,
            submission_window_blocks=config.submission_window_blocks,
            validation_window_blocks=config.validation_window_blocks,
            reward_per_round=config.reward_per_round,
            max_samples_per_update=config.max_samples_per_update,
            aggregation_window_blocks=config.aggregation_window_blocks,
            admission_controlled=config.admission == "invited",
            masked=config.privacy == "masked",
        )
        if top_up:
            self.registry.transfer_tokens(self.account(TREASURY), accounts["coordinator"], top_up)
        task_id, result = self.registry.create_task(
            coordinator_account,
            params,
            aggregator=accounts["aggregator"],
            key_holder=accounts["key_holder"],
        )
        self.emit(
            "task_created",
            result.block_number,
            f"task {task_id} created by {coordinator}",
            task_id=task_id,
            account=accounts["coordinator"],
            tx_hash=result.tx_hash,
            gas_used=result.gas_used,
        )
        for name, address in zip(validators, validator_accounts, strict=True):
            added = self.registry.add_validator(coordinator_account, task_id, address)
            self.emit(
                "validator_added",
                added.block_number,
                f"{name} validates task {task_id}",
                task_id=task_id,
                account=address,
                tx_hash=added.tx_hash,
                gas_used=added.gas_used,
            )
        if config.valuation != "off":  # paid by posted score tables, not declared samples
            scores = self.scores
            if scores is None or self.round_reports is None:
                raise InvalidInputError(
                    "this ledger's deployment predates valued rounds; open a fresh workspace "
                    "(a new ledger directory) to create a valued task"
                )
            enabled = scores.enable_scoring(coordinator_account, task_id)
            self.emit(
                "scoring_enabled",
                enabled.block_number,
                f"task {task_id} pays by value ({config.valuation}, k={config.group_size})",
                task_id=task_id,
                account=accounts["coordinator"],
                tx_hash=enabled.tx_hash,
                gas_used=enabled.gas_used,
            )
        task = FederatedTask(self, task_id, model_template=model)
        self._tasks[task_id] = task
        return task

    def _role_address(self, name_or_address: str) -> str:
        """Another kernel's address as given, or this workspace's account (created, funded)."""
        if name_or_address.startswith("0x"):
            return str(to_checksum_address(name_or_address))
        return str(self.account(name_or_address).address)

    def _published_public_scheme(self, digest: bytes) -> Any:
        """The key holder's published public context, checked to hold no secret key."""
        try:
            scheme = load_scheme(self.store.get(digest))
        except (StorageError, CryptoError) as error:
            raise InvalidInputError(
                f"the key holder's public context 0x{digest.hex()} cannot be used: {error}"
            ) from None
        if scheme.has_secret_key:
            raise InvalidInputError(
                "the context the key holder published holds its secret key: every update "
                "could be decrypted by anyone; ask the key holder to publish its public context"
            )
        return scheme

    def _treasury_top_up(self, coordinator: str, amount: int) -> int:
        """Token units the treasury (the account that deployed the token here) must give
        ``coordinator`` so it holds the task's reward pool, which ``createTask`` escrows; a
        one-line error, before anything is written, when neither can."""
        keystore, registry = self.keystore, self.registry
        held = (
            registry.token_balance(keystore.address_of(coordinator))
            if keystore.exists(coordinator)
            else 0
        )
        if held >= amount:
            return 0
        available = (
            registry.token_balance(keystore.address_of(TREASURY))
            if keystore.exists(TREASURY)
            else 0
        )
        if available < amount - held:
            token = self.token()
            raise InvalidInputError(
                f"the task's reward pool is {token.text(amount)} but the coordinator holds "
                f"{token.text(held)} and this workspace's treasury {token.text(available)}; "
                "give fewer rounds or a smaller reward"
            )
        return amount - held

    def task(self, task_id: int, model: Any | None = None) -> FederatedTask:
        """The handle of an existing task (``model``: a local model of the task's architecture)."""
        if not 1 <= task_id <= self.registry.task_count():
            raise UnknownTaskError(task_id, self.task_ids())
        task = self._tasks.get(task_id)
        if task is None:
            task = FederatedTask(self, task_id, model_template=model)
            self._tasks[task_id] = task
        elif model is not None:
            task.use_model(model)
        return task

    def task_ids(self) -> list[int]:
        return list(range(1, self.registry.task_count() + 1))

    def tasks(self) -> list[TaskState]:
        return [self.registry.task(task_id) for task_id in self.task_ids()]

    def _sealed_key_path(self, public_context_digest: bytes) -> Path:
        """A secret context is keyed by its public context's digest (unique to those keys):
        two development chains can share a chain id, a deployer and so contract addresses, and
        a workspace used with both must never mix or overwrite their keys."""
        deployment = self.registry.deployment
        return (
            self.workspace / "keys" / f"chain-{deployment.chain_id}-{deployment.training.lower()}"
            f"-context-{public_context_digest.hex()}.sealed"
        )

    def _task_keyed_path(self, task_id: int) -> Path:
        """Where the previous release kept a sealed secret context (by chain, contract, task)."""
        deployment = self.registry.deployment
        return (
            self.workspace
            / "keys"
            / f"chain-{deployment.chain_id}-{deployment.training.lower()}-task-{task_id}.sealed"
        )

    def _legacy_secret_context_path(self, task_id: int) -> Path:
        """Where workspaces of the in-process chain kept it in clear before sealing."""
        return self.workspace / "keys" / f"task-{task_id}.secret-context"

    def generate_keys(
        self,
        name: str = "key-holder",
        *,
        scheme: str = "bfv",
        max_parties: int = 10,
        parameter_count: int | None = None,
    ) -> KeyPublication:
        """Be a key holder: make encryption keys in this workspace, put the public context in
        the blob store, keep the secret context sealed here (never overwritten), and return
        what the coordinator needs to create a task with them. ``parameter_count``, the
        model's size if known, lets a small model's updates use smaller ciphertexts."""
        self.keystore.exists(name)  # refuses an invalid account name before any write
        generated = generate_scheme(
            scheme, max_parties=max_parties, parameter_count=parameter_count
        )
        account = self.account(name)
        digest = self.store.put(generated.public_context_bytes())
        self._keep_secret_context(digest, generated.secret_context_bytes())
        return KeyPublication(name, account.address, digest, generated.name)

    def secret_context(self, task_id: int) -> bytes | None:
        """The key holder's secret context of a task, if this workspace holds it."""
        sealed = self._sealed_key_path(self.registry.task(task_id).params.public_context_digest)
        if sealed.exists():
            return self.keystore.unseal(sealed.read_bytes())
        earlier = self._task_keyed_path(task_id)
        if earlier.exists():
            return self.keystore.unseal(earlier.read_bytes())
        legacy = self._legacy_secret_context_path(task_id)
        if self.ledger.embedded and legacy.exists():
            return legacy.read_bytes()
        return None

    def round_secret_context(self, public_context_digest: bytes) -> bytes | None:
        """A masked task's round secret context sealed here under its public context's digest."""
        sealed = self._sealed_key_path(public_context_digest)
        return self.keystore.unseal(sealed.read_bytes()) if sealed.exists() else None

    def keep_round_secret_context(self, public_context_digest: bytes, secret: bytes) -> None:
        """Seal a masked task's round secret context here, as the task's own is sealed."""
        self._keep_secret_context(public_context_digest, secret)

    def _keep_secret_context(self, public_context_digest: bytes, secret_context: bytes) -> None:
        path = self._sealed_key_path(public_context_digest)
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():  # the same keys again (a retried creation): already kept
            _write_new_private(path, self.keystore.seal(secret_context))

    def collect_garbage(
        self, keep_rounds: int | None = None, *, dry_run: bool = False
    ) -> GarbageReport:
        """Prune the update blobs of finished, verified rounds older than ``keep_rounds``
        (default: the workspace's ``retention.json``, else 1); see :mod:`.retention`."""
        return collect_garbage(self, keep_rounds, dry_run=dry_run)

    # -- balances and events --------------------------------------------------------------------

    def balances(self) -> list[AccountBalance]:
        """Reward-token balances of every account this workspace knows, largest first."""
        rows = [
            AccountBalance(name, address, self.registry.token_balance(address))
            for address, name in self.names_by_address().items()
            if name != "deployer"
        ]
        return sorted(rows, key=lambda row: (-row.balance, row.name or row.address))

    def emit(self, kind: Any, block_number: int, summary: str, **fields: Any) -> None:
        event = LedgerEvent(kind=kind, block_number=block_number, summary=summary, **fields)
        self.events.emit(event)
        prune_after_round(self, event)  # the retention policy's automatic gc (retention.py)


LEDGER_ENTRIES = (
    "chain",
    "keystore",
    "blobs",
    "keys",
    "cache",
    "deployment.json",
    "verifications.json",
)
"""What a workspace holds once used; a folder with none of them and other files is not one."""


def _ledger_directory(root: Path) -> Path:
    """``root`` if it is an existing ledger directory or an empty (or new) folder, created if
    needed; otherwise a one-line error, and nothing is written."""
    try:
        if root.exists() and not root.is_dir():
            raise InvalidInputError(
                f"`{root}` is a file; give a folder for the ledger (empty, or a ledger directory)"
            )
        if root.is_dir():
            entries = [entry.name for entry in root.iterdir()]
            is_ledger = any(
                name in LEDGER_ENTRIES or name.startswith("deployment-") for name in entries
            )
            if entries and not is_ledger:
                raise InvalidInputError(
                    f"`{root}` is not a fedchain ledger directory (it holds other files); "
                    "use an empty folder or an existing ledger directory"
                )
        root.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InvalidInputError(
            f"cannot use `{root}` as a ledger directory: {error.strerror or error}"
        ) from None
    return root


def _write_new_private(path: Path, content: bytes) -> None:
    """Write a new owner-only file; never replace one (a key must not be overwritten)."""
    temporary = path.with_name(path.name + ".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    try:
        os.link(temporary, path)  # fails if the key exists: never overwrite a secret
    finally:
        temporary.unlink()


def _recorded_connection(root: Path) -> dict[str, Any]:
    path = root / CONNECTION_FILENAME
    try:
        recorded = json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return {}
    return recorded if isinstance(recorded, dict) else {}


def _record_connection(root: Path, url: str | None, blobs: str | None) -> None:
    """Remember the node and blob store (never a token) so a reopen finds the same ones."""
    path = root / CONNECTION_FILENAME
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps({"url": url, "blobs": blobs}, indent=2) + "\n")
    os.replace(temporary, path)


def _check_deployment_record(root: Path, card: Invitation) -> Path:
    """Where the invited deployment is recorded; refuses a workspace that already records
    another deployment on that chain (one workspace, one deployment per chain)."""
    path = root / f"deployment-{card.chain_id}.json"
    if path.exists():
        recorded = json.loads(path.read_text())
        if str(recorded.get("training", "")).lower() != card.training.lower():
            raise InvalidInputError(
                f"`{root}` already takes part in the deployment at {recorded.get('training')} "
                f"on chain {card.chain_id}; accept this invitation in a new folder (--dir)"
            )
    return path


def _check_invited_task(registry: TrainingContract, store: BlobStore, card: Invitation) -> None:
    """The task's on-chain digests are the card's, and the blobs they name are in the store."""
    if not 1 <= card.task_id <= registry.task_count():
        raise InvalidInputError(
            f"the contract at {card.training} has no task {card.task_id}; ask the coordinator "
            "for a new invitation"
        )
    params = registry.task(card.task_id).params
    if (params.model_spec_digest, params.public_context_digest) != (
        card.model_spec,
        card.public_context,
    ):
        raise InvalidInputError(
            f"task {card.task_id}'s digests on-chain differ from the invitation's: the card was "
            "altered or is for another task; ask the coordinator for it again"
        )
    try:
        store.get(card.model_spec)
        public = load_scheme(store.get(card.public_context))
    except (StorageError, CryptoError) as error:
        raise InvalidInputError(
            f"the invitation's blobs cannot be used: {error}".rstrip(".")
        ) from None
    if public.has_secret_key:
        raise InvalidInputError(
            f"task {card.task_id}'s public context holds a secret key: anyone could decrypt "
            "every update; do not join, and tell the coordinator"
        )


def _satellites(deployment: Deployment) -> dict[str, Any]:
    """What an invitation carries of the contracts beside the registry."""
    named = {
        "round_reports": deployment.round_reports,
        "task_stakes": deployment.task_stakes,
        "task_rules": deployment.task_rules,
        "governor": deployment.governor,
        "timelock": deployment.timelock,
    }
    found: dict[str, Any] = {k: to_checksum_address(v) for k, v in named.items() if v}
    if deployment.governor:
        found["governance_deployed_at_block"] = deployment.governance_deployed_at_block
    return found


def _invited_deployment(ledger: Ledger, card: Invitation) -> Deployment:
    """The invited deployment with every contract beside its registry: the served ledger's own
    record when it serves this deployment (it knows governance deployed after the card was
    made), else what the card names, else what the chain tells (the policy's stakes). A card's
    satellite that does not belong to its registry is refused."""
    served = _served_deployment(ledger)
    if served is not None and served.training.lower() == card.training.lower():
        return served
    satellites = card.satellites()
    for field_name in ("round_reports", "task_stakes", "task_rules"):
        address = satellites.get(field_name)
        if address is not None and not serves_registry(ledger, address, card.training):
            raise InvalidInputError(
                f"the invitation's {field_name.replace('_', ' ')} contract {address} does not "
                "belong to its registry; ask the coordinator for the invitation again"
            )
    stakes = satellites.get("task_stakes") or bound_stakes(ledger, card.reward_policy)
    return Deployment(
        chain_id=card.chain_id,
        token=card.token,
        reward_policy=card.reward_policy,
        training=card.training,
        deployed_at_block=card.deployed_at_block,
        round_reports=satellites.get("round_reports", ""),
        task_rules=satellites.get("task_rules", ""),
        governor=satellites.get("governor", ""),
        timelock=satellites.get("timelock", ""),
        governance_deployed_at_block=card.governance_deployed_at_block,
        task_stakes=stakes,
    )


def _served_deployment(ledger: Ledger) -> Deployment | None:
    """The contracts a served fedchain ledger already runs (``fedchain_deployment``), if any;
    None from a node that is not one (Hardhat, a real network)."""
    if ledger.embedded:
        return None
    try:
        answer = ledger.web3.provider.make_request("fedchain_deployment", [])  # type: ignore[arg-type]
    except Exception:  # a node without the method may answer with an HTTP error
        return None
    result = answer.get("result") if isinstance(answer, dict) else None
    if not isinstance(result, dict):
        return None
    try:
        return Deployment(**result)
    except TypeError:
        return None
