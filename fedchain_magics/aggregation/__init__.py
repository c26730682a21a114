"""Aggregation: the streaming encrypted sum, its public verification, and plain FedAvg.

A leaf: it takes any scheme with ``start_sum()`` and any iterable of blobs, so it knows
neither TenSEAL's types nor where blobs are stored.
"""

from .encrypted import AggregateVerification, sum_encrypted, verify_aggregate
from .fedavg import weighted_average

__all__ = ["AggregateVerification", "sum_encrypted", "verify_aggregate", "weighted_average"]
