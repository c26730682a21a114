"""The round engine: the session a notebook holds, tasks, roles, events and simulation.

Depends on the leaves (chain, crypto, storage, models, aggregation); never on the interfaces.
"""

from .errors import (
    AggregateMismatchError,
    FederationError,
    ModelMismatchError,
    RoleError,
    RoundNotReadyError,
    UnknownTaskError,
)
from .events import EventBus, LedgerEvent
from .federation import AccountBalance, Federation
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
from .task import TOKEN_UNIT, FederatedTask, TaskConfig

__all__ = [
    "TOKEN_UNIT",
    "AccountBalance",
    "AggregateMismatchError",
    "AggregateResult",
    "Aggregator",
    "Coordinator",
    "EventBus",
    "FederatedTask",
    "Federation",
    "FederationError",
    "KeyHolder",
    "LedgerEvent",
    "LocalUpdate",
    "ModelMismatchError",
    "ModelResult",
    "Participant",
    "RoleError",
    "RoundNotReadyError",
    "RoundRecord",
    "SimulationResult",
    "Submission",
    "TaskConfig",
    "UnknownTaskError",
    "Validator",
    "VoteResult",
    "simulate",
]
