"""What recomputing each aggregate showed, kept in the workspace: one fact for every view.

An aggregate is verified when its digest equals the sha256 of the sum recomputed, with the
public context, from the committed updates (``FederatedTask.verify_round``). That costs one
homomorphic sum, so each outcome is recorded here, keyed by the aggregate's digest (content
addressed: the same digest always has the same outcome), and read back by every view and by
any later process on the same workspace. An aggregate the key holder rejected on-chain is
unverified whatever this record says; the read model (``ledger_view``) combines the two.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from ..aggregation import AggregateVerification

FILENAME = "verifications.json"


class VerificationRecord:
    """Outcomes by aggregate digest, in ``workspace/verifications.json``."""

    def __init__(self, workspace: Path) -> None:
        self.path = workspace / FILENAME
        self._lock = threading.Lock()
        self._outcomes: dict[str, bool] = {}
        if self.path.exists():
            try:
                loaded = json.loads(self.path.read_text())
            except (OSError, ValueError):
                loaded = {}  # a damaged record only costs recomputation
            if isinstance(loaded, dict):
                self._outcomes = {str(k): bool(v) for k, v in loaded.items()}

    def outcome(self, aggregate_digest: bytes) -> bool | None:
        """Whether that aggregate was found to be the sum of its updates (None: never checked)."""
        with self._lock:
            return self._outcomes.get(aggregate_digest.hex())

    def record(self, verification: AggregateVerification) -> None:
        key = verification.expected_digest.hex()
        with self._lock:
            if self._outcomes.get(key) == verification.matches:
                return
            self._outcomes[key] = verification.matches
            temporary = self.path.with_suffix(".tmp")
            temporary.write_text(json.dumps(self._outcomes, sort_keys=True))
            os.replace(temporary, self.path)
