"""Issue #14 part 5 figures: the aggregator's add against the physical floor, and its peak memory
against the number of parties.

- ``aggregate_over_numpy_add``: adding one encrypted update (BFV, 1M parameters) to a running
  sum, as the aggregator does for every party (read the blob's ciphertexts, check them, add
  them; the container's SHA-256 checksum is skipped, as the engine skips it for a blob the store
  has just checked against its digest), over a raw numpy add of as many bytes (two uint64 arrays
  the size of the blob: the floor any sum over those bytes pays). Best of a few alternating
  repeats, side by side in one process.
- ``peak_rss_mb_aggregate_n{N}``: the peak resident memory of a fresh process that sums N
  updates the way the engine's aggregator does (``scheme.sum_blobs`` over blobs streamed from
  disk one at a time; worker processes once the round is large enough): the aggregator's own
  peak plus each of its workers' peak. The N blobs are one update's bytes
  read N times: the memory of a sum does not depend on what it adds.

``python bench/aggregate_bench.py [--quick]`` prints the figures as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from parallel_bench import best_of

from fedchain_magics.crypto import BfvFixedPointScheme, load_scheme


def _fixture(directory: Path, parameters: int) -> tuple[Path, Path]:
    """A public context (for at least 100 parties) and one encrypted update, on disk."""
    key_holder = BfvFixedPointScheme.generate(max_parties=128)
    public = key_holder.public_context_bytes()
    update = np.random.default_rng(0).normal(0, 0.01, parameters)
    context_path, blob_path = directory / "public.ctx", directory / "update.blob"
    context_path.write_bytes(public)
    blob_path.write_bytes(load_scheme(public).encrypt(update))
    return context_path, blob_path


def add_over_numpy(context_path: Path, blob_path: Path, repeats: int = 5) -> float:
    """One blob added to a running sum over numpy adding as many bytes."""
    scheme = load_scheme(context_path.read_bytes())
    blob = blob_path.read_bytes()
    running = scheme.start_sum()
    running.add(blob)  # the sum the next blob is added to
    words = len(blob) // 8
    left = np.frombuffer(blob[: words * 8], dtype=np.uint64).copy()
    right = left[::-1].copy()

    def add_blob() -> None:  # as the engine adds a blob the store checked against its digest
        running.add(blob, check_checksum=False)

    def add_bytes() -> None:
        np.add(left, right)

    he_s, numpy_s = best_of(repeats, add_blob, add_bytes)
    return he_s / numpy_s


def peak_rss_mb(context_path: Path, blob_path: Path, parties: int) -> float:
    """The peak memory of a fresh process summing ``parties`` blobs (see the module's doc)."""
    completed = subprocess.run(
        [sys.executable, __file__, "--sum", str(context_path), str(blob_path), str(parties)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(json.loads(completed.stdout.strip().splitlines()[-1])["peak_rss_mb"])


def _sum_in_this_process(context_path: Path, blob_path: Path, parties: int) -> dict[str, float]:
    scheme = load_scheme(context_path.read_bytes())

    def streamed() -> Iterator[bytes]:  # as the aggregator reads the store: one blob at a time
        for _ in range(parties):
            yield blob_path.read_bytes()

    total = scheme.sum_blobs(streamed())
    assert len(total) > 0
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    workers = _children_peak_mb()  # the pool's workers, still alive
    return {"peak_rss_mb": own + sum(workers), "own_mb": own, "workers": len(workers)}


def _children_peak_mb() -> list[float]:
    """The peak resident memory (VmHWM) of each live child of this process, in MB (Linux)."""
    peaks = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(
                line.split(":", 1) for line in status.read_text().splitlines() if ":" in line
            )
        except OSError:  # gone meanwhile
            continue
        if int(fields.get("PPid", "0").strip()) == os.getpid() and "VmHWM" in fields:
            peaks.append(int(fields["VmHWM"].split()[0]) / 1024)
    return peaks


def measure(parameters: int = 1_000_000, counts: tuple[int, ...] = (10, 100)) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="fedchain-aggregate-bench-") as directory:
        context_path, blob_path = _fixture(Path(directory), parameters)
        figures = {"aggregate_over_numpy_add": add_over_numpy(context_path, blob_path)}
        for count in counts:
            figures[f"peak_rss_mb_aggregate_n{count}"] = peak_rss_mb(context_path, blob_path, count)
    return figures


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "--sum":
        _, _, context, blob, parties = sys.argv
        print(json.dumps(_sum_in_this_process(Path(context), Path(blob), int(parties))))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a small model, for a smoke test")
    arguments = parser.parse_args()
    figures = measure(20_000, (2, 4)) if arguments.quick else measure()
    print(json.dumps({key: round(value, 4) for key, value in figures.items()}))


if __name__ == "__main__":
    main()
