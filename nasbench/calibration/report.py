"""The calibration study's table: resolution figures and cost per config, as Markdown."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nasbench.calibration.sample import CalibrationSample
from nasbench.calibration.study import Study, StudyConfig, load_results, result_arrays
from nasbench.resolution import Resolution, resolution
from nasbench.resolution_record import figure_text

CLASSES = 5260  # isomorphism classes of the nb201 space: trainings per seed of a full table


@dataclass(frozen=True)
class ConfigSummary:
    """One config's figures: resolution on the weighted sample and its training cost."""

    config: StudyConfig
    trainings: int
    expected: int
    figures: Resolution | None  # None until every training of the sample has finished
    core_seconds: float  # weighted mean CPU seconds of one training (evaluation included)
    table_core_hours: float  # estimated cost of a full table with the study's seeds


def summarise(study: Study, sample: CalibrationSample, out: Path) -> list[ConfigSummary]:
    """A summary of every config of ``study`` that has results under ``out``."""
    rows = []
    for config in study.configs:
        results = load_results(out, config.name)
        if not results:
            continue
        acc, test, curves, cpu = result_arrays(results, sample.indices, study.seeds)
        complete = bool(np.isfinite(acc).all())
        figures = resolution(acc, test, curves, sample.weights) if complete else None
        w = np.repeat(sample.weights[:, None], len(study.seeds), axis=1)
        ok = np.isfinite(cpu)
        core = float(np.average(cpu[ok], weights=w[ok]))
        rows.append(ConfigSummary(config, int(ok.sum()), acc.size, figures, core,
                                  core * CLASSES * len(study.seeds) / 3600))
    return rows


HEADER = ("| config | trainings | core-s / training | table core-h | seed rho | top-10% rho | top-1% overlap "
          "| top-1% spread / noise | last-10% gain | best | median | top-1% span | regret floor | targets met |")


def _fmt(value: float, digits: int = 2) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def markdown_table(rows: Sequence[ConfigSummary]) -> str:
    """One Markdown row per config (figures only for configs whose sample is complete)."""
    lines = [HEADER, "|" + "---|" * (HEADER.count("|") - 1)]
    for r in rows:
        f = r.figures
        if f is None:
            lines.append(f"| {r.config.name} | {r.trainings}/{r.expected} | {_fmt(r.core_seconds)} | "
                         f"{_fmt(r.table_core_hours, 1)} |" + " |" * 10)
            continue
        met = f.targets()
        lines.append(
            f"| {r.config.name} | {r.trainings} | {_fmt(r.core_seconds)} | {_fmt(r.table_core_hours, 1)} | "
            f"{figure_text('seed_spearman', f.seed_spearman)} | {figure_text('top10_spearman', f.top10_spearman, 2)} | "
            f"{figure_text('top1_overlap', f.top1_overlap)} | "
            f"{_fmt(f.top1_spread)} / {_fmt(f.top1_noise)} | {figure_text('last_gain', f.last_gain)} | {_fmt(f.best, 1)} | "
            f"{_fmt(f.median, 1)} | {_fmt(f.top1_span, 1)} | {_fmt(f.regret_floor)} | "
            f"{sum(met.values())}/{len(met)} |")
    return "\n".join(lines)


def describe_configs(rows: Sequence[ConfigSummary]) -> str:
    """A Markdown list: what each config is."""
    out = []
    for r in rows:
        c = r.config
        data = c.dataset if isinstance(c.dataset, str) else ", ".join(f"{k}={v}" for k, v in c.dataset.items())
        train = ", ".join(f"{k}={v}" for k, v in c.train.items())
        out.append(f"- `{c.name}`: dataset {data}; train {train}" + (f". {c.note}" if c.note else ""))
    return "\n".join(out)


def plot_study(rows: Sequence[ConfigSummary], path: str | Path, budget_hours: float = 25.0) -> Path | None:
    """Resolution against cost, one point per finished config: the seed agreement overall
    and in the top 10%, and the top 1%'s spread over its seed noise (1 = as large as the
    noise), against a full table's core-hours, with the budget marked. None if no config
    has finished."""
    done = [r for r in rows if r.figures is not None]
    if not done:
        return None
    from nasbench.plotting import pyplot

    plt = pyplot()

    fig, axes = plt.subplots(1, 3, figsize=(13, 4), constrained_layout=True)
    panels = (("seed_spearman", "seed-to-seed Spearman", 0.97), ("top10_spearman", "top-10% split-half Spearman", 0.7),
              ("ratio", "top-1% spread / seed noise", 1.0))
    for ax, (field, label, target) in zip(axes, panels):
        for r in done:
            f = r.figures
            y = f.top1_spread / f.top1_noise if field == "ratio" else getattr(f, field)
            ax.scatter(r.table_core_hours, y, s=30)
            ax.annotate(r.config.name, (r.table_core_hours, y), fontsize=7, xytext=(3, 3), textcoords="offset points")
        ax.axhline(target, color="green", lw=0.8, ls="--", label="target")
        ax.axvline(budget_hours, color="red", lw=0.8, ls=":", label="budget")
        ax.set_xlabel("core-hours for a 3-seed table")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
