"""The figures of the leaderboard, a pure function of the tracks and their entries: per strategy
track, each entry's final objective (mean and 95% CI over seeds), the area under its anytime
curve, the queries and simulated seconds it takes to reach the benchmark's top 1%, and a rank
range from Welch tests with Holm's correction (entries inside the noise share ranks); across
tracks, average ranks with the Friedman test and Nemenyi's critical difference."""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nasbench.leaderboard.entries import entries_dir, open_benchmark
from nasbench.leaderboard.ranking import (
    CrossTrackRanking,
    area_under_curve,
    area_under_time,
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
    reached: float | None  # share of seeds whose incumbent reached the top 1% (None: no top 1% on the track)
    queries_to_top: float | None  # median over the seeds that reached it
    seconds_to_top: float | None
    rank: str  # "1" or a range "2-4" when the differences are inside the noise
    isolated: bool


@dataclass(frozen=True)
class Board:
    """Every strategy track's rows (best first), the cross-track ranking, and the tables of
    the proxy and predictor tracks (a header and rows of text each)."""

    tracks: tuple[Track, ...]
    rows: dict[str, tuple[Row, ...]]
    results: dict[str, dict[str, Any]]  # track -> entry name -> StudyResult (for the plots)
    cross: CrossTrackRanking | None
    cross_tracks: tuple[str, ...]
    other_tracks: tuple[Track, ...] = ()
    tables: dict[str, tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]] = field(default_factory=dict)


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


def _mean_ci(values: np.ndarray, floor: float | None = 0.0) -> tuple[float, float, float]:
    """Mean and 95% CI over seeds; ``floor`` cuts the low end (regret is never negative)."""
    from nasbench.evaluation import mean_ci

    mean, low, high, _ = mean_ci(np.asarray(values, dtype=np.float64)[:, None])
    low_value = float(low[0]) if floor is None else float(max(low[0], floor))
    return float(mean[0]), low_value, float(high[0])


def track_rows(track: Track, results: dict[str, Any], threshold: float | None) -> tuple[Row, ...]:
    """The rows of one track, best mean first."""
    from nasbench.significance import pairwise_tests, rank_ranges

    budget = track.queries or max(len(c.regret) for r in results.values() for c in r.curves)
    finals = {n: np.array([c.regret[min(budget, len(c.regret)) - 1] for c in r.curves]) for n, r in results.items()}
    ranks = rank_ranges(list(results), pairwise_tests(finals) if len(results) > 1 else [])
    rows = []
    for name, result in results.items():
        mean, low, high = _mean_ci(finals[name])
        if track.queries is None and track.seconds is not None:  # a seconds budget: the area over simulated time
            auc = np.array([area_under_time(c.regret, c.seconds, track.seconds) for c in result.curves])
        else:
            auc = np.array([area_under_curve(c.regret, budget) for c in result.curves])
        auc_mean, auc_low, auc_high = _mean_ci(auc)
        hits = [first_reaching(c.regret, threshold) if threshold is not None else None for c in result.curves]
        reached = [h for h in hits if h is not None]
        seconds = [float(c.seconds[h - 1]) for c, h in zip(result.curves, hits) if h is not None]
        rows.append(Row(name, result.strategy, len(result.curves), mean, low, high, auc_mean, auc_low, auc_high,
                        None if threshold is None else len(reached) / len(hits),
                        float(np.median(reached)) if reached else None,
                        float(np.median(seconds)) if seconds else None,
                        ranks[name],
                        bool((result.isolation or {}).get("process", False))))
    return tuple(sorted(rows, key=lambda r: (r.mean, r.name)))


def build_board(tracks: list[Track], root: str | Path | None = None, tables_dir: tuple[str, ...] = ()) -> Board:
    """Rows of every strategy track with entries, and the ranking across the tracks that share
    at least three strategies (entries named after the strategy, defaults only)."""
    rows, results, shown, other, tables = {}, {}, [], [], {}
    for track in tracks:
        if track.kind != "strategy":
            records = {p.stem: json.loads(p.read_text(encoding="utf-8"))
                       for p in sorted((entries_dir(root) / track.name).glob("*.json"))}
            if records:
                other.append(track)
                tables[track.name] = (proxy_table(records) if track.kind == "proxy"
                                      else predictor_table(records, track.train_sizes))
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
    return Board(tuple(shown), rows, results, cross, cross_tracks, tuple(other), tables)


