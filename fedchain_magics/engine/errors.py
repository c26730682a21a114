"""Errors of the round engine: each says what failed and what to do next, in one line."""

from __future__ import annotations


class FederationError(Exception):
    """Base class for round-engine errors a user can act on."""


class UnknownTaskError(FederationError):
    """No task with that id on this ledger."""


class RoundNotReadyError(FederationError):
    """A step was asked for before the round reached it (or after it passed)."""


class RoleError(FederationError):
    """The account does not hold the role the step needs."""


class AggregateMismatchError(FederationError):
    """The aggregate committed on-chain is not the sum of the committed updates."""


class ModelMismatchError(FederationError):
    """A model does not match the task's on-chain model spec."""
