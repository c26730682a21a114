"""The served blob store and its client: every read re-hashed on both ends, sizes refused before
bodies are read, the digest in the path checked on write."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import requests

from fedchain_magics.chain import Ledger
from fedchain_magics.server import LedgerServer
from fedchain_magics.storage import (
    BlobIntegrityError,
    BlobNotFoundError,
    BlobTooLargeError,
    HttpBlobStore,
    LocalBlobStore,
    StorageError,
    digest_of,
    open_blob_store,
)


@pytest.fixture
def store(served) -> HttpBlobStore:
    return HttpBlobStore(served.server.blob_url)


def test_a_blob_goes_up_and_comes_back_verified(served, store):
    blob = b"encrypted update " * 1000
    digest = store.put(blob)
    assert digest == digest_of(blob) and store.has(digest)
    assert store.get(digest) == blob
    assert store.get(digest, max_bytes=len(blob)) == blob
    assert LocalBlobStore(served.root / "blobs").get(digest) == blob  # where the server keeps it
    assert store.put(blob) == digest  # twice is a no-op
    missing = digest_of(b"never stored")
    assert not store.has(missing)
    with pytest.raises(BlobNotFoundError, match="no blob 0x"):
        store.get(missing)


def test_a_blob_altered_on_the_servers_disk_is_refused(served, store):
    digest = store.put(b"honest update")
    path = served.root / "blobs" / digest.hex()[:2] / digest.hex()
    path.write_bytes(b"forged update")
    with pytest.raises(BlobIntegrityError, match="was altered"):
        store.get(digest)
    response = requests.get(served.server.blob_url + digest.hex(), timeout=30)
    assert response.status_code == 409 and "altered" in response.json()["error"]


def test_a_put_whose_body_does_not_match_the_path_stores_nothing(served):
    digest = digest_of(b"what the client meant")
    response = requests.put(served.server.blob_url + digest.hex(), data=b"other bytes", timeout=30)
    assert response.status_code == 400 and "nothing was stored" in response.json()["error"]
    assert not LocalBlobStore(served.root / "blobs").has(digest)
    assert not LocalBlobStore(served.root / "blobs").has(digest_of(b"other bytes"))
    for path in ("/blobs/" + "0" * 63, "/blobs/" + "G" * 64, "/elsewhere"):
        assert requests.get(served.url.rstrip("/") + path, timeout=30).status_code == 404


def test_an_oversized_blob_is_refused_before_its_body_is_read(tmp_path):
    ledger = Ledger.open_embedded(tmp_path / "chain")
    try:
        with LedgerServer(ledger, blob_root=tmp_path / "blobs", max_blob_bytes=1000) as server:
            store = HttpBlobStore(server.blob_url)
            with pytest.raises(BlobTooLargeError, match="refused a blob of 1,001 bytes"):
                store.put(b"x" * 1001)
            assert store.put(b"x" * 1000)
            # headers alone announcing 1 GB: the 413 comes without waiting for the body
            with socket.create_connection(("127.0.0.1", server.port), timeout=10) as connection:
                connection.sendall(
                    f"PUT /blobs/{'ab' * 32} HTTP/1.1\r\nHost: x\r\n"
                    f"Content-Length: {10**9}\r\n\r\n".encode()
                )
                assert connection.recv(100).startswith(b"HTTP/1.1 413")
    finally:
        ledger.close()
    assert not any(path.name.startswith(".partial") for path in tmp_path.rglob("*"))


def test_a_reader_limit_is_checked_from_the_length_before_the_body(served, store):
    digest = store.put(b"y" * 5000)
    with pytest.raises(BlobTooLargeError, match="is 5,000 bytes or more, more than the 4,999"):
        store.get(digest, max_bytes=4999)


def test_delete_keeps_the_shared_blob(served, store):
    digest = store.put(b"committed elsewhere")
    store.delete(digest)
    assert store.has(digest)
    response = requests.delete(served.server.blob_url + digest.hex(), timeout=30)
    assert response.status_code == 405 and response.headers["Allow"] == "GET, HEAD, PUT"


class _LyingServer(BaseHTTPRequestHandler):
    """Answers every GET with other bytes than were asked for, or too many, without a length."""

    def do_GET(self) -> None:
        self.send_response(200)
        if self.path.endswith("/huge"):
            self.end_headers()  # no Content-Length: the body runs until the connection closes
            self.wfile.write(b"z" * 10_000)
        else:
            self.send_header("Content-Length", "6")
            self.end_headers()
            self.wfile.write(b"forged")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def lying_server() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _LyingServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/blobs/"
    finally:
        server.shutdown()
        server.server_close()


def test_the_client_re_hashes_and_caps_what_any_server_sends(lying_server, monkeypatch):
    store = HttpBlobStore(lying_server)
    with pytest.raises(BlobIntegrityError, match="altered at rest or in transit"):
        store.get(digest_of(b"honest"))
    # a body with no announced length is read with a cap
    monkeypatch.setattr(HttpBlobStore, "_request", _to_huge)
    with pytest.raises(BlobTooLargeError, match="more than the 1,000"):
        store.get(digest_of(b"anything"), max_bytes=1000)


def _to_huge(self: HttpBlobStore, method: str, digest: bytes, **kwargs: object):
    return requests.request(method, self.url + "huge", timeout=10, **kwargs)


def test_open_blob_store_picks_the_store_from_the_location(tmp_path, served):
    assert isinstance(open_blob_store(tmp_path), LocalBlobStore)
    assert open_blob_store(str(tmp_path / "b")).root == tmp_path / "b"
    assert open_blob_store(f"file://{tmp_path}/c").root == tmp_path / "c"
    remote = open_blob_store(served.server.blob_url, token="hidden-token")
    assert isinstance(remote, HttpBlobStore) and "hidden-token" not in repr(remote)
    memory = open_blob_store("memory://fedchain-test-open")
    assert type(memory).__name__ == "FsspecBlobStore"
    assert memory.get(memory.put(b"in memory")) == b"in memory"
    with pytest.raises(StorageError, match="http"):
        HttpBlobStore("ftp://example.org/blobs/")
