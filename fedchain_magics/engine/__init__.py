"""The round engine: the kernel's session, the federation, tasks, roles, the read model of the
ledger, events and simulation.

Depends on the leaves (chain, crypto, storage, models, aggregation); never on the interfaces.
"""

from ..chain import RoundPhase
from .errors import (
    AggregateMismatchError,
    ContractRefusedError,
    FederationError,
    InvalidInputError,
    ModelMismatchError,
    NextStep,
    NotAdmittedError,
    RoleError,
    RoundNotReadyError,
    UnknownTaskError,
)
from .events import EventBus, LedgerEvent
from .federation import AccountBalance, Federation
from .ledger_view import LedgerSnapshot, RoundSummary, TaskSnapshot, read_snapshot, task_history
from .roles import (
    AggregateResult,
    Aggregator,
    Coordinator,
    KeyHolder,
    LocalUpdate,
    ModelResult,
    Participant,
    Submission,
    Validator,
    VoteResult,
)
from .simulation import RoundRecord, SimulationResult, simulate
from .task import FederatedTask, TaskConfig
from .tokens import TOKEN_UNIT, TokenInfo, format_token_amount

__all__ = [
    "TOKEN_UNIT",
    "AccountBalance",
    "AggregateMismatchError",
    "AggregateResult",
    "Aggregator",
    "ContractRefusedError",
    "Coordinator",
    "EventBus",
    "FederatedTask",
    "Federation",
    "FederationError",
    "InvalidInputError",
    "KeyHolder",
    "LedgerEvent",
    "LedgerSnapshot",
    "LocalUpdate",
    "ModelMismatchError",
    "ModelResult",
    "NextStep",
    "NotAdmittedError",
    "Participant",
    "RoleError",
    "RoundNotReadyError",
    "RoundPhase",
    "RoundRecord",
    "RoundSummary",
    "SimulationResult",
    "Submission",
    "TaskConfig",
    "TaskSnapshot",
    "TokenInfo",
    "UnknownTaskError",
    "Validator",
    "VoteResult",
    "format_token_amount",
    "read_snapshot",
    "simulate",
    "task_history",
]
