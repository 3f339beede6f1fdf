"""How well each zero-cost proxy ranks a table's architectures, with honest intervals.

For every proxy (sign applied, so higher always predicts better) and every init seed of the
proxy table: Spearman's rho and Kendall's tau against the table's final validation and test
accuracy (mean over training seeds), and precision at the top 10% and 1% (the share of the
proxy's top-k that is in the accuracy's top-k). Figures are the mean over init seeds; their
95% interval is a percentile bootstrap over architectures (the same resample for every seed
and proxy), and the spread across init seeds is reported beside it. Three subsets: all
architectures, unique ones (one per isomorphism class, its trained representative), and the
top half by the target. Non-finite scores are counted and left out of the statistics of
that proxy (never ranked silently); cells with no path from input to output are their own
group, reported apart. The vote is the Borda count (sum of within-seed ranks) of synflow,
jacob_cov and snip: the rank aggregate of Abdelfattah et al.'s majority vote.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from scipy import stats

VOTE = ("synflow", "jacob_cov", "snip")
TARGETS = ("valid_acc", "test_acc")
SUBSETS = ("all", "unique", "top-half")
STATISTICS = ("spearman", "kendall", "p@10%", "p@1%")


@dataclass
class ProxyFigures:
    """One proxy against one target on one subset: per statistic (mean, low, high, seed range)."""

    proxy: str
    target: str
    subset: str
    archs: int  # architectures in the subset with finite scores under every init seed
    non_finite: int  # architectures of the subset left out for a non-finite score
    figures: dict[str, tuple[float, float, float, float]] = field(default_factory=dict)


def connected(op_ids: np.ndarray) -> np.ndarray:
    """(n,) bool: NB201 cells with a path of non-'none' edges from input (node 0) to output (node 3)."""
    e = op_ids != 0  # op id 0 is 'none'; edges in string order (0,1) (0,2) (1,2) (0,3) (1,3) (2,3)
    reach1 = e[:, 0]
    reach2 = e[:, 1] | (reach1 & e[:, 2])
    return e[:, 3] | (reach1 & e[:, 4]) | (reach2 & e[:, 5])


def connected_cells(space: Any) -> np.ndarray:
    """(space.size,) bool: the cells with a path from input to output. Only NB201 has cells
    without one ('none' edges can cut every path); an NB101 cell is pruned to its live part,
    and a valid one always has a path."""
    if space.name == "nb201":
        from nasbench.spaces.nb201 import op_ids_by_index

        return connected(op_ids_by_index())
    return np.ones(space.size, dtype=bool)


def precision_at(score: np.ndarray, target: np.ndarray, fraction: float) -> float:
    """Share of the proxy's top ``fraction`` that is in the target's top ``fraction`` (a linear-time
    selection; ties at the cut-off are broken by position)."""
    k = max(1, int(round(fraction * len(score))))
    if k >= len(score):
        return 1.0
    top_proxy = np.argpartition(-score, k - 1)[:k]
    top_target = np.argpartition(-target, k - 1)[:k]
    return len(np.intersect1d(top_proxy, top_target, assume_unique=True)) / k


def _spearman_rows(scores: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Spearman rho of each row of ``scores`` (seeds, n) with ``target``: Pearson of average ranks."""
    ranks = stats.rankdata(scores, axis=1)
    ranks -= ranks.mean(axis=1, keepdims=True)
    t = stats.rankdata(target)
    t -= t.mean()
    return (ranks @ t) / np.sqrt((ranks * ranks).sum(axis=1) * (t @ t))


def _statistics(scores: np.ndarray, target: np.ndarray, kendall: bool) -> dict[str, np.ndarray]:
    out = {"spearman": _spearman_rows(scores, target),
           "p@10%": np.array([precision_at(s, target, 0.10) for s in scores]),
           "p@1%": np.array([precision_at(s, target, 0.01) for s in scores])}
    if kendall:
        out["kendall"] = np.array([stats.kendalltau(s, target).statistic for s in scores])
    return out


