"""A federation as one kernel sees it: one ledger, its contracts, the blob store, the named
accounts of this workspace, the verification record, and the events the engine emits."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount

from ..chain import Keystore, Ledger, TaskParams, TaskState, TrainingContract
from ..crypto import generate_scheme
from ..models import adapter_for
from ..models.codec import encode_parameters
from ..storage import BlobStore, LocalBlobStore
from .errors import InvalidInputError, UnknownTaskError
from .events import EventBus, LedgerEvent
from .task import FederatedTask, TaskConfig, manifest_bytes
from .tokens import TokenInfo
from .verifications import VerificationRecord

DEFAULT_WORKSPACE = ".fedchain"
TREASURY = "deployer"
"""The account that deployed the contracts here; the capped token's whole supply is minted to
it, and it funds the reward pools of the tasks this workspace creates."""


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

    @classmethod
    def open(
        cls,
        workspace: Path | str = DEFAULT_WORKSPACE,
        *,
        url: str | None = None,
        faucet_key: str | None = None,
        passphrase: str | None = None,
    ) -> Federation:
        """Open the federation kept in ``workspace``; deploy the contracts if there are none."""
        root = _ledger_directory(Path(workspace))
        if url is None:
            ledger = Ledger.open_embedded(root / "chain")
            deployment_path = root / "deployment.json"
        else:
            ledger = Ledger.connect(url, faucet_key=faucet_key)
            deployment_path = root / f"deployment-{ledger.chain_id}.json"
        try:
            keystore = Keystore(root / "keystore", passphrase=passphrase)
            if deployment_path.exists():
                registry = TrainingContract.load(ledger, deployment_path, cache_dir=root / "cache")
            else:
                deployer = keystore.load_or_create("deployer")
                ledger.fund(deployer.address)
                registry = TrainingContract.deploy(ledger, deployer, cache_dir=root / "cache")
                registry.save(deployment_path)
        except BaseException:
            ledger.close()  # releases the ledger directory's lock for the next try
            raise
        return cls(root, ledger, registry, LocalBlobStore(root / "blobs"), keystore)

    def close(self) -> None:
        self.ledger.close()

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
    ) -> FederatedTask:
        """Register a training task for ``model`` and return its handle.

        The key holder's encryption keys are generated here; its secret context stays in this
        workspace (``keys/``), and only the public context goes to the blob store.
        """
        config = config or TaskConfig()
        config.check(validator_count=len(validators))
        adapter = adapter_for(model)  # raises a clear error for an unsupported model
        adapter.get_parameters(model)  # an unfitted estimator is refused before any write
        repeated = sorted({name for name in validators if list(validators).count(name) > 1})
        if repeated:
            raise InvalidInputError(
                f"validator names repeat: {', '.join(repeated)}; name each once"
            )
        roles = [coordinator, aggregator, key_holder, *validators]
        shared = sorted({name for name in roles if roles.count(name) > 1} - set(repeated))
        if shared:
            raise InvalidInputError(
                f"{', '.join(shared)} cannot hold two roles of one task; give the coordinator, "
                "aggregator, key holder and each validator an account of its own"
            )
        for name in (coordinator, aggregator, key_holder, *validators):
            self.keystore.exists(name)  # refuses an invalid account name before any write
        top_up = self._treasury_top_up(coordinator, config.reward_per_round * config.rounds)
        scheme = generate_scheme(config.scheme, max_parties=config.max_parties)
        accounts = {
            role: self.account(name)
            for role, name in (
                ("coordinator", coordinator),
                ("aggregator", aggregator),
                ("key_holder", key_holder),
            )
        }
        validator_accounts = [self.account(name) for name in validators]
        public_context_digest = self.store.put(scheme.public_context_bytes())
        manifest = manifest_bytes(adapter.spec(model), scheme.describe(), config)
        manifest_digest = self.store.put(manifest)
        initial_model_digest = self.store.put(encode_parameters(adapter.get_parameters(model)))
        params = TaskParams(
            model_spec_digest=manifest_digest,
            public_context_digest=public_context_digest,
            initial_model_digest=initial_model_digest,
            min_participants=config.min_participants,
            max_rounds=config.rounds,
            validator_quorum=config.validator_quorum,
            submission_window_blocks=config.submission_window_blocks,
            validation_window_blocks=config.validation_window_blocks,
            reward_per_round=config.reward_per_round,
            max_samples_per_update=config.max_samples_per_update,
            aggregation_window_blocks=config.aggregation_window_blocks,
        )
        if top_up:
            self.registry.transfer_tokens(
                self.account(TREASURY), accounts["coordinator"].address, top_up
            )
        task_id, result = self.registry.create_task(
            accounts["coordinator"],
            params,
            aggregator=accounts["aggregator"].address,
            key_holder=accounts["key_holder"].address,
        )
        self._keep_secret_context(task_id, scheme.secret_context_bytes())
        self.emit(
            "task_created",
            result.block_number,
            f"task {task_id} created by {coordinator}",
            task_id=task_id,
            account=accounts["coordinator"].address,
            tx_hash=result.tx_hash,
            gas_used=result.gas_used,
        )
        for name, account in zip(validators, validator_accounts, strict=True):
            added = self.registry.add_validator(accounts["coordinator"], task_id, account.address)
            self.emit(
                "validator_added",
                added.block_number,
                f"{name} validates task {task_id}",
                task_id=task_id,
                account=account.address,
                tx_hash=added.tx_hash,
                gas_used=added.gas_used,
            )
        task = FederatedTask(self, task_id, model_template=model)
        self._tasks[task_id] = task
        return task

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

    def _secret_context_path(self, task_id: int) -> Path:
        """Keyed by chain, contract and task: a workspace used with several ledgers never
        mixes (or overwrites) their keys."""
        deployment = self.registry.deployment
        return (
            self.workspace
            / "keys"
            / f"chain-{deployment.chain_id}-{deployment.training.lower()}-task-{task_id}.sealed"
        )

    def _legacy_secret_context_path(self, task_id: int) -> Path:
        """Where workspaces of the in-process chain kept it in clear before sealing."""
        return self.workspace / "keys" / f"task-{task_id}.secret-context"

    def secret_context(self, task_id: int) -> bytes | None:
        """The key holder's secret context of a task, if this workspace holds it."""
        path = self._secret_context_path(task_id)
        if path.exists():
            return self.keystore.unseal(path.read_bytes())
        legacy = self._legacy_secret_context_path(task_id)
        if self.ledger.embedded and legacy.exists():
            return legacy.read_bytes()
        return None

    def _keep_secret_context(self, task_id: int, secret_context: bytes) -> None:
        path = self._secret_context_path(task_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_new_private(path, self.keystore.seal(secret_context))

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
        self.events.emit(
            LedgerEvent(kind=kind, block_number=block_number, summary=summary, **fields)
        )


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
