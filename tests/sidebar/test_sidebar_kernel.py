"""The bridge in a real ipykernel, spoken to over the Jupyter protocol as JupyterLab does."""

from __future__ import annotations

import contextlib
import queue
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jupyter_client.manager import KernelManager
from sidebar_helpers import REQUEST_SNAPSHOT, checked

from fedchain_magics.sidebar import COMM_TARGET

pytestmark = pytest.mark.slow

KERNEL_TIMEOUT_S = 60

DATA = """
import warnings
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from fedchain_magics.data import load_dataset, standardize, train_test_split_stratified
from fedchain_magics.models import initialize

warnings.simplefilter("ignore", ConvergenceWarning)
X, y = load_dataset("breast_cancer")
X_train, X_test, y_train, y_test = train_test_split_stratified(X, y, 0.25, seed=0)
X_train, X_test = standardize(X_train, X_test)
model = initialize(LogisticRegression(max_iter=5), X_train[:20], y_train[:20], classes=[0, 1])
"""


class KernelFrontend:
    """A client that opens the sidebar's comm and collects what the kernel sends on it."""

    def __init__(self, manager: KernelManager) -> None:
        self.client = manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=KERNEL_TIMEOUT_S)
        self.comm_id = uuid.uuid4().hex
        self.messages: list[dict[str, Any]] = []
        self.closed = False

    def execute(self, code: str) -> None:
        reply = self.client.execute_interactive(
            code, timeout=KERNEL_TIMEOUT_S, output_hook=self._on_iopub
        )
        content = reply["content"]
        assert content["status"] == "ok", f"{content.get('ename')}: {content.get('evalue')}"

    def open_comm(self) -> None:
        message = self.client.session.msg(
            "comm_open",
            {"comm_id": self.comm_id, "target_name": COMM_TARGET, "data": REQUEST_SNAPSHOT},
        )
        self.client.shell_channel.send(message)
        self.wait_for(lambda: bool(self.messages) or self.closed)

    def wait_for(self, condition: Any, timeout_s: float = 30) -> None:
        deadline = time.monotonic() + timeout_s
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"no answer from the kernel in {timeout_s} s")
            with contextlib.suppress(queue.Empty):
                self._on_iopub(self.client.get_iopub_msg(timeout=0.2))

    def _on_iopub(self, message: dict[str, Any]) -> None:
        content = message["content"]
        if content.get("comm_id") != self.comm_id:
            return
        if message["msg_type"] == "comm_msg":
            self.messages.append(content["data"])
        elif message["msg_type"] == "comm_close":
            self.closed = True


@pytest.fixture
def kernel(tmp_path: Path) -> Iterator[KernelFrontend]:
    manager = KernelManager(kernel_name="python3")
    manager.start_kernel(cwd=str(tmp_path))
    frontend = KernelFrontend(manager)
    try:
        yield frontend
    finally:
        frontend.client.stop_channels()
        manager.shutdown_kernel(now=True)


def test_a_kernel_without_the_target_closes_the_comm(kernel):
    kernel.open_comm()
    assert kernel.closed and kernel.messages == []


def test_the_sidebar_follows_the_magics_in_a_real_kernel(kernel, tmp_path):
    kernel.execute("%load_ext fedchain_magics")
    kernel.open_comm()
    assert not kernel.closed
    [snapshot] = kernel.messages
    assert checked(snapshot)["state"]["network"]["connected"] is False

    kernel.execute(f"%fedchain start --dir {tmp_path / 'ledger'}")
    kernel.wait_for(lambda: len(kernel.messages) == 2)
    assert checked(kernel.messages[1])["state"]["network"]["connected"] is True

    kernel.execute(DATA)
    kernel.execute("%fedsim model --data X_train,y_train --test X_test,y_test --rounds 1")
    kernel.wait_for(lambda: kernel.messages[-1]["state"]["events"][-1]["kind"] == "reward_claimed")
    for message in kernel.messages:
        checked(message)
    kinds = [m["event"]["kind"] for m in kernel.messages if m["type"] == "event"]
    assert kinds[0] == "task_created" and kinds.count("update_committed") == 3
    state = kernel.messages[-1]["state"]
    [round_] = state["tasks"][0]["rounds"]
    assert round_["phase"] == "accepted" and round_["aggregate_verified"] is True
    assert sum(int(row["balance"]) for row in state["balances"]) == sum(
        int(c["reward"]) for c in round_["contributions"]
    )

    kernel.execute("%unload_ext fedchain_magics")
    kernel.wait_for(lambda: kernel.closed)
