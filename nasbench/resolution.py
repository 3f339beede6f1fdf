"""How finely a table resolves architectures: seed agreement overall and at the top, noise
versus spread, convergence and saturation, computed from per-seed results of unique trainings.

Every figure takes ``acc``, an (architectures x seeds) array of final validation accuracy
(one row per isomorphism class, i.e. per unique training), and optional ``weights``: how
many classes of the population each row stands for, when the rows are a stratified sample
(the calibration study samples the top more densely). With weights, ranks, quantiles and
means are weighted, so a figure estimates the one of the whole population; without them
every row counts once.

Definitions (the issue-9 targets in brackets):

- ``seed_spearman``: Spearman correlation of final validation accuracy between two seeds,
  mean over all seed pairs [>= 0.97].
- split halves: the seeds are split into two halves A and B (A the first ``k // 2`` seeds of
  a split, B the rest; every split of that size and both directions are averaged). The top
  ``q`` is selected by A's mean accuracy; ``top_spearman(q)`` is the Spearman correlation of
  A's and B's means inside it [top 10%: >= 0.7]; ``top_overlap(q)`` the share of A's top-q
  set that is also in B's [top 1%: >= 60%].
- ``top_spread`` / ``top_noise``: inside the top ``q`` by the all-seed mean, the standard
  deviation of that mean across architectures versus the seed noise, the root mean
  within-architecture variance across seeds (ddof 1) [spread > noise at the top 1%].
- ``last_gain``: median over architectures of the seed-mean validation gain over the last
  10% of epochs (at least one) [< 0.5 points: converged].
- ``best`` and ``top_span``: the best seed-mean accuracy and the max - min inside the top 1%
  [best clearly below 100, span of several points: not saturated].
- ``regret_floor``: the expected test regret of exhaustive search, which picks the best
  validation accuracy of one randomly drawn seed per architecture (as the oracle's
  trial="sample" does) and is scored by the seed-mean test accuracy.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from nasbench.resolution_record import (
    RESOLUTION_FILE,
    Resolution,
    read_resolution,
    resolution_lines,
    verdict,
    write_resolution,
)

__all__ = [
    "RESOLUTION_FILE", "Resolution", "read_resolution", "resolution_lines", "verdict", "write_resolution",
    "resolution", "weighted_spearman", "top_set", "seed_spearman", "top_agreement",
    "top_spread_noise", "last_gain", "regret_floor",
]


def _weights(n: int, weights: np.ndarray | None) -> np.ndarray:
    if weights is None:
        return np.ones(n)
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (n,) or not np.all(np.isfinite(w)) or np.any(w <= 0):
        raise ValueError(f"weights: need {n} positive finite numbers, got shape {w.shape}")
    return w


def _weighted_ranks(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Mid-ranks on the weight scale: the weight below a value plus half the weight at it."""
    order = np.argsort(x, kind="mergesort")
    xs, ws = x[order], w[order]
    starts = np.flatnonzero(np.r_[True, xs[1:] != xs[:-1]])
    tie_weight = np.add.reduceat(ws, starts)
    below = np.cumsum(tie_weight) - tie_weight
    group = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(xs)]))
    ranks = np.empty_like(x, dtype=np.float64)
    ranks[order] = (below + tie_weight / 2)[group]
    return ranks


