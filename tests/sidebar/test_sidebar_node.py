"""The bridge on a JSON-RPC node (Hardhat's, from contracts/node_modules) that later stops."""

from __future__ import annotations

import pytest
from hardhat_node import HARDHAT_FAUCET_KEY, hardhat_node
from sidebar_helpers import REQUEST_SNAPSHOT, checked

from fedchain_magics.sidebar import register_comm_target

pytestmark = pytest.mark.slow


@pytest.fixture
def hardhat():
    """A Hardhat node on a free port: ``(url, stop)``."""
    with hardhat_node() as node:
        yield node


def test_a_node_that_stops_answering_turns_into_an_error_message(
    shell, session, frontend, tmp_path, hardhat
):
    url, stop = hardhat
    session.open(tmp_path / "workspace", url=url, faucet_key=HARDHAT_FAUCET_KEY)
    register_comm_target(shell, session)
    sidebar = frontend.open()
    network = checked(sidebar.messages[0])["state"]["network"]
    assert network["url"] == url and network["chain_id"] == 31337
    assert network["embedded"] is False and network["ledger_dir"] is None
    assert network["connected"] is True

    stop()
    frontend.send(sidebar, REQUEST_SNAPSHOT)
    reply = checked(sidebar.messages[-1])
    assert reply["type"] == "error", reply
    assert reply["message"].startswith(f"the ledger node at {url} does not answer")
