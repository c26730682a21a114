"""What pairwise masking costs a round: one round of a ~100k-parameter model through the engine,
unmasked and masked, side by side in one process with the same data (train, encrypt, commit,
aggregate, verify, decrypt, vote; masked adds a key advertisement, a share dealing and a reveal
per party, the mask streams, and the key holder's unmasking).

Usage: ``python bench/masking_bench.py [--parties 10] [--quick]``; the last line is JSON with
``masking_overhead_ratio_n{parties}`` (masked round time over unmasked).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from fedchain_magics import Federation, TaskConfig


def _linear(inputs: int, outputs: int):
    import torch

    torch.manual_seed(0)
    return torch.nn.Linear(inputs, outputs)


def one_round(workdir: Path, parties: int, privacy: str, features: int, classes: int) -> float:
    import torch

    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    data = [
        (
            rng.normal(size=(60, features)).astype(np.float32),
            rng.integers(0, classes, size=60),
        )
        for _ in range(parties)
    ]
    federation = Federation.open(workdir / privacy)
    try:
        config = TaskConfig(min_participants=parties, rounds=2, privacy=privacy)
        task = federation.create_task(_linear(features, classes), config)
        participants = [task.participant(f"party-{index}") for index in range(parties)]
        for participant in participants:
            participant.join()
        started = time.perf_counter()
        task.coordinator().open_round()
        if privacy == "masked":
            for participant in participants:
                participant.advertise_masking_key(1)
        for participant, (X, y) in zip(participants, data, strict=True):
            participant.submit(participant.train(X, y, learning_rate=0.01))
        task.aggregator().aggregate()
        if privacy == "masked":
            for participant in participants:
                participant.reveal_masks(1)
        task.key_holder().decrypt_and_commit()
        task.validator("validator-1").vote(*data[0])
        return time.perf_counter() - started
    finally:
        federation.close()


def measure(parties: int, *, quick: bool = False) -> dict[str, float]:
    features, classes = (100, 10) if quick else (1000, 100)
    with tempfile.TemporaryDirectory() as directory:
        workdir = Path(directory)
        plain = one_round(workdir, parties, "off", features, classes)
        masked = one_round(workdir, parties, "masked", features, classes)
    return {
        f"masking_round_s_off_n{parties}": round(plain, 3),
        f"masking_round_s_masked_n{parties}": round(masked, 3),
        f"masking_overhead_ratio_n{parties}": round(masked / plain, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parties", type=int, default=10)
    parser.add_argument("--quick", action="store_true", help="a tiny model: proves it runs")
    arguments = parser.parse_args()
    print(json.dumps(measure(arguments.parties, quick=arguments.quick)))


if __name__ == "__main__":
    sys.exit(main())
