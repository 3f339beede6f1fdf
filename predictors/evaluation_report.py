"""Summaries of a predictor evaluation: means with 95% intervals over seeds, which variants
are tied with the best at each train size, and the printed tables.

Every variant is fitted on the same training cells for a given seed and size, so variants
are compared pairwise over seeds (paired t-test of Kendall's tau, Holm-corrected over the
comparisons with the best at that size). A variant whose difference from the best is not
significant at 5% is marked tied (``=``) rather than ranked below it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from nasbench.evaluation import mean_ci
from predictors.evaluation import METRICS

ALPHA = 0.05


def summarize(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (variant, train size): seeds, and per metric its mean, 95% low and high
    (Student's t over seeds; a bootstrap below 5 seeds), and mean fit / predict seconds."""
    import pandas as pd

    frame = pd.DataFrame.from_records(records)
    out = []
    for (label, size), group in frame.groupby(["label", "train_size"], sort=True):
        row: dict[str, Any] = {"label": label, "predictor": group["predictor"].iloc[0],
                               "features": group["features"].iloc[0], "train_size": int(size),
                               "seeds": int(len(group))}
        for metric in METRICS:
            mean, low, high, _ = mean_ci(group[metric].to_numpy(dtype=np.float64)[:, None])
            row[metric], row[f"{metric}_low"], row[f"{metric}_high"] = float(mean[0]), float(low[0]), float(high[0])
        row["fit_seconds"] = float(group["fit_seconds"].mean())
        row["predict_seconds"] = float(group["predict_seconds"].mean())
        row["fit_warnings"] = int(group["fit_warnings"].sum()) if "fit_warnings" in group else 0
        out.append(row)
    mark_ties(out, frame)
    return out


def mark_ties(summary: list[dict[str, Any]], frame: Any, metric: str = "kendall") -> None:
    """Set ``best`` on every summary row: "best", "=" (not significantly different from the
    best at its size, paired over seeds, Holm-corrected) or "" (significantly worse)."""
    from scipy import stats

    from nasbench.significance import holm

    for size in sorted({row["train_size"] for row in summary}):
        rows = [row for row in summary if row["train_size"] == size]
        leader = max(rows, key=lambda row: (np.nan_to_num(row[metric], nan=-np.inf), row["label"]))
        at_size = frame[frame["train_size"] == size].pivot(index="seed", columns="label", values=metric)
        others = [row for row in rows if row is not leader]
        p_values = []
        for row in others:
            pair = at_size[[leader["label"], row["label"]]].dropna()
            diff = pair.iloc[:, 0] - pair.iloc[:, 1]
            if len(pair) < 2 or np.all(diff == 0):
                p_values.append(1.0)
            else:
                p_values.append(float(stats.ttest_rel(pair.iloc[:, 0], pair.iloc[:, 1]).pvalue))
        leader["best"] = "best"
        for row, q in zip(others, holm(p_values) if p_values else []):
            row["best"] = "=" if (np.isnan(q) or q >= ALPHA) else ""


def tau_table(summary: Sequence[dict[str, Any]], metric: str = "kendall") -> list[str]:
    """Lines of a text table: variants by train size, mean ± 95% half-width; ``*`` marks the
    best at a size and ``=`` those tied with it."""
    sizes = sorted({row["train_size"] for row in summary})
    labels = sorted({row["label"] for row in summary}, key=lambda label: _order(summary, label, metric))
    cell = {(row["label"], row["train_size"]): row for row in summary}
    width = max(len(label) for label in labels) + 2
    lines = [f"{metric} on the held-out cells, mean ± 95% half-width over seeds "
             f"(* best at that size, = tied with it: paired t-test, Holm, 5%)",
             " " * width + "".join(f"{size:>14}" for size in sizes)]
    for label in labels:
        parts = []
        for size in sizes:
            row = cell.get((label, size))
            if row is None or np.isnan(row[metric]):
                parts.append(f"{'-':>14}")
                continue
            half = (row[f"{metric}_high"] - row[f"{metric}_low"]) / 2
            mark = {"best": "*", "=": "="}.get(row.get("best", ""), " ")
            parts.append(f"{row[metric]:>7.3f}±{half:.3f}{mark}".rjust(14))
        lines.append(f"{label:<{width}}" + "".join(parts))
    return lines


def detail_table(summary: Sequence[dict[str, Any]], size: int) -> list[str]:
    """Lines of a text table of every metric and the timings at one train size."""
    rows = sorted((row for row in summary if row["train_size"] == size), key=lambda row: -np.nan_to_num(row["kendall"]))
    if not rows:
        return []
    width = max(len(row["label"]) for row in rows) + 2
    head = "".join(f"{name:>22}" for name in METRICS)
    lines = [f"at {size} training architectures ({rows[0]['seeds']} seeds; 95% intervals):",
             f"{'':<{width}}{head}{'fit s':>9}{'predict s':>11}"]
    for row in rows:
        cells = "".join(_interval_cell(row, m) for m in METRICS)
        lines.append(f"{row['label']:<{width}}{cells}{row['fit_seconds']:>9.2f}{row['predict_seconds']:>11.3f}")
    return lines


def baseline_table(rows: Sequence[dict[str, Any]]) -> list[str]:
    """Lines of a text table of the untrained baselines on the same held-out cells."""
    if not rows:
        return []
    width = max(len(row["label"]) for row in rows) + 2
    names = ("kendall", "spearman", "p@10%", "p@1%")
    lines = ["no training, on the same held-out cells (95% bootstrap interval over cells):",
             f"{'':<{width}}" + "".join(f"{name:>22}" for name in names)]
    for row in sorted(rows, key=lambda row: -np.nan_to_num(row["kendall"])):
        lines.append(f"{row['label']:<{width}}" + "".join(_interval_cell(row, n) for n in names))
    return lines


def _interval_cell(row: dict[str, Any], metric: str) -> str:
    """``mean [low, high]`` right-aligned in 22 columns, a space apart even when negative."""
    return f" {row[metric]:.3f} [{row[metric + '_low']:.2f}, {row[metric + '_high']:.2f}]".rjust(22)


def _order(summary: Sequence[dict[str, Any]], label: str, metric: str) -> tuple[float, str]:
    """Sort key: best first by the metric at the largest train size."""
    largest = max(row["train_size"] for row in summary if row["label"] == label)
    value = next(row[metric] for row in summary if row["label"] == label and row["train_size"] == largest)
    return (-np.nan_to_num(value, nan=-np.inf), label)
