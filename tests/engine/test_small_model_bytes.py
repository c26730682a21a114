"""A small model's encrypted update costs one small-ring ciphertext, not a 131 KB one."""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from fedchain_magics import TaskConfig
from fedchain_magics.aggregation import weighted_average
from fedchain_magics.crypto import read_blob_header
from fedchain_magics.data import load_dataset, standardize
from fedchain_magics.models import adapter_for, initialize

#: Half of what one N=8192 ciphertext measured (131,317 bytes) before the ring followed the model.
HALF_OF_THE_LARGE_RING_BYTES = 66_000


def test_a_42_parameter_model_update_is_under_66_kb_and_decrypts(federation) -> None:
    X, y = load_dataset("wine")  # 13 features, 3 classes: 3 x 13 weights + 3 intercepts
    X, _ = standardize(X, X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = initialize(LogisticRegression(max_iter=5), X[:30], y[:30], classes=[0, 1, 2])
    assert adapter_for(model).get_parameters(model).size == 42

    task = federation.create_task(model, TaskConfig(min_participants=2))
    encryption = task.manifest["encryption"]
    assert encryption["poly_modulus_degree"] == 4096
    assert encryption["coeff_modulus_bits"] == 109  # the 128-bit maximum at N=4096
    participants = [task.participant(f"party-{index}") for index in range(2)]
    for participant in participants:
        participant.join()
    base = task.global_parameters()
    task.coordinator().open_round()
    updates = []
    for index, participant in enumerate(participants):
        update = participant.train(X[index::2], y[index::2])
        participant.submit(update)
        updates.append(update)

    for commitment in task.commitments(1):
        blob = federation.store.get(commitment.update_digest)
        assert len(blob) < HALF_OF_THE_LARGE_RING_BYTES
        assert read_blob_header(blob).chunk_count == 1
    task.aggregator().aggregate()
    new_model = task.key_holder().decrypt_and_commit()
    plain = base + weighted_average([u.delta for u in updates], [u.samples for u in updates])
    assert np.abs(new_model.parameters - plain).max() <= 1e-6
