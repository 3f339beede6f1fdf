"""The predictor figure: Kendall's tau on the held-out cells against the number of training
architectures (log x), one line per variant with its 95% band, and the untrained baselines
(#params, the best proxy, the oracle) as horizontal lines."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nasbench.atomic import atomic_path
from nasbench.plotting import pyplot


def plot_tau(summary: Sequence[dict[str, Any]], baselines: Sequence[dict[str, Any]], path: Path, title: str,
             metric: str = "kendall") -> Path:
    """PNG at ``path`` (see the module docstring)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 5))
    labels = sorted({row["label"] for row in summary})
    bases = sorted({label.removesuffix("+proxies") for label in labels})  # a colour per predictor
    palette = plt.get_cmap("tab10")
    for label in labels:
        colour = palette(bases.index(label.removesuffix("+proxies")) % 10)
        rows = sorted((row for row in summary if row["label"] == label), key=lambda row: row["train_size"])
        x = np.array([row["train_size"] for row in rows])
        y = np.array([row[metric] for row in rows])
        style = "--" if label.endswith("+proxies") else "-"
        ax.plot(x, y, style, marker="o", markersize=3, color=colour, label=label)
        ax.fill_between(x, [row[f"{metric}_low"] for row in rows], [row[f"{metric}_high"] for row in rows],
                        color=colour, alpha=0.15, linewidth=0)
    ax.set_xscale("log")
    sizes = sorted({row["train_size"] for row in summary})
    ax.set_xticks(sizes, [str(size) for size in sizes])
    ax.minorticks_off()
    for row in _reference_lines(baselines):
        ax.axhline(row[metric], color="grey", linestyle=":", linewidth=1)
        ax.text(0.01, row[metric], f" {row['label']}", transform=ax.get_yaxis_transform(), fontsize=7,
                color="dimgrey", va="bottom")
    ax.set_xlabel("training architectures")
    ax.set_ylabel("Kendall tau vs test accuracy (held-out cells)" if metric == "kendall" else metric)
    ax.set_title(title, fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, ncol=2, loc="lower right")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=90)
    plt.close(fig)
    return path


def _reference_lines(baselines: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """#params, the oracle and the best proxy (by Kendall), if present."""
    keep = [row for row in baselines if not row["label"].startswith("proxy ")]
    proxies = [row for row in baselines if row["label"].startswith("proxy ") and np.isfinite(row["kendall"])]
    if proxies:
        keep.append(max(proxies, key=lambda row: row["kendall"]))
    return keep
