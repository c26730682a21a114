"""Serve an open in-process ledger over HTTP: JSON-RPC at ``/``, its blob store at ``/blobs/``.

:class:`LedgerServer` runs a stdlib ``ThreadingHTTPServer`` on a daemon thread, so the kernel
that holds the ledger keeps using it while other notebooks connect (``Ledger.connect(url)``,
``Federation.open(url=...)``, web3.py, ethers.js). Every chain access, the kernel's own and each
request's, goes through the provider's one lock (:mod:`fedchain_magics.chain.provider`).

Safety by default: it binds 127.0.0.1; another interface needs ``allow_remote=True`` and a
bearer token. With a token, every request needs ``Authorization: Bearer <token>`` (401
otherwise; compared in constant time). Bodies are bounded from ``Content-Length`` before they
are read (413): :data:`MAX_RPC_BYTES` for JSON-RPC, ``max_blob_bytes`` for a blob.
"""

from __future__ import annotations

import contextlib
import hmac
import ipaddress
import logging
import socket
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

from ..chain.ledger import Ledger
from ..chain.lock import clear_served, write_served
from ..storage import LocalBlobStore
from .blobs import DEFAULT_MAX_BLOB_BYTES, BlobReply, BlobRoutes, digest_in, error_reply
from .faucet import Faucet
from .rpc import (
    INVALID_REQUEST,
    MAX_BATCH_LENGTH,
    SERVER_ERROR,
    RpcDispatcher,
    RpcError,
    encode,
    error_response,
)

MAX_RPC_BYTES = 2**20
"""The largest JSON-RPC request body (1 MiB)."""
IDLE_CONNECTION_TIMEOUT_S = 30
"""A kept-alive connection with no request for this long is closed."""

_log = logging.getLogger(__name__)


class ServeRefusedError(Exception):
    """The ledger cannot be served as asked (one line: what, and what to do instead)."""


