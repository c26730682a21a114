"""Rewards: how a round's reward is shared. v1 mirrors ProportionalRewardPolicy.sol.

``valuation`` values groups of contributions (Shapley exact and Monte Carlo with truncation,
leave-one-out), draws groups of at least k parties, and guards which sums may be decrypted; the
engine does not use it yet (the incentives issue wires it into rounds and the reward policy).
"""

from .proportional import proportional_shares
from .valuation import (
    ValuationError,
    assign_groups,
    check_decryptable,
    exact_shapley,
    leave_one_out,
    monte_carlo_shapley,
    shares_by_score,
)

__all__ = [
    "ValuationError",
    "assign_groups",
    "check_decryptable",
    "exact_shapley",
    "leave_one_out",
    "monte_carlo_shapley",
    "proportional_shares",
    "shares_by_score",
]
