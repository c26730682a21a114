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


def test_the_kernel_opens_the_comm_and_its_messages_arrive_while_cells_wait(kernel, tmp_path):
    """Run All: every cell is queued at once; a comm the kernel opens speaks on IOPub, so the
    sidebar hears of each step while later cells still wait (a comm it opened would wait)."""
    client = kernel.client
    cells = [
        "%load_ext fedchain_magics",
        f"%fedchain start --dir {tmp_path / 'ledger'}",
        DATA,
        "%fedsim model --data X_train,y_train --test X_test,y_test --rounds 1",
        "import time; time.sleep(2)",
        "%fedchain stop",
    ]
    requests = [client.execute(code) for code in cells]  # queued together, as Run All does
    offered: dict[str, Any] = {}
    replies: set[str] = set()
    accepted_before_last_reply = False
    closed = False
    deadline = time.monotonic() + 4 * KERNEL_TIMEOUT_S
    drained = False
    while not drained:
        assert time.monotonic() < deadline, "the cells did not finish"
        with contextlib.suppress(queue.Empty):
            reply = client.get_shell_msg(timeout=0.05)
            assert reply["content"]["status"] == "ok", reply["content"]
            replies.add(reply["parent_header"]["msg_id"])
        with contextlib.suppress(queue.Empty):
            message = client.get_iopub_msg(timeout=0.05)
            content = message["content"]
            if message["msg_type"] == "status" and content["execution_state"] == "idle":
                drained = message["parent_header"].get("msg_id") == requests[-1]
            elif message["msg_type"] == "comm_open" and content["target_name"] == COMM_TARGET:
                offered = {"id": content["comm_id"], "messages": [checked(content["data"])]}
            elif offered and content.get("comm_id") == offered["id"]:
                if message["msg_type"] == "comm_close":
                    closed = True
                else:
                    offered["messages"].append(checked(content["data"]))
                    tasks = content["data"]["state"]["tasks"]
                    accepted = any(r["phase"] == "accepted" for t in tasks for r in t["rounds"])
                    if accepted and requests[-2] not in replies:
                        accepted_before_last_reply = True
    assert offered, "the kernel opened no fedchain.ledger comm"
    assert offered["messages"][0]["type"] == "snapshot"
    assert accepted_before_last_reply, "the accepted round arrived only after the queue drained"
    # The client sent every request at once, before the offer: nothing expired the comm.
    assert not closed
    last = offered["messages"][-1]["state"]
    assert last["network"]["reopen_command"] == f"%fedchain start --dir {tmp_path / 'ledger'}"
    assert last["tasks"][0]["rounds"][0]["phase"] == "accepted"


def test_an_offered_comm_nobody_answers_closes_once_a_later_request_runs(kernel):
    """nbclient sends one cell at a time and never answers a comm: the offer must not cost a
    state read per event for the rest of the notebook."""
    client = kernel.client
    offered: list[str] = []
    closed: list[str] = []

    def watch(message: dict[str, Any]) -> None:
        content = message["content"]
        if message["msg_type"] == "comm_open" and content.get("target_name") == COMM_TARGET:
            offered.append(content["comm_id"])
        elif message["msg_type"] == "comm_close" and content.get("comm_id") in offered:
            closed.append(content["comm_id"])

    client.execute_interactive("%load_ext fedchain_magics", output_hook=watch)
    assert len(offered) == 1 and closed == []
    time.sleep(2.5)  # OFFER_EXPIRY_S after the request that offered it
    client.execute_interactive("1 + 1", output_hook=watch)
    assert closed == offered
