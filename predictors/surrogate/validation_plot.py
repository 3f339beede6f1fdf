"""Figures of the quality card: regret curves on table and surrogate side by side per run,
and held-out fit against the training fraction."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np


def plot_regret_pairs(pairs: Sequence[Any], path: Path, name: str) -> Path:
    """One panel per run: mean regret (95% CI band) on the table and on the surrogate."""
    from nasbench.evaluation import summarize_by_queries
    from nasbench.plotting import pyplot

    plt = pyplot()
    cols = min(4, len(pairs))
    rows = int(np.ceil(len(pairs) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3.4 * cols, 2.7 * rows), squeeze=False, sharey=False)
    for ax, pair in zip(axes.flat, pairs):
        budget = min(len(c.regret) for c in pair.table.curves)
        at = np.unique(np.geomspace(1, budget, 40).astype(int))
        for result, colour, label in ((pair.table, "tab:blue", "table"), (pair.surrogate, "tab:orange", "surrogate")):
            s = summarize_by_queries(result.curves, at)
            ax.plot(s.at, s.mean, color=colour, label=label)
            ax.fill_between(s.at, s.low, s.high, color=colour, alpha=0.2, linewidth=0)
        ax.set_xscale("log")
        ax.set_yscale("symlog", linthresh=0.1)
        ax.set_ylim(bottom=0)
        ax.set_title(pair.label, fontsize=9)
        ax.set_xlabel("queries", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(pairs):]:
        ax.axis("off")
    axes.flat[0].set_ylabel("regret (points)", fontsize=8)
    axes.flat[0].legend(fontsize=7)
    fig.suptitle(f"surrogate {name} vs its table: mean regret, 95% CI over seeds", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_fractions(quality: dict[str, Any], path: Path) -> Path:
    """Held-out Kendall tau and R2 of the final test accuracy against the training fraction."""
    from nasbench.plotting import pyplot

    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.2))
    for sampler, marker in (("uniform", "o"), ("trajectories", "s")):
        rows = [r for r in quality["fractions"] if r["sampler"] == sampler and "held_out" in r]
        if not rows:
            continue
        x = [r["fraction"] for r in rows]
        for ax, key in zip(axes, ("kendall_tau", "r2")):
            ax.plot(x, [r["held_out"]["test_acc"][key] for r in rows], marker=marker, label=f"{sampler}: test")
            ax.plot(x, [r["held_out"]["final_valid_acc"][key] for r in rows], marker=marker, linestyle="--",
                    label=f"{sampler}: valid")
    for ax, label in zip(axes, ("Kendall tau (held out)", "R2 (held out)")):
        ax.set_xscale("log")
        ax.set_xlabel("training fraction of the table")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.suptitle(f"surrogate {quality['surrogate']}: held-out fit by training fraction", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
