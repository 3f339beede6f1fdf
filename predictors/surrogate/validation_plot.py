"""Figures of the quality card, drawn from quality.json alone: regret curves on table and
surrogate side by side per run, the noise model's calibration, and held-out fit against the
training fraction."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


def plot_regret_pairs(quality: dict[str, Any], path: Path) -> Path:
    """One panel per run: mean regret (95% CI band) on the table and on the surrogate."""
    from nasbench.plotting import pyplot

    plt = pyplot()
    curves = quality["curves"]
    cols = min(4, len(curves))
    rows = int(np.ceil(len(curves) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3.4 * cols, 2.7 * rows), squeeze=False)
    for ax, (label, entry) in zip(axes.flat, curves.items()):
        for side, colour in (("table", "tab:blue"), ("surrogate", "tab:orange")):
            ax.plot(entry["at"], entry[side]["mean"], color=colour, label=side)
            ax.fill_between(entry["at"], entry[side]["low"], entry[side]["high"], color=colour, alpha=0.2,
                            linewidth=0)
        ax.set_xscale("log")
        ax.set_yscale("symlog", linthresh=0.1)
        ax.set_ylim(bottom=0)
        ax.set_title(label, fontsize=9)
        ax.set_xlabel("queries", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(curves):]:
        ax.axis("off")
    axes.flat[0].set_ylabel("regret or HV gap (points)", fontsize=8)
    axes.flat[0].legend(fontsize=7)
    fig.suptitle(f"surrogate {quality['surrogate']} vs table {quality['table']['name']}: mean over seeds, 95% CI",
                 fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_calibration(quality: dict[str, Any], path: Path) -> Path:
    """Reliability of the noise model on held-out cells: observed share of seed values inside
    each central interval against its nominal level (the diagonal is perfect calibration)."""
    from nasbench.plotting import pyplot

    plt = pyplot()
    curve = quality["kept"]["held_out"]["noise"]["coverage_curve"]
    fig, ax = plt.subplots(figsize=(4.2, 4))
    ax.plot([0, 1], [0, 1], color="grey", linewidth=1, linestyle=":", label="calibrated")
    if curve.get("noise"):
        ax.plot(curve["nominal"], curve["noise"], marker="o", label="seed about its seed mean (noise model)")
    ax.plot(curve["nominal"], curve["predictive"], marker="s", label="seed about the predicted mean")
    ax.set_xlabel("nominal central interval")
    ax.set_ylabel("observed share inside (held-out cells)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    ax.set_title(f"noise model of {quality['surrogate']}", fontsize=10)
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
