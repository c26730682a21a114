"""The IPython magics: a thin skin over the engine's session (``engine/session.py``).

One module per family of magics; each magic parses its line (``@magic_arguments``, so
``%name?`` prints its arguments), makes one call into the session, and renders the result.
``%load_ext fedchain_magics`` calls :func:`load`; ``%unload_ext fedchain_magics`` calls
:func:`unload`.
"""

from __future__ import annotations

from typing import Any

from ..engine.session import Session
from ._base import MagicsFamily, MagicsState
from .chain import ChainMagics
from .governance import GovernanceMagics
from .incentives import IncentiveMagics
from .keys import KeyMagics
from .parties import PartyMagics
from .rounds import RoundMagics
from .simulation import SimulationMagics
from .tasks import TaskMagics
from .views import ViewMagics

FAMILIES: tuple[type[MagicsFamily], ...] = (
    ChainMagics,
    KeyMagics,
    TaskMagics,
    PartyMagics,
    RoundMagics,
    ViewMagics,
    SimulationMagics,
    GovernanceMagics,
    IncentiveMagics,
)

__all__ = ["FAMILIES", "MagicsState", "load", "loaded_state", "unload"]


def load(shell: Any) -> MagicsState:
    """Register every fedchain magic on ``shell`` around one new session."""
    existing = loaded_state(shell)
    if existing is not None:
        return existing
    session = Session(shell.user_ns, hidden_names=shell.user_ns_hidden)
    state = MagicsState(session)
    for family in FAMILIES:
        shell.register_magics(family(shell, state))
    try:
        from .. import sidebar
    except ImportError:
        sidebar = None  # type: ignore[assignment]
    register = getattr(sidebar, "register_comm_target", None)
    if register is not None:
        register(shell, session)
    return state


def unload(shell: Any) -> None:
    """Remove the magics, close the live views and the sidebar's comms, close the ledger."""
    state = loaded_state(shell)
    if state is None:
        return
    try:
        from .. import sidebar
    except ImportError:
        sidebar = None  # type: ignore[assignment]
    unregister = getattr(sidebar, "unregister_comm_target", None)
    if unregister is not None:
        unregister(shell)
    state.close_views()
    state.session.close()
    manager = shell.magics_manager
    for family in FAMILIES:
        manager.registry.pop(family.__name__, None)
        for kind, names in family.magics.items():
            for name in names:
                manager.magics[kind].pop(name, None)


def loaded_state(shell: Any) -> MagicsState | None:
    """The state of the fedchain magics loaded on ``shell``, if they are."""
    chain = shell.magics_manager.registry.get(ChainMagics.__name__)
    return chain.state if isinstance(chain, MagicsFamily) else None
