"""Micro-benchmark of the encryption layer: bytes per parameter and seconds per million params.

Usage: ``python bench/crypto_bench.py [--params 1000000] [--parties 5]``. Prints a table, then
one JSON line. Single process, single thread (TenSEAL gives no speed-up from threads).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

import numpy as np

from fedchain_magics.crypto import (
    BfvFixedPointScheme,
    CkksScheme,
    EncryptionScheme,
    generate_scheme,
    load_scheme,
)

#: A small model: logistic regression of 3 classes x 13 features + 3 intercepts (wine).
SMALL_MODEL_PARAMETERS = 42

SETTINGS: dict[str, Callable[[], EncryptionScheme]] = {
    "bfv [60,60] t=40 bits": BfvFixedPointScheme.generate,
    "ckks [60,49] 2^40": CkksScheme.generate,
    "ckks [60,40,40] 2^40 (NVFlare)": lambda: CkksScheme.generate(coeff_mod_bit_sizes=(60, 40, 40)),
}


def measure(make: Callable[[], EncryptionScheme], params: int, parties: int) -> dict[str, float]:
    rng = np.random.default_rng(0)
    secret = make()
    public = load_scheme(secret.public_context_bytes())
    updates = [rng.normal(0, 0.01, params) for _ in range(parties)]

    started = time.perf_counter()
    blobs = [public.encrypt(update) for update in updates]
    encrypt_s = (time.perf_counter() - started) / parties

    started = time.perf_counter()
    running = public.start_sum()
    for blob in blobs:
        running.add(blob)
    aggregate = running.result()
    aggregate_s = (time.perf_counter() - started) / parties

    started = time.perf_counter()
    summed = secret.decrypt(aggregate)
    decrypt_s = time.perf_counter() - started

    per_million = 1e6 / params
    return {
        "bytes_per_param": len(blobs[0]) / params,
        "encrypt_s_per_million": encrypt_s * per_million,
        "aggregate_s_per_million_per_party": aggregate_s * per_million,
        "decrypt_s_per_million": decrypt_s * per_million,
        "max_abs_error": float(np.abs(summed - np.sum(updates, axis=0)).max()),
        "public_context_bytes": len(secret.public_context_bytes()),
    }


def small_model_bytes(parameters: int = SMALL_MODEL_PARAMETERS, max_parties: int = 100) -> int:
    """Bytes of one encrypted update of a small model, under the ring a task picks for it
    (BFV, the default ``TaskConfig.max_parties``)."""
    scheme = generate_scheme("bfv", max_parties=max_parties, parameter_count=parameters)
    return len(scheme.encrypt(np.random.default_rng(0).normal(0, 0.01, parameters)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", type=int, default=1_000_000)
    parser.add_argument("--parties", type=int, default=5)
    arguments = parser.parse_args()
    results = {
        name: measure(make, arguments.params, arguments.parties) for name, make in SETTINGS.items()
    }
    print(f"{arguments.params:,} params, {arguments.parties} parties, N(0, 0.01) updates")
    print(
        f"{'setting':32} {'B/param':>8} {'enc s/M':>8} {'agg s/M':>8} {'dec s/M':>8} {'error':>8}"
    )
    for name, row in results.items():
        print(
            f"{name:32} {row['bytes_per_param']:8.1f} {row['encrypt_s_per_million']:8.3f} "
            f"{row['aggregate_s_per_million_per_party']:8.3f} {row['decrypt_s_per_million']:8.3f} "
            f"{row['max_abs_error']:8.1e}"
        )
    small = small_model_bytes()
    print(f"one update of a {SMALL_MODEL_PARAMETERS}-parameter model (BFV): {small:,} bytes")
    print(
        json.dumps(
            {
                "params": arguments.params,
                "parties": arguments.parties,
                **results,
                "he_bytes_small_model": small,
            }
        )
    )


if __name__ == "__main__":
    main()
