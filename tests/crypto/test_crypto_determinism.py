"""Anyone with the public context recomputes the same aggregate bytes from the same blobs,
so the aggregate's sha256 can be checked against the digest committed on-chain."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from crypto_helpers import Keys, sum_blobs
from hypothesis import given, settings
from hypothesis import strategies as st

from fedchain_magics.crypto import load_scheme

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]


def _blobs(keys: Keys, parties: int = 4, length: int = 9000) -> list[bytes]:
    rng = np.random.default_rng(5)
    return [keys.public.encrypt(rng.normal(0, 0.01, length)) for _ in range(parties)]


def test_aggregate_bytes_do_not_depend_on_the_order_of_addition(keys: Keys) -> None:
    blobs = _blobs(keys)
    forward = sum_blobs(keys.public, blobs)
    assert sum_blobs(keys.public, blobs[::-1]) == forward
    assert sum_blobs(keys.public, [blobs[2], blobs[0], blobs[3], blobs[1]]) == forward


@settings(max_examples=6, deadline=None)
@given(order=st.permutations(range(4)), scheme=st.sampled_from(["bfv", "ckks"]))
def test_any_permutation_gives_the_same_aggregate(
    bfv: Keys, ckks: Keys, order: list[int], scheme: str
) -> None:
    keys = {"bfv": bfv, "ckks": ckks}[scheme]
    blobs = _blobs(keys, length=100)
    assert sum_blobs(keys.public, [blobs[i] for i in order]) == sum_blobs(keys.public, blobs)


def test_separate_loads_and_the_key_holder_agree(keys: Keys) -> None:
    blobs = _blobs(keys)
    reloaded = load_scheme(keys.secret.public_context_bytes())
    assert sum_blobs(reloaded, blobs) == sum_blobs(keys.public, blobs)
    assert sum_blobs(keys.secret, blobs) == sum_blobs(keys.public, blobs)


def test_partial_aggregates_sum_to_the_same_bytes(keys: Keys) -> None:
    blobs = _blobs(keys)
    left, right = sum_blobs(keys.public, blobs[:2]), sum_blobs(keys.public, blobs[2:])
    assert sum_blobs(keys.public, [right, left]) == sum_blobs(keys.public, blobs)


def test_encrypting_twice_gives_different_bytes(keys: Keys) -> None:
    update = np.ones(10)
    assert keys.public.encrypt(update) != keys.public.encrypt(update)


_RECOMPUTE = """
import hashlib, sys
from pathlib import Path
from fedchain_magics.crypto import load_scheme
folder = Path(sys.argv[1])
running = load_scheme((folder / "context").read_bytes()).start_sum()
for path in sorted(folder.glob("blob-*"), reverse=True):
    running.add(path.read_bytes())
print(hashlib.sha256(running.result()).hexdigest())
"""


def test_a_fresh_process_recomputes_the_same_digest(keys: Keys, tmp_path: Path) -> None:
    blobs = _blobs(keys)
    (tmp_path / "context").write_bytes(keys.secret.public_context_bytes())
    for index, blob in enumerate(blobs):
        (tmp_path / f"blob-{index}").write_bytes(blob)
    environment = {**os.environ, "PYTHONPATH": str(REPOSITORY_ROOT)}
    completed = subprocess.run(
        [sys.executable, "-c", _RECOMPUTE, str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
        env=environment,
        timeout=120,
    )
    expected = hashlib.sha256(sum_blobs(keys.public, blobs)).hexdigest()
    assert completed.stdout.strip() == expected
