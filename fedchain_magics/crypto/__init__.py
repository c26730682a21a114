"""Homomorphic encryption of model updates: encrypt, sum without keys, decrypt only the sum.

The key holder::

    scheme = BfvFixedPointScheme.generate(max_parties=100)   # or CkksScheme.generate()
    # generate(..., parameter_count=model_size): a small model gets a smaller ring
    public = scheme.public_context_bytes()                  # publish; its sha256 names the context
    secret = scheme.secret_context_bytes()                  # keep private

Each participant (weighted FedAvg by additions alone: encrypt weight * update)::

    blob = load_scheme(public).encrypt(weight * update)

Anyone holding the public context (byte-identical result whatever the order)::

    running = load_scheme(public).start_sum()
    for blob in blobs:
        running.add(blob)
    aggregate = running.result()

The key holder again::

    average = load_scheme(secret).decrypt(aggregate) / total_weight

This package is a leaf: it imports TenSEAL and numpy, nothing else of fedchain.
"""

from ._container import BlobHeader, read_blob_header
from .bfv import BfvFixedPointScheme
from .ckks import CkksScheme
from .errors import (
    ContextMismatchError,
    CorruptCiphertextError,
    CryptoError,
    EmptySumError,
    InvalidContextError,
    InvalidUpdateError,
    LengthMismatchError,
    MissingSecretKeyError,
    TooManyPartiesError,
    UpdateOverflowError,
)
from .load import generate_scheme, load_scheme
from .masking import MaskingError, MaskingKey, Reveal
from .scheme import EncryptionScheme, RunningSum

__all__ = [
    "BfvFixedPointScheme",
    "BlobHeader",
    "CkksScheme",
    "ContextMismatchError",
    "CorruptCiphertextError",
    "CryptoError",
    "EmptySumError",
    "EncryptionScheme",
    "InvalidContextError",
    "InvalidUpdateError",
    "LengthMismatchError",
    "MaskingError",
    "MaskingKey",
    "MissingSecretKeyError",
    "Reveal",
    "RunningSum",
    "TooManyPartiesError",
    "UpdateOverflowError",
    "generate_scheme",
    "load_scheme",
    "read_blob_header",
]
