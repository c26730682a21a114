"""One process at a time on a ledger directory; the next one is told who holds it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap

import pytest

from fedchain_magics import cli
from fedchain_magics.chain import Ledger, LedgerLockedError, verify_journal

TRY_TO_OPEN = textwrap.dedent(
    """
    import sys
    from fedchain_magics.chain import Ledger, LedgerLockedError
    try:
        Ledger.open_embedded(sys.argv[1])
    except LedgerLockedError as error:
        print(error)
        sys.exit(3)
    """
)

HOLD_OPEN = textwrap.dedent(
    """
    import sys, time
    from fedchain_magics.chain import Ledger
    ledger = Ledger.open_embedded(sys.argv[1])
    print("OPEN", flush=True)
    time.sleep(600)
    """
)


def test_a_second_process_is_refused_with_the_holder_named(tmp_path):
    ledger = Ledger.open_embedded(tmp_path)
    try:
        child = subprocess.run(
            [sys.executable, "-c", TRY_TO_OPEN, str(tmp_path)],
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        ledger.close()
    assert child.returncode == 3, child.stderr
    (line,) = child.stdout.splitlines()
    assert f"the ledger in {tmp_path} is in use by pid {os.getpid()}" in line
    assert f"on host {socket.gethostname()} since " in line
    assert "close it there (%fedchain stop" in line
    assert "served endpoint" in line
    Ledger.open_embedded(tmp_path).close()  # closing released it


def test_a_second_open_in_the_same_process_is_refused_until_the_first_closes(tmp_path):
    first = Ledger.open_embedded(tmp_path)
    with pytest.raises(LedgerLockedError, match=f"this process, pid {os.getpid()}") as raised:
        Ledger.open_embedded(tmp_path)
    assert raised.value.holder_pid == os.getpid()
    # reading is allowed meanwhile, and says who holds it
    report = verify_journal(tmp_path)
    assert report.ok and [finding.kind for finding in report.findings] == ["in_use"]
    # repair would write, so it is refused like an open
    assert cli.main(["repair", str(tmp_path)]) == 2
    first.close()
    first.close()  # idempotent
    second = Ledger.open_embedded(tmp_path)
    second.close()


def test_a_killed_holder_leaves_no_stale_lock(tmp_path):
    child = subprocess.Popen(
        [sys.executable, "-c", HOLD_OPEN, str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout.readline().strip() == "OPEN", child.stderr.read()
        with pytest.raises(LedgerLockedError, match=f"pid {child.pid} "):
            Ledger.open_embedded(tmp_path)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
        child.stderr.close()
    ledger = Ledger.open_embedded(tmp_path)
    assert ledger.block_number() == 0
    ledger.close()
