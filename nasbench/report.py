"""Reports of finished studies: the anytime table printed by ``nasbench run``, the
comparison table of ``nasbench compare``, and PNG plots of the anytime curves.

Pure functions of :class:`~nasbench.study.StudyResult` objects (matplotlib is imported
only when a plot is drawn).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nasbench.atomic import atomic_path
from nasbench.evaluation import (
    FEW_SEEDS, interval_kind, query_checkpoints, seconds_checkpoints, summarize_by_queries,
    summarize_by_seconds,
)
from nasbench.study import StudyResult
from nasbench.table.manifest import SYNTHETIC_WARNING

__all__ = ["SYNTHETIC_WARNING", "anytime_report", "compare_report", "describe", "duration", "plot_anytime"]


def duration(seconds: float) -> str:
    """Simulated time in the unit a person reads best."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def describe(result: StudyResult) -> list[str]:
    """The header lines: table (or surrogate), strategy, seeds, budget, and the latency setting."""
    budget = result.budget
    limits = [f"{budget.queries} queries" if budget.queries else "", f"{budget.seconds:g} s" if budget.seconds else ""]
    seeds = result.seeds
    seed_text = f"{seeds[0]}..{seeds[-1]} ({len(seeds)})" if seeds else "none"
    kind = "surrogate" if result.benchmark == "surrogate" else "table    "
    lines = [
        f"{kind} {result.table} (sha256 {result.table_sha256[:16]})"
        + (f"  [{SYNTHETIC_WARNING}]" if result.synthetic else ""),
        f"strategy  {result.strategy} v{result.strategy_version}; seeds {seed_text}; "
        f"budget {' and '.join(x for x in limits if x)}; trial={result.trial}",
    ]
    if result.params:
        lines.append("params    " + ", ".join(f"{k}={v!r}" for k, v in sorted(result.params.items())))
    if result.latency_device is not None:
        limit = f" <= {result.max_latency:g} ms" if result.max_latency is not None else ""
        lines.append(f"latency   {result.latency_device}{limit}")
    if result.isolation is not None:
        lines.append(f"isolation {isolation_text(result.isolation)}")
    return lines


def isolation_text(isolation: dict) -> str:
    """How the strategy was kept from the table: its own process, the filesystem sandbox, the time limit."""
    if not isolation.get("process"):
        text = "none: the strategy ran inside nasbench's process"
    elif isolation.get("filesystem") == "landlock":
        text = "own process; Landlock sandbox: no table files readable"
    else:
        text = f"own process; no filesystem sandbox ({isolation.get('detail', 'unknown')})"
    limit = isolation.get("timeout_s")
    return text + (f"; time limit {limit:g} s per seed" if limit is not None else "")


def anytime_report(result: StudyResult) -> str:
    """The text table of ``nasbench run``: mean and 95% CI against queries and seconds, and a
    note when the mean rises between checkpoints."""
    curves = result.curves
    what = result.objective
    unit = "points" if what == "regret" else "% of the normalised box"
    if what == "regret":
        explain = "best test accuracy - incumbent's"
        if result.max_latency is not None:
            explain = "best feasible test accuracy - feasible incumbent's"
    else:
        explain = "true front's hypervolume - found front's, scored on test accuracy"
    lines = [*describe(result), "",
             (f"Anytime {what} ({explain}, in {unit}; mean and 95% {interval_kind(len(curves))} "
              f"over {len(curves)} seeds)"),
             f"{'queries':>8}  {what[:7]:>7}  {'95% CI':>16}  {'sim. time (median)':>18}"]
    if len(curves) < FEW_SEEDS:
        lines.insert(-1, f"(fewer than {FEW_SEEDS} seeds: a wide t interval that rests on normality so few values "
                         "cannot check, a rough guide; run more seeds to trust it)")
    longest = max(len(c.regret) for c in curves)
    by_queries = summarize_by_queries(curves, query_checkpoints(longest))
    for q, mean, lo, hi in zip(by_queries.at, by_queries.mean, by_queries.low, by_queries.high):
        elapsed = np.median([c.seconds[min(q, len(c.seconds)) - 1] for c in curves])
        lines.append(f"{q:>8}  {mean:7.2f}  [{lo:6.2f}, {hi:6.2f}]  {duration(elapsed):>18}")
    rises = rises_between(by_queries.mean)
    grid = distinct_times(seconds_checkpoints(curves))
    if len(grid):
        by_seconds = summarize_by_seconds(curves, grid)
        lines += ["", f"{'sim. time':>10}  {what[:7]:>7}  {'95% CI':>16}"]
        for t, mean, lo, hi in zip(by_seconds.at, by_seconds.mean, by_seconds.low, by_seconds.high):
            lines.append(f"{duration(t):>10}  {mean:7.2f}  [{lo:6.2f}, {hi:6.2f}]")
        rises = rises or rises_between(by_seconds.mean)
    if rises:
        chosen = "the incumbent is" if what == "regret" else "the found front is"
        pick = "pick" if what == "regret" else "member"
        lines += ["", (f"note: the mean {what} rises between some checkpoints: {chosen} chosen on noisy validation "
                       f"accuracy, so a later, better-validating {pick} can test worse")]
    return "\n".join(lines)


