"""A Graph Isomorphism Network regressor on architecture DAGs (plain torch, no graph library).

GIN (Xu, Hu, Leskovec & Jegelka 2019, "How Powerful are Graph Neural Networks?", ICLR)
is as discriminative as the Weisfeiler-Lehman test; NAS-Bench-301 (Siems et al. 2020)
uses one as a surrogate of cell accuracy, and NASLib's graph predictors (Wen et al. 2020,
White et al. 2021) pass messages along and against the edges of the cell. This one reads
the space's ``graph`` encoding: each row is a V x V adjacency (row-major, ``A[i, j] = 1``
for an edge i -> j), then a V x T vertex-type one-hot, then any global features of the
architecture (zero-cost proxy scores, say), which are standardised, passed through a layer
of their own and concatenated to the graph readout before the output MLP.

Defaults were tuned on the shipped NB201 tables (nb201-mnist1d, nb201-digits): messages in
both edge directions (+0.04 to +0.05 Kendall tau over forward only), 4 layers of width 64,
and a pairwise ranking loss (RankNet's logistic loss on every pair of a minibatch, mapped
back to y by a least-squares line on the training set): with it, 50 epochs of minibatches
of 128 reach Kendall tau 0.83 at 200 cells and 0.87 at 1,000, where the squared error
reaches 0.74 and 0.86 (it needs 200 epochs of 64 to reach 0.83 at 200 cells). Fitting
1,000 NB201 cells takes about 7 s on one busy CPU core.

torch is imported by :mod:`predictors.gin_net` when the estimator is fitted or predicts,
never when this module is imported. The fitted weights are numpy arrays (``state_``), so
a fitted estimator pickles and clones without torch.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_array, check_is_fitted, check_X_y

from nasbench.errors import InvalidParameterError
from predictors.seeding import int_seed
from predictors.validation import bad_value, is_int, is_number

LOSSES = ("mse", "pairwise", "mse+pairwise")


def _is_bool(value: Any) -> bool:
    return isinstance(value, (bool, np.bool_))


def _calibrate(scores: np.ndarray, target: np.ndarray) -> tuple[float, float]:
    """(slope, intercept) of the least-squares line from scores to target. Without spread in
    either (one row, equal targets) it predicts the mean target; a slope <= 0 (nothing
    learned) falls back to standardising the scores, so ranks are never reversed."""
    spread = float(scores.std())
    if spread == 0 or float(target.std()) == 0:
        return 0.0, float(target.mean())
    slope = float(np.cov(scores, target, bias=True)[0, 1]) / spread**2
    if slope <= 0:
        slope = 1.0 / spread
    return slope, float(target.mean() - slope * scores.mean())


class GINPredictor(RegressorMixin, BaseEstimator):
    """GIN regressor on ``graph`` encodings (+ optional global features); ``predict`` in y's units.

    ``n_nodes`` and ``n_types`` give the graph's shape (``space.graph_shape``: (8, 7) for
    NB201). Targets are standardised in fit. All randomness (init and minibatch order) comes
    from ``random_state``: the same seed gives the same predictions, bit for bit, on
    one torch thread. Learned attributes: ``state_`` (weights as numpy arrays),
    ``net_config_``, ``y_mean_``, ``y_scale_``, ``extra_mean_``, ``extra_scale_``,
    ``calibration_`` (the ranking loss's line to y), ``loss_curve_``, ``seed_``, ``n_features_in_``.
    With ``n_nodes=1, n_types=1`` every column after the first two is a global feature:
    that is how scikit-learn's estimator checks (whose data have 1 to 10 columns) run it.
    """

    def __init__(
        self,
        n_nodes: int,
        n_types: int,
        hidden: int = 64,
        layers: int = 4,
        bidirectional: bool = True,
        jumping: bool = True,
        epochs: int = 50,
        batch_size: int = 128,
        learning_rate: float = 3e-3,
        weight_decay: float = 1e-4,
        loss: str = "pairwise",
        device: str = "cpu",
        random_state: Any = None,
    ) -> None:
        self.n_nodes = n_nodes
        self.n_types = n_types
        self.hidden = hidden
        self.layers = layers
        self.bidirectional = bidirectional
        self.jumping = jumping
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.loss = loss
        self.device = device
        self.random_state = random_state

    def _check_params(self) -> None:
        for name, low in (("n_nodes", 1), ("n_types", 1), ("hidden", 1), ("layers", 1), ("epochs", 1),
                          ("batch_size", 1)):
            value = getattr(self, name)
            if not is_int(value) or value < low:
                raise bad_value(name, value, f"an integer >= {low}")
        for name in ("bidirectional", "jumping"):
            if not _is_bool(getattr(self, name)):
                raise bad_value(name, getattr(self, name), "True or False")
        if not is_number(self.learning_rate) or self.learning_rate <= 0:
            raise bad_value("learning_rate", self.learning_rate, "a number > 0")
        if not is_number(self.weight_decay) or self.weight_decay < 0:
            raise bad_value("weight_decay", self.weight_decay, "a number >= 0")
        if self.loss not in LOSSES:
            raise bad_value("loss", self.loss, f"one of {', '.join(LOSSES)}")
        if not isinstance(self.device, str) or self.device.split(":")[0] not in ("cpu", "cuda"):
            raise bad_value("device", self.device, "'cpu', 'cuda' or 'cuda:N'")

    def _check_width(self, width: int) -> int:
        """The number of global features after the graph columns of a row ``width`` wide."""
        graph = self.n_nodes * self.n_nodes + self.n_nodes * self.n_types
        if width < graph:
            raise InvalidParameterError(
                f"n_nodes={self.n_nodes}, n_types={self.n_types}: the 'graph' encoding needs X of at least "
                f"{self.n_nodes}*{self.n_nodes} + {self.n_nodes}*{self.n_types} = {graph} features, "
                f"got {width} feature(s)")
        return width - graph

    def _check_device(self) -> None:
        if self.device.startswith("cuda"):
            import torch

            if not torch.cuda.is_available():
                raise bad_value("device", self.device, "'cpu' (torch sees no CUDA device here)")

    def fit(self, X: Any, y: Any) -> GINPredictor:
        """Train the network on (X, standardised y); returns self."""
        self._check_params()
        seed = int_seed(self.random_state)  # validates random_state too
        X, y = check_X_y(X, y, dtype=(np.float64, np.float32), y_numeric=True)
        n_extra = self._check_width(X.shape[1])
        self._check_device()
        from predictors import gin_net

        y = np.asarray(y, dtype=np.float64)
        self.y_mean_ = float(y.mean())
        scale = float(y.std())
        self.y_scale_ = scale if scale > 0 else 1.0
        extra = X[:, X.shape[1] - n_extra:].astype(np.float64)
        self.extra_mean_ = extra.mean(axis=0)
        spread = extra.std(axis=0)
        self.extra_scale_ = np.where(spread > 0, spread, 1.0)
        net = gin_net.NetConfig(
            n_nodes=int(self.n_nodes), n_types=int(self.n_types), n_extra=n_extra, hidden=int(self.hidden),
            layers=int(self.layers), bidirectional=bool(self.bidirectional), jumping=bool(self.jumping))
        training = gin_net.TrainConfig(
            epochs=int(self.epochs), batch_size=int(self.batch_size), learning_rate=float(self.learning_rate),
            weight_decay=float(self.weight_decay), loss=self.loss)
        inputs, target = self._inputs(X), (y - self.y_mean_) / self.y_scale_
        self.seed_ = seed
        self.net_config_ = net.as_dict()
        self.state_, self.loss_curve_ = gin_net.train(inputs, target, net, training, seed, self.device)
        self.calibration_ = (1.0, 0.0)
        if self.loss == "pairwise":  # the ranking loss fixes no scale: map scores to y by least squares
            self.calibration_ = _calibrate(gin_net.predict(inputs, self.state_, net, self.device), target)
        self.n_features_in_ = X.shape[1]
        return self

    def _inputs(self, X: np.ndarray) -> np.ndarray:
        """X with its global features standardised by the statistics of fit."""
        n_extra = len(self.extra_mean_)
        if n_extra == 0:
            return X
        out = np.array(X, dtype=np.float64)
        out[:, X.shape[1] - n_extra:] = (out[:, X.shape[1] - n_extra:] - self.extra_mean_) / self.extra_scale_
        return out

    def predict(self, X: Any) -> np.ndarray:
        """Predicted targets (float64, in the units of y) for the rows of X."""
        check_is_fitted(self, "state_")
        X = check_array(X, dtype=(np.float64, np.float32))
        if X.shape[1] != self.n_features_in_:
            raise InvalidParameterError(  # scikit-learn's wording, which its estimator checks expect
                f"X has {X.shape[1]} features, but {type(self).__name__} is expecting "
                f"{self.n_features_in_} features as input (as in fit)")
        self._check_device()
        from predictors import gin_net

        config = gin_net.NetConfig(**self.net_config_)
        out = gin_net.predict(self._inputs(X), self.state_, config, self.device)
        slope, intercept = self.calibration_
        return (out * slope + intercept) * self.y_scale_ + self.y_mean_
