"""Typed errors. Every user-facing mistake raises a NasbenchError with a one-line message
naming the bad field and value; the CLI prints that line and exits non-zero."""

from __future__ import annotations


class NasbenchError(Exception):
    """Base class of every error caused by bad input rather than a bug."""


class InvalidArchitectureError(NasbenchError, ValueError):
    """An architecture string, op name or encoding is malformed or outside the space."""


class OutOfDomainError(InvalidArchitectureError, IndexError):
    """An architecture index lies outside the space (or the table)."""


class UnknownNameError(NasbenchError, KeyError):
    """A registry (spaces, strategies, tables, datasets) has no entry of that name."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class TableError(NasbenchError):
    """A table is missing, corrupt, of the wrong schema, or fails its checksums."""


class BudgetExhausted(NasbenchError):
    """The oracle's query or simulated-time budget is spent."""


class InvalidBudgetError(NasbenchError, ValueError):
    """A budget is zero, negative or otherwise unusable."""


class StrategyError(NasbenchError):
    """A strategy raised, proposed something invalid, or broke the ask/tell protocol."""


class InvalidParameterError(NasbenchError, ValueError):
    """A hyperparameter of a strategy or predictor is out of range or of the wrong type."""
