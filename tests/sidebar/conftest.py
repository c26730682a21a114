"""Fixtures for the sidebar bridge: a real comm manager, IPython shell, session and ledger."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import comm
import pytest
from comm.base_comm import CommManager
from IPython.core.interactiveshell import InteractiveShell
from sidebar_helpers import Frontend, RecordingComm

from fedchain_magics import Federation
from fedchain_magics.engine.session import Session
from fedchain_magics.sidebar import unregister_comm_target


@pytest.fixture
def comm_manager(monkeypatch: pytest.MonkeyPatch) -> CommManager:
    """A fresh comm manager, installed the way ipykernel installs its own."""
    manager = CommManager()
    monkeypatch.setattr(comm, "get_comm_manager", lambda: manager)
    monkeypatch.setattr(comm, "create_comm", RecordingComm)
    return manager


@pytest.fixture
def frontend(comm_manager: CommManager) -> Frontend:
    return Frontend(comm_manager)


@pytest.fixture
def shell(comm_manager: CommManager, monkeypatch: pytest.MonkeyPatch) -> Iterator[InteractiveShell]:
    """IPython's shell with a kernel whose comm manager is ``comm_manager``."""
    ipython = InteractiveShell.instance()
    monkeypatch.setattr(
        ipython, "kernel", SimpleNamespace(comm_manager=comm_manager), raising=False
    )
    yield ipython
    unregister_comm_target(ipython)


@pytest.fixture
def session() -> Iterator[Session]:
    """The magics' per-kernel session, with no ledger open yet."""
    opened = Session()
    yield opened
    opened.close()


@pytest.fixture
def federation(session: Session, tmp_path) -> Federation:
    """The session's ledger, opened as ``%fedchain start --dir`` opens it."""
    return session.open(tmp_path / "ledger")