def weighted_spearman(x: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Spearman correlation with row weights (the plain one when weights are equal)."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if len(x) < 3:
        return math.nan
    w = _weights(len(x), weights)
    rx, ry = _weighted_ranks(x, w), _weighted_ranks(y, w)
    mx, my = np.average(rx, weights=w), np.average(ry, weights=w)
    cov = np.average((rx - mx) * (ry - my), weights=w)
    var = np.average((rx - mx) ** 2, weights=w) * np.average((ry - my) ** 2, weights=w)
    return float(cov / math.sqrt(var)) if var > 0 else math.nan


def top_weights(score: np.ndarray, q: float, weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(indices, effective weights) of the top ``q`` share of the population by ``score``, best
    first. Rows are taken best first; the rows tied on the boundary share the weight left
    below ``q`` in proportion to their weights (each row's effective weight over its weight is
    the chance it is in the share under random tie-breaking), so neither row order nor a heavy
    row can decide or overshoot the share. At least 3 rows are kept, with their full weight
    when the share itself holds fewer (small unweighted inputs)."""
    if not 0 < q <= 1:
        raise ValueError(f"q: need a share in (0, 1], got {q!r}")
    w = _weights(len(score), weights)
    s = np.asarray(score, dtype=np.float64)
    order = np.argsort(-s, kind="mergesort")
    ranked, w_ranked = s[order], w[order]
    starts = np.flatnonzero(np.r_[True, ranked[1:] != ranked[:-1]])
    group_weight = np.add.reduceat(w_ranked, starts)
    above = np.cumsum(group_weight) - group_weight
    share = np.clip((q * w.sum() - above) / group_weight, 0, 1)  # 1 above the boundary, 0 below it
    effective = w_ranked * np.repeat(share, np.diff(np.r_[starts, len(ranked)]))
    count = min(max(3, int(np.count_nonzero(effective > 1e-12))), len(order))
    effective[:count] = np.where(effective[:count] > 1e-12, effective[:count], w_ranked[:count])
    return order[:count], effective[:count]


def top_set(score: np.ndarray, q: float, weights: np.ndarray | None = None) -> np.ndarray:
    """Indices of the top ``q`` share of the population by ``score`` (see :func:`top_weights`)."""
    return top_weights(score, q, weights)[0]


def seed_spearman(acc: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Mean Spearman correlation between the columns (seeds) of ``acc``, over all pairs."""
    pairs = list(itertools.combinations(range(acc.shape[1]), 2))
    if not pairs:
        return math.nan
    return float(np.mean([weighted_spearman(acc[:, i], acc[:, j], weights) for i, j in pairs]))


def _halves(k: int) -> list[tuple[list[int], list[int]]]:
    """Every (A, B) split of k seeds with |A| = k // 2 (the caller also swaps the roles)."""
    out = []
    for a in itertools.combinations(range(k), k // 2):
        b = [s for s in range(k) if s not in a]
        out.append((list(a), b))
    return out


def top_agreement(acc: np.ndarray, q: float, weights: np.ndarray | None = None) -> tuple[float, float]:
    """(Spearman of the two halves' means inside the top ``q`` of half A, weighted share of
    A's top-``q`` set also in B's), averaged over the splits of the seeds into halves. Rows
    tied on a set's boundary count with their chance of being in it (:func:`top_weights`),
    the two sets' tie-breaks independent, so the overlap is its expectation under random
    tie-breaking (pure seed noise on coarse accuracies gives about ``q``, not more)."""
    if acc.shape[1] < 2:
        return math.nan, math.nan
    w = _weights(len(acc), weights)
    rhos, overlaps = [], []
    for a, b in _halves(acc.shape[1]):
        for sel, other in ((a, b), (b, a)):
            ma, mb = acc[:, sel].mean(axis=1), acc[:, other].mean(axis=1)
            top_a, wa = top_weights(ma, q, w)
            top_b, wb = top_weights(mb, q, w)
            rhos.append(weighted_spearman(ma[top_a], mb[top_a], wa))
            in_b = np.zeros(len(acc))
            in_b[top_b] = wb / w[top_b]  # chance of being in B's set
            overlaps.append(float((wa * in_b[top_a]).sum() / wa.sum()))  # expected shared weight
    return float(np.nanmean(rhos)), float(np.mean(overlaps))


def top_spread_noise(acc: np.ndarray, q: float, weights: np.ndarray | None = None) -> tuple[float, float]:
    """(std of the seed-mean across the top ``q`` architectures, seed noise: root mean
    within-architecture variance across seeds), both weighted, inside the top ``q`` by mean."""
    mean = acc.mean(axis=1)
    top, wt = top_weights(mean, q, weights)
    center = np.average(mean[top], weights=wt)
    spread = math.sqrt(np.average((mean[top] - center) ** 2, weights=wt))
    if acc.shape[1] < 2:
        return spread, math.nan
    noise = math.sqrt(np.average(acc[top].var(axis=1, ddof=1), weights=wt))
    return spread, noise


def _weighted_median(x: np.ndarray, w: np.ndarray) -> float:
    """The value where the cumulative weight reaches half; the midpoint of the two values when
    it reaches exactly half (equal weights: ``np.median``)."""
    order = np.argsort(x, kind="mergesort")
    xs, cum = x[order], np.cumsum(w[order])
    half = cum[-1] / 2
    i = min(int(np.searchsorted(cum, half)), len(x) - 1)
    if i + 1 < len(x) and math.isclose(cum[i], half, rel_tol=1e-12):
        return float((xs[i] + xs[i + 1]) / 2)
    return float(xs[i])


def last_gain(curves: np.ndarray, weights: np.ndarray | None = None) -> float:
    """(Weighted) median over architectures of the seed-mean gain over the last 10% of
    epochs (at least one). ``curves`` is (architectures x seeds x epochs) validation accuracy."""
    epochs = curves.shape[-1]
    if epochs < 2:
        return math.nan
    back = max(1, int(round(0.1 * epochs)))
    gain = (curves[..., -1] - curves[..., -1 - back]).mean(axis=1)
    return _weighted_median(gain, _weights(len(gain), weights))


def regret_floor(acc: np.ndarray, test: np.ndarray, draws: int = 1000, seed: int = 0) -> tuple[float, float]:
    """(mean, std) over ``draws`` of the test regret of exhaustive search by one randomly drawn
    seed's validation accuracy per architecture, scored by the seed-mean test accuracy (the
    mean over architectures tied for the best validation accuracy). Unweighted: on a
    stratified sample it is the sample's floor, lower than the population's, which has more
    noisy rivals of the best."""
    rng = np.random.default_rng(seed)
    mean_test = test.mean(axis=1)
    best = float(mean_test.max())
    picks = rng.integers(0, acc.shape[1], size=(draws, acc.shape[0]))
    seen = np.take_along_axis(acc, picks.T, axis=1)  # (archs, draws)
    tied = seen == seen.max(axis=0)
    regrets = best - (tied * mean_test[:, None]).sum(axis=0) / tied.sum(axis=0)  # ties: their mean
    return float(regrets.mean()), float(regrets.std())


def resolution(acc: np.ndarray, test: np.ndarray, curves: np.ndarray,
               weights: np.ndarray | None = None) -> Resolution:
    """All figures from final validation ``acc`` and ``test`` (architectures x seeds) and the
    validation ``curves`` (architectures x seeds x epochs) of unique trainings."""
    acc, test, curves = (np.asarray(a, dtype=np.float64) for a in (acc, test, curves))
    if acc.ndim != 2 or test.shape != acc.shape or curves.shape[:2] != acc.shape:
        raise ValueError(f"acc, test: need equal (archs, seeds) shapes and curves (archs, seeds, epochs); "
                         f"got {acc.shape}, {test.shape}, {curves.shape}")
    if not (np.isfinite(acc).all() and np.isfinite(test).all()):
        raise ValueError("acc, test: need finite accuracies (a training diverged or is missing)")
    w = _weights(len(acc), weights)
    rho10, overlap10 = top_agreement(acc, 0.10, w)
    rho1, overlap1 = top_agreement(acc, 0.01, w)
    spread, noise = top_spread_noise(acc, 0.01, w)
    mean = acc.mean(axis=1)
    top1 = top_set(mean, 0.01, w)
    floor, floor_std = regret_floor(acc, test)
    median = _weighted_median(mean, w)
    return Resolution(
        archs=len(acc), seeds=acc.shape[1], seed_spearman=seed_spearman(acc, w),
        top10_spearman=rho10, top10_overlap=overlap10, top1_spearman=rho1, top1_overlap=overlap1,
        top1_spread=spread, top1_noise=noise, last_gain=last_gain(curves, w), best=float(mean.max()),
        median=median, top1_span=float(mean[top1].max() - mean[top1].min()),
        regret_floor=floor, regret_floor_std=floor_std,
    )


def table_arrays(table) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # noqa: ANN001 (a Table)
    """(final valid acc, final test acc, valid curves) of a table's unique trainings: the rows
    whose architecture is its own class's trained representative (``trained_as``)."""
    index = table.indices
    reps = index[table.scalar("trained_as")[index] == index]
    curves = table.curve("valid_acc")[reps]
    return curves[:, :, -1], table.curve("test_acc")[reps][:, :, -1], curves


def table_resolution(table) -> Resolution:  # noqa: ANN001 (a Table)
    """The resolution figures of a loaded table, over its unique trainings."""
    return resolution(*table_arrays(table))
