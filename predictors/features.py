"""Feature matrices for predictors: an architecture encoding, optionally followed by zero-cost
proxy scores and the first epochs of the learning curve, for rows of a table.

Proxy scores span many orders of magnitude (synflow reaches 1e30, jacob_cov sits near
-1e5), so they enter as ``sign(s) * log1p(|s|)``: rank-preserving (what trees see is
unchanged) and in a range networks and kernels can use. A non-finite score becomes 0
after that transform; how many there were is counted by :func:`proxy_features`'s caller
through ``nasbench proxies correlate``. NAS-Bench-Suite-Zero (Krishnakumar et al. 2022)
appends the proxies to the encoding in the same way (there: raw values, trees only).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from nasbench.errors import InvalidParameterError, NasbenchError
from predictors.learning_curve import CURVE_FRACTION, curve_features, observed_epochs


@dataclass(frozen=True)
class FeatureSpec:
    """What a predictor is fitted on: an encoding, proxy scores, and learning-curve epochs."""

    encoding: str
    proxies: tuple[str, ...] = ()
    curve_fraction: float = 0.0  # 0: no curve; else the share of epochs observed (Baker et al.: 0.25)

    def describe(self) -> str:
        parts = [self.encoding]
        if self.proxies:
            parts.append(f"{len(self.proxies)} proxies")
        if self.curve_fraction:
            parts.append(f"first {self.curve_fraction:.0%} of the curve")
        return " + ".join(parts)


def signed_log(values: np.ndarray) -> np.ndarray:
    """``sign(v) * log1p(|v|)``, non-finite values as 0 (see the module docstring)."""
    values = np.asarray(values, dtype=np.float64)
    out = np.sign(values) * np.log1p(np.abs(values))
    return np.where(np.isfinite(out), out, 0.0)


def proxy_features(scores: dict[str, np.ndarray], names: Sequence[str], indices: np.ndarray) -> np.ndarray:
    """(len(indices), len(names)) signed-log proxy scores; ``scores[name]`` is indexed by arch."""
    missing = [name for name in names if name not in scores]
    if missing:
        raise NasbenchError(f"proxy {missing[0]!r}: no scores for it (scored: {', '.join(sorted(scores)) or 'none'})")
    return np.stack([signed_log(scores[name][indices]) for name in names], axis=1) if names else \
        np.zeros((len(indices), 0))


def mean_curves(table: Any, metric: str = "valid_acc") -> np.ndarray:
    """(size, epochs) mean over recorded seeds of a per-epoch column."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # unrecorded rows stay NaN
        return np.nanmean(table.curve(metric), axis=1)


def build_features(table: Any, indices: Sequence[int], spec: FeatureSpec,
                   proxy_scores: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """The feature matrix of ``spec`` for table rows ``indices`` (float64, one row each)."""
    indices = np.asarray(indices, dtype=np.int64)
    space = table.space
    if spec.encoding not in space.encodings:
        raise InvalidParameterError(f"encoding: {space.name} has encodings {', '.join(space.encodings)}, "
                                    f"got {spec.encoding!r}")
    blocks = [np.asarray(space.encode(list(indices), spec.encoding), dtype=np.float64)]
    if spec.proxies:
        blocks.append(proxy_features(proxy_scores or {}, spec.proxies, indices))
    if spec.curve_fraction:
        observed = observed_epochs(int(table.epochs), spec.curve_fraction)
        blocks.append(curve_features(mean_curves(table)[indices], observed))
    return np.concatenate(blocks, axis=1)


__all__ = ["CURVE_FRACTION", "FeatureSpec", "build_features", "mean_curves", "proxy_features", "signed_log"]
