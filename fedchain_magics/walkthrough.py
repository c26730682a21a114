"""``python -m fedchain_magics.walkthrough``: the several-notebooks walkthrough, headless.

Runs ``notebooks/04-coordinator``, ``05-key-holder`` and ``06-participant`` (twice, one per
hospital) at the same time, each in its own process, kernel and working directory under
``build/walkthrough/`` (so each has its own workspace), handing lines between them through one
shared folder as people would through a chat. Prints one JSON object: each notebook's summary.
Exit status 1 when a notebook failed (its error is printed, its executed copy kept).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
DEFAULT_OUTPUT_DIR = Path("build") / "walkthrough"
PARTIES = ("hospital-a", "hospital-b")
TIMEOUT_S = 1200


def plan() -> list[tuple[str, str, dict[str, str]]]:
    """(run name, notebook, environment) of every notebook the walkthrough runs."""
    runs: list[tuple[str, str, dict[str, str]]] = [
        ("coordinator", "04-coordinator.ipynb", {}),
        ("key-holder", "05-key-holder.ipynb", {}),
    ]
    for index, party in enumerate(PARTIES):
        environment = {"FEDCHAIN_PARTY": party, "FEDCHAIN_SHARD": str(index)}
        runs.append((party, "06-participant.ipynb", environment))
    return runs


def run(output_dir: Path, timeout_s: float = TIMEOUT_S) -> dict[str, Any]:
    """Run every notebook of :func:`plan` concurrently; their summaries by run name."""
    if not (NOTEBOOKS / "04-coordinator.ipynb").exists():
        raise SystemExit(
            "the walkthrough needs the repository's notebooks/ (run it from a checkout)"
        )
    shutil.rmtree(output_dir, ignore_errors=True)
    handoff = output_dir / "handoff"
    handoff.mkdir(parents=True)
    processes = {}
    for name, notebook, environment in plan():
        workdir = output_dir / name
        workdir.mkdir()
        env = {**os.environ, **environment, "FEDCHAIN_HANDOFF": str(handoff.resolve())}
        command = [sys.executable, "-m", "fedchain_magics.walkthrough", "--one", notebook]
        processes[name] = subprocess.Popen(
            [*command, "--workdir", str(workdir)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
    deadline = time.monotonic() + timeout_s
    outputs: dict[str, str] = {}
    failures: list[str] = []
    try:
        while len(outputs) < len(processes) and not failures:
            if time.monotonic() > deadline:
                failures.append(f"no result in {timeout_s:g} s")
            for name, process in processes.items():
                if name in outputs or process.poll() is None:
                    continue
                outputs[name] = process.stdout.read() if process.stdout else ""
                if process.returncode != 0:  # one failed: the others would wait for it forever
                    failures.append(f"{name}:\n{outputs[name].strip()[-2000:]}")
            time.sleep(0.2)
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.kill()
    if failures:
        raise SystemExit("the walkthrough failed: " + "; ".join(failures))
    summaries: dict[str, Any] = {}
    for name, output in outputs.items():
        lines = [line for line in output.splitlines() if line.startswith("{")]
        summaries[name] = json.loads(lines[-1])
    return summaries


def run_one(notebook: str, workdir: Path) -> int:
    """Execute one notebook in ``workdir``; print its summary line."""
    from .demo import execute_notebook, notebook_summary

    try:
        executed = execute_notebook(NOTEBOOKS / notebook, workdir=workdir, timeout_s=TIMEOUT_S)
    except Exception as error:  # nbclient's CellExecutionError names the cell and the error
        print(str(error)[-3000:])
        print(f"{notebook} failed: {type(error).__name__}")
        return 1
    print(json.dumps(notebook_summary(executed)))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fedchain_magics.walkthrough")
    parser.add_argument("--output-dir", type=Path, default=DEFAULT_OUTPUT_DIR)
    parser.add_argument("--one", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, default=None, help=argparse.SUPPRESS)
    arguments = parser.parse_args(argv)
    if arguments.one is not None:
        return run_one(arguments.one, arguments.workdir)
    print(json.dumps(run(arguments.output_dir)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