KENDALL_DRAWS = 25  # Kendall's tau is the slowest statistic: its interval uses the first 25 resamples


class ResampleRanks:
    """Average ranks of ``values`` within a bootstrap resample, from the counts of each
    element in it, without sorting again: one sort up front, then linear work per resample
    (rankdata on every resample was nearly all of ``correlate``'s time)."""

    def __init__(self, values: np.ndarray) -> None:
        order = np.argsort(values, kind="stable")
        ordered = values[order]
        group = np.concatenate([[0], np.cumsum(ordered[1:] != ordered[:-1])])  # tie groups, ascending
        self.group = np.empty(len(values), dtype=np.int64)
        self.group[order] = group
        self.groups = int(group[-1]) + 1 if len(values) else 0

    def ranks(self, counts: np.ndarray) -> np.ndarray:
        """Each element's average rank among the resample's copies (copies tie with each other)."""
        size = np.bincount(self.group, weights=counts, minlength=self.groups)
        return (np.cumsum(size) - size + (size + 1) / 2)[self.group]


def _weighted_pearson(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> float:
    # Element-wise sums, not BLAS dot products: OpenBLAS's threads stall on a loaded machine.
    total = w.sum()
    dx, dy = x - (w * x).sum() / total, y - (w * y).sum() / total
    wdx = w * dx
    return float((wdx * dy).sum() / np.sqrt((wdx * dx).sum() * ((w * dy) * dy).sum()))


def figures_for(scores: np.ndarray, target: np.ndarray, rng: np.random.Generator, draws: int) -> dict[str, tuple]:
    """``scores`` (seeds, n), ``target`` (n,): per statistic (mean over seeds, 95% low, high,
    max - min over seeds); the interval resamples architectures (one resample for all seeds;
    Kendall's from the first ``KENDALL_DRAWS`` of them, as it costs the most). Spearman's rho
    of a resample is the count-weighted Pearson of within-resample average ranks, the same
    number rankdata on the resampled arrays gives."""
    point = _statistics(scores, target, kendall=True)
    boot: dict[str, list[float]] = {name: [] for name in STATISTICS}
    n = len(target)
    row_ranks, target_ranks = [ResampleRanks(row) for row in scores], ResampleRanks(target)
    for draw in range(draws):
        pick = rng.integers(n, size=n)
        counts = np.bincount(pick, minlength=n).astype(np.float64)
        t = target_ranks.ranks(counts)
        boot["spearman"].append(float(np.mean([_weighted_pearson(r.ranks(counts), t, counts) for r in row_ranks])))
        resampled, target_resampled = scores[:, pick], target[pick]
        for fraction, name in ((0.10, "p@10%"), (0.01, "p@1%")):
            boot[name].append(float(np.mean([precision_at(s, target_resampled, fraction) for s in resampled])))
        if draw < KENDALL_DRAWS:
            boot["kendall"].append(float(np.mean([stats.kendalltau(s, target_resampled).statistic
                                                  for s in resampled])))
    out = {}
    for name in STATISTICS:
        values = point[name]
        low, high = np.percentile(boot[name], [2.5, 97.5]) if boot[name] else (np.nan, np.nan)
        out[name] = (float(values.mean()), float(low), float(high), float(values.max() - values.min()))
    return out


def bootstrap_spearman(scores: np.ndarray, target: np.ndarray, rng: np.random.Generator, draws: int) -> np.ndarray:
    """(draws,) the mean Spearman over init seeds of ``scores`` (seeds, n) against ``target`` with
    both noises of the figure resampled: the cells (with replacement) and the init seeds (with
    replacement). A row's non-finite scores weigh nothing. Two proxies scored on the same cells
    with generators seeded alike get the same resamples, so their draws are paired."""
    seeds, n = scores.shape
    finite = np.isfinite(scores)
    row_ranks, target_ranks = [ResampleRanks(row) for row in scores], ResampleRanks(target)
    out = np.empty(draws)
    for draw in range(draws):
        counts = np.bincount(rng.integers(n, size=n), minlength=n).astype(np.float64)
        rows = rng.integers(seeds, size=seeds)
        values = []
        for row in rows:
            weights = counts * finite[row]
            values.append(_weighted_pearson(row_ranks[row].ranks(weights), target_ranks.ranks(weights), weights))
        out[draw] = np.mean(values)
    return out


def vote_scores(scores: dict[str, np.ndarray]) -> np.ndarray | None:
    """(seeds, n) Borda count of the VOTE proxies (None unless all three are present); a member's
    non-finite score ranks last, and a cell none of them scored (a partial proxy table) gets NaN."""
    if not all(name in scores for name in VOTE):
        return None
    ranks = [np.apply_along_axis(stats.rankdata, 1, np.nan_to_num(scores[name], nan=-np.inf)) for name in VOTE]
    unscored = np.all([np.isnan(scores[name]) for name in VOTE], axis=0)
    return np.where(unscored, np.nan, np.sum(ranks, axis=0))


def correlate(scores: dict[str, np.ndarray], targets: dict[str, np.ndarray], unique: np.ndarray,
              is_connected: np.ndarray, draws: int = 100, seed: int = 0, progress: bool = False) -> list[ProxyFigures]:
    """Figures of every proxy (``scores``: name -> (seeds, n) sign-applied) against every target.

    ``unique`` (n,) bool marks one architecture per isomorphism class; ``is_connected`` (n,)
    the cells with an input-output path (the others are left to :func:`disconnected_group`)."""
    from tqdm.auto import tqdm

    out = []
    rng = np.random.default_rng(seed)
    for name, values in tqdm(scores.items(), desc="proxies", unit="proxy", disable=not progress, leave=False):
        finite = np.isfinite(values).all(axis=0)
        for target_name, target in targets.items():
            subsets = {"all": is_connected, "unique": is_connected & unique,
                       "top-half": is_connected & (target >= np.nanmedian(target[is_connected]))}
            for subset, mask in subsets.items():
                use = mask & finite & np.isfinite(target)
                fig = ProxyFigures(name, target_name, subset, int(use.sum()), int((mask & ~finite).sum()))
                if fig.archs >= 10:
                    fig.figures = figures_for(values[:, use], target[use], rng, draws)
                out.append(fig)
    return out


def disconnected_group(scores: dict[str, np.ndarray], targets: dict[str, np.ndarray],
                       is_connected: np.ndarray) -> dict[str, Any]:
    """The cells without an input-output path: how many, their accuracy, and per proxy their
    median score against the connected cells' (a proxy should put them at the bottom)."""
    group = ~is_connected
    out: dict[str, Any] = {"cells": int(group.sum())}
    for name, target in targets.items():
        out[f"median_{name}"] = float(np.nanmedian(target[group])) if group.any() else None
    out["proxies"] = {}
    for name, values in scores.items():
        with warnings.catch_warnings():  # a proxy with no finite score: NaN medians, reported as such
            warnings.simplefilter("ignore", RuntimeWarning)
            out["proxies"][name] = _group_medians(values, group, is_connected)
    return out


def _group_medians(values: np.ndarray, group: np.ndarray, is_connected: np.ndarray) -> dict[str, Any]:
    mean = np.nanmean(np.where(np.isfinite(values), values, np.nan), axis=0)
    lowest = np.nanmin(mean[is_connected]) if is_connected.any() else np.nan
    return {"median_disconnected": float(np.nanmedian(mean[group])) if group.any() else None,
            "median_connected": float(np.nanmedian(mean[is_connected])),
            "share_at_or_below_every_connected": float(np.mean(mean[group] <= lowest)) if group.any() else None}


def as_records(figures: Sequence[ProxyFigures]) -> list[dict[str, Any]]:
    """One flat dict per (proxy, target, subset, statistic), for JSON and Parquet."""
    rows = []
    for fig in figures:
        base = {k: v for k, v in asdict(fig).items() if k != "figures"}
        for name, (mean, low, high, spread) in fig.figures.items():
            rows.append({**base, "statistic": name, "mean": mean, "low": low, "high": high, "seed_range": spread})
    return rows
