"""Rewards: how a round's reward is shared. v1 mirrors ProportionalRewardPolicy.sol.

``valuation`` values groups of contributions (Shapley exact and Monte Carlo with truncation,
leave-one-out), draws groups of at least k parties, and guards which sums may be decrypted;
``contribution`` turns group values into each party's standing and reward share.
"""

from .contribution import (
    ESTABLISHED_AFTER_ROUNDS,
    GroupObservation,
    capped_weights,
    coherence_weight,
    reference_value,
    relative_scores,
    round_shares,
    standings,
)
from .proportional import proportional_shares
from .valuation import (
    ValuationError,
    assign_groups,
    check_decryptable,
    exact_shapley,
    leave_one_out,
    monte_carlo_shapley,
    shares_by_score,
    surviving_groups,
)

__all__ = [
    "ESTABLISHED_AFTER_ROUNDS",
    "GroupObservation",
    "ValuationError",
    "assign_groups",
    "capped_weights",
    "check_decryptable",
    "coherence_weight",
    "exact_shapley",
    "leave_one_out",
    "monte_carlo_shapley",
    "proportional_shares",
    "reference_value",
    "relative_scores",
    "round_shares",
    "shares_by_score",
    "standings",
    "surviving_groups",
]
