"""Held-out quality of a surrogate against its table, as NAS-Bench-301 reports it: R2,
Kendall tau and sparse Kendall tau (values rounded to 0.1 points before ranking) of the
mean predictions, and the calibration of the noise model on held-out seeds."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from nasbench.table.reader import Table
    from predictors.surrogate.model import SurrogateModel

COVERAGES = (0.5, 0.9)  # central intervals whose held-out coverage is reported
CURVE_LEVELS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99)  # the calibration plot's nominal levels


def split_indices(table: Table, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train, held out) indices of the table's architectures: a uniform sample of
    ``round(fraction * n)`` of them (at least 1, at most n - 1) drawn with ``seed``."""
    from nasbench.errors import InvalidParameterError

    if not 0.0 < fraction < 1.0:
        raise InvalidParameterError(f"train_fraction: expected a number in (0, 1), got {fraction!r}")
    present = table.indices
    count = min(max(round(fraction * len(present)), 1), len(present) - 1)
    chosen = np.random.default_rng(seed).choice(len(present), size=count, replace=False)
    mask = np.zeros(len(present), dtype=bool)
    mask[chosen] = True
    return present[mask], present[~mask]


def rank_scores(truth: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """R2, Kendall tau and sparse Kendall tau (both rounded to 0.1 first) of a prediction."""
    from scipy.stats import kendalltau
    from sklearn.metrics import r2_score

    return {"r2": float(r2_score(truth, predicted)),
            "kendall_tau": float(kendalltau(truth, predicted).statistic),
            "sparse_kendall_tau": float(kendalltau(np.round(truth, 1), np.round(predicted, 1)).statistic)}


def noise_calibration(model: SurrogateModel, table: Table, indices: np.ndarray) -> dict[str, Any]:
    """Fraction of held-out seed values inside the model's central intervals, two ways:
    ``noise`` (a seed's deviation from its architecture's seed mean, whose std is
    ``std * sqrt(1 - 1/k)``: the noise model alone) and ``predictive`` (a seed's value
    about the predicted mean: mean error and noise together; below nominal when the mean
    model errs). Also the rms of the standardised noise residuals (1 when calibrated)."""
    from scipy.stats import norm

    curves = table.curve("valid_acc")[indices].astype(np.float64)  # (n, seeds, epochs)
    recorded = np.isfinite(curves).all(axis=2)
    k = recorded.sum(axis=1)
    std = model.noise_std(indices)
    mean = model.mean_curves(indices)
    out: dict[str, Any] = {}
    use = k >= 2
    residual = curves[use] - np.nanmean(curves[use], axis=1, keepdims=True)
    standard = residual / (std[use][:, None, :] * np.sqrt(1 - 1 / k[use])[:, None, None])
    standard = standard[recorded[use]]  # (pairs, epochs)
    predictive = ((curves - mean[:, None, :]) / std[:, None, :])[recorded]
    for q in COVERAGES:
        z = norm.ppf(0.5 + q / 2)
        out[f"noise_coverage_{int(q * 100)}"] = float(np.mean(np.abs(standard) <= z)) if standard.size else None
        out[f"predictive_coverage_{int(q * 100)}"] = float(np.mean(np.abs(predictive) <= z))
    levels = np.asarray(CURVE_LEVELS)
    bounds = norm.ppf(0.5 + levels / 2)
    out["coverage_curve"] = {
        "nominal": levels.tolist(),
        "noise": [float(np.mean(np.abs(standard) <= z)) for z in bounds] if standard.size else None,
        "predictive": [float(np.mean(np.abs(predictive) <= z)) for z in bounds],
    }
    out["noise_rms_z"] = float(np.sqrt(np.mean(standard**2))) if standard.size else None
    out["noise_rms_z_per_epoch"] = np.sqrt(np.mean(standard**2, axis=0)).round(3).tolist() if standard.size else None
    return out


def held_out_metrics(model: SurrogateModel, table: Table, indices: np.ndarray) -> dict[str, Any]:
    """Everything above on the table's architectures ``indices`` (the ones not trained on)."""
    from nasbench.table.reader import nanmean_quiet

    indices = np.asarray(indices, dtype=np.int64)
    mean = model.mean_curves(indices)
    valid = nanmean_quiet(table.curve("valid_acc")[indices].astype(np.float64), axis=1)
    seconds = nanmean_quiet(table.cumulative_seconds()[indices], axis=1)
    predicted_seconds = model.cumulative_seconds(indices)
    return {
        "architectures": len(indices),
        "final_valid_acc": rank_scores(valid[:, -1], mean[:, -1]),
        "test_acc": rank_scores(table.final("test_acc")[indices].astype(np.float64), model.test_accuracy(indices)),
        "curve_r2_per_epoch": [round(rank_scores(valid[:, e], mean[:, e])["r2"], 4) for e in range(model.epochs)],
        "total_seconds": {
            "r2_log": rank_scores(np.log(seconds[:, -1]), np.log(predicted_seconds[:, -1]))["r2"],
            "sum_ratio": float(predicted_seconds[:, -1].sum() / seconds[:, -1].sum()),
        },
        "noise": noise_calibration(model, table, indices),
    }
