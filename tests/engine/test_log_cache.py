"""The on-disk cache of a task's logs: a fresh process reads the same history from it as from
the chain, and a damaged, stale or missing cache is ignored and rebuilt, never trusted."""

from __future__ import annotations

import json

import pytest
from engine_helpers import logistic_regression

from fedchain_magics import Federation, TaskConfig, simulate
from fedchain_magics.engine.ledger_view import read_snapshot


@pytest.fixture(scope="module")
def finished(tmp_path_factory, breast_cancer):
    """A workspace whose task ran two rounds of two parties, and its history read cold."""
    workspace = tmp_path_factory.mktemp("log-cache") / "ledger"
    split = breast_cancer
    with Federation.open(workspace) as federation:
        simulate(
            logistic_regression(split), split.X_train, split.y_train, split.X_test,
            split.y_test, parties=2, rounds=2, federation=federation, progress=False,
            config=TaskConfig(rounds=2, min_participants=2),
        )  # fmt: skip
    return workspace, _history_without_cache(workspace)


def _history(workspace):
    with Federation.open(workspace) as federation:
        return read_snapshot(federation).tasks


def _history_without_cache(workspace):
    for path in (workspace / "cache").glob("*"):
        path.unlink()
    return _history(workspace)


def _cache_file(workspace):
    (path,) = (workspace / "cache").glob("*-task-1.logs")
    return path


def test_a_fresh_process_reads_the_same_history_from_the_cache(finished):
    workspace, expected = finished
    _history(workspace)  # builds the cache
    lines = _cache_file(workspace).read_bytes().splitlines()
    assert any(b'"logs"' in line for line in lines)
    assert _history(workspace) == expected
    assert expected[0].rounds[-1].contributions[0].gas_used > 0


@pytest.mark.parametrize("damage", ["torn last line", "garbage line", "stale hash", "gap"])
def test_a_damaged_or_stale_cache_is_ignored_and_rebuilt(finished, damage):
    workspace, expected = finished
    _history(workspace)
    path = _cache_file(workspace)
    lines = path.read_bytes().splitlines()
    first = json.loads(lines[0])
    for log in first["logs"]:
        log[5] = 1  # the gas each logged transaction used: trusted, the history would change
    if damage == "torn last line":
        path.write_bytes(b"\n".join(lines) + b'\n{"first": 9')
    elif damage == "garbage line":
        path.write_bytes(lines[0] + b"\n\x00not json\n" + b"\n".join(lines[1:]) + b"\n")
    elif damage == "stale hash":
        first["hash"] = "0x" + "00" * 32
        path.write_bytes(json.dumps(first).encode() + b"\n")
    else:
        first["first"] += 1
        path.write_bytes(json.dumps(first).encode() + b"\n")
    assert _history(workspace) == expected
