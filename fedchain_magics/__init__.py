"""fedchain: federated learning from Jupyter with encrypted updates on an EVM ledger.

The Python API (``Federation``, ``TaskConfig``, ``simulate``) is the product's core; the IPython
magics and widgets are a thin skin over it.
"""

from .engine import (
    TOKEN_UNIT,
    FederatedTask,
    Federation,
    FederationError,
    LedgerEvent,
    TaskConfig,
    simulate,
)

__version__ = "0.1.0"

__all__ = [
    "TOKEN_UNIT",
    "FederatedTask",
    "Federation",
    "FederationError",
    "LedgerEvent",
    "TaskConfig",
    "__version__",
    "simulate",
]
