"""Which strategies differ: Welch's t-test on the final regret of every pair, Holm-corrected.

Runs of different strategies are treated as independent samples over seeds, so the test is
Welch's unequal variance t-test. (Seed k of two strategies shares the oracle's stream of
seed draws, so their answers to the same query agree; strategies query different
architectures, so the pairing is weak, and if it correlates two runs positively Welch's
test only loses power.) The family of all pairs is corrected with Holm's step-down method, which
controls the family-wise error without assuming independence. scipy has the t-test but
not Holm's correction (only Benjamini-Hochberg), so the correction is written here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np
from scipy import stats

from nasbench.evaluation import FEW_SEEDS, summarize_by_queries
from nasbench.study import StudyResult

ALPHA = 0.05


@dataclass(frozen=True)
class PairTest:
    """Welch's test of mean(first) - mean(second), with its CI and the Holm-adjusted p-value."""

    first: str
    second: str
    difference: float  # mean of first - mean of second
    low: float  # 95% Welch confidence interval of the difference
    high: float
    p: float  # two-sided, unadjusted
    p_holm: float  # adjusted for every pair in the family

    def significant(self, alpha: float = ALPHA) -> bool:
        return self.p_holm < alpha


def final_values(result: StudyResult, at: int) -> np.ndarray:
    """Each seed's value (regret or hypervolume gap) after ``at`` queries, or after its last
    query if the run ended earlier (a seconds budget or a strategy that stops)."""
    return np.array([c.regret[min(at, len(c.regret)) - 1] for c in result.curves], dtype=np.float64)


def welch(a: np.ndarray, b: np.ndarray, confidence: float = 0.95) -> tuple[float, float, float, float]:
    """Mean difference, its Welch CI and the two-sided p-value; exact when both are constant."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if len(a) < 2 or len(b) < 2:
        raise ValueError(f"welch: needs at least 2 seeds per sample, got {len(a)} and {len(b)}")
    if np.ptp(a) == 0 and np.ptp(b) == 0:  # both constant: the difference is known exactly
        difference = float(a[0] - b[0])  # (a mean of equal floats can be 1 ulp off, and var() 1e-34)
        return difference, difference, difference, 1.0 if difference == 0 else 0.0
    difference = float(a.mean() - b.mean())
    test = stats.ttest_ind(a, b, equal_var=False)
    interval = test.confidence_interval(confidence)
    return difference, float(interval.low), float(interval.high), float(test.pvalue)


def holm(p_values: Sequence[float]) -> np.ndarray:
    """Holm's step-down adjusted p-values (monotone, capped at 1), in the input order."""
    p = np.asarray(p_values, dtype=np.float64)
    order = np.argsort(p, kind="stable")
    m = len(p)
    stepped = np.maximum.accumulate((m - np.arange(m)) * p[order])
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(stepped, 1.0)
    return adjusted


def pairwise_tests(samples: dict[str, np.ndarray]) -> list[PairTest]:
    """Every pair of labelled samples, tested and Holm-corrected as one family."""
    pairs = list(combinations(samples, 2))
    raw = [welch(samples[a], samples[b]) for a, b in pairs]
    adjusted = holm([r[3] for r in raw]) if raw else np.empty(0)
    return [PairTest(a, b, d, lo, hi, p, float(q)) for (a, b), (d, lo, hi, p), q in zip(pairs, raw, adjusted)]


def rank_ranges(names: Sequence[str], tests: Sequence[PairTest], lower_is_better: bool = True,
                alpha: float = ALPHA) -> dict[str, str]:
    """Each name's rank range given the significant pairs ("3" or "2-5"): from 1 + the number of
    names significantly better to the number not significantly worse. "Better" is closed under
    chains (A < B and B < C significant rank A above C even when the A-C pair alone is not:
    Welch's degrees of freedom and Holm's steps can leave it out), so a range holds exactly the
    ranks consistent with every significant pair."""
    better: dict[str, set[str]] = {name: set() for name in names}  # name -> names significantly better
    for t in tests:
        if t.significant(alpha):
            first_better = (t.difference < 0) == lower_is_better
            worse, superior = (t.second, t.first) if first_better else (t.first, t.second)
            better[worse].add(superior)
    changed = True
    while changed:  # transitive closure; a handful of names, so the plain fixed point is enough
        changed = False
        for name in names:
            implied = set().union(*(better[b] for b in better[name])) - better[name]
            if implied:
                better[name] |= implied
                changed = True
    out = {}
    for name in names:
        first, last = 1 + len(better[name]), len(names) - sum(1 for other in names if name in better[other])
        out[name] = str(first) if first == last else f"{first}-{last}"
    return out


