"""Aggregation: the streaming encrypted sum, its public verification, the round strategy, and
plain FedAvg (the reference the encrypted path is compared with).

A leaf: it takes any scheme with ``start_sum()`` and any iterable of blobs, so it knows
neither TenSEAL's types nor where blobs are stored.
"""

from .encrypted import AggregateVerification, sum_encrypted, verify_aggregate
from .fedavg import weighted_average
from .robust import GroupCombination, combine_groups
from .strategy import FedAvg, RoundStrategy

__all__ = [
    "AggregateVerification",
    "FedAvg",
    "GroupCombination",
    "RoundStrategy",
    "combine_groups",
    "sum_encrypted",
    "verify_aggregate",
    "weighted_average",
]
