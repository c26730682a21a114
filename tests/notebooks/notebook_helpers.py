"""Helpers for the notebook, demo and Binder tests: paths, and running a notebook."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from fedchain_magics.demo import execute_notebook, export_html, notebook_summary

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS_DIR = REPO / "notebooks"
BINDER_DIR = REPO / "binder"
NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]-*.ipynb"))
CELL_TIMEOUT_S = 900


def run_notebook(name: str, workdir: Path) -> tuple[Any, dict[str, Any]]:
    """Execute ``notebooks/<name>`` in ``workdir``; keep the executed copy and its HTML there.

    Returns the executed notebook and the JSON summary its ``summary`` cell printed.
    """
    notebook = execute_notebook(NOTEBOOKS_DIR / name, workdir=workdir, timeout_s=CELL_TIMEOUT_S)
    export_html(notebook, workdir / name.replace(".ipynb", ".html"))
    return notebook, notebook_summary(notebook)


def html_outputs(notebook: Any) -> list[str]:
    return [
        output["data"]["text/html"]
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if "text/html" in output.get("data", {})
    ]


def png_outputs(notebook: Any) -> int:
    return sum(
        "image/png" in output.get("data", {})
        for cell in notebook.cells
        for output in cell.get("outputs", [])
    )


def run(command: list[str], *, cwd: Path, env: dict[str, str] | None = None, timeout_s: int):
    """Run a command; on failure, the assertion shows its output."""
    completed = subprocess.run(
        command,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    assert completed.returncode == 0, (
        f"{' '.join(map(str, command))} exited {completed.returncode}\n"
        f"--- stdout ---\n{completed.stdout[-6000:]}\n--- stderr ---\n{completed.stderr[-6000:]}"
    )
    return completed


def isolated_env(home: Path, **extra: str) -> dict[str, str]:
    """This process's environment with HOME and IPYTHONDIR moved under ``home``."""
    env = dict(os.environ)
    env.update(HOME=str(home), IPYTHONDIR=str(home / ".ipython"), **extra)
    env.pop("JUPYTER_PATH", None)
    return env


PYTHON = sys.executable
