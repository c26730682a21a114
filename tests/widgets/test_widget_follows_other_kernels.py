"""A live view follows what another kernel does on a shared ledger (no event of its own)."""

from __future__ import annotations

import time

from fedchain_magics import Federation
from fedchain_magics.widgets import LiveLedgerView


def test_a_live_view_shows_blocks_another_kernel_mined(tmp_path):
    with Federation.open(tmp_path / "serving") as serving:
        serving.head.interval_s = 0.2
        server = serving.serve()
        view = LiveLedgerView(serving)
        try:
            before = serving.ledger.block_number()
            assert f"block {before:,}" in view._html
            with Federation.open(tmp_path / "other", url=server.url) as other:
                other.account("somebody")  # funded by the served faucet: a block here
                head = other.ledger.block_number()
            assert head > before
            deadline = time.monotonic() + 10
            while f"block {head:,}" not in view._html and time.monotonic() < deadline:
                time.sleep(0.1)
            assert f"block {head:,}" in view._html
        finally:
            view.close()
