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
from .scores import ScoreEntry, ScoresContract, score_tree
from .stakes import DisputeState, Offence, StakeRules, StakesContract, StakeSummary
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
    "DisputeState",
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
    "Offence",
    "Proposal",
    "ProposalState",
    "Role",
    "RoundKey",
    "RoundKeysContract",
    "RoundPhase",
    "RoundReportsContract",
    "RoundState",
    "ScoreEntry",
    "ScoreReport",
    "ScoresContract",
    "StakeRules",
    "StakeSummary",
    "StakesContract",
    "TaskParams",
    "TaskRules",
    "TaskState",
    "TrainingContract",
    "TransactionResult",
    "UpdateCommitment",
    "UpdateExclusion",
    "ValuationPolicy",
    "VoteSupport",
    "score_tree",
    "update_term",
    "updates_commitment",
    "verify_journal",
]
