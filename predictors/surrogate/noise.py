"""The surrogate's noise model: how far one training run's validation curve strays from
the architecture's mean curve, fitted on the table's seed-to-seed variation.

One trial is ``mean + std * z`` with ``z ~ N(0, R)``: ``std`` (per architecture and
epoch) and a global epoch-by-epoch correlation matrix ``R``, so a draw is a coherent whole
curve (the epochs' deviations are strongly correlated late in training).

The std. With 2-3 seeds an architecture's sample std is biased low and often exactly 0
(accuracies are quantised), so it is not regressed directly. Instead, per epoch,
``log(std**2 - floor**2)`` is linear in features, fitted by maximum likelihood of the
residuals about each architecture's seed mean: the residual sum of squares ``ss`` of an
architecture with ``k`` recorded seeds is ``std**2 * chi2(k - 1)``, whose likelihood
``ss / std**2 + (k - 1) log std**2`` is unbiased at any k and finite at ``ss = 0``
(an L2 penalty keeps the weights small). The features are the encoding plus a
piecewise-linear (hat) basis of the mean model's predicted value at that epoch: the
spread depends mostly on how far training got (near-chance cells barely move; mid-range
ones the most). ``floor`` is half the table's value resolution, so no draw is certain.

``R`` is the correlation of the standardised residuals ``r / (std * sqrt(1 - 1/k))`` over
all training (architecture, seed) pairs. scipy is imported only to fit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

KNOTS = 9  # hat functions over the range of mean values
NOISE_PENALTY = 1.0  # L2 penalty on the weights (the likelihood is summed over architectures)


def hat_basis(values: np.ndarray, knots: np.ndarray) -> np.ndarray:
    """(n, len(knots)) piecewise-linear interpolation weights of ``values`` on ``knots``."""
    v = np.clip(values, knots[0], knots[-1])
    position = np.interp(v, knots, np.arange(len(knots), dtype=np.float64))
    low = np.minimum(np.floor(position).astype(np.int64), len(knots) - 2)
    frac = position - low
    out = np.zeros((len(v), len(knots)))
    rows = np.arange(len(v))
    out[rows, low] = 1.0 - frac
    out[rows, low + 1] = frac
    return out


@dataclass(frozen=True)
class NoiseModel:
    """Per-epoch log-variance weights over [encoding, hat basis of the mean, 1], and R."""

    weights: np.ndarray  # (epochs, features + knots + 1)
    knots: np.ndarray  # (knots,)
    floor: float
    cholesky: np.ndarray  # (epochs, epochs) lower factor of R

    @property
    def correlation(self) -> np.ndarray:
        """The epoch-by-epoch correlation matrix R of one trial's deviations."""
        return self.cholesky @ self.cholesky.T

    def std(self, X: np.ndarray, mean: np.ndarray) -> np.ndarray:
        """(n, epochs) std of one trial about ``mean`` (n, epochs) for encodings ``X``."""
        out = np.empty(mean.shape)
        for e in range(mean.shape[1]):
            features = _features(X, mean[:, e], self.knots)
            out[:, e] = np.sqrt(self.floor**2 + np.exp(np.clip(features @ self.weights[e], -50.0, 50.0)))
        return out

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Name -> array mapping for an .npz."""
        return {"noise_weights": self.weights, "noise_knots": self.knots,
                "noise_floor": np.asarray(self.floor), "noise_cholesky": self.cholesky}

    @classmethod
    def from_arrays(cls, arrays: dict) -> NoiseModel:
        """Inverse of :meth:`to_arrays`."""
        return cls(np.asarray(arrays["noise_weights"]), np.asarray(arrays["noise_knots"]),
                   float(arrays["noise_floor"]), np.asarray(arrays["noise_cholesky"]))


def _features(X: np.ndarray, mean: np.ndarray, knots: np.ndarray) -> np.ndarray:
    return np.hstack([X, hat_basis(mean, knots), np.ones((len(X), 1))])


def _variance_loss(w: np.ndarray, F: np.ndarray, ss: np.ndarray, dof: np.ndarray, floor: float,
                   penalty: float) -> tuple[float, np.ndarray]:
    """Negative log-likelihood of residual sums of squares ``ss`` (``dof`` degrees of freedom)
    under variances ``floor**2 + exp(F @ w)``, plus an L2 penalty (not on the intercept); and its gradient."""
    g = np.exp(np.clip(F @ w, -50.0, 50.0))
    var = floor**2 + g
    nll = 0.5 * np.sum(ss / var + dof * np.log(var)) + 0.5 * penalty * (w[:-1] @ w[:-1])
    grad = F.T @ (0.5 * (dof - ss / var) * g / var)
    grad[:-1] += penalty * w[:-1]
    return float(nll), grad


def value_floor(curves: np.ndarray) -> float:
    """Half the smallest positive gap between distinct recorded values (their resolution)."""
    values = np.unique(curves[np.isfinite(curves)])
    gaps = np.diff(values)
    gaps = gaps[gaps > 1e-6]
    return float(gaps.min()) / 2 if len(gaps) else 1e-3


def fit_noise(X: np.ndarray, curves: np.ndarray, predicted_mean: np.ndarray, penalty: float = NOISE_PENALTY) -> NoiseModel:
    """Fit the noise model on training encodings ``X`` (n, f), their per-seed ``curves``
    (n, seeds, epochs; NaN where not recorded) and the mean model's ``predicted_mean`` (n, epochs)."""
    from scipy.optimize import minimize

    recorded = np.isfinite(curves).all(axis=2)  # (n, seeds)
    k = recorded.sum(axis=1)
    use = k >= 2
    X, curves, predicted_mean, recorded, k = X[use], curves[use], predicted_mean[use], recorded[use], k[use]
    if len(X) < 2:
        raise ValueError("the noise model needs architectures with at least 2 recorded seeds")
    seed_mean = np.nanmean(curves, axis=1)
    residual = np.where(recorded[:, :, None], curves - seed_mean[:, None, :], 0.0)
    ss = (residual**2).sum(axis=1)  # (n, epochs)
    dof = (k - 1).astype(np.float64)
    floor = value_floor(curves)
    knots = np.linspace(np.nanmin(predicted_mean), np.nanmax(predicted_mean), KNOTS)
    epochs = curves.shape[2]
    weights = np.zeros((epochs, X.shape[1] + KNOTS + 1))
    std = np.empty((len(X), epochs))
    for e in range(epochs):
        F = _features(X, predicted_mean[:, e], knots)
        start = np.zeros(F.shape[1])
        start[-1] = np.log(max(ss[:, e].sum() / max(dof.sum(), 1.0), floor**2))
        weights[e] = minimize(_variance_loss, start, args=(F, ss[:, e], dof, floor, penalty), jac=True,
                              method="L-BFGS-B", options={"maxiter": 500}).x
        std[:, e] = np.sqrt(floor**2 + np.exp(np.clip(F @ weights[e], -50.0, 50.0)))
    standard = residual / (std[:, None, :] * np.sqrt(1.0 - 1.0 / k)[:, None, None])
    rows = standard[recorded]  # (pairs, epochs)
    cov = rows.T @ rows / len(rows)
    scale = np.sqrt(np.maximum(np.diag(cov), 1e-12))
    corr = cov / np.outer(scale, scale)
    np.fill_diagonal(corr, 1.0)
    cholesky = np.linalg.cholesky(corr + 1e-9 * np.eye(epochs))
    cholesky /= np.linalg.norm(cholesky, axis=1, keepdims=True)  # unit variances exactly
    return NoiseModel(weights, knots, floor, cholesky)
