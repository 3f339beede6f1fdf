"""The critical-difference diagram of Demsar (2006): entries on an axis of average rank (best
on the left), the critical difference drawn to scale above it, and a thick bar joining each
group of entries that lie within one critical difference (tied). matplotlib has no such plot
and the packages that draw one (scikit-posthocs, Orange) are not dependencies; it is a few
lines here."""

from __future__ import annotations

from typing import Any

import numpy as np

from nasbench.leaderboard.ranking import CrossTrackRanking


def cd_figure(ranking: CrossTrackRanking) -> Any:
    """A matplotlib Figure of ``ranking``'s average ranks, critical difference and tied groups."""
    from nasbench.plotting import pyplot

    plt = pyplot()
    k = len(ranking.names)
    order = np.argsort(ranking.ranks, kind="stable")
    left = order[: (k + 1) // 2]  # the better half is labelled on the left, the rest on the right
    right = order[(k + 1) // 2:]
    rows = max(len(left), len(right))
    fig, ax = plt.subplots(figsize=(7.0, 1.6 + 0.32 * (rows + len(ranking.tied))))
    low, high = 1, k
    ax.set_xlim(low - 0.3 - 0.45 * k, high + 0.3 + 0.45 * k)  # room for the labels
    top = 1.0
    ax.plot([low, high], [top, top], color="black", lw=1)
    for r in range(low, high + 1):
        ax.plot([r, r], [top, top + 0.06], color="black", lw=1)
        ax.text(r, top + 0.1, str(r), ha="center", va="bottom", fontsize=9)
    cd_y = top + 0.45
    ax.plot([low, low + ranking.cd], [cd_y, cd_y], color="black", lw=1.5)
    for x in (low, low + ranking.cd):
        ax.plot([x, x], [cd_y - 0.05, cd_y + 0.05], color="black", lw=1.5)
    ax.text(low + ranking.cd / 2, cd_y + 0.08, f"CD = {ranking.cd:.2f}", ha="center", va="bottom", fontsize=9)
    for side, indices in (("left", left), ("right", right)):
        for row, i in enumerate(indices if side == "left" else indices[::-1]):
            y = top - 0.35 - 0.3 * row
            x_label = low - 0.25 if side == "left" else high + 0.25
            rank = ranking.ranks[i]
            ax.plot([rank, rank, x_label], [top, y, y], color="black", lw=0.8)
            ax.text(x_label, y, f"{ranking.names[i]} ({rank:.2f})", ha="right" if side == "left" else "left",
                    va="center", fontsize=9)
    for g, group in enumerate(ranking.tied):
        ranks = [ranking.ranks[ranking.names.index(n)] for n in group]
        y = top - 0.12 - 0.1 * g
        ax.plot([min(ranks) - 0.03, max(ranks) + 0.03], [y, y], color="tab:red", lw=3, solid_capstyle="round")
    ax.set_ylim(top - 0.5 - 0.3 * rows, cd_y + 0.35)
    ax.axis("off")
    verdict = (f"Friedman p = {ranking.p:.3g} over {ranking.tracks} tracks"
               + ("" if ranking.significant() else ": no entry differs (all tied)"))
    ax.set_title(f"Average rank (1 = best); red bars join entries within one CD. {verdict}", fontsize=9)
    fig.tight_layout()
    return fig
