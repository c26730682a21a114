"""A task's event logs kept on disk, so a fresh process reads only the blocks mined since.

Reading a task's history means reading every block since the contracts were deployed: after
50 rounds of 10 parties that is over a thousand blocks, seconds on the in-process chain and
many requests on a node. The logs of settled blocks never change (the in-process chain refuses
to rewrite history; on a node only blocks deeper than the reorg depth are kept), so they are
appended here as they are read, with the gas each logged transaction used and the final state
of each finished round.

The file is derived data and may be deleted at any time. It is a list of JSON lines, one
segment per read; each segment names the last block it covers and that block's hash. On load
the segments must follow one another and the last block's hash must still be the chain's at
that height, otherwise the file is ignored and rebuilt from the chain. A torn last line (the
process stopped while appending) is dropped.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_log = logging.getLogger(__name__)
COMPACT_AFTER_SEGMENTS = 64
"""A file of more segments than this is rewritten as one when loaded."""


@dataclass(frozen=True)
class RawLog:
    """One log as the chain returns it, plus the gas of the transaction that emitted it
    (``None`` where the node's log does not say)."""

    block_number: int
    log_index: int
    tx_hash: str
    topics: tuple[bytes, ...]
    data: bytes
    gas_used: int | None = None

    def to_json(self) -> list[Any]:
        return [
            self.block_number,
            self.log_index,
            self.tx_hash,
            [topic.hex() for topic in self.topics],
            self.data.hex(),
            self.gas_used,
        ]

    @classmethod
    def from_json(cls, item: list[Any]) -> RawLog:
        block, index, tx_hash, topics, data, gas = item
        return cls(
            int(block),
            int(index),
            str(tx_hash),
            tuple(bytes.fromhex(topic) for topic in topics),
            bytes.fromhex(data),
            None if gas is None else int(gas),
        )


@dataclass
class CachedTaskLogs:
    """What is known of a task from ``start_block`` up to ``next_block`` (exclusive)."""

    start_block: int
    next_block: int = -1
    logs: list[RawLog] = field(default_factory=list)
    gas: dict[str, int] = field(default_factory=dict)
    finished_rounds: dict[int, list[Any]] = field(default_factory=dict)
    last_hash: str | None = None

    def __post_init__(self) -> None:
        if self.next_block < 0:
            self.next_block = self.start_block


class TaskLogFile:
    """The append-only file of one task's settled logs (see the module's docstring)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self, start_block: int, canonical_hash: Any) -> CachedTaskLogs:
        """What the file holds, if it still matches the chain (``canonical_hash(number)``
        returns the chain's block hash at ``number``, or ``None``); else an empty record."""
        empty = CachedTaskLogs(start_block)
        try:
            lines = self.path.read_bytes().splitlines()
        except FileNotFoundError:
            return empty
        except OSError as error:
            _log.warning("ignoring the log cache %s: %s", self.path, error)
            return empty
        cached = CachedTaskLogs(start_block)
        kept = 0
        for line in lines:
            try:
                segment = json.loads(line)
                gas = {str(k): int(v) for k, v in segment.get("gas", {}).items()}
                rounds = {int(k): list(v) for k, v in segment.get("rounds", {}).items()}
                if "first" in segment:  # a segment of logs; otherwise only gas and rounds
                    first, last = int(segment["first"]), int(segment["last"])
                    logs = [RawLog.from_json(item) for item in segment["logs"]]
                    last_hash = str(segment["hash"])
            except (ValueError, KeyError, TypeError, AttributeError):
                break  # a torn last line: keep what came before it
            if "first" in segment:
                if first != cached.next_block or last < first:
                    _log.warning("ignoring the log cache %s: its segments do not follow", self.path)
                    return empty
                cached.logs.extend(logs)
                cached.next_block, cached.last_hash = last + 1, last_hash
            cached.gas.update(gas)
            cached.finished_rounds.update(rounds)
            kept += 1
        if cached.last_hash is not None and canonical_hash(cached.next_block - 1) != (
            cached.last_hash
        ):
            _log.warning("ignoring the log cache %s: the chain no longer has its blocks", self.path)
            return empty
        if kept < len(lines) or kept > COMPACT_AFTER_SEGMENTS:
            self.rewrite(cached)  # drop what could not be read; keep loading cheap
        return cached

    def rewrite(self, cached: CachedTaskLogs) -> None:
        """Replace the file with one segment holding ``cached`` (atomically; best effort)."""
        if cached.last_hash is None:
            self.reset()
            return
        segment = {
            "first": cached.start_block,
            "last": cached.next_block - 1,
            "hash": cached.last_hash,
            "logs": [log.to_json() for log in cached.logs],
            "gas": cached.gas,
            "rounds": {str(k): v for k, v in cached.finished_rounds.items()},
        }
        temporary = self.path.with_name(self.path.name + ".tmp")
        try:
            temporary.write_bytes(json.dumps(segment, separators=(",", ":")).encode() + b"\n")
            os.replace(temporary, self.path)
        except OSError as error:
            _log.warning("could not rewrite the log cache %s: %s", self.path, error)

    def append_logs(self, first: int, last: int, last_hash: str, logs: list[RawLog]) -> None:
        """Append the logs of blocks ``first`` to ``last`` (settled)."""
        self._append(
            {"first": first, "last": last, "hash": last_hash, "logs": [x.to_json() for x in logs]}
        )

    def append_facts(self, gas: dict[str, int], finished_rounds: dict[int, list[Any]]) -> None:
        """Append gas used by logged transactions and the state of finished rounds."""
        if gas or finished_rounds:
            self._append({"gas": gas, "rounds": {str(k): v for k, v in finished_rounds.items()}})

    def _append(self, segment: dict[str, Any]) -> None:
        """Best effort: the cache is an optimisation, never an error."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "ab") as handle:
                handle.write(json.dumps(segment, separators=(",", ":")).encode() + b"\n")
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as error:
            _log.warning("could not extend the log cache %s: %s", self.path, error)

    def reset(self) -> None:
        try:
            self.path.unlink(missing_ok=True)
        except OSError as error:
            _log.warning("could not remove the log cache %s: %s", self.path, error)
