"""Surrogate models of a table: a fitted predictor of the whole validation learning curve,
the per-epoch cost and the test accuracy, plus a noise model of seed-to-seed variation,
stored as a checksummed, pickle-free artifact (:mod:`predictors.surrogate.artifact`).

Importing this package imports numpy only; fitting imports scikit-learn and scipy.
"""

from predictors.surrogate.artifact import SurrogateError, load, save, verify
from predictors.surrogate.model import SurrogateModel

__all__ = ["SurrogateError", "SurrogateModel", "load", "save", "verify"]
