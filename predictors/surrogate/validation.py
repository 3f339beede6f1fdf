"""``nasbench surrogate validate``: fit, check and compare one surrogate the way
NAS-Bench-301 validated theirs, and write its quality card.

Steps (all seeded): held-out fit by training fraction and sampler
(:mod:`~predictors.surrogate.validation_fit`); leave one strategy out; the surrogate that is
kept (``ranking_fraction`` of the table, ``ranking_sampler``) is saved as an artifact and
loaded back, and every table run given is re-run on it with the same seeds
(:mod:`~predictors.surrogate.validation_runs`). Outputs land in the artifact's ``quality/``
folder: quality.json, QUALITY.md and the figures.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nasbench.atomic import atomic_write_text
from nasbench.errors import NasbenchError

QUALITY_FOLDER = "quality"
QUALITY_FORMAT = "nasbench.surrogate-quality/1"


@dataclass(frozen=True)
class ValidationPlan:
    """What ``validate`` fits and runs."""

    fractions: tuple[float, ...] = (0.01, 0.05, 0.1, 0.5)
    samplers: tuple[str, ...] = ("uniform", "trajectories")
    ranking_fraction: float = 0.5
    ranking_sampler: str = "uniform"
    sample_seed: int = 0
    seed: int = 0
    results: tuple[str, ...] = field(default_factory=tuple)
    hyperparameters: dict[str, Any] = field(default_factory=dict)  # the model's, for every fit


def load_table_results(table: Any, files: Sequence[str | Path]) -> dict[str, Any]:
    """label (file stem) -> result, each checked to have run on ``table``."""
    from nasbench.study import StudyResult

    results = {}
    for path in files:
        result = StudyResult.load(path)
        if result.benchmark != "table" or not table.matches(result.table_sha256):
            raise NasbenchError(f"result file {path}: ran on {result.benchmark} {result.table} "
                                f"({result.table_sha256[:12]}), not on table {table.name}")
        label = Path(path).stem
        if label in results:
            raise NasbenchError(f"result file {path}: a second result labelled {label!r}")
        results[label] = result
    if not results:
        raise NasbenchError("--results: give the table runs to compare (nasbench run --out files)")
    return results


def ranked_runs(results: dict[str, Any]) -> list[str]:
    """The labels that enter the ranking: unconstrained runs scored by regret (a latency limit
    or a hypervolume objective is another competition, reported beside it)."""
    return [k for k, r in results.items() if not r.multi_objective and r.max_latency is None]


def validate(table: Any, folder: Path, plan: ValidationPlan, name: str,
             progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run every step; returns the quality record (also written to ``folder/quality/``)."""
    from predictors.surrogate.artifact import save
    from predictors.surrogate.benchmark import load_surrogate_benchmark, table_latency
    from predictors.surrogate.metrics import held_out_metrics
    from predictors.surrogate.model import SurrogateModel
    from predictors.surrogate.sampling import visited_indices
    from predictors.surrogate.validation_fit import fraction_rows, held_out, leave_one_strategy_out, training_cells
    from predictors.surrogate.validation_runs import (
        paired_runs,
        ranking_agreement,
        regret_curves,
        run_summaries,
        split_half_agreement,
    )

    say = progress or (lambda _: None)
    results = load_table_results(table, plan.results)
    visited = visited_indices(plan.results, matches=table.matches)
    hyper = plan.hyperparameters
    fits = fraction_rows(table, plan.fractions, plan.samplers, visited, plan.sample_seed, plan.seed, say, hyper)
    loso = leave_one_strategy_out(table, visited, plan.seed, say, hyper)
    say(f"fit the kept surrogate ({plan.ranking_sampler} {plan.ranking_fraction:g})")
    train = training_cells(table, plan.ranking_sampler, plan.ranking_fraction, visited, plan.sample_seed)
    model = SurrogateModel.fit(table, train, seed=plan.seed, **hyper)
    scores = held_out_metrics(model, table, held_out(table, train))
    sampling = {"sampler": plan.ranking_sampler, "train_fraction": plan.ranking_fraction,
                "sample_seed": plan.sample_seed, "results": list(plan.results)}
    save(model, folder, sampling=sampling, metrics=scores, latency=table_latency(table), overwrite=True)
    benchmark = load_surrogate_benchmark(folder)
    pairs = paired_runs(benchmark, results, progress=lambda label: say(f"run {label} on the surrogate"))
    budget = min(min(len(c.regret) for c in p.table.curves) for p in pairs)
    ranked = [p for p in pairs if p.label in ranked_runs(results)]
    quality = {
        "format": QUALITY_FORMAT, "surrogate": name, "surrogate_sha256": benchmark.sha256,
        "table": {"name": table.name, "sha256": table.sha256, "architectures": int(len(table.indices)),
                  "seeds": [int(s) for s in table.seeds], "epochs": int(table.epochs)},
        "plan": asdict(plan), "kept": {"train": int(len(train)), "held_out": scores},
        "fractions": fits, "leave_one_strategy_out": loso,
        "runs": run_summaries(pairs, budget), "queries": int(budget), "curves": regret_curves(pairs),
        "ranking": ranking_agreement(ranked, budget) if len(ranked) >= 3 else None,
        "table_split_half": split_half_agreement({p.label: p.table for p in ranked}, budget)
        if len(ranked) >= 3 else None,
        "ranking_at": {str(q): ranking_agreement(ranked, q)["kendall_tau"] for q in (25, 50, 100, budget)
                       if q <= budget and len(ranked) >= 3},
    }
    import json

    out = Path(folder) / QUALITY_FOLDER
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "quality.json", json.dumps(quality, indent=1) + "\n")
    render_card(folder)
    return quality


def render_card(folder: Path) -> dict[str, Path]:
    """QUALITY.md and its figures (when matplotlib is installed) from ``folder/quality/quality.json``
    alone: the card can be redrawn without re-running anything."""
    import json

    from nasbench.plotting import have_matplotlib
    from predictors.surrogate.validation_card import quality_card

    out = Path(folder) / QUALITY_FOLDER
    try:
        quality = json.loads((out / "quality.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise NasbenchError(f"{out / 'quality.json'}: no readable quality record ({exc}); run nasbench surrogate "
                            "validate first") from None
    if quality.get("format") != QUALITY_FORMAT:
        raise NasbenchError(f"{out / 'quality.json'}: format {quality.get('format')!r} is not {QUALITY_FORMAT!r}")
    figures: dict[str, Path] = {}
    if have_matplotlib():
        from predictors.surrogate.validation_plot import plot_calibration, plot_fractions, plot_regret_pairs

        figures["regret"] = plot_regret_pairs(quality, out / "regret.png")
        figures["fractions"] = plot_fractions(quality, out / "fractions.png")
        if (quality["kept"]["held_out"].get("noise") or {}).get("coverage_curve"):
            figures["calibration"] = plot_calibration(quality, out / "calibration.png")
    card = out / "QUALITY.md"
    atomic_write_text(card, quality_card(quality, {k: p.name for k, p in figures.items()}))
    return {"card": card, **figures}