def distinct_times(grid: np.ndarray) -> np.ndarray:
    """The simulated-time checkpoints whose printed labels differ (the last of each repeat)."""
    labels = [duration(t) for t in grid]
    keep = [i for i in range(len(grid)) if i == len(grid) - 1 or labels[i] != labels[i + 1]]
    return np.asarray(grid)[keep]


def rises_between(means: np.ndarray) -> bool:
    """Whether a printed (2-decimal) mean is higher than the one at the checkpoint before."""
    shown = np.round(np.asarray(means, dtype=np.float64), 2)
    return bool(np.any(np.diff(shown) > 0))


def compare_report(
    results: Sequence[StudyResult], labels: Sequence[str], identities: Sequence[str] | None = None
) -> str:
    """One line per result: strategy, table, seeds, and the value at shared checkpoints.

    ``identities`` (default: each result's ``table_sha256``) are the tables' identities, so
    a caller can map legacy (whole-manifest) citations to the identity (``nasbench.table.cited_identity``).
    """
    cited = [r.table_sha256 for r in results] if identities is None else list(identities)
    tables = {(r.table, sha) for r, sha in zip(results, cited)}
    lines = []
    if len(tables) > 1:
        lines.append("note: these results come from different tables: " + ", ".join(sorted(t for t, _ in tables)))
    for label, result in zip(labels, results):
        if not result.complete:
            lines.append(f"note: {label} is a partial run: {len(result.seeds)} of its {len(result.planned_seeds)} "
                         "planned seeds finished (interrupted or failed)")
    longest = min(max(len(c.regret) for c in r.curves) for r in results)
    marks = [m for m in (10, 50, 100) if m < longest] + [longest]
    width = max(12, *(len(label) for label in labels))
    header = f"{'run':<{width}}  {'table':<18} {'seeds':>5}  " + "  ".join(f"{f'@{m}':>22}" for m in marks)
    few = [label for label, r in zip(labels, results) if len(r.seeds) < FEW_SEEDS]
    kind = f"; fewer than {FEW_SEEDS} seeds, a rough t interval: {', '.join(few)}" if few else ""
    lines += [f"Mean and 95% CI at each query count ({results[0].objective}{kind})", header]
    for label, result in zip(labels, results):
        summary = summarize_by_queries(result.curves, marks)
        cells = "  ".join(
            f"{mean:7.2f} [{lo:6.2f}, {hi:6.2f}]" for mean, lo, hi in zip(summary.mean, summary.low, summary.high)
        )
        lines.append(f"{label:<{width}}  {result.table:<18} {len(result.seeds):>5}  {cells}")
    return "\n".join(lines)


def plot_anytime(results: Sequence[StudyResult], labels: Sequence[str], path: str | Path) -> Path:
    """PNG of mean and 95% CI against queries (left) and simulated time (right, log axis)."""
    from nasbench.plotting import pyplot

    plt = pyplot()
    fig = anytime_figure(results, labels)
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)
    return path


def anytime_figure(results: Sequence[StudyResult], labels: Sequence[str]) -> Any:
    """The matplotlib figure of :func:`plot_anytime` (the caller saves and closes it)."""
    from nasbench.plotting import pyplot

    plt = pyplot()

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2), constrained_layout=True)
    means = [summarize_by_queries(r.curves, [max(len(c.regret) for c in r.curves)]).mean[0] for r in results]
    positive = [m for m in means if m > 0]
    floor = 0.5 * min(positive) if positive else 0.01  # log axis: CIs are cut at this floor
    for label, result in zip(labels, results):
        curves = result.curves
        longest = max(len(c.regret) for c in curves)
        by_q = summarize_by_queries(curves, np.arange(1, longest + 1))
        (line,) = left.plot(by_q.at, by_q.mean, label=label, drawstyle="steps-post")
        left.fill_between(by_q.at, np.maximum(by_q.low, floor), by_q.high, alpha=0.2, color=line.get_color(),
                          linewidth=0, step="post")
        grid = seconds_checkpoints(curves, points=120)
        if len(grid):
            by_s = summarize_by_seconds(curves, grid)
            right.plot(by_s.at, by_s.mean, color=line.get_color(), label=label, drawstyle="steps-post")
            right.fill_between(by_s.at, np.maximum(by_s.low, floor), by_s.high, alpha=0.2, color=line.get_color(),
                               linewidth=0, step="post")
    what = results[0].objective
    unit = "points" if what == "regret" else "% of box"
    left.set(xlabel="queries", ylabel=f"{what} ({unit})")
    left.set_yscale("log")
    right.set(xlabel="simulated training seconds", ylabel=f"{what} ({unit})", xscale="log")
    right.set_yscale("log")
    for axis in (left, right):
        axis.set_ylim(bottom=floor)
        axis.grid(True, which="both", alpha=0.3)
    left.legend(loc="upper right", fontsize="small")
    tables = sorted({r.table for r in results})
    synthetic = " [SYNTHETIC]" if any(r.synthetic for r in results) else ""
    boot = f" (< {FEW_SEEDS} seeds: rough t CI)" if any(len(r.seeds) < FEW_SEEDS for r in results) else ""
    fig.suptitle(f"Anytime {what}, mean and 95% CI over seeds{boot}: {', '.join(tables)}{synthetic}")
    return fig
