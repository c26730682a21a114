"""Encrypting and summing across processes (TenSEAL holds a lock: threads give no speed-up).

A pool's workers each load the public context once, when they start; then only numpy arrays
and bytes cross process boundaries. A large model is sharded by ciphertext: each task
encrypts a run of one update's ciphertexts, and the parent packs them in order. A sum is
split into partial sums of consecutive blobs, added at the end in order.

Results equal the serial path's: an encrypted blob has the same header and the same ciphertexts
in the same order (encryption is randomized, so its bytes differ on every run, serial or not;
it decrypts to the same values), and a sum is byte-identical to ``RunningSum``'s (addition is
exact modular arithmetic and serialization deterministic).

Starting a pool costs a fork and a context load per worker (tenths of a second), so the
helpers here use one only for large work: see ``worth_processes``. Nothing here knows the
engine.
"""

from __future__ import annotations

import atexit
import contextlib
import math
import multiprocessing
import os
import threading
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor

import numpy as np
import numpy.typing as npt

from ._container import BlobHeader
from .scheme import EncryptionScheme, _as_update

#: Values (parameters x parties) below which one process encrypts or sums faster than a pool
#: that has yet to start: BFV encrypts about 1-2M values a second per process here, and a
#: pool's start costs tenths of a second.
MIN_PARALLEL_VALUES = 4_000_000
#: Values per task: enough to amortize a task's pickling, small enough to balance two workers.
TASK_VALUES = 256 * 1024
#: Values (parameters x blobs) below which a sum stays in one process. Adding BFV ciphertexts
#: is cheap next to moving their bytes to a worker (measured here: 32 blobs of 100k values,
#: a warm pool of 2 took 0.4x-1.0x of one process's time, ``sum_speedup_2proc``), so only a
#: very large sum is spread.
MIN_PARALLEL_SUM_VALUES = 50_000_000
#: Blobs per partial sum: each partial is serialized once and read back once.
BLOBS_PER_TASK = 16
#: ... and at most this many bytes of them: the sum's memory is its batches in flight (one per
#: worker, plus the one being filled), whatever the number of parties (16 MB per party at 1M
#: parameters: 16 blobs a batch held 1.3 GB in flight, measured by bench/aggregate_bench.py).
BATCH_BYTES = 32 * 1024 * 1024

_worker_scheme: EncryptionScheme | None = None
_limit: int | None = None


