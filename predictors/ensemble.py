"""An ensemble of feed-forward regressors whose spread is a predictive uncertainty.

BANANAS (White, Neiswanger & Savani 2021, "BANANAS: Bayesian Optimization with Neural
Architectures for Neural Architecture Search", AAAI) calibrates its predictor with an
ensemble of 5 feed-forward networks that differ only in their random initialisation (and
minibatch order): the mean of their predictions is the estimate, the standard deviation
across members the uncertainty an acquisition function trades against it.

Members are scikit-learn ``MLPRegressor`` s (no torch). Defaults follow the paper where
scikit-learn allows (10 hidden layers of width 20, ReLU, Adam with learning rate 0.01, at
most 200 epochs) with two changes for speed, since a search refits the ensemble every 10
queries: minibatches of ``min(200, n)`` instead of 32, and scikit-learn's stop once the
training loss stalls for 10 epochs. Targets are standardised before fitting, so the
same initialisation and learning rate suit accuracies in percent or any other scale. The
loss is the squared error: ``MLPRegressor`` has no mean-absolute-error loss (the paper's).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor
from sklearn.utils.validation import check_X_y

from predictors.seeding import seed_sequence
from predictors.validation import bad_value, check_predict_input, is_int, is_number


class MLPEnsemble(RegressorMixin, BaseEstimator):
    """``n_models`` MLP regressors that differ by seed; predicts their mean and spread.

    Seeds of the members are spawned from ``numpy.random.SeedSequence(random_state)``, so
    the same ``random_state`` gives the same fitted ensemble. Learned attributes:
    ``estimators_``, ``seeds_``, ``y_mean_``, ``y_scale_``, ``n_features_in_``.
    """

    def __init__(
        self,
        n_models: int = 5,
        hidden_layer_sizes: Sequence[int] = (20,) * 10,
        learning_rate_init: float = 0.01,
        max_iter: int = 200,
        batch_size: int | str = "auto",
        alpha: float = 1e-4,
        tol: float = 1e-4,
        shuffle: bool = True,
        random_state: Any = None,
    ) -> None:
        self.n_models = n_models
        self.hidden_layer_sizes = hidden_layer_sizes
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.alpha = alpha
        self.tol = tol
        self.shuffle = shuffle
        self.random_state = random_state

    def _check_params(self) -> tuple[int, ...]:
        if not is_int(self.n_models) or self.n_models < 1:
            raise bad_value("n_models", self.n_models, "an integer >= 1")
        sizes = self.hidden_layer_sizes
        if is_int(sizes):
            sizes = (sizes,)
        if (isinstance(sizes, (str, bytes)) or not isinstance(sizes, Sequence) or len(sizes) == 0
                or not all(is_int(s) and s >= 1 for s in sizes)):
            raise bad_value("hidden_layer_sizes", self.hidden_layer_sizes, "a non-empty sequence of integers >= 1")
        if not is_number(self.learning_rate_init) or self.learning_rate_init <= 0:
            raise bad_value("learning_rate_init", self.learning_rate_init, "a number > 0")
        if not is_int(self.max_iter) or self.max_iter < 1:
            raise bad_value("max_iter", self.max_iter, "an integer >= 1")
        if self.batch_size != "auto" and not (is_int(self.batch_size) and self.batch_size >= 1):
            raise bad_value("batch_size", self.batch_size, "'auto' or an integer >= 1")
        if not is_number(self.alpha) or self.alpha < 0:
            raise bad_value("alpha", self.alpha, "a number >= 0")
        if not is_number(self.tol) or self.tol < 0:
            raise bad_value("tol", self.tol, "a number >= 0")
        if not isinstance(self.shuffle, (bool, np.bool_)):
            raise bad_value("shuffle", self.shuffle, "True or False")
        return tuple(int(s) for s in sizes)

    def fit(self, X: Any, y: Any) -> MLPEnsemble:
        """Fit every member on (X, standardised y); returns self."""
        sizes = self._check_params()
        sequence = seed_sequence(self.random_state)  # validates random_state too
        X, y = check_X_y(X, y, dtype=(np.float64, np.float32), y_numeric=True)
        y = np.asarray(y, dtype=np.float64)
        self.y_mean_ = float(y.mean())
        scale = float(y.std())
        self.y_scale_ = scale if scale > 0 else 1.0
        target = (y - self.y_mean_) / self.y_scale_
        batch = self.batch_size if self.batch_size == "auto" else min(int(self.batch_size), len(y))
        self.seeds_ = [int(child.generate_state(1)[0]) for child in sequence.spawn(self.n_models)]
        self.estimators_ = []
        with warnings.catch_warnings():  # hitting max_iter is the intended budget, not a fault
            warnings.simplefilter("ignore", ConvergenceWarning)
            for seed in self.seeds_:
                member = MLPRegressor(
                    hidden_layer_sizes=sizes, activation="relu", solver="adam",
                    learning_rate_init=float(self.learning_rate_init), max_iter=int(self.max_iter),
                    batch_size=batch, alpha=float(self.alpha), tol=float(self.tol),
                    shuffle=bool(self.shuffle), random_state=seed,
                )
                self.estimators_.append(member.fit(X, target))
        self.n_features_in_ = X.shape[1]
        self.n_iter_ = max(member.n_iter_ for member in self.estimators_)  # epochs of the longest-trained member
        return self

    def predict_members(self, X: Any) -> np.ndarray:
        """(n_models, n_samples): every member's prediction, in the units of y."""
        X = check_predict_input(self, X, "estimators_", dtype=(np.float64, np.float32))
        out = np.stack([member.predict(X) for member in self.estimators_]).astype(np.float64)
        return out * self.y_scale_ + self.y_mean_

    def predict_dist(self, X: Any) -> tuple[np.ndarray, np.ndarray]:
        """(mean, std) over the members for each row of X."""
        members = self.predict_members(X)
        return members.mean(axis=0), members.std(axis=0)

    def predict(self, X: Any, return_std: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """The members' mean prediction; with ``return_std`` also their standard deviation."""
        mean, std = self.predict_dist(X)
        return (mean, std) if return_std else mean
