"""``python -m fedchain_magics.demo``: three hospitals, five encrypted rounds, on a fresh ledger.

In a checkout of the repository it executes ``notebooks/01-quickstart.ipynb`` headless (nbclient,
this interpreter's ipykernel) in ``build/01-quickstart/``, writes the executed notebook as
``build/01-quickstart.html`` and prints a summary read from the notebook's own results: the JSON
line printed by its cell tagged ``summary`` (also saved as ``build/01-quickstart.summary.json``).
Where the notebooks are not installed (a wheel), or with ``--headless``, it runs the same
federation through the Python API instead and prints the same summary.

The summary is a JSON object; the keys the demo prints are ``notebook``, ``task``, ``parties``,
``rounds``, ``scheme``, ``accuracy_per_round``, ``centralized_accuracy``, ``final_accuracy``,
``ledger`` (``network``, ``block``, ``commitments``, ``gas_used`` by the update commitments,
``ciphertext_bytes`` of the committed updates, ``aggregates_verified``), ``token`` (the reward
token's symbol) and ``balances`` (account name -> tokens).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

SUMMARY_TAG = "summary"
QUICKSTART = Path(__file__).resolve().parent.parent / "notebooks" / "01-quickstart.ipynb"
DEFAULT_OUTPUT_DIR = Path("build")


class DemoError(RuntimeError):
    """The demo could not run or could not read its results; the message says what to do."""


# --- running a notebook -------------------------------------------------------------------------


def execute_notebook(path: Path | str, *, workdir: Path | str, timeout_s: int = 600) -> Any:
    """Execute ``path`` top to bottom in a fresh kernel whose working directory is ``workdir``.

    The kernel is always this interpreter's ipykernel (not whatever ``python3`` kernelspec a
    user directory holds). A failing cell raises ``nbclient.exceptions.CellExecutionError``.
    Returns the executed ``nbformat`` notebook.
    """
    import nbformat
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    from nbclient import NotebookClient

    notebook = nbformat.read(str(path), as_version=4)
    # No kernel directories: jupyter_client falls back to ipykernel's own spec for sys.executable.
    kernel_manager = AsyncKernelManager(
        kernel_name="python3", kernel_spec_manager=KernelSpecManager(kernel_dirs=[])
    )
    client = NotebookClient(
        notebook,
        km=kernel_manager,
        timeout=timeout_s,
        kernel_name="python3",
        resources={"metadata": {"path": str(workdir)}},
    )
    # The kernel's own stderr (ZMQ and shutdown notices) goes to a log, not the terminal;
    # cleanup_kc: shut the kernel down and close its channels even though we made its manager.
    with open(Path(workdir) / "kernel.log", "w", encoding="utf-8") as kernel_log:
        client.execute(cleanup_kc=True, stderr=kernel_log)
    return notebook


def export_html(notebook: Any, destination: Path | str) -> Path:
    """Write an executed notebook as standalone HTML (nbconvert, no network needed)."""
    from nbconvert import HTMLExporter

    body, _resources = HTMLExporter().from_notebook_node(notebook)
    target = Path(destination)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(body, encoding="utf-8")
    return target


def notebook_summary(notebook: Any, tag: str = SUMMARY_TAG) -> dict[str, Any]:
    """The JSON object printed on a line of its own by the cell tagged ``tag`` (the last one)."""
    for cell in notebook.cells:
        if cell.cell_type != "code" or tag not in cell.metadata.get("tags", []):
            continue
        text = "".join(
            output.get("text", "")
            for output in cell.get("outputs", [])
            if output.get("output_type") == "stream" and output.get("name") == "stdout"
        )
        for line in reversed(text.splitlines()):
            if not line.startswith("{"):
                continue
            try:
                summary = json.loads(line)
            except json.JSONDecodeError as error:
                raise DemoError(
                    f"the cell tagged {tag!r} printed a line that is not valid JSON ({error})"
                ) from error
            if isinstance(summary, dict):
                return summary
        raise DemoError(
            f"the cell tagged {tag!r} printed no JSON object; was the notebook executed?"
        )
    raise DemoError(f"no code cell is tagged {tag!r}; tag the notebook's summary cell")


# --- printing -----------------------------------------------------------------------------------


def format_summary(summary: dict[str, Any]) -> str:
    """The short human summary ``make demo`` prints."""
    lines = []
    scheme = str(summary.get("scheme", "?")).upper()
    lines.append(
        f"task {summary.get('task', '?')}: {summary.get('parties', '?')} parties, "
        f"{summary.get('rounds', '?')} rounds, {scheme} encryption"
    )
    centralized = summary.get("centralized_accuracy")
    lines.append("round  federated accuracy  centralized")
    for number, accuracy in enumerate(summary.get("accuracy_per_round", []), start=1):
        baseline = "" if centralized is None else f"{centralized:.4f}"
        lines.append(f"{number:5d}  {accuracy:18.4f}  {baseline:>11}")
    ledger = summary.get("ledger", {})
    if ledger:
        lines.append(
            f"ledger: {ledger.get('network', '?')}, head at block {ledger.get('block', '?')}"
        )
        lines.append(
            f"    {ledger.get('commitments', 0)} update commitments "
            f"({ledger.get('gas_used', 0):,} gas), "
            f"{ledger.get('ciphertext_bytes', 0):,} ciphertext bytes, "
            f"{ledger.get('aggregates_verified', 0)} of {summary.get('rounds', '?')} "
            "aggregates verified"
        )
    balances = summary.get("balances", {})
    if balances:
        symbol = summary.get("token", "tokens")
        lines.append("balances:")
        lines.extend(f"    {name}: {tokens:.4f} {symbol}" for name, tokens in balances.items())
        lines.append(f"    total paid: {sum(balances.values()):.4f} {symbol}")
    final = summary.get("final_accuracy")
    if final is not None and centralized is not None:
        lines.append(f"federated accuracy {final:.4f} vs centralized {centralized:.4f}")
    return "\n".join(lines)


# --- the two ways to run ------------------------------------------------------------------------


def run_notebook_demo(
    notebook_path: Path, output_dir: Path, *, timeout_s: int = 600
) -> dict[str, Any]:
    """Execute the quickstart in ``output_dir/<name>/`` (a fresh ledger), export HTML, summarize."""
    from nbclient.exceptions import CellExecutionError

    workdir = output_dir / notebook_path.stem
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    print(f"executing {notebook_path} (kernel: {sys.executable}) ...", flush=True)
    started = time.perf_counter()
    try:
        notebook = execute_notebook(notebook_path, workdir=workdir, timeout_s=timeout_s)
    except CellExecutionError as error:
        raise DemoError(
            f"{notebook_path.name} failed while executing; open it in JupyterLab (make lab) "
            f"to see the cell:\n{error}"
        ) from error
    seconds = time.perf_counter() - started
    html = export_html(notebook, output_dir / f"{notebook_path.stem}.html")
    summary = notebook_summary(notebook)
    summary_path = output_dir / f"{notebook_path.stem}.summary.json"
    summary_path.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(f"executed in {seconds:.0f} s in {workdir} (the notebook's ledger is kept there)\n")
    print(format_summary(summary))
    print(f"\nexecuted notebook: {html}\nits summary: {summary_path}")
    return summary


def run_headless_demo(parties: int, rounds: int, scheme: str, workspace: str | None) -> dict:
    """The same federation through the Python API, for installs without the notebooks."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    from .data import load_dataset, standardize, train_test_split_stratified
    from .engine import TOKEN_UNIT, TaskConfig, simulate
    from .engine.ledger_view import task_history
    from .models import initialize

    X, y = load_dataset("breast_cancer")
    X_train, X_test, y_train, y_test = train_test_split_stratified(X, y, 0.25, seed=0)
    X_train, X_test = standardize(X_train, X_test)
    centralized = LogisticRegression(max_iter=1000).fit(X_train, y_train)
    model = initialize(LogisticRegression(max_iter=5), X_train[:20], y_train[:20], classes=[0, 1])
    config = TaskConfig(
        rounds=rounds, min_participants=parties, scheme=scheme, name="breast-cancer-demo"
    )
    directory = workspace or tempfile.mkdtemp(prefix="fedchain-demo-")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        result = simulate(
            model, X_train, y_train, X_test, y_test,
            parties=parties, rounds=rounds, config=config, workspace=directory,
        )  # fmt: skip
    federation, task = result.federation, result.task
    try:
        history = task_history(task, verify=True)
        for entry in history:
            print(
                f"round {entry.round}: {entry.phase.label}, {entry.commit_count} updates, "
                f"votes {entry.accept_votes} accept / {entry.reject_votes} reject, "
                f"aggregate {'verified' if entry.aggregate_verified else 'NOT verified'}"
            )
        summary = {
            "notebook": None,
            "task": task.task_id,
            "parties": parties,
            "rounds": len(result.records),
            "scheme": scheme,
            "accuracy_per_round": [record.metric for record in result.records],
            "final_accuracy": result.final_metric,
            "centralized_accuracy": float(centralized.score(X_test, y_test)),
            "ledger": {
                "network": federation.ledger.network_name,
                "block": federation.ledger.block_number(),
                "commitments": sum(entry.commit_count for entry in history),
                "aggregates_verified": sum(bool(entry.aggregate_verified) for entry in history),
                "gas_used": sum(
                    contribution.gas_used or 0
                    for entry in history
                    for contribution in entry.contributions
                ),
                "ciphertext_bytes": sum(record.ciphertext_bytes for record in result.records),
            },
            "token": federation.token().symbol,
            "balances": {
                row.name or row.address: row.balance / TOKEN_UNIT
                for row in federation.balances()
                if row.balance
            },
        }
    finally:
        federation.close()
    print(f"\nledger directory {directory}\n")
    print(format_summary(summary))
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m fedchain_magics.demo",
        description="Run the quickstart notebook headless (or, with --headless, the same "
        "federation through the Python API) and print what the ledger recorded.",
    )
    parser.add_argument("--notebook", type=Path, default=None, help="default: the quickstart")
    parser.add_argument("--output-dir", type=Path, default=DEFAULT_OUTPUT_DIR)
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    parser.add_argument("--headless", action="store_true", help="use the Python API only")
    parser.add_argument("--parties", type=int, default=3, help="--headless only")
    parser.add_argument("--rounds", type=int, default=5, help="--headless only")
    parser.add_argument("--scheme", default="bfv", choices=["bfv", "ckks"], help="--headless only")
    parser.add_argument("--workspace", default=None, help="--headless only: ledger directory")
    arguments = parser.parse_args(argv)

    notebook = arguments.notebook or QUICKSTART
    try:
        if arguments.headless or (arguments.notebook is None and not QUICKSTART.exists()):
            if not arguments.headless:
                print("notebooks/ is not installed here: running the Python API round instead")
            run_headless_demo(
                arguments.parties, arguments.rounds, arguments.scheme, arguments.workspace
            )
        else:
            if not notebook.exists():
                raise DemoError(f"{notebook} does not exist; pass --notebook PATH or --headless")
            run_notebook_demo(notebook, arguments.output_dir, timeout_s=arguments.timeout)
    except DemoError as error:
        print(f"demo failed: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
