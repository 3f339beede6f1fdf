"""Regret of a finished run, and summaries over seeds (mean and 95% confidence interval).

Regret after t queries = best final test accuracy in the table (mean over seeds) minus the
final test accuracy of the incumbent: the architecture with the best validation accuracy
the oracle returned so far (the first one on ties). Test accuracy is used only here, after
the search.

Under a latency limit only feasible architectures count: the best is the best feasible
one, the incumbent the best-validating feasible query; before the first feasible query
the incumbent is none (index -1) and the regret is the best feasible accuracy itself.

Intervals: Student's t for every column with 2 or more seeds. With fewer than 5 seeds the
interval is wide and rests on normality that so few values cannot check, and reports say so;
a bootstrap percentile interval would be worse there (with 2 seeds it is [min, max] of the
two, covering the mean about half the time). Regret and hypervolume gap are never negative,
nor is an interval's low end.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from typing import Any

from nasbench.benchmarks import Benchmark, as_benchmark
from nasbench.hardware import HardwareView
from nasbench.oracle import Trajectory


@dataclass(frozen=True)
class RegretCurve:
    """Regret after each query of one run."""

    seconds: np.ndarray  # simulated seconds elapsed after each query
    incumbents: np.ndarray  # incumbent architecture index after each query
    regret: np.ndarray  # percentage points

    @property
    def queries(self) -> np.ndarray:
        return np.arange(1, len(self.regret) + 1)


def incumbent_positions(values: np.ndarray) -> np.ndarray:
    """Position of the best value seen so far, for every prefix (first one on ties)."""
    values = np.asarray(values, dtype=np.float64)
    if len(values) == 0:
        return np.empty(0, dtype=np.int64)
    running = np.maximum.accumulate(values)
    improved = np.empty(len(values), dtype=bool)
    improved[0] = True
    improved[1:] = values[1:] > running[:-1]
    return np.maximum.accumulate(np.where(improved, np.arange(len(values)), 0))


def queried(benchmark: Benchmark, trajectory: Trajectory) -> np.ndarray | tuple[str, ...]:
    """The trajectory's architectures as the benchmark takes them: indices in an enumerable
    space (fast look-ups), canonical strings otherwise."""
    if benchmark.space.size is not None and (len(trajectory.indices) == 0 or trajectory.indices.min() >= 0):
        return trajectory.indices
    return trajectory.archs


def feasible_queries(hardware: HardwareView, archs: np.ndarray | tuple[str, ...]) -> np.ndarray:
    """(queries,) bool: which queried architectures meet ``hardware``'s latency limit."""
    if isinstance(archs, np.ndarray):
        return hardware.feasible_mask()[archs]
    return np.fromiter(map(hardware.feasible, archs), dtype=bool, count=len(archs))


def regret_curve(benchmark: Benchmark | Any, trajectory: Trajectory, hardware: HardwareView | None = None) -> RegretCurve:
    """Regret of a trajectory against the benchmark's best final test accuracy (a table or
    a surrogate; under the latency limit of a constrained ``hardware`` view, the best feasible)."""
    benchmark = as_benchmark(benchmark)
    archs = queried(benchmark, trajectory)
    test = np.asarray(benchmark.test_accuracy(archs), dtype=np.float64)
    best = benchmark.best_test_accuracy(hardware)
    if hardware is None or not hardware.constrained:
        positions = incumbent_positions(trajectory.values)
        return RegretCurve(trajectory.elapsed, trajectory.indices[positions], best - test[positions])
    ok = feasible_queries(hardware, archs)
    positions = incumbent_positions(np.where(ok, trajectory.values, -np.inf))
    found = ok[positions]
    incumbents = np.where(found, trajectory.indices[positions], -1)
    regret = np.where(found, best - test[positions], best)
    return RegretCurve(trajectory.elapsed, incumbents, regret)


FEW_SEEDS = 5  # seeds: intervals over fewer are marked as resting on normality
@dataclass(frozen=True)
class Summary:
    """Mean and 95% CI of regret over seeds at a set of points (see :func:`mean_ci`)."""

    at: np.ndarray  # queries or seconds
    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray
    n: np.ndarray  # seeds contributing at each point


def interval_kind(seeds: int) -> str:
    """The name of the interval :func:`mean_ci` gives over ``seeds`` seeds, for report headers."""
    return "CI (t, few seeds)" if seeds < FEW_SEEDS else "CI"


def mean_ci(samples: np.ndarray, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Column-wise mean, Student's t CI bounds and count of a (seeds, points) array with NaN
    for gaps; a column with one value gets no interval (NaN)."""
    n = np.sum(np.isfinite(samples), axis=0)
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns are reported as NaN
        mean = np.nanmean(samples, axis=0) if samples.size else np.full(samples.shape[1], np.nan)
        sd = np.nanstd(samples, axis=0, ddof=1) if samples.shape[0] > 1 else np.zeros(samples.shape[1])
        from scipy import stats  # ~0.3 s to import: only reports pay it

        half = stats.t.ppf(0.5 + confidence / 2, np.maximum(n - 1, 1)) * sd / np.sqrt(n)
    half = np.where(n > 1, half, np.nan)
    return mean, mean - half, mean + half, n


def summarize_by_queries(curves: Sequence[RegretCurve], at: Sequence[int]) -> Summary:
    """Regret after ``at`` queries (a run that stopped earlier keeps its last value)."""
    at = np.asarray(at, dtype=np.int64)
    samples = np.full((len(curves), len(at)), np.nan)
    for row, curve in enumerate(curves):
        if len(curve.regret):
            samples[row] = curve.regret[np.minimum(at, len(curve.regret)) - 1]
    return _nonnegative(at, samples)


def summarize_by_seconds(curves: Sequence[RegretCurve], at: Sequence[float]) -> Summary:
    """Regret after ``at`` simulated seconds.

    A seed with no finished query yet contributes nothing (NaN); a finished run keeps its
    final regret.
    """
    at = np.asarray(at, dtype=np.float64)
    samples = np.full((len(curves), len(at)), np.nan)
    for row, curve in enumerate(curves):
        done = np.searchsorted(curve.seconds, at, side="right") - 1
        ok = done >= 0
        samples[row, ok] = curve.regret[done[ok]]
    return _nonnegative(at, samples)


def _nonnegative(at: np.ndarray, samples: np.ndarray) -> Summary:
    """The Summary of regret-like samples (never negative): an interval's low end stops at 0."""
    mean, low, high, n = mean_ci(samples)
    return Summary(at, mean, np.where(low < 0, 0.0, low), high, n)


def query_checkpoints(budget: int) -> list[int]:
    """Readable checkpoints up to ``budget``: 1, 10, 25, 50, 100, 200, 300, 500, ... budget."""
    marks = [1, 10, 25, 50, 100, 150, 200, 300, 500, 1000, 2000, 5000, 10000]
    return sorted({m for m in marks if m < budget} | {budget})


def seconds_checkpoints(curves: Sequence[RegretCurve], points: int = 8) -> np.ndarray:
    """Log-spaced simulated-time checkpoints from when every run has a result to the last end."""
    ends = [c.seconds[-1] for c in curves if len(c.seconds)]
    starts = [c.seconds[0] for c in curves if len(c.seconds)]
    if not ends:
        return np.empty(0)
    lo, hi = max(max(starts), 1e-3), max(ends)
    return np.unique(np.geomspace(lo, hi, points)) if hi > lo else np.asarray([hi])
