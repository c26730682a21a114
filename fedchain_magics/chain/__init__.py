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
from .governance import (
    GovernanceAddresses,
    GovernanceContracts,
    Proposal,
    ProposalState,
    TaskRules,
    ValuationPolicy,
    VoteSupport,
)
from .journal import Finding, JournalReport, verify_journal
from .keystore import Keystore, KeystoreError
from .ledger import Ledger, TransactionResult
from .reports import RoundReportsContract, ScoreReport
from .round_keys import DecryptionMismatch, RoundKey, RoundKeysContract
from .training import (
    CancelReason,
    Contribution,
    Deployment,
    ExclusionReason,
    MaskedRoundState,
    Member,
    Role,
    RoundPhase,
    RoundState,
    TaskParams,
    TaskState,
    TrainingContract,
    UpdateCommitment,
    UpdateExclusion,
    update_term,
    updates_commitment,
)

__all__ = [
    "CancelReason",
    "ChainConnectionError",
    "ChainError",
    "ContractRevertError",
    "Contribution",
    "DecryptionMismatch",
    "Deployment",
    "DeploymentNotFoundError",
    "ExclusionReason",
    "Finding",
    "GovernanceAddresses",
    "GovernanceContracts",
    "InsufficientFundsError",
    "JournalDamagedError",
    "JournalReport",
    "Keystore",
    "KeystoreError",
    "Ledger",
    "LedgerCorruptError",
    "LedgerLockedError",
    "MaskedRoundState",
    "Member",
    "Proposal",
    "ProposalState",
    "Role",
    "RoundKey",
    "RoundKeysContract",
    "RoundPhase",
    "RoundReportsContract",
    "RoundState",
    "ScoreReport",
    "TaskParams",
    "TaskRules",
    "TaskState",
    "TrainingContract",
    "TransactionResult",
    "UpdateCommitment",
    "UpdateExclusion",
    "ValuationPolicy",
    "VoteSupport",
    "update_term",
    "updates_commitment",
    "verify_journal",
]
