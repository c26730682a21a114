"""Bad input gets its JSON-RPC error (or 401, 411, 413) and changes nothing; a token, when set,
is required on every route; exposing the ledger beyond loopback needs an explicit choice."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest
import requests

from fedchain_magics.chain import ChainConnectionError, Ledger
from fedchain_magics.server import MAX_BATCH_LENGTH, MAX_RPC_BYTES, LedgerServer, ServeRefusedError
from fedchain_magics.storage import HttpBlobStore, StorageError

TOKEN = "s3cret-token-for-tests"


def call(method: str, *params: object, id: object = 1) -> dict:
    return {"jsonrpc": "2.0", "id": id, "method": method, "params": list(params)}


@pytest.fixture(scope="module")
def tokened(tmp_path_factory) -> Iterator[LedgerServer]:
    root = tmp_path_factory.mktemp("tokened")
    ledger = Ledger.open_embedded(root / "chain")
    try:
        with LedgerServer(ledger, blob_root=root / "blobs", token=TOKEN) as server:
            yield server
    finally:
        ledger.close()


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b'{"jsonrpc": "2.0", "id": 1, "method": ', -32700),
        (b"\xff\xfe", -32700),
        (json.dumps(call("eth_mine")).encode(), -32601),
        (json.dumps(call("evm_mine")).encode(), -32601),  # eth-tester's controls are not offered
        (json.dumps(call("evm_revert", "0x1")).encode(), -32601),
        (json.dumps(call("eth_sendTransaction", {"to": "0x" + "11" * 20})).encode(), -32601),
        (json.dumps(call("eth_getBalance", "0x12", "latest")).encode(), -32602),
        (json.dumps(call("eth_getBalance", "0x" + "11" * 20, "newest")).encode(), -32602),
        (json.dumps(call("eth_getBlockByNumber", "0x01", False)).encode(), -32602),
        (json.dumps(call("eth_getBlockByNumber", "latest")).encode(), -32602),
        (json.dumps(call("eth_sendRawTransaction", "0xzz")).encode(), -32602),
        (json.dumps(call("eth_sendRawTransaction", "0x1234")).encode(), -32602),
        (json.dumps({**call("eth_blockNumber"), "params": {"a": 1}}).encode(), -32602),
        (json.dumps({"id": 1, "method": "eth_blockNumber"}).encode(), -32600),
        (json.dumps({"jsonrpc": "2.0", "id": [1], "method": "eth_blockNumber"}).encode(), -32600),
        (b"[]", -32600),
        (b"7", -32600),
        (json.dumps([call("eth_blockNumber", id=i) for i in range(MAX_BATCH_LENGTH + 1)]).encode(),
         -32600),
    ],
)  # fmt: skip
def test_a_bad_request_gets_its_error_and_changes_nothing(served, body, code):
    head = served.ledger.head_hash()
    response = requests.post(
        served.url, data=body, headers={"Content-Type": "application/json"}, timeout=30
    )
    assert response.status_code == 200
    answer = response.json()
    assert answer["jsonrpc"] == "2.0" and answer["error"]["code"] == code, answer
    assert served.ledger.head_hash() == head


def test_a_batch_answers_each_call_and_skips_notifications(served):
    batch = [
        call("eth_blockNumber", id="a"),
        {"jsonrpc": "2.0", "method": "eth_blockNumber"},  # a notification: no answer
        call("no_such_method", id=7),
    ]
    answers = requests.post(served.url, json=batch, timeout=30).json()
    assert [answer["id"] for answer in answers] == ["a", 7]
    assert int(answers[0]["result"], 16) == served.ledger.block_number()
    assert answers[1]["error"]["code"] == -32601
    only_notifications = requests.post(served.url, json=[batch[1]], timeout=30)
    assert only_notifications.status_code == 204 and not only_notifications.content


def test_an_oversized_body_is_refused_from_its_length_before_it_is_read(served):
    head = served.ledger.head_hash()
    response = requests.post(served.url, data=b" " * (MAX_RPC_BYTES + 1), timeout=30)
    assert response.status_code == 413
    assert "more than the 1,048,576" in response.json()["error"]["message"]
    # only the headers are sent: the answer comes without the server waiting for a body
    status = _status_of_headers_only(served.server.port, "POST / HTTP/1.1", 10**9)
    assert status == 413 and served.ledger.head_hash() == head


def test_a_body_without_a_length_is_refused(served):
    with socket.create_connection(("127.0.0.1", served.server.port), timeout=10) as connection:
        connection.sendall(
            b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"
        )
        assert connection.recv(100).startswith(b"HTTP/1.1 411")


def test_every_route_needs_the_token_when_one_is_set(tokened):
    head_call = call("eth_blockNumber")
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}):
        response = requests.post(tokened.url, json=head_call, headers=headers, timeout=30)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        blob = requests.get(tokened.blob_url + "00" * 32, headers=headers, timeout=30)
        assert blob.status_code == 401
    good = {"Authorization": f"Bearer {TOKEN}"}
    assert requests.post(tokened.url, json=head_call, headers=good, timeout=30).json()["result"]
    with pytest.raises(ChainConnectionError, match=r"refused this connection \(401\)"):
        Ledger.connect(tokened.url)
    assert Ledger.connect(tokened.url, token=TOKEN).block_number() == 0
    with pytest.raises(StorageError, match=r"\(401\): it needs its token"):
        HttpBlobStore(tokened.blob_url).put(b"x")
    assert HttpBlobStore(tokened.blob_url, token=TOKEN).put(b"x")


def test_the_unauthorized_are_refused_before_their_body_is_read(tokened):
    assert _status_of_headers_only(tokened.port, "POST / HTTP/1.1", 100) == 401
    assert _status_of_headers_only(tokened.port, f"PUT /blobs/{'00' * 32} HTTP/1.1", 100) == 401


def test_serving_beyond_loopback_needs_a_flag_and_a_token(served):
    with pytest.raises(ServeRefusedError, match=r"refusing to serve on 0\.0\.0\.0, which other"):
        LedgerServer(served.ledger, host="0.0.0.0")
    with pytest.raises(ServeRefusedError, match=r"serving on 0\.0\.0\.0 needs a token"):
        LedgerServer(served.ledger, host="0.0.0.0", allow_remote=True)
    with pytest.raises(ServeRefusedError, match="the token is empty"):
        LedgerServer(served.ledger, token=" ")
    LedgerServer(served.ledger, host="0.0.0.0", allow_remote=True, token=TOKEN)  # not started
    LedgerServer(served.ledger, host="localhost")
    remote = Ledger.connect(served.url)
    with pytest.raises(ServeRefusedError, match="only an in-process ledger can be served"):
        LedgerServer(remote)


def _status_of_headers_only(port: int, request_line: str, length: int) -> int:
    """Send a request's headers announcing ``length`` body bytes, send no body, read the status."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        headers = f"{request_line}\r\nHost: x\r\nContent-Length: {length}\r\n\r\n"
        connection.sendall(headers.encode())
        return int(connection.recv(100).split()[1])
