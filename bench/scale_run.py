"""Issue #14 part 7: one round of many simulated parties on this machine, time and peak memory.

``python bench/scale_run.py [--parties 1000] [--features 1000] [--classes 100]`` runs one
``simulate`` round (batched commitments: each party signs its commitment, one transaction
commits the round's, one pays it) of a ``features x classes + classes``-parameter torch model
(100,100 by default), 20 samples a party, and prints one JSON line: the whole run's seconds
(accounts, joins and the round), the round's seconds, the ciphertext bytes, and this process's
peak resident memory (workers included). The README's scale row comes from it.
"""

from __future__ import annotations

import argparse
import json
import resource
import time

from parallel_bench import simulated_round


def scale_run(parties: int, features: int, classes: int) -> dict[str, float]:
    started = time.perf_counter()
    record = simulated_round(parties, features, classes, batched=True)
    total_s = time.perf_counter() - started
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {
        "parties": parties,
        "parameters": features * classes + classes,
        "total_s": round(total_s, 1),
        "round_s": round(record.seconds, 1),
        "round_s_per_party": round(record.seconds / parties, 3),
        "accepted": int(record.accepted and record.aggregate_verified),
        "ciphertext_mb": round(record.ciphertext_bytes / 1e6, 1),
        "peak_rss_mb": round(own, 0),
        "peak_rss_mb_largest_worker": round(children, 0),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parties", type=int, default=1000)
    parser.add_argument("--features", type=int, default=1000)
    parser.add_argument("--classes", type=int, default=100)
    arguments = parser.parse_args()
    print(json.dumps(scale_run(arguments.parties, arguments.features, arguments.classes)))
