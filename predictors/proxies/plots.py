"""The correlation figure: a bar chart of each proxy's Spearman rho with its interval, and a
rank-rank scatter per proxy (proxy rank against accuracy rank, first init seed)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from scipy import stats

from nasbench.atomic import atomic_path
from nasbench.plotting import pyplot
from predictors.proxies.correlate import ProxyFigures


def plot_correlation(figures: Sequence[ProxyFigures], scores: dict[str, np.ndarray], target: np.ndarray,
                     keep: np.ndarray, path: Path, title: str) -> Path:
    """PNG at ``path``: bars (Spearman vs test accuracy, all connected cells, 95% interval) and
    rank-rank scatters; ``keep`` (n,) selects the cells the figures were computed on."""
    plt = pyplot()
    rows = sorted((f for f in figures if f.target == "test_acc" and f.subset == "all" and f.figures),
                  key=lambda f: f.figures["spearman"][0])
    names = [f.proxy for f in rows]
    cols = 4
    grid = math.ceil(len(names) / cols)
    fig = plt.figure(figsize=(4 * cols, 3.2 * (grid + 2)))
    bars = fig.add_subplot(grid + 2, 1, (1, 2))
    mean = np.array([f.figures["spearman"][0] for f in rows])
    low = np.array([f.figures["spearman"][1] for f in rows])
    high = np.array([f.figures["spearman"][2] for f in rows])
    bars.barh(names, mean, xerr=[mean - low, high - mean], color="tab:blue", capsize=3)
    bars.axvline(0, color="black", linewidth=0.8)
    bars.set_xlabel("Spearman rho vs test accuracy (mean over init seeds, 95% bootstrap interval)")
    bars.set_title(title)
    for i, name in enumerate(reversed(names)):
        ax = fig.add_subplot(grid + 2, cols, 2 * cols + i + 1)
        values, accuracy = scores[name][0][keep], target[keep]
        finite = np.isfinite(values) & np.isfinite(accuracy)
        ax.scatter(stats.rankdata(accuracy[finite]), stats.rankdata(values[finite]), s=1, alpha=0.3, rasterized=True)
        ax.set_title(f"{name} (rho {rows[len(rows) - 1 - i].figures['spearman'][0]:.2f})", fontsize=9)
        ax.set_xlabel("test accuracy rank", fontsize=8)
        ax.set_ylabel("proxy rank", fontsize=8)
        ax.tick_params(labelsize=7)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=80)
    plt.close(fig)
    return path
