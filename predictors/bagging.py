"""A bagged ensemble of any regressor: the mean of its members is the prediction, their
spread an uncertainty (as BANANAS needs from a predictor that has none of its own).

scikit-learn's ``BaggingRegressor`` does the bagging (bootstrap resamples, seeded per
member); this subclass only adds ``predict(X, return_std=True)``: the standard deviation
across members, each predicting on the features it was fitted on.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.ensemble import BaggingRegressor
from predictors.validation import check_predict_input


class BaggedEnsemble(BaggingRegressor):
    """``BaggingRegressor`` whose ``predict`` can also return the members' spread."""

    def predict_members(self, X: Any) -> np.ndarray:
        """(n_estimators, n_samples): every member's prediction."""
        X = check_predict_input(self, X, "estimators_", ensure_all_finite=False)  # as the members allow (xgboost: NaN)
        return np.stack([member.predict(X[:, features]) for member, features
                         in zip(self.estimators_, self.estimators_features_)]).astype(np.float64)

    def predict(self, X: Any, return_std: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """The members' mean; with ``return_std`` also their standard deviation."""
        members = self.predict_members(X)
        mean = members.mean(axis=0)
        return (mean, members.std(axis=0)) if return_std else mean

