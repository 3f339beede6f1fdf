"""Ranking entries without ranking noise: per-seed summaries of an anytime curve, and ranks
across tracks with the Friedman test and Nemenyi's critical difference (Demsar 2006).

Within a track, pairwise Welch tests with Holm's correction (nasbench.significance) decide
which entries differ; across tracks, entries are ranked per track (lower objective is
better, ties share the average rank), the Friedman test asks whether any differ at all, and
two entries whose average ranks differ by less than the critical difference are shown as tied.
scipy has the Friedman test and the studentized range distribution; the critical difference
and the grouping are written here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

ALPHA = 0.05


def area_under_curve(regret: np.ndarray, budget: int) -> float:
    """Mean regret over queries 1..budget (the normalised area under the anytime curve); a run
    that stopped early keeps its last value to the end."""
    regret = np.asarray(regret, dtype=np.float64)
    if len(regret) == 0:
        return float("nan")
    padded = np.concatenate([regret[:budget], np.full(max(0, budget - len(regret)), regret[-1])])
    return float(padded.mean())


def area_under_time(regret: np.ndarray, seconds: np.ndarray, budget_seconds: float, points: int = 200) -> float:
    """Mean regret over simulated time (0, budget_seconds] (the anytime curve of a seconds
    budget): at time t, the regret after the last query finished by t; before the first one
    finishes, that first query's regret (as ``area_under_curve`` pads a short run)."""
    regret, seconds = np.asarray(regret, dtype=np.float64), np.asarray(seconds, dtype=np.float64)
    if len(regret) == 0:
        return float("nan")
    grid = budget_seconds * np.arange(1, points + 1) / points
    done = np.searchsorted(seconds, grid, side="right") - 1
    return float(regret[np.maximum(done, 0)].mean())


def first_reaching(regret: np.ndarray, threshold: float) -> int | None:
    """The 1-based query at which regret first drops to ``threshold`` or below (None: never)."""
    hits = np.flatnonzero(np.asarray(regret, dtype=np.float64) <= threshold + 1e-12)
    return int(hits[0]) + 1 if len(hits) else None


def top_fraction_threshold(test_accuracies: np.ndarray, fraction: float = 0.01) -> float:
    """The regret at which the incumbent is in the benchmark's top ``fraction`` by test accuracy."""
    values = np.asarray(test_accuracies, dtype=np.float64)
    values = values[np.isfinite(values)]
    return float(values.max() - np.quantile(values, 1.0 - fraction))


def average_ranks(scores: np.ndarray) -> np.ndarray:
    """(entries,) mean over tracks of each entry's rank (1 = lowest score; ties averaged) from a
    (tracks, entries) array of scores where lower is better."""
    from scipy.stats import rankdata

    scores = np.asarray(scores, dtype=np.float64)
    return rankdata(scores, axis=1).mean(axis=0)


def friedman(scores: np.ndarray) -> tuple[float, float]:
    """(statistic, p) of the Friedman test over a (tracks, entries) array (needs >= 3 entries)."""
    from scipy.stats import friedmanchisquare

    scores = np.asarray(scores, dtype=np.float64)
    if scores.shape[1] < 3:
        raise ValueError(f"friedman: needs at least 3 entries, got {scores.shape[1]}")
    result = friedmanchisquare(*scores.T)
    return float(result.statistic), float(result.pvalue)


def critical_difference(entries: int, tracks: int, alpha: float = ALPHA) -> float:
    """Nemenyi's critical difference of average ranks: q_alpha * sqrt(k (k + 1) / (6 N)), with
    q_alpha the studentized range quantile for k groups (infinite df) divided by sqrt(2)."""
    from scipy.stats import studentized_range

    q = studentized_range.ppf(1.0 - alpha, entries, np.inf) / np.sqrt(2.0)
    return float(q * np.sqrt(entries * (entries + 1) / (6.0 * tracks)))


@dataclass(frozen=True)
class CrossTrackRanking:
    """Average ranks across tracks, the Friedman test and which entries are tied."""

    names: tuple[str, ...]
    ranks: tuple[float, ...]
    tracks: int
    statistic: float
    p: float
    cd: float
    tied: tuple[tuple[str, ...], ...]  # maximal groups whose ranks lie within one CD of each other

    def significant(self, alpha: float = ALPHA) -> bool:
        return self.p < alpha


def rank_across_tracks(names: Sequence[str], scores: np.ndarray, alpha: float = ALPHA) -> CrossTrackRanking:
    """Rank entries across tracks ((tracks, entries) scores, lower better), with the groups of
    entries that sit inside one critical difference (all of them when Friedman finds nothing)."""
    ranks = average_ranks(scores)
    statistic, p = friedman(scores)
    cd = critical_difference(len(names), scores.shape[0], alpha)
    order = np.argsort(ranks, kind="stable")
    groups: list[tuple[str, ...]] = []
    if p >= alpha:
        groups = [tuple(names[i] for i in order)]
    else:
        for start in range(len(order)):
            end = start
            while end + 1 < len(order) and ranks[order[end + 1]] - ranks[order[start]] < cd:
                end += 1
            group = tuple(names[i] for i in order[start:end + 1])
            if len(group) > 1 and not any(set(group) <= set(g) for g in groups):
                groups.append(group)
    return CrossTrackRanking(tuple(names), tuple(float(r) for r in ranks), int(scores.shape[0]), statistic, p, cd,
                             tuple(groups))
