"""Learning-curve extrapolation: the final accuracy from the first epochs plus the architecture.

Baker, Gupta, Raskar & Naik 2018, "Accelerating Neural Architecture Search using
Performance Prediction" (ICLR workshop): a nu-support-vector regressor (RBF kernel) on the
observed part of the validation curve, its first and second differences, and features of
the architecture. :func:`curve_features` builds the curve part from a table's curves;
:class:`LearningCurveSVR` is the regressor (standardised inputs and targets, so one C and
gamma suit accuracies in percent and encodings in {0, 1}). Baker et al. chose C, nu and
gamma by random search on each data set; the defaults here were chosen on nb201-digits.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.preprocessing import StandardScaler
from sklearn.svm import NuSVR
from sklearn.utils.validation import check_X_y

from nasbench.errors import InvalidParameterError
from nasbench.params import number_at_least
from predictors.validation import check_predict_input

CURVE_FRACTION = 0.25  # the share of epochs observed (Baker et al. report from 25% on)


def observed_epochs(epochs: int, fraction: float = CURVE_FRACTION) -> int:
    """Epochs seen by the predictor: ``ceil(fraction * epochs)``, at least 1, fewer than all."""
    if not 0 < fraction < 1:
        raise InvalidParameterError(f"curve fraction: expected a number in (0, 1), got {fraction!r}")
    if epochs < 2:
        raise InvalidParameterError(f"epochs: a learning curve to extrapolate needs at least 2 epochs, got {epochs}")
    return min(max(1, math.ceil(fraction * epochs)), epochs - 1)


def curve_features(curves: np.ndarray, observed: int) -> np.ndarray:
    """The first ``observed`` values of each row of ``curves`` (n, epochs), then their first
    and second differences (Baker et al.'s curve features): ``3 * observed - 3`` columns."""
    curves = np.asarray(curves, dtype=np.float64)
    if curves.ndim != 2 or not 1 <= observed <= curves.shape[1]:
        raise InvalidParameterError(f"observed: expected 1..{curves.shape[-1]} epochs of a 2-D curve array, "
                                    f"got {observed} for shape {curves.shape}")
    seen = curves[:, :observed]
    return np.concatenate([seen, np.diff(seen, n=1, axis=1), np.diff(seen, n=2, axis=1)], axis=1)


class LearningCurveSVR(RegressorMixin, BaseEstimator):
    """nu-SVR with an RBF kernel on standardised features and targets (Baker et al. 2018)."""

    def __init__(self, C: float = 3.0, nu: float = 0.5, gamma: float | str = "scale") -> None:
        self.C = C
        self.nu = nu
        self.gamma = gamma

    def fit(self, X: Any, y: Any) -> LearningCurveSVR:
        """Standardise X and y, fit the nu-SVR; returns self."""
        number_at_least("C", self.C, 0.0, strict=True)
        nu = number_at_least("nu", self.nu, 0.0, strict=True)
        if nu > 1:
            raise InvalidParameterError(f"nu: expected a number in (0, 1], got {self.nu!r}")
        if not (self.gamma in ("scale", "auto") or (number_at_least("gamma", self.gamma, 0.0, strict=True) > 0)):
            raise InvalidParameterError(f"gamma: expected 'scale', 'auto' or a number > 0, got {self.gamma!r}")
        X, y = check_X_y(X, y, dtype=np.float64, y_numeric=True)
        self.scaler_ = StandardScaler().fit(X)
        self.y_mean_ = float(np.mean(y))
        scale = float(np.std(y))
        self.y_scale_ = scale if scale > 0 else 1.0
        self.svr_ = NuSVR(C=float(self.C), nu=nu, gamma=self.gamma, kernel="rbf")
        self.svr_.fit(self.scaler_.transform(X), (y - self.y_mean_) / self.y_scale_)
        self.n_features_in_ = X.shape[1]
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Predicted targets, in the units of y."""
        X = check_predict_input(self, X, "svr_", dtype=np.float64)
        return self.svr_.predict(self.scaler_.transform(X)) * self.y_scale_ + self.y_mean_