def _ranked(samples: dict[str, np.ndarray], higher_better: bool = True,
            tests: list[Any] | None = None) -> dict[str, str]:
    """Rank ranges from Holm-corrected pairwise tests (a shared range: inside the noise): Welch
    tests of the samples unless ``tests`` (PairTests, first - second) are given."""
    from nasbench.significance import pairwise_tests, rank_ranges

    if tests is None and len(samples) > 1 and all(len(v) > 1 for v in samples.values()):
        with warnings.catch_warnings():  # a constant sample (params: the same for every init seed) is fine
            warnings.simplefilter("ignore", RuntimeWarning)
            tests = pairwise_tests(samples)
    return rank_ranges(list(samples), tests or [], lower_is_better=not higher_better)


def proxy_table(records: dict[str, dict[str, Any]]) -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    """Proxy entries, best first: Spearman with its paired bootstrap interval (cells and init
    seeds resampled; ranks from paired bootstrap tests, Holm-corrected) when every entry carries
    the same bootstrap, else the CI and Welch tests over init seeds; Kendall over init seeds."""
    from nasbench.significance import paired_bootstrap_tests

    spear = {n: np.array([r["spearman"] for r in e["records"]]) for n, e in records.items()}
    kend = {n: np.array([r["kendall"] for r in e["records"]]) for n, e in records.items()}
    protocols = {json.dumps({k: v for k, v in e.get("bootstrap", {}).items() if k != "spearman"}, sort_keys=True)
                 for e in records.values()}
    paired = all("bootstrap" in e for e in records.values()) and len(protocols) == 1
    draws = {n: np.asarray(e["bootstrap"]["spearman"]) for n, e in records.items()} if paired else {}
    ranks = _ranked(spear, tests=paired_bootstrap_tests({n: v.mean() for n, v in spear.items()}, draws)
                    if paired and len(records) > 1 else None)
    rows = []
    for name in sorted(records, key=lambda n: -spear[n].mean()):
        s, k = _mean_ci(spear[name], floor=None), _mean_ci(kend[name], floor=None)
        if paired:
            s = (s[0], *(float(v) for v in np.percentile(draws[name], [2.5, 97.5])))
        rows.append((ranks[name], name, f"{s[0]:.3f} [{s[1]:.3f}, {s[2]:.3f}]", f"{k[0]:.3f} [{k[1]:.3f}, {k[2]:.3f}]",
                     str(len(spear[name])), f"{records[name]['records'][0]['cells']:,}"))
    label = "Spearman, 95% CI (cells and init seeds resampled)" if paired else "Spearman, 95% CI over init seeds"
    return ("rank", "proxy", label, "Kendall, 95% CI over init seeds", "init seeds", "cells"), tuple(rows)


def predictor_table(records: dict[str, dict[str, Any]], sizes: tuple[int, ...]
                    ) -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    """Predictor entries: Kendall tau at each training size (mean and CI over seeds), ranked at the largest."""
    def taus(entry: dict[str, Any], size: int) -> np.ndarray:
        return np.array([r["kendall"] for r in entry["records"] if r["train_size"] == size])

    largest = max(sizes)
    ranks = _ranked({n: taus(e, largest) for n, e in records.items()})
    rows = []
    for name in sorted(records, key=lambda n: -taus(records[n], largest).mean()):
        cells = []
        for size in sizes:
            mean, low, high = _mean_ci(taus(records[name], size), floor=None)
            cells.append(f"{mean:.3f} [{low:.3f}, {high:.3f}]")
        rows.append((ranks[name], name, *cells))
    return ("rank", "predictor", *(f"tau @ {s}" for s in sizes)), tuple(rows)
