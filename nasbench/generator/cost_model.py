"""Pooling every cell's measured step time with an additive cost model (torch-free).

A single cell's step time, even as the fastest of a few steps on the CPU clock and the
median of two drift-corrected passes, carries ~5-10% noise on a shared machine, while
most members of an isomorphism class differ from their representative by less than that.
But the step time of an NB201 cell is close to additive in what its edges compute:

- an edge whose output reaches the cell's output runs forward *and* backward;
- a "dead" edge (output never reaches the cell's output, so no gradient flows back)
  still runs forward (the builder computes every non-none edge);
- a node with several inputs adds them.

So the features of a cell are, per op (skip, 1x1 conv, 3x3 conv, pool), the number of
live and of dead edges holding it, plus the number of node additions. A least-squares fit
over all measured cells (15,625 on a full table; measured on nb201-mnist1d it explained
94% of the variance, the rest being about the measurement noise) gives each cell a
prediction ``m``. Each cell's estimate is then the empirical-Bayes (best linear unbiased)
combination of its measurement ``y`` and the prediction:
``m + w (y - m)``, ``w = tau2 / (tau2 + s2)``, where ``s2`` is the noise variance of a
cell's measurement (from the spread between passes) and ``tau2 = max(0, var(y - m) - s2)``
what the model misses. A cell whose cost the model gets wrong keeps its measurement to
that extent; noise is averaged away. With fewer than ``3 x`` features cells (tiny tables)
the measurements are used as they are (``w = 1``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from nasbench.models.config import EDGES

FEATURE_OPS = ("skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
FEATURES = (*(f"{op}_{kind}" for op in FEATURE_OPS for kind in ("live", "dead")), "node_additions")


def live_edges(ops: Sequence[str]) -> list[bool]:
    """Whether each edge's output reaches the cell output through non-none edges."""
    reaches = {3}
    for node in (2, 1):
        if any(ops[e] != "none" and frm == node and to in reaches for e, (frm, to) in enumerate(EDGES)):
            reaches.add(node)
    return [ops[e] != "none" and to in reaches for e, (_, to) in enumerate(EDGES)]


def cost_features(ops: Sequence[str]) -> np.ndarray:
    """Live and dead edge counts per op, and node additions (see the module doc)."""
    live = live_edges(ops)
    counts = [sum(1 for e, op in enumerate(ops) if op == name and live[e] == alive)
              for name in FEATURE_OPS for alive in (True, False)]
    inputs = [sum(1 for e, (_, to) in enumerate(EDGES) if to == node and ops[e] != "none") for node in (1, 2, 3)]
    return np.asarray([*counts, sum(max(0, n - 1) for n in inputs)], dtype=np.float64)


@dataclass(frozen=True)
class PooledFit:
    """How measured step times were pooled: the model's fit and the weight of a measurement."""

    used_model: bool
    r2: float  # of the cost model on the measured times
    noise_cv: float  # noise of one cell's measurement, relative to the mean step time
    residual_cv: float  # what the model misses (sqrt tau2), relative to the mean step time
    weight: float  # w: share of a cell's own measurement in its estimate
    coefficients: dict[str, float]  # seconds per feature (and "intercept")

    def to_dict(self) -> dict:
        out = asdict(self)
        for key in ("r2", "noise_cv", "residual_cv", "weight"):
            out[key] = None if not np.isfinite(out[key]) else round(float(out[key]), 6)
        out["coefficients"] = {k: float(v) for k, v in self.coefficients.items()}
        return out


def pooled_step_times(ops: Sequence[Sequence[str]], passes: np.ndarray) -> tuple[np.ndarray, PooledFit]:
    """Estimates of each cell's step time from its passes' times ``(passes, cells)``."""
    passes = np.asarray(passes, dtype=np.float64)
    count, cells = passes.shape
    y = np.median(passes, axis=0)
    noise = float(np.mean(np.var(passes, axis=0, ddof=1)) / count) if count > 1 else 0.0
    scale = float(np.mean(y))
    if cells < 3 * (len(FEATURES) + 1):
        return y, PooledFit(False, float("nan"), float(np.sqrt(noise) / scale), float("nan"), 1.0, {})
    design = np.column_stack([np.ones(cells), np.vstack([cost_features(o) for o in ops])])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    model = design @ coef
    residual = y - model
    rank = np.linalg.matrix_rank(design)
    tau2 = max(0.0, float(np.sum(residual**2) / (cells - rank)) - noise)
    weight = tau2 / (tau2 + noise) if tau2 + noise > 0 else 1.0
    estimate = model + weight * residual
    bad = estimate <= 0
    estimate[bad] = y[bad]  # never a non-positive time (only possible with a wild fit)
    fit = PooledFit(
        used_model=True, r2=float(1 - np.var(residual) / np.var(y)) if np.var(y) > 0 else float("nan"),
        noise_cv=float(np.sqrt(noise) / scale), residual_cv=float(np.sqrt(tau2) / scale), weight=float(weight),
        coefficients={"intercept": float(coef[0]), **{f: float(c) for f, c in zip(FEATURES, coef[1:])}},
    )
    return estimate, fit
