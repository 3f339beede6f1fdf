"""The surrogate's regressor: an ensemble of scikit-learn MLPs fitted on standardised
multi-output targets, exported as plain weight arrays and evaluated with numpy.

scikit-learn is imported only by :func:`fit_mlp_ensemble`; a fitted ensemble is a dict of
arrays (``w{m}_{l}``, ``b{m}_{l}`` per member and layer, scalers ``x_mean``/``x_scale``/
``y_mean``/``y_scale``) that :class:`MLPWeights` evaluates (ReLU hidden layers, identity
output, the members' mean), so loading and predicting need numpy alone.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

#: the defaults, picked on nb201-mnist1d held-out cells; ``max_steps`` caps the minibatch
#: updates of one member (epochs = min(max_iter, max_steps / batches per epoch), at least 20),
#: so a fit on 50% of a table costs about what one on 5% does
MLP_DEFAULTS: dict[str, Any] = {"n_models": 5, "hidden_layer_sizes": (128, 128), "alpha": 1e-3,
                                    "learning_rate_init": 1e-3, "max_iter": 400, "max_steps": 3000, "batch_size": 128,
                                    "tol": 1e-5, "n_iter_no_change": 20}


@dataclass(frozen=True)
class MLPWeights:
    """A fitted MLP ensemble as arrays; ``predict`` is a numpy forward pass."""

    layers: tuple[tuple[tuple[np.ndarray, np.ndarray], ...], ...]  # per member, per layer (W, b)
    x_mean: np.ndarray
    x_scale: np.ndarray
    y_mean: np.ndarray
    y_scale: np.ndarray

    def predict(self, X: np.ndarray) -> np.ndarray:
        """(n, outputs) mean of the members' predictions, in the targets' units."""
        z = (np.asarray(X, dtype=np.float64) - self.x_mean) / self.x_scale
        total = np.zeros((len(z), len(self.y_mean)))
        for member in self.layers:
            h = z
            for depth, (w, b) in enumerate(member):
                h = h @ w + b
                if depth < len(member) - 1:
                    np.maximum(h, 0.0, out=h)
            total += h
        return total / len(self.layers) * self.y_scale + self.y_mean

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        """Flat name -> array mapping (for an .npz), every name starting with ``prefix``."""
        out = {f"{prefix}x_mean": self.x_mean, f"{prefix}x_scale": self.x_scale,
               f"{prefix}y_mean": self.y_mean, f"{prefix}y_scale": self.y_scale}
        for m, member in enumerate(self.layers):
            for depth, (w, b) in enumerate(member):
                out[f"{prefix}w{m}_{depth}"] = w
                out[f"{prefix}b{m}_{depth}"] = b
        return out

    @classmethod
    def from_arrays(cls, arrays: Any, prefix: str) -> MLPWeights:
        """Inverse of :meth:`to_arrays` (``arrays``: a dict or an open NpzFile)."""
        names = set(arrays.keys()) if hasattr(arrays, "keys") else set(arrays.files)
        members = []
        m = 0
        while f"{prefix}w{m}_0" in names:
            layers = []
            depth = 0
            while f"{prefix}w{m}_{depth}" in names:
                layers.append((np.asarray(arrays[f"{prefix}w{m}_{depth}"]), np.asarray(arrays[f"{prefix}b{m}_{depth}"])))
                depth += 1
            members.append(tuple(layers))
            m += 1
        if not members:
            raise KeyError(f"{prefix}w0_0")
        return cls(tuple(members), *(np.asarray(arrays[f"{prefix}{k}"]) for k in ("x_mean", "x_scale", "y_mean", "y_scale")))


def _scale(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = values.mean(axis=0)
    scale = values.std(axis=0)
    return mean, np.where(scale > 0, scale, 1.0)


def fit_mlp_ensemble(X: np.ndarray, Y: np.ndarray, seed: np.random.SeedSequence, **hyper: Any) -> MLPWeights:
    """Fit ``n_models`` MLPRegressors (members differ by seed) on standardised X and Y."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPRegressor
    from threadpoolctl import threadpool_limits

    params = {**MLP_DEFAULTS, **hyper}
    n_models = int(params.pop("n_models"))
    max_steps = int(params.pop("max_steps"))
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    x_mean, x_scale = _scale(X)
    y_mean, y_scale = _scale(Y)
    Xs, Ys = (X - x_mean) / x_scale, (Y - y_mean) / y_scale
    params["batch_size"] = min(int(params["batch_size"]), len(X))
    batches = -(-len(X) // params["batch_size"])
    params["max_iter"] = min(int(params["max_iter"]), max(-(-max_steps // batches), 20))
    params["hidden_layer_sizes"] = tuple(int(s) for s in params["hidden_layer_sizes"])
    members = []
    # one BLAS thread: these matrices are small, and threads contend badly on a busy machine
    with warnings.catch_warnings(), threadpool_limits(1):  # hitting max_iter is the budget, not a fault
        warnings.simplefilter("ignore", ConvergenceWarning)
        for child in seed.spawn(n_models):
            net = MLPRegressor(activation="relu", solver="adam", shuffle=True,
                               random_state=int(child.generate_state(1)[0] % (1 << 31)), **params)
            net.fit(Xs, Ys if Ys.shape[1] > 1 else Ys[:, 0])
            members.append(tuple((np.ascontiguousarray(w, dtype=np.float64), np.asarray(b, dtype=np.float64))
                                 for w, b in zip(net.coefs_, net.intercepts_)))
    return MLPWeights(tuple(members), x_mean, x_scale, y_mean, y_scale)
