"""The figures of the leaderboard, a pure function of the tracks and their entries: per strategy
track, each entry's final objective (mean and 95% CI over seeds), the area under its anytime
curve, the queries and simulated seconds it takes to reach the benchmark's top 1%, and a rank
range from Welch tests with Holm's correction (entries inside the noise share ranks); across
tracks, average ranks with the Friedman test and Nemenyi's critical difference."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nasbench.leaderboard.entries import entries_dir, open_benchmark
from nasbench.leaderboard.ranking import (
    CrossTrackRanking,
    area_under_curve,
    first_reaching,
    rank_across_tracks,
    top_fraction_threshold,
)
from nasbench.leaderboard.tracks import Track


@dataclass(frozen=True)
class Row:
    """One entry on one track."""

    name: str
    strategy: str
    seeds: int
    mean: float
    low: float
    high: float
    auc: float
    auc_low: float
    auc_high: float
    reached: float  # share of seeds whose incumbent reached the top 1%
    queries_to_top: float | None  # median over the seeds that reached it
    seconds_to_top: float | None
    rank: str  # "1" or a range "2-4" when the differences are inside the noise
    isolated: bool


@dataclass(frozen=True)
class Board:
    """Every strategy track's rows (best first) and the cross-track ranking."""

    tracks: tuple[Track, ...]
    rows: dict[str, tuple[Row, ...]]
    results: dict[str, dict[str, Any]]  # track -> entry name -> StudyResult (for the plots)
    cross: CrossTrackRanking | None
    cross_tracks: tuple[str, ...]


def load_entries(track: Track, root: str | Path | None = None) -> dict[str, Any]:
    """entry name -> StudyResult of every entry of ``track`` (sorted by name)."""
    from nasbench.study import StudyResult

    folder = entries_dir(root) / track.name
    return {p.stem: StudyResult.load(p) for p in sorted(folder.glob("*.json"))} if folder.is_dir() else {}


def top_threshold(track: Track, tables_dir: tuple[str, ...] = ()) -> float | None:
    """Regret at which an incumbent is in the benchmark's top 1% (of the feasible cells under a
    latency limit); None for hypervolume tracks."""
    if track.objective == "hypervolume-gap":
        return None
    benchmark = open_benchmark(track, tables_dir)
    test = np.asarray(benchmark.final_test(), dtype=np.float64)
    if track.objective == "constrained-regret":
        hardware = benchmark.hardware(track.latency_device, track.max_latency_ms)
        test = np.where(hardware.feasible_mask(), test, np.nan)
    return top_fraction_threshold(test)


def _mean_ci(values: np.ndarray) -> tuple[float, float, float]:
    from nasbench.evaluation import mean_ci

    mean, low, high, _ = mean_ci(values[:, None])
    return float(mean[0]), float(max(low[0], 0.0)), float(high[0])


def track_rows(track: Track, results: dict[str, Any], threshold: float | None) -> tuple[Row, ...]:
    """The rows of one track, best mean first."""
    from nasbench.significance import pairwise_tests

    budget = track.queries or max(len(c.regret) for r in results.values() for c in r.curves)
    finals = {n: np.array([c.regret[min(budget, len(c.regret)) - 1] for c in r.curves]) for n, r in results.items()}
    better: dict[str, set[str]] = {n: set() for n in results}
    if len(results) > 1:
        for t in pairwise_tests(finals):
            if t.significant():
                low, high = (t.first, t.second) if t.difference < 0 else (t.second, t.first)
                better[high].add(low)
    rows = []
    for name, result in results.items():
        mean, low, high = _mean_ci(finals[name])
        auc = np.array([area_under_curve(c.regret, budget) for c in result.curves])
        auc_mean, auc_low, auc_high = _mean_ci(auc)
        hits = [first_reaching(c.regret, threshold) if threshold is not None else None for c in result.curves]
        reached = [h for h in hits if h is not None]
        seconds = [float(c.seconds[h - 1]) for c, h in zip(result.curves, hits) if h is not None]
        first = 1 + len(better[name])
        last = len(results) - sum(1 for other in results if name in better[other])
        rows.append(Row(name, result.strategy, len(result.curves), mean, low, high, auc_mean, auc_low, auc_high,
                        len(reached) / len(hits), float(np.median(reached)) if reached else None,
                        float(np.median(seconds)) if seconds else None,
                        str(first) if first == last else f"{first}-{last}",
                        bool((result.isolation or {}).get("process", False))))
    return tuple(sorted(rows, key=lambda r: (r.mean, r.name)))


def build_board(tracks: list[Track], root: str | Path | None = None, tables_dir: tuple[str, ...] = ()) -> Board:
    """Rows of every strategy track with entries, and the ranking across the tracks that share
    at least three strategies (entries named after the strategy, defaults only)."""
    rows, results, shown = {}, {}, []
    for track in tracks:
        if track.kind != "strategy":
            continue
        found = load_entries(track, root)
        if not found:
            continue
        shown.append(track)
        results[track.name] = found
        rows[track.name] = track_rows(track, found, top_threshold(track, tables_dir))
    shared = sorted(set.intersection(*(set(results[t.name]) for t in shown))) if shown else []
    cross, cross_tracks = None, ()
    if len(shared) >= 3 and len(shown) >= 2:
        scores = np.array([[next(r.mean for r in rows[t.name] if r.name == n) for n in shared] for t in shown])
        cross, cross_tracks = rank_across_tracks(shared, scores), tuple(t.name for t in shown)
    return Board(tuple(shown), rows, results, cross, cross_tracks)
