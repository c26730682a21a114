"""fedchain: federated learning from Jupyter with encrypted updates on an EVM ledger.

The Python API (``Federation``, ``TaskConfig``, ``simulate``) is the product's core; the IPython
magics and widgets are a thin skin over it.
"""

from typing import Any

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


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext fedchain_magics``: register the magics (IPython is imported only here)."""
    from .magics import load

    load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """``%unload_ext fedchain_magics``: remove the magics, close the views and the ledger."""
    from .magics import unload

    unload(ipython)


__all__ = [
    "TOKEN_UNIT",
    "FederatedTask",
    "Federation",
    "FederationError",
    "LedgerEvent",
    "TaskConfig",
    "__version__",
    "load_ipython_extension",
    "simulate",
    "unload_ipython_extension",
]