class LedgerServer:
    """JSON-RPC and blobs over HTTP for an *already open* in-process :class:`Ledger`.

    ``blob_root``: the folder of a :class:`~fedchain_magics.storage.LocalBlobStore` to serve at
    :attr:`blob_url` (None: no blob routes). ``port=0`` takes a free port (see :attr:`url`).
    ``token``: required from every client as ``Authorization: Bearer <token>``; a host other
    than loopback needs it and ``allow_remote=True``. ``faucet``: offer
    ``fedchain_requestFunds`` (:mod:`.faucet`). The server never closes the ledger: its owner
    does, after :meth:`stop`.
    """

    def __init__(
        self,
        ledger: Ledger,
        *,
        blob_root: Path | str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str | None = None,
        allow_remote: bool = False,
        faucet: bool = True,
        max_rpc_bytes: int = MAX_RPC_BYTES,
        max_batch_length: int = MAX_BATCH_LENGTH,
        max_blob_bytes: int = DEFAULT_MAX_BLOB_BYTES,
    ) -> None:
        if not ledger.embedded:
            raise ServeRefusedError(
                f"only an in-process ledger can be served; {ledger.network_name} is a node "
                "already: connect to it directly"
            )
        _check_exposure(host, token, allow_remote)
        self.ledger = ledger
        self.host = host
        self.token = token
        self.max_rpc_bytes = max_rpc_bytes
        provider = ledger.embedded_provider
        self.chain_lock = provider.lock
        self.rpc = RpcDispatcher(
            provider,
            faucet=Faucet(provider) if faucet else None,
            max_batch_length=max_batch_length,
        )
        self.blobs = (
            None
            if blob_root is None
            else BlobRoutes(LocalBlobStore(blob_root), max_blob_bytes=max_blob_bytes)
        )
        self.stopping = False
        self._requested_port = port
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> LedgerServer:
        """Listen and serve on a daemon thread; write ``served.json`` in the ledger directory."""
        if self._httpd is not None:
            return self
        try:
            httpd = _Server((self.host, self._requested_port), self)
        except OSError as error:
            raise ServeRefusedError(
                f"cannot listen on {self.host}:{self._requested_port} ({error.strerror or error}); "
                "choose another port (port=0 takes a free one)"
            ) from None
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"fedchain-ledger-server-{self.port}",
            daemon=True,
        )
        self._thread.start()
        chain_dir = self.ledger.chain_dir
        assert chain_dir is not None  # an embedded ledger has one
        write_served(chain_dir, url=self.url, blob_url=self.blob_url)
        _log.info("serving %s at %s", chain_dir, self.url)
        return self

    def stop(self) -> None:
        """Stop serving (idempotent): wait for the request on the chain, if any, refuse the
        rest, close every connection and remove ``served.json``. The ledger stays open."""
        if self._httpd is None:
            return
        with self.chain_lock:  # a request inside the chain finishes first; none starts after
            self.stopping = True
        httpd, self._httpd = self._httpd, None
        httpd.shutdown()
        httpd.server_close()
        httpd.close_connections()
        if self._thread is not None:
            self._thread.join(timeout=10)
        chain_dir = self.ledger.chain_dir
        if chain_dir is not None:
            clear_served(chain_dir)
        _log.info("stopped serving %s", chain_dir)

    def __enter__(self) -> LedgerServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # -- where --------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._httpd is not None

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise ServeRefusedError("the server is not running: call start() first")
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """The JSON-RPC endpoint, e.g. ``http://127.0.0.1:8545/``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    @property
    def blob_url(self) -> str | None:
        """The blob store's base URL (``.../blobs/``), or None when no blobs are served."""
        return None if self.blobs is None else self.url + "blobs/"

    # -- requests (called from the handler threads) ---------------------------------------------

    def authorized(self, header: str | None) -> bool:
        if self.token is None:
            return True
        scheme, _, presented = (header or "").partition(" ")
        expected = self.token.encode()
        matches = hmac.compare_digest(presented.strip().encode(), expected)
        return scheme.lower() == "bearer" and matches

    def answer_rpc(self, body: bytes) -> bytes | None:
        with self.chain_lock:  # one request at a time on the chain, and none after stop()
            if self.stopping or self.ledger.closed:
                message = "the server is stopping" if self.stopping else "the ledger was closed"
                return encode(error_response(RpcError(SERVER_ERROR, message)))
            return self.rpc.handle(body)