def available_processes() -> int:
    """Processes a pool may use here: the CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


@contextlib.contextmanager
def processes_at_most(processes: int | None) -> Iterator[None]:
    """Within this block, automatic choices (``processes=None``) use at most ``processes``
    processes (``1``: everything in this process; ``None``: no limit)."""
    global _limit
    previous, _limit = _limit, processes
    try:
        yield
    finally:
        _limit = previous


def worth_processes(values: int, processes: int | None = None) -> int:
    """How many processes to use to encrypt ``values`` values: 1 (serial) for small work or
    one CPU, else ``processes`` (default: every CPU, within ``processes_at_most``)."""
    if processes is None:
        processes = available_processes() if _limit is None else _limit
    if processes < 2 or values < MIN_PARALLEL_VALUES:
        return 1
    return processes


def worth_summing(values: int, processes: int | None = None) -> int:
    """As :func:`worth_processes`, for a sum of ``values`` values (see
    ``MIN_PARALLEL_SUM_VALUES``)."""
    return worth_processes(values, processes) if values >= MIN_PARALLEL_SUM_VALUES else 1


class EncryptionPool:
    """Worker processes holding one public context: encrypt updates, sum blobs.

    ``with EncryptionPool(scheme.public_context_bytes(), processes=2) as pool: ...``
    """

    def __init__(self, public_context: bytes, processes: int | None = None) -> None:
        from .load import load_scheme

        self._scheme = load_scheme(public_context)
        self.processes = max(1, processes or available_processes())
        # Fork: a worker starts in milliseconds with everything imported, and no main module
        # is re-run (a script without a __main__ guard works). Workers touch only the TenSEAL
        # context they load themselves, never the parent's objects or locks.
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        context = multiprocessing.get_context(method)
        self._executor = ProcessPoolExecutor(
            self.processes, mp_context=context, initializer=_load, initargs=(public_context,)
        )

    @property
    def context_sha256(self) -> str:
        return self._scheme.context_sha256

    def warm_up(self) -> None:
        """Start every worker now (a pool starts its processes on first use)."""
        list(self._executor.map(_ready, range(self.processes)))

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> EncryptionPool:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- encryption -----------------------------------------------------------------------------

    def encrypt_many(self, updates: Sequence[npt.ArrayLike]) -> list[bytes]:
        """Encrypt each update as ``scheme.encrypt`` would (same checks, same errors, raised
        here before any work is sent), the ciphertexts spread over the workers."""
        scheme = self._scheme
        encoded = []
        for values in updates:
            update = _as_update(values)
            scheme._check_bound(update)
            encoded.append(scheme._encode(update))
        slots = scheme.slots_per_ciphertext
        per_task = max(1, TASK_VALUES // slots) * slots
        jobs: list[tuple[int, Future[list[bytes]]]] = []
        for index, values in enumerate(encoded):
            # A large update is split into runs of whole ciphertexts; each run is one task.
            step = min(per_task, slots * math.ceil(values.size / slots / self.processes))
            for start in range(0, values.size, max(step, slots)):
                run = values[start : start + max(step, slots)]
                jobs.append((index, self._executor.submit(_encrypt_run, run)))
        chunks: list[list[bytes]] = [[] for _ in encoded]
        for index, future in jobs:
            chunks[index].extend(future.result())
        return [
            scheme._pack(BlobHeader(scheme.name, scheme.context_sha256, v.size, len(c), 1), c)
            for v, c in zip(encoded, chunks, strict=True)
        ]

    # -- summing --------------------------------------------------------------------------------

    def sum(self, blobs: Iterable[bytes], expected_length: int | None = None) -> bytes:
        """The encrypted sum of ``blobs``, byte-identical to ``RunningSum``'s: consecutive
        blobs are summed in the workers (a few batches in flight, so memory stays bounded),
        then the partial sums are added here in order.

        An error a blob raises (the same as ``RunningSum.add``'s) is raised here; no blob at
        all raises ``RunningSum``'s ``EmptySumError``.
        """
        partial = self.partial_sum(blobs, expected_length)
        return partial if partial is not None else self._scheme.start_sum().result()

    def partial_sum(self, blobs: Iterable[bytes], expected_length: int | None) -> bytes | None:
        """As :meth:`sum`, but ``None`` for no blob at all."""
        running = self._scheme.start_sum(expected_length)
        pending: list[Future[bytes]] = []
        for batch in _batches(blobs, BLOBS_PER_TASK, BATCH_BYTES):
            pending.append(self._executor.submit(_sum_batch, batch, expected_length))
            if len(pending) > self.processes:
                running.add(pending.pop(0).result())
        for future in pending:
            running.add(future.result())
        return running.result() if running.count else None


def _batches(blobs: Iterable[bytes], size: int, max_bytes: int) -> Iterator[list[bytes]]:
    """``blobs`` in order, in lists of ``size`` blobs, or fewer once they hold ``max_bytes``."""
    batch: list[bytes] = []
    held = 0
    for blob in blobs:
        batch.append(blob)
        held += len(blob)
        if len(batch) == size or held >= max_bytes:
            yield batch
            batch = []
            held = 0
    if batch:
        yield batch


# -- the workers' side --------------------------------------------------------------------------


def _load(public_context: bytes) -> None:
    global _worker_scheme
    from .load import load_scheme

    _worker_scheme = load_scheme(public_context)


def _ready(_: int) -> bool:
    return _worker_scheme is not None


def _encrypt_run(encoded: np.ndarray) -> list[bytes]:
    scheme = _worker_scheme
    assert scheme is not None  # set by the initializer
    return scheme._encrypt_chunks(encoded)


def _sum_batch(blobs: list[bytes], expected_length: int | None) -> bytes:
    scheme = _worker_scheme
    assert scheme is not None
    running = scheme.start_sum(expected_length)
    for blob in blobs:
        running.add(blob)
    return running.result()


# -- one pool per process, for the engine's automatic use ---------------------------------------

_shared: dict[str, EncryptionPool] = {}
_shared_lock = threading.Lock()


def shared_pool(public_context: bytes, processes: int | None = None) -> EncryptionPool:
    """A pool for ``public_context`` kept for this process's life (one context at a time: a
    new context's pool replaces the last one)."""
    from .load import load_scheme

    key = load_scheme(public_context).context_sha256
    with _shared_lock:
        pool = _shared.get(key)
        wanted = max(1, processes or _limit or available_processes())
        if pool is None or pool.processes != wanted:
            for old in _shared.values():
                old.close()
            _shared.clear()
            pool = _shared[key] = EncryptionPool(public_context, wanted)
        return pool


def sum_blobs(
    scheme: EncryptionScheme,
    blobs: Sequence[bytes] | Iterable[bytes],
    expected_length: int | None = None,
    *,
    processes: int | None = None,
) -> bytes:
    """The encrypted sum of ``blobs``: in a shared pool when it is large enough to gain
    (``worth_processes``; an iterable of unknown length is summed serially until it is) and the
    scheme's adds do not already run at memory speed, else serially. Byte-identical either way."""
    if scheme.sums_at_memory_speed:
        processes = 1  # a worker would only add the cost of moving the bytes to it
    running = scheme.start_sum(expected_length)
    iterator = iter(blobs)
    for blob in iterator:
        running.add(blob)
        length = running.vector_length or 0
        remaining = len(blobs) - running.count if isinstance(blobs, Sequence) else 1
        if worth_summing(length * (running.count + remaining), processes) > 1:
            break
    else:
        return running.result()
    rest = list(iterator) if isinstance(blobs, Sequence) else iterator
    pool = shared_pool(scheme.public_context_bytes(), processes)
    partial = pool.partial_sum(rest, running.vector_length)
    if partial is not None:
        running.add(partial)
    return running.result()


def release_shared_pools() -> None:
    """Stop the shared pools' workers (a later call starts a fresh pool)."""
    with _shared_lock:
        for pool in _shared.values():
            pool.close()
        _shared.clear()


atexit.register(release_shared_pools)
