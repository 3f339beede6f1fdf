"""Pooling every cell's measured step time across similar cells (torch-free).

A single cell's step time, even as the fastest of a few steps on the CPU clock and the
median of two drift-corrected passes, carries ~5-10% noise on a shared machine, while
many members of an isomorphism class differ from their representative by less than that.
But cells that hold the same ops on most edges cost about the same, so the measurements
of all 15,625 cells can be pooled:

- a cost model, gradient-boosted trees (scikit-learn's HistGradientBoostingRegressor) on
  the one-hot op of each edge, predicts a cell's log step time; each cell's prediction is
  *out of fold* (5-fold cross-fitting), i.e. from a model that never saw that cell;
- each cell's estimate is the empirical-Bayes (best linear unbiased) combination of its
  own measurement ``y`` and the prediction ``m``, in log space: ``m + w (y - m)`` with
  ``w = tau2 / (tau2 + s2)``, ``s2`` the noise variance of a measurement (from the spread
  between passes) and ``tau2 = max(0, mean (y - m)^2 - s2)`` what the model misses. A
  cell the model gets wrong keeps its measurement to that extent; noise averages away.

Why trees and not an additive model: a least-squares fit of step time on the number of
live and dead edges per op explained 92% of the variance of nb201-mnist1d's measured step
times, but underestimated the cheap cells with 0-2 ops by up to 30%, and representatives
are exactly the cheapest members: its member/representative ratios came out 5-8% too high.
The trees' ratios were unbiased to ~1% on the same data (fit on one pass, checked against
the other).
With fewer than ``MIN_CELLS`` cells (tiny tables) the measurements are used as they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from nasbench.models.config import OPS

MIN_CELLS = 100
FOLDS = 5


def edge_onehot(ops: Sequence[Sequence[str]]) -> np.ndarray:
    """(cells, 6 x 5) one-hot op of each edge."""
    codes = np.asarray([[OPS.index(op) for op in cell] for cell in ops])
    return np.eye(len(OPS))[codes].reshape(len(codes), -1)


@dataclass(frozen=True)
class PooledFit:
    """How measured step times were pooled: the model's fit and the weight of a measurement."""

    used_model: bool
    r2: float  # out of fold, of the model on the measured log step times
    noise_cv: float  # noise of one cell's measurement (log sd ~ relative)
    residual_cv: float  # what the model misses (sqrt tau2, log sd)
    weight: float  # w: share of a cell's own measurement in its estimate

    def to_dict(self) -> dict:
        return {k: (None if isinstance(v, float) and not np.isfinite(v) else
                    round(float(v), 6) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def pooled_step_times(ops: Sequence[Sequence[str]], passes: np.ndarray, seed: int = 0) -> tuple[np.ndarray, PooledFit]:
    """Estimates of each cell's step time from its passes' times ``(passes, cells)``."""
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.model_selection import KFold, cross_val_predict
    from threadpoolctl import threadpool_limits

    passes = np.asarray(passes, dtype=np.float64)
    count, cells = passes.shape
    y = np.median(passes, axis=0)
    logs = np.log(passes)
    noise = float(np.mean(np.var(logs, axis=0, ddof=1)) / count) if count > 1 else 0.0
    if cells < MIN_CELLS:
        return y, PooledFit(False, float("nan"), float(np.sqrt(noise)), float("nan"), 1.0)
    target = np.log(y)
    model = HistGradientBoostingRegressor(max_iter=200, early_stopping=False, random_state=seed)
    with threadpool_limits(1):  # one core, like the rest of the generator's process (and reproducible)
        predicted = cross_val_predict(model, edge_onehot(ops), target, cv=KFold(FOLDS, shuffle=True, random_state=seed))
    residual = target - predicted
    tau2 = max(0.0, float(np.mean(residual**2)) - noise)
    weight = tau2 / (tau2 + noise) if tau2 + noise > 0 else 1.0
    fit = PooledFit(True, float(1 - np.var(residual) / np.var(target)) if np.var(target) > 0 else float("nan"),
                    float(np.sqrt(noise)), float(np.sqrt(tau2)), float(weight))
    return np.exp(predicted + weight * residual), fit