def paired_bootstrap_tests(points: dict[str, float], draws: dict[str, np.ndarray]) -> list[PairTest]:
    """Every pair tested on paired bootstrap draws (the same resamples for every label): the
    difference of point estimates, the 95% percentile interval of the drawn differences, and a
    two-sided p from the normal approximation with the bootstrap standard error (resolves small
    p-values that a few hundred draws cannot count); Holm-corrected as one family."""
    pairs = list(combinations(points, 2))
    raw = []
    for a, b in pairs:
        diff = np.asarray(draws[a], dtype=np.float64) - np.asarray(draws[b], dtype=np.float64)
        point = float(points[a] - points[b])
        low, high = (float(v) for v in np.percentile(diff, [2.5, 97.5]))
        se = float(diff.std(ddof=1))
        p = (1.0 if point == 0 else 0.0) if se == 0 else float(2 * stats.norm.sf(abs(point) / se))
        raw.append((point, low, high, p))
    adjusted = holm([r[3] for r in raw]) if raw else np.empty(0)
    return [PairTest(a, b, d, lo, hi, p, float(q)) for (a, b), (d, lo, hi, p), q in zip(pairs, raw, adjusted)]


def significance_report(results: Sequence[StudyResult], labels: Sequence[str], at: int,
                        alpha: float = ALPHA) -> str:
    """Final values with their CIs, best first, and the pairs that differ after Holm's correction.

    Strategies whose differences are all inside the noise share a rank range instead of
    being ordered (:func:`rank_ranges`).
    """
    samples = {label: final_values(r, at) for label, r in zip(labels, results)}
    tests = pairwise_tests(samples)
    ranks = rank_ranges(list(samples), tests, lower_is_better=True, alpha=alpha)
    what = results[0].objective
    order = sorted(samples, key=lambda label: samples[label].mean())
    width = max(12, *(len(label) for label in samples))
    few = [label for label in samples if len(samples[label]) < FEW_SEEDS]
    kind = f" (fewer than {FEW_SEEDS} seeds, a rough t interval: {', '.join(few)})" if few else ""
    lines = [(f"Final {what} after {at} queries: mean and 95% CI over seeds{kind}; rank range from Welch tests, "
             f"Holm-corrected over {len(tests)} pairs (alpha {alpha:g})"),
             f"{'run':<{width}}  {'seeds':>5}  {what[:7]:>7}  {'95% CI':>16}  {'rank':>5}"]
    by_label = dict(zip(labels, results))
    for label in order:
        values = samples[label]
        summary = summarize_by_queries(by_label[label].curves, [at])  # the same interval as every report
        lines.append(f"{label:<{width}}  {len(values):>5}  {values.mean():7.2f}  "
                     f"[{summary.low[0]:6.2f}, {summary.high[0]:6.2f}]  {ranks[label]:>5}")
    found = [t for t in tests if t.significant(alpha)]
    lines += ["", f"Significant differences ({len(found)} of {len(tests)} pairs; difference = first - second):"]
    for t in sorted(found, key=lambda t: t.p_holm):
        lines.append(f"  {t.first} vs {t.second}: {t.difference:+.2f} [{t.low:+.2f}, {t.high:+.2f}], "
                     f"p = {t.p:.2g}, Holm p = {t.p_holm:.2g}")
    if not found:
        lines.append("  none: every pair is inside the noise at this many seeds")
    return "\n".join(lines)
