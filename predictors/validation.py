"""Input checks shared by this package's estimators, worded as scikit-learn words them."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from sklearn.utils.validation import check_array, check_is_fitted

from nasbench.errors import InvalidParameterError


def check_predict_input(estimator: Any, X: Any, fitted: str, **check: Any) -> np.ndarray:
    """``X`` as a checked 2-D array of the width ``estimator`` was fitted on (NotFittedError
    if ``fitted`` is not set yet; InvalidParameterError, a ValueError, on another width)."""
    check_is_fitted(estimator, fitted)
    X = check_array(X, **check)
    if X.shape[1] != estimator.n_features_in_:
        raise InvalidParameterError(f"X has {X.shape[1]} features, but {type(estimator).__name__} is expecting "
                                    f"{estimator.n_features_in_} features as input (as in fit)")
    return X


def bad_value(name: str, value: Any, expected: str) -> InvalidParameterError:
    """The error for hyperparameter ``name``: what was expected and what was given."""
    return InvalidParameterError(f"{name}: expected {expected}, got {value!r}")


def is_int(value: Any) -> bool:
    """An integer, not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    """A finite real number, not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and bool(np.isfinite(value))
