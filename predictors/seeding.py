"""Seeds of predictors: every ``random_state`` a predictor accepts becomes one SeedSequence."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from nasbench.errors import InvalidParameterError


def seed_sequence(random_state: Any) -> np.random.SeedSequence:
    """A SeedSequence from ``random_state``: None (fresh entropy), an int >= 0, a non-empty
    list of ints >= 0, a SeedSequence, or a numpy Generator / RandomState (one integer is
    drawn from it)."""
    if random_state is None:
        return np.random.SeedSequence()
    if isinstance(random_state, np.random.SeedSequence):
        return random_state
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool) and random_state >= 0:
        return np.random.SeedSequence(int(random_state))
    if (isinstance(random_state, (list, tuple)) and random_state
            and all(isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= 0 for v in random_state)):
        return np.random.SeedSequence([int(v) for v in random_state])  # e.g. (split seed, seed, size)
    if isinstance(random_state, np.random.Generator):
        return np.random.SeedSequence(int(random_state.integers(2**63)))
    if isinstance(random_state, np.random.RandomState):
        return np.random.SeedSequence(int(random_state.randint(2**31)))
    raise InvalidParameterError(
        f"random_state: expected None, a non-negative int, a SeedSequence or a numpy Generator, got {random_state!r}")


def int_seed(random_state: Any, bits: int = 31) -> int:
    """One integer seed below 2**bits drawn from :func:`seed_sequence` (for libraries that
    take an int: scikit-learn, xgboost, torch)."""
    return int(seed_sequence(random_state).generate_state(1, dtype=np.uint64)[0] % (1 << bits))
