"""Do strategies rank the same on a surrogate as on its table? (NAS-Bench-301's test.)

Every table run given (a result file: strategy, hyperparameters, budget, seeds, trial mode)
is re-run with the same settings and seeds on the surrogate. Per run: mean final regret with
its interval on each benchmark; over runs: Kendall tau between the two rankings of mean
final regret (with a bootstrap interval over seeds) and, more honestly than tau alone,
how the pairs the TABLE separates significantly (Welch, Holm-corrected) are ordered on the
surrogate. Pairs inside the table's noise have no true order to reproduce.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from nasbench.evaluation import mean_ci
from nasbench.significance import final_values, pairwise_tests
from nasbench.study import StudyResult, run_study

RANKING_BOOTSTRAP = 2000
RANKING_SEED = 0


@dataclass(frozen=True)
class PairedRuns:
    """One strategy setting on both benchmarks, with the same seeds."""

    label: str
    table: StudyResult
    surrogate: StudyResult


def rerun_on(benchmark: Any, result: StudyResult, progress: bool = False) -> StudyResult:
    """``result``'s strategy, hyperparameters, budget, seeds and trial mode, run on ``benchmark``."""
    from strategies import get_strategy

    return run_study(get_strategy(result.strategy), benchmark, result.budget, result.seeds, params=result.params,
                     trial=result.trial, progress=progress, latency_device=result.latency_device,
                     max_latency=result.max_latency, objective="hypervolume" if result.multi_objective else "regret")


def paired_runs(surrogate: Any, table_results: dict[str, StudyResult],
                progress: Callable[[str], None] | None = None) -> list[PairedRuns]:
    """Every labelled table result re-run on ``surrogate``."""
    pairs = []
    for label, result in table_results.items():
        if progress is not None:
            progress(label)
        pairs.append(PairedRuns(label, result, rerun_on(surrogate, result)))
    return pairs


def kendall(a: np.ndarray, b: np.ndarray) -> float:
    from scipy.stats import kendalltau

    return float(kendalltau(a, b).statistic)


def ranking_agreement(pairs: Sequence[PairedRuns], at: int) -> dict[str, Any]:
    """Rank agreement of mean regret after ``at`` queries: tau with a seed-bootstrap 95%
    interval, and the table-significant pairs the surrogate orders the same way."""
    table = {p.label: final_values(p.table, at) for p in pairs}
    surrogate = {p.label: final_values(p.surrogate, at) for p in pairs}
    labels = list(table)
    t_means = np.array([table[k].mean() for k in labels])
    s_means = np.array([surrogate[k].mean() for k in labels])
    rng = np.random.default_rng(RANKING_SEED)
    draws = []
    for _ in range(RANKING_BOOTSTRAP):  # resample seeds within each run, on both benchmarks
        tb = [table[k][rng.integers(len(table[k]), size=len(table[k]))].mean() for k in labels]
        sb = [surrogate[k][rng.integers(len(surrogate[k]), size=len(surrogate[k]))].mean() for k in labels]
        draws.append(kendall(np.array(tb), np.array(sb)))
    low, high = np.nanpercentile(draws, [2.5, 97.5])
    table_tests = {(t.first, t.second): t for t in pairwise_tests(table)}
    surrogate_tests = {(t.first, t.second): t for t in pairwise_tests(surrogate)}
    separated = [key for key, t in table_tests.items() if t.significant()]
    same = [key for key in separated if np.sign(surrogate_tests[key].difference) == np.sign(table_tests[key].difference)]
    reversed_significantly = [key for key in separated if surrogate_tests[key].significant()
                              and np.sign(surrogate_tests[key].difference) != np.sign(table_tests[key].difference)]
    return {
        "at": at, "kendall_tau": kendall(t_means, s_means), "kendall_tau_ci": [float(low), float(high)],
        "bootstrap": RANKING_BOOTSTRAP, "pairs": len(table_tests),
        "table_significant_pairs": len(separated), "same_order": len(same),
        "reversed_significantly": [list(k) for k in reversed_significantly],
        "surrogate_significant_pairs": sum(t.significant() for t in surrogate_tests.values()),
    }


def run_summaries(pairs: Sequence[PairedRuns], at: int) -> list[dict[str, Any]]:
    """Per run: mean final regret and its 95% interval on the table and on the surrogate."""
    rows = []
    for p in pairs:
        row: dict[str, Any] = {"label": p.label, "strategy": p.table.strategy, "params": p.table.params,
                               "seeds": len(p.table.runs)}
        for side, result in (("table", p.table), ("surrogate", p.surrogate)):
            mean, low, high, _ = mean_ci(final_values(result, at)[:, None])
            row[side] = {"mean": float(mean[0]), "low": float(low[0]), "high": float(high[0])}
        rows.append(row)
    return rows


def regret_curves(pairs: Sequence[PairedRuns], points: int = 40) -> dict[str, Any]:
    """Per run: mean regret and its 95% interval on both benchmarks at ~``points`` query counts
    (log-spaced): what the card's side-by-side figure draws, kept so it can be redrawn."""
    from nasbench.evaluation import summarize_by_queries

    out = {}
    for p in pairs:
        budget = min(len(c.regret) for c in p.table.curves)
        at = np.unique(np.geomspace(1, budget, points).astype(int))
        entry: dict[str, Any] = {"at": at.tolist()}
        for side, result in (("table", p.table), ("surrogate", p.surrogate)):
            s = summarize_by_queries(result.curves, at)
            entry[side] = {k: np.round(getattr(s, k), 4).tolist() for k in ("mean", "low", "high")}
        out[p.label] = entry
    return out


SPLITS = 200  # random half-splits of the table's seeds for the split-half ceiling


def split_half_agreement(results: dict[str, StudyResult], at: int, splits: int = SPLITS) -> dict[str, Any]:
    """How well the table agrees with ITSELF: Kendall tau between the rankings of mean regret
    after ``at`` queries from two random halves of each run's seeds (``splits`` splits,
    seeded). Halves hold half the seeds, so this ceiling is, if anything, low; no benchmark
    can be expected to rank the runs more consistently with the table than the table does."""
    values = {label: final_values(result, at) for label, result in results.items()}
    rng = np.random.default_rng(RANKING_SEED)
    taus = []
    for _ in range(splits):
        first, second = [], []
        for v in values.values():
            order = rng.permutation(len(v))
            first.append(v[order[: len(v) // 2]].mean())
            second.append(v[order[len(v) // 2:]].mean())
        taus.append(kendall(np.array(first), np.array(second)))
    low, high = np.nanpercentile(taus, [2.5, 97.5])
    return {"at": at, "splits": splits, "kendall_tau_mean": float(np.nanmean(taus)), "range_95": [float(low), float(high)]}