class _Server(ThreadingHTTPServer):
    """A threading server that knows its open connections, to close them on stop."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], app: LedgerServer) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.app = app
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):  # already closed by its client
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        _log.debug("request from %s failed", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fedchain-ledger"
    sys_version = ""
    timeout = IDLE_CONNECTION_TIMEOUT_S
    disable_nagle_algorithm = True  # headers and body go out at once (no 40 ms delayed ACK)
    server: _Server

    # -- routes ---------------------------------------------------------------------------------

    def do_POST(self) -> None:
        app = self.server.app
        if not self._admitted():
            return
        if self._route() != "/":
            self._refuse(HTTPStatus.NOT_FOUND, "JSON-RPC is served at /, blobs at /blobs/<digest>")
            return
        body = self._body(app.max_rpc_bytes, rpc=True)
        if body is None:
            return
        response = app.answer_rpc(body)
        if response is None:  # only notifications: nothing to say
            self._send(HTTPStatus.NO_CONTENT, b"")
        else:
            self._send(HTTPStatus.OK, response)

    def do_GET(self) -> None:
        self._blob_request("GET")

    def do_HEAD(self) -> None:
        self._blob_request("HEAD")

    def do_PUT(self) -> None:
        self._blob_request("PUT")

    def do_DELETE(self) -> None:
        self._blob_request("DELETE")

    def _blob_request(self, method: str) -> None:
        app = self.server.app
        if not self._admitted():
            return
        digest = digest_in(self._route())
        if digest is None or app.blobs is None:
            where = "blobs are at /blobs/<64 hex digits>" if app.blobs else "no blobs are served"
            self._reply(error_reply(404, f"nothing at {self._route()}: {where}"), close=True)
            return
        if method == "GET":
            self._reply(app.blobs.get(digest))
        elif method == "HEAD":
            self._reply(app.blobs.head(digest), body=False)
        elif method == "DELETE":
            self._reply(app.blobs.delete(), close=True)
        else:
            length = self._content_length()
            if length is None:
                return
            refusal = app.blobs.check_put(length)
            if refusal is not None:
                self._reply(refusal, close=True)
                return
            body = self._read(length)
            if body is not None:
                self._reply(app.blobs.put(digest, body))

    # -- checks ---------------------------------------------------------------------------------

    def _admitted(self) -> bool:
        app = self.server.app
        if app.stopping:
            self._refuse(HTTPStatus.SERVICE_UNAVAILABLE, "the server is stopping")
            return False
        if not app.authorized(self.headers.get("Authorization")):
            self._refuse(
                HTTPStatus.UNAUTHORIZED,
                "this ledger server needs `Authorization: Bearer <token>` with its token",
                {"WWW-Authenticate": 'Bearer realm="fedchain"'},
            )
            return False
        return True

    def _content_length(self) -> int | None:
        text = self.headers.get("Content-Length")
        try:
            length = int(text) if text is not None else -1
        except ValueError:
            length = -1
        if length < 0:
            self._refuse(HTTPStatus.LENGTH_REQUIRED, "send the body with a Content-Length")
            return None
        return length

    def _body(self, limit: int, *, rpc: bool) -> bytes | None:
        """The request body, or None after refusing it (411, 413) before reading it."""
        length = self._content_length()
        if length is None:
            return None
        if length > limit:
            self._refuse(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                f"a body of {length:,} bytes is more than the {limit:,} this server takes",
                rpc=rpc,
            )
            return None
        return self._read(length)

    def _read(self, length: int) -> bytes | None:
        body = self.rfile.read(length)
        if len(body) != length:  # the client went away mid-body
            self.close_connection = True
            return None
        return body

    # -- answers -------------------------------------------------------------------------------

    def _refuse(
        self,
        status: HTTPStatus,
        message: str,
        headers: dict[str, str] | None = None,
        *,
        rpc: bool | None = None,
    ) -> None:
        """Answer an error and close the connection (its body, if any, stays unread)."""
        as_rpc = self.command == "POST" if rpc is None else rpc
        if as_rpc:
            body = encode(error_response(RpcError(INVALID_REQUEST, message)))
            reply = BlobReply(int(status), body, headers=headers or {})
        else:
            reply = error_reply(int(status), message, **(headers or {}))
        self._reply(reply, close=True)

    def _reply(self, reply: BlobReply, *, body: bool = True, close: bool = False) -> None:
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        if self.command != "HEAD":  # a HEAD answer has no body, and its size is not known here
            self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(reply.body)

    def _send(self, status: HTTPStatus, body: bytes) -> None:
        self._reply(BlobReply(int(status), body))

    def _route(self) -> str:
        return self.path.split("?", 1)[0]

    def log_message(self, format: str, *args: Any) -> None:
        _log.debug("%s %s", self.address_string(), format % args)


def _check_exposure(host: str, token: str | None, allow_remote: bool) -> None:
    if token is not None and (not token.strip() or token != token.strip() or "\n" in token):
        raise ServeRefusedError("the token is empty or has whitespace; use a random string")
    if _is_loopback(host):
        return
    if not allow_remote:
        raise ServeRefusedError(
            f"refusing to serve on {host}, which other machines can reach: pass "
            "allow_remote=True (--allow-remote) and a token, or keep the default 127.0.0.1"
        )
    if token is None:
        raise ServeRefusedError(
            f"serving on {host} needs a token: set FEDCHAIN_SERVE_TOKEN (or --token-file, "
            "token=...) so only those who hold it can use the ledger"
        )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
