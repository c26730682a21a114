"""A model's flat parameter vector as bytes (``.npy``, no pickle) and back: what the blob store
keeps for the initial model and every round's new global model."""

from __future__ import annotations

import io

import numpy as np


def encode_parameters(parameters: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(parameters, dtype=np.float64), allow_pickle=False)
    return buffer.getvalue()


def decode_parameters(blob: bytes) -> np.ndarray:
    return np.asarray(np.load(io.BytesIO(blob), allow_pickle=False), dtype=np.float64)
