"""Real ipykernels driven over the Jupyter protocol, one per party, each in its own folder."""

from __future__ import annotations

import contextlib
import os
import queue
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path

from jupyter_client.manager import KernelManager

KERNEL_TIMEOUT_S = 300


class CellError(AssertionError):
    """A cell raised in a kernel (its name, the error and the kernel's output)."""


class Kernel:
    """One notebook's kernel: run cells, collect what they print."""

    def __init__(self, name: str, folder: Path, env: dict[str, str] | None = None) -> None:
        self.name, self.folder = name, folder
        self.env = {**os.environ, **(env or {})}
        folder.mkdir(parents=True, exist_ok=True)
        self.manager = KernelManager(kernel_name="python3")
        self.manager.start_kernel(cwd=str(folder), env=self.env)
        self.client = self.manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=120)

    def run(self, code: str, *, timeout_s: float = KERNEL_TIMEOUT_S) -> str:
        """Execute a cell; return its stdout, stderr and displayed text; raise on an error."""
        return self.collect(self.submit(code), code, timeout_s=timeout_s)

    def submit(self, code: str) -> str:
        """Send a cell without waiting (the kernel runs it while others run theirs)."""
        return str(self.client.execute(code))

    def collect(self, msg_id: str, code: str, *, timeout_s: float = KERNEL_TIMEOUT_S) -> str:
        """Wait for a submitted cell to finish; its output, or :class:`CellError`."""
        printed: list[str] = []
        deadline = time.monotonic() + timeout_s
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise CellError(f"{self.name}: no answer in {timeout_s} s to\n{code}")
            try:
                message = self.client.get_iopub_msg(timeout=min(remaining, 5))
            except queue.Empty:
                continue
            if message["parent_header"].get("msg_id") != msg_id:
                continue
            content, kind = message["content"], message["msg_type"]
            if kind == "stream":
                printed.append(content["text"])
            elif kind in ("execute_result", "display_data"):
                printed.append(content["data"].get("text/plain", ""))
            elif kind == "error":
                printed.append("\n".join(content["traceback"]))
            elif kind == "status" and content["execution_state"] == "idle":
                break
        reply = self.client.get_shell_msg(timeout=timeout_s)
        while reply["parent_header"].get("msg_id") != msg_id:
            reply = self.client.get_shell_msg(timeout=timeout_s)
        text = _plain("".join(printed))
        if reply["content"]["status"] != "ok":
            content = reply["content"]
            raise CellError(
                f"{self.name}: {content.get('ename')}: {content.get('evalue')}\n"
                f"--- cell ---\n{code}\n--- output ---\n{text}"
            )
        return text

    def kill(self) -> None:
        """SIGKILL the kernel process (as a crash would)."""
        self.manager.signal_kernel(signal.SIGKILL)
        deadline = time.monotonic() + 30
        while self.manager.is_alive() and time.monotonic() < deadline:
            time.sleep(0.1)

    def restart(self) -> None:
        """A fresh kernel in the same folder (what survives is only what is on disk)."""
        with contextlib.suppress(Exception):
            self.client.stop_channels()
        with contextlib.suppress(Exception):
            self.manager.shutdown_kernel(now=True)  # clean up what the dead one left
        self.manager = KernelManager(kernel_name="python3")
        self.manager.start_kernel(cwd=str(self.folder), env=self.env)
        self.client = self.manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=120)

    def shutdown(self) -> None:
        with contextlib.suppress(Exception):
            self.client.stop_channels()
        with contextlib.suppress(Exception):
            self.manager.shutdown_kernel(now=True)


@contextlib.contextmanager
def kernels(
    root: Path, names: list[str], env: dict[str, dict[str, str]] | None = None
) -> Iterator[dict[str, Kernel]]:
    """Start one kernel per name, each in ``root/name`` (with ``env[name]`` added to its
    environment); shut all down after."""
    started: dict[str, Kernel] = {}
    try:
        for name in names:
            started[name] = Kernel(name, root / name, (env or {}).get(name))
        yield started
    finally:
        for kernel in started.values():
            kernel.shutdown()


def run_all(cells: dict[Kernel, str | list[str]]) -> dict[str, str]:
    """Run cells in several kernels at once (as people in separate notebooks do): the i-th
    cell of every kernel runs concurrently, then the next. Returns each kernel's output."""
    plans = {k: [code] if isinstance(code, str) else list(code) for k, code in cells.items()}
    outputs = {kernel.name: "" for kernel in plans}
    for step in range(max(len(plan) for plan in plans.values())):
        sent = {
            k: (k.submit(plan[step]), plan[step]) for k, plan in plans.items() if step < len(plan)
        }
        for kernel, (msg_id, code) in sent.items():
            outputs[kernel.name] += kernel.collect(msg_id, code)
    return outputs


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _plain(text: str) -> str:
    return _ANSI.sub("", text)
