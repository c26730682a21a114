"""The chain leaf: one web3 code path to the ledger, the contracts' typed client, keys.

Knows Solidity types and Ethereum; knows nothing of encryption, models or notebooks.
"""

from .errors import (
    ChainConnectionError,
    ChainError,
    ContractRevertError,
    DeploymentNotFoundError,
    InsufficientFundsError,
    JournalDamagedError,
    LedgerCorruptError,
    LedgerLockedError,
)
from .journal import Finding, JournalReport, verify_journal
from .keystore import Keystore, KeystoreError
from .ledger import Ledger, TransactionResult
from .training import (
    Deployment,
    RoundPhase,
    RoundState,
    TaskParams,
    TaskState,
    TrainingRegistry,
    UpdateCommitment,
)

__all__ = [
    "ChainConnectionError",
    "ChainError",
    "ContractRevertError",
    "Deployment",
    "DeploymentNotFoundError",
    "Finding",
    "InsufficientFundsError",
    "JournalDamagedError",
    "JournalReport",
    "Keystore",
    "KeystoreError",
    "Ledger",
    "LedgerCorruptError",
    "LedgerLockedError",
    "RoundPhase",
    "RoundState",
    "TaskParams",
    "TaskState",
    "TrainingRegistry",
    "TransactionResult",
    "UpdateCommitment",
    "verify_journal",
]
