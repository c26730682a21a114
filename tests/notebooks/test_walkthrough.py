"""The several-notebooks walkthrough runs headless: coordinator, key holder and two hospitals,
each notebook in its own kernel and working directory, at the same time."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow


def test_four_notebooks_run_one_task_together(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "fedchain_magics.walkthrough", "--output-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=1500,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    summaries = json.loads(done.stdout.strip().splitlines()[-1])
    coordinator = summaries["coordinator"]
    assert coordinator["rounds_accepted"] == [True, True]
    assert coordinator["aggregates_verified"] == [True, True]
    assert coordinator["contributions"] == 4
    # Only the key holder's workspace holds a secret context.
    assert summaries["key-holder"]["secret_files"] == 1
    assert coordinator["secret_files"] == []
    for hospital in ("hospital-a", "hospital-b"):
        assert summaries[hospital]["secret_files"] == 0
        assert float(summaries[hospital]["balance"]) > 0
    for name in ("coordinator", "key-holder", "hospital-a", "hospital-b"):
        assert (tmp_path / name).is_dir()
    assert not list((tmp_path / "coordinator").rglob("*.sealed"))
