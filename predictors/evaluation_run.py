"""Running a predictor evaluation: plan the jobs, run them (in this process or in worker
processes), keep each finished job's records in a work folder so an interrupted run
resumes, then gather everything into one Parquet file and a manifest.

Output folder (default ``TABLE/predictors/``): ``evaluation.parquet`` (one row per
predictor variant, train size and seed), ``baselines.parquet`` (proxies, #params and the
oracle on the same held-out cells), ``evaluation.json`` (settings, versions, the summary
with intervals) and ``work/`` (one JSON per finished job; safe to delete afterwards).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nasbench.atomic import atomic_path, atomic_write_text
from nasbench.errors import NasbenchError
from predictors.evaluation import (
    FIT_TARGET,
    SCORE_TARGET,
    EvaluationJob,
    Split,
    fit_and_score,
    held_out_split,
    job_record,
    unique_trainings,
)
from predictors.features import FeatureSpec

FOLDER = "predictors"
FORMAT = "nasbench-predictor-evaluation/1"


@dataclass(frozen=True)
class EvaluationPlan:
    """Everything that decides an evaluation's numbers (recorded in its manifest)."""

    table: str
    predictors: tuple[str, ...]
    train_sizes: tuple[int, ...]
    seeds: int
    test_size: int = 1000
    split_seed: int = 0
    with_proxies: bool = False  # also fit every predictor with proxy scores as extra features
    encoding: str | None = None  # None: each predictor's own default
    proxy_folder: str | None = None  # where the proxy scores are (None: TABLE/proxies/)


def plan_jobs(table: Any, plan: EvaluationPlan, proxy_names: Sequence[str] = ()) -> tuple[Split, list[EvaluationJob]]:
    """The held-out split and one job per (variant, seed); with proxies, only cells scored by
    every proxy are candidates (for the variants without proxies too, so all see one split)."""
    from predictors.registry import PREDICTORS

    candidates = unique_trainings(table)
    if plan.with_proxies:
        candidates = candidates[np.isin(candidates, scored_everywhere(table, plan.proxy_folder))]
    split = held_out_split(candidates, plan.test_size, plan.split_seed, max(plan.train_sizes))
    jobs = []
    for name in plan.predictors:
        spec = PREDICTORS.get(name)
        base = FeatureSpec(plan.encoding or spec.encoding, curve_fraction=0.25 if spec.curve else 0.0)
        variants = [(name, base)]
        if plan.with_proxies:
            variants.append((f"{name}+proxies", FeatureSpec(base.encoding, tuple(proxy_names), base.curve_fraction)))
        for label, features in variants:
            jobs += [EvaluationJob(plan.table, name, label, features, plan.train_sizes, seed, split,
                                   proxy_folder=plan.proxy_folder if features.proxies else None)
                     for seed in range(plan.seeds)]
    return split, jobs


def scored_everywhere(table: Any, folder: str | None = None) -> np.ndarray:
    """Indices with a score from every proxy under the first init seed (a score is NaN where
    the cell was not scored or the proxy raised; infinite scores count as scored)."""
    from predictors.proxies.reading import read_scores

    _, scores = read_scores(table, Path(folder) if folder else None)
    scored = np.ones(table.space.size, dtype=bool)
    for values in scores.values():
        scored &= ~np.isnan(values[0])
    return np.flatnonzero(scored)


def run_evaluation(jobs: Sequence[EvaluationJob], folder: Path, workers: int = 1,
                   progress: Callable[[int, int], None] | None = None) -> list[dict[str, Any]]:
    """Run the jobs not yet finished in ``folder/work`` and return every job's records."""
    work = folder / "work"
    work.mkdir(parents=True, exist_ok=True)
    records: list[dict[str, Any]] = []
    todo = []
    for job in jobs:
        done = _read_done(work / f"{job.key}.json", job)
        if done is None:
            todo.append(job)
        else:
            records += done
    if progress:
        progress(len(jobs) - len(todo), len(jobs))
    for job, result in _execute(todo, workers):
        atomic_write_text(work / f"{job.key}.json", json.dumps({"job": job_record(job), "records": result}))
        records += result
        if progress:
            progress(1, len(jobs))
    return records


def _execute(jobs: Sequence[EvaluationJob], workers: int) -> Iterator[tuple[EvaluationJob, list[dict[str, Any]]]]:
    if workers <= 1 or len(jobs) <= 1:
        for job in jobs:
            yield job, fit_and_score(job)
        return
    from nasbench.generator.execute import run_processes

    yield from run_processes(jobs, workers, work=fit_and_score)


def _read_done(path: Path, job: EvaluationJob) -> list[dict[str, Any]] | None:
    """A finished job's records, or None if it has not run (or ran with other settings)."""
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # a damaged file is redone, not trusted
    return data["records"] if data.get("job") == json.loads(json.dumps(job_record(job))) else None


def baselines(table: Any, split: Split, proxy_names: Sequence[str], draws: int = 200,
              proxy_folder: str | None = None) -> list[dict[str, Any]]:
    """Scores that need no training, on the held-out cells: #params, each proxy (mean over
    init seeds, bootstrap interval over cells), and the oracle (the cells' own mean validation
    accuracy: the ceiling for anything fitted on validation accuracy)."""
    from predictors.proxies.correlate import figures_for

    test = split.test
    target = table.final(SCORE_TARGET)[test]
    rows: dict[str, np.ndarray] = {"#params": table.scalar("params")[test][None].astype(np.float64),
                                   f"oracle ({FIT_TARGET})": table.final(FIT_TARGET)[test][None]}
    if proxy_names:
        from predictors.proxies import PROXIES, load_proxies
        from predictors.proxies.reading import read_scores

        load_proxies()
        _, scores = read_scores(table, Path(proxy_folder) if proxy_folder else None)
        for name in proxy_names:
            rows[f"proxy {name}"] = PROXIES.get(name).sign * scores[name][:, test]
    out = []
    for label, values in rows.items():
        finite = np.all(np.isfinite(values), axis=0)
        figures = figures_for(values[:, finite], target[finite], np.random.default_rng(0), draws)
        out.append({"label": label, "cells": int(finite.sum()),
                    **{f"{k}": v[0] for k, v in figures.items()},
                    **{f"{k}_low": v[1] for k, v in figures.items()},
                    **{f"{k}_high": v[2] for k, v in figures.items()}})
    return out


def write_outputs(folder: Path, records: list[dict[str, Any]], base: list[dict[str, Any]],
                  manifest: dict[str, Any]) -> dict[str, Path]:
    """evaluation.parquet, baselines.parquet and evaluation.json, each written atomically."""
    import pandas as pd

    paths = {"records": folder / "evaluation.parquet", "baselines": folder / "baselines.parquet",
             "manifest": folder / "evaluation.json"}
    frame = pd.DataFrame.from_records(records).sort_values(["label", "train_size", "seed"], kind="stable")
    for key, data in (("records", frame), ("baselines", pd.DataFrame.from_records(base))):
        with atomic_path(paths[key]) as tmp:
            data.to_parquet(tmp, index=False)
    atomic_write_text(paths["manifest"], json.dumps(manifest, indent=1, default=_json_default) + "\n")
    return paths


def _json_default(value: Any) -> Any:
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def require_proxies(table: Any, folder: str | None = None) -> list[str]:
    """The proxies scored for ``table`` (an error naming the command to run if none)."""
    from predictors.proxies.reading import read_scores

    try:
        _, scores = read_scores(table, Path(folder) if folder else None)
    except NasbenchError as exc:
        raise NasbenchError(f"--with-proxies: {exc}") from None
    return sorted(scores)
