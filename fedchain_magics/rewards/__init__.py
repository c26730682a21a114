"""Rewards: how a round's reward is shared. v1 mirrors ProportionalRewardPolicy.sol.

Later valuations (leave-one-out, Shapley) implement the same contract interface
(``IRewardPolicy``) on-chain and the same function shape here.
"""

from .proportional import proportional_shares

__all__ = ["proportional_shares"]
