"""Helpers for the sidebar bridge tests (imported by name: pytest puts this folder on sys.path).

The comm transport is the only stand-in: :class:`RecordingComm` is a real ``comm.BaseComm``
whose ``publish_msg`` records instead of writing to IOPub, and :class:`Frontend` drives the
real ``comm.CommManager`` with the messages JupyterLab's sidebar sends. The federation, chain
and crypto are real.
"""

from __future__ import annotations

import uuid
import warnings
from dataclasses import dataclass, field
from typing import Any

from comm.base_comm import BaseComm, CommManager
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from fedchain_magics import Federation, TaskConfig, simulate
from fedchain_magics.data import load_dataset, standardize, train_test_split_stratified
from fedchain_magics.engine import SimulationResult
from fedchain_magics.models import initialize
from fedchain_magics.sidebar import COMM_TARGET, SCHEMA_VERSION, validate_message

REQUEST_SNAPSHOT = {"schema_version": SCHEMA_VERSION, "type": "request_snapshot"}


class RecordingComm(BaseComm):
    """A kernel-side comm whose messages to the frontend are recorded, not published."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.published: list[tuple[str, dict[str, Any]]] = []
        self.fail_sends = False
        super().__init__(*args, **kwargs)

    def publish_msg(
        self,
        msg_type: str,
        data: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
        buffers: list[bytes] | None = None,
        **keys: Any,
    ) -> None:
        if self.fail_sends:
            raise OSError("the IOPub socket is gone")
        self.published.append((msg_type, data or {}))

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The data of every ``comm_msg`` sent to the frontend, oldest first."""
        return [data for msg_type, data in self.published if msg_type == "comm_msg"]

    @property
    def closed_by_kernel(self) -> bool:
        return any(msg_type == "comm_close" for msg_type, _ in self.published)


@dataclass
class Frontend:
    """What JupyterLab's sidebar does on the wire, sent through the real comm manager."""

    manager: CommManager
    opened: list[RecordingComm] = field(default_factory=list)

    def open(self, data: dict[str, Any] | None = None) -> RecordingComm:
        comm_id = uuid.uuid4().hex
        self.manager.comm_open(
            None,
            "",
            _message(
                comm_id=comm_id,
                target_name=COMM_TARGET,
                data=REQUEST_SNAPSHOT if data is None else data,
            ),
        )
        comm = self.manager.comms.get(comm_id)
        assert isinstance(comm, RecordingComm), "the kernel closed the comm it was offered"
        self.opened.append(comm)
        return comm

    def send(self, comm: RecordingComm, data: dict[str, Any]) -> None:
        self.manager.comm_msg(None, "", _message(comm_id=comm.comm_id, data=data))

    def close(self, comm: RecordingComm) -> None:
        self.manager.comm_close(None, "", _message(comm_id=comm.comm_id, data={}))


def _message(**content: Any) -> dict[str, Any]:
    return {"header": {"msg_type": "comm"}, "parent_header": {}, "metadata": {}, "content": content}


def checked(message: dict[str, Any]) -> dict[str, Any]:
    """``message`` after validating it against message_schema.json (kernel to frontend)."""
    validate_message(message)
    return message


def run_round(federation: Federation, *, parties: int = 3) -> SimulationResult:
    """One real encrypted round among ``parties`` parties on breast-cancer data, rewards
    claimed."""
    X, y = load_dataset("breast_cancer")
    X_train, X_test, y_train, y_test = train_test_split_stratified(X, y, 0.25, seed=0)
    X_train, X_test = standardize(X_train, X_test)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = initialize(
            LogisticRegression(max_iter=5), X_train[:20], y_train[:20], classes=[0, 1]
        )
        return simulate(
            model,
            X_train,
            y_train,
            X_test,
            y_test,
            parties=parties,
            rounds=1,
            config=TaskConfig(min_participants=parties, name="breast-cancer"),
            federation=federation,
            progress=False,
        )
