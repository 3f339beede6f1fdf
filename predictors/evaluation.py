"""How predictors are evaluated: a fixed held-out test set, nested training sets per seed,
and rank statistics against the table's test accuracy.

The protocol (White et al. 2021, "How Powerful are Performance Predictors in NAS?", and
NAS-Bench-Suite-Zero): architectures are the table's unique trainings (one per isomorphism
class, so no test cell has a twin in a training set). ``test_size`` of them, drawn once
with ``split_seed``, are held out; for each seed a permutation of the rest gives nested
training sets (the first 10, 20, ... of one order), so sizes differ only by the added
cells. A predictor is fitted on the mean final *validation* accuracy (what a search sees)
and scored against the mean final *test* accuracy of the held-out cells: Kendall tau,
Spearman, precision at the top 10% and 1%, and R^2, with fit and predict seconds.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from nasbench.errors import InvalidParameterError, NasbenchError
from predictors.features import FeatureSpec, build_features
from predictors.proxies.correlate import precision_at

DEFAULT_SIZES = (10, 20, 50, 100, 200, 400, 1000)
FIT_TARGET, SCORE_TARGET = "valid_acc", "test_acc"
METRICS = ("kendall", "spearman", "p@10%", "p@1%", "r2")


@dataclass(frozen=True)
class Split:
    """The held-out test cells and the pool training sets are drawn from."""

    test: np.ndarray
    pool: np.ndarray
    split_seed: int


def unique_trainings(table: Any) -> np.ndarray:
    """Indices of the table's unique trainings (cells whose ``trained_as`` is themselves)
    with a finite validation and test accuracy."""
    index = np.arange(table.space.size)
    trained = np.flatnonzero(table.scalar("trained_as") == index)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ok = np.isfinite(table.final(FIT_TARGET)[trained]) & np.isfinite(table.final(SCORE_TARGET)[trained])
    return trained[ok]


def held_out_split(candidates: np.ndarray, test_size: int, split_seed: int, largest_train: int) -> Split:
    """Hold out ``test_size`` of ``candidates`` (drawn with ``split_seed``); the rest is the pool."""
    candidates = np.sort(np.asarray(candidates, dtype=np.int64))
    if test_size < 10:
        raise InvalidParameterError(f"test_size: expected at least 10 held-out architectures, got {test_size}")
    if test_size + largest_train > len(candidates):
        raise InvalidParameterError(
            f"train sizes: the largest ({largest_train}) plus the test set ({test_size}) exceeds the "
            f"{len(candidates)} unique architectures available")
    order = np.random.default_rng(split_seed).permutation(candidates)
    return Split(test=np.sort(order[:test_size]), pool=np.sort(order[test_size:]), split_seed=split_seed)


def training_order(split: Split, seed: int) -> np.ndarray:
    """The pool in the order seed ``seed`` draws it: training sets are its prefixes."""
    return np.random.default_rng([split.split_seed, seed]).permutation(split.pool)


def score(predicted: np.ndarray, target: np.ndarray) -> dict[str, float]:
    """Rank statistics and R^2 of ``predicted`` against ``target`` (NaN if predictions are constant)."""
    from scipy import stats

    predicted, target = np.asarray(predicted, dtype=np.float64), np.asarray(target, dtype=np.float64)
    if not np.all(np.isfinite(predicted)):
        raise NasbenchError(f"predictions: {int(np.sum(~np.isfinite(predicted)))} of {len(predicted)} are not finite")
    constant = np.ptp(predicted) == 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # constant input: NaN, reported as such
        kendall = np.nan if constant else stats.kendalltau(predicted, target).statistic
        spearman = np.nan if constant else stats.spearmanr(predicted, target).statistic
    residual = np.sum((target - predicted) ** 2)
    return {"kendall": float(kendall), "spearman": float(spearman),
            "p@10%": precision_at(predicted, target, 0.10), "p@1%": precision_at(predicted, target, 0.01),
            "r2": float(1.0 - residual / np.sum((target - target.mean()) ** 2))}


@dataclass(frozen=True)
class EvaluationJob:
    """One predictor variant fitted at every train size for one seed (picklable)."""

    table: str  # a table name or folder, as load_table takes it
    predictor: str
    label: str  # the variant's name in reports, e.g. "xgb+proxies"
    features: FeatureSpec
    train_sizes: tuple[int, ...]
    seed: int
    split: Split
    params: dict[str, Any] = field(default_factory=dict)
    proxy_folder: str | None = None  # where proxy scores are read, when features use them

    @property
    def key(self) -> str:
        return f"{self.label}-seed{self.seed}"


def fit_and_score(job: EvaluationJob) -> list[dict[str, Any]]:
    """Fit the job's predictor on each training-set size and score it on the held-out set:
    one record per size (worker side: loads the table itself). One thread per fit (BLAS and
    torch): the evaluation parallelises over processes, and BLAS threads stall on a busy machine."""
    from threadpoolctl import threadpool_limits

    from nasbench.table import load_table
    from predictors.registry import PREDICTORS, load_predictors, make_predictor

    load_predictors()
    with threadpool_limits(limits=1), _torch_threads(1 if PREDICTORS.get(job.predictor).torch else None):
        return _fit_and_score(job, load_table(job.table), make_predictor)


@contextmanager
def _torch_threads(count: int | None) -> Iterator[None]:
    """torch's intra-op threads set to ``count`` for the block (None: untouched)."""
    if count is None:
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _fit_and_score(job: EvaluationJob, table: Any, make_predictor: Any) -> list[dict[str, Any]]:
    """:func:`fit_and_score` once the thread limits are set."""
    scores = _proxy_scores(table, job) if job.features.proxies else None
    test = job.split.test
    x_test = build_features(table, test, job.features, scores)
    y_fit, y_score = table.final(FIT_TARGET), table.final(SCORE_TARGET)
    order = training_order(job.split, job.seed)
    records = []
    for size in job.train_sizes:
        train = order[:size]
        model = make_predictor(job.predictor, space=table.space, random_state=[job.split.split_seed, job.seed, size],
                               **job.params)
        x_train = build_features(table, train, job.features, scores)
        start = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:  # counted and recorded, not printed per fit
            warnings.simplefilter("always")
            model.fit(x_train, y_fit[train])
        fit_seconds = time.perf_counter() - start
        start = time.perf_counter()
        predicted = np.asarray(model.predict(x_test), dtype=np.float64)
        predict_seconds = time.perf_counter() - start
        records.append({"predictor": job.predictor, "label": job.label, "features": job.features.describe(),
                        "train_size": size, "seed": job.seed, **score(predicted, y_score[test]),
                        "fit_seconds": fit_seconds, "predict_seconds": predict_seconds,
                        "fit_warnings": len(caught)})
    return records


def _proxy_scores(table: Any, job: EvaluationJob) -> dict[str, np.ndarray]:
    """Proxy name -> (size,) score of the first recorded init seed."""
    from pathlib import Path

    from predictors.proxies.reading import read_scores

    _, scores = read_scores(table, Path(job.proxy_folder) if job.proxy_folder else None)
    return {name: values[0] for name, values in scores.items()}


def job_record(job: EvaluationJob) -> dict[str, Any]:
    """The job's settings, as recorded in the evaluation's manifest."""
    out = asdict(job)
    out["split"] = {"split_seed": job.split.split_seed, "test": len(job.split.test), "pool": len(job.split.pool)}
    return out


def check_sizes(sizes: Sequence[int]) -> tuple[int, ...]:
    """Train sizes as a sorted tuple of distinct integers >= 2 (a named error otherwise)."""
    out = sorted(set(int(s) for s in sizes))
    if not out or out[0] < 2:
        raise InvalidParameterError(f"train sizes: expected integers >= 2, got {list(sizes)}")
    return tuple(out)
