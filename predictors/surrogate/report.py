"""Held-out quality of surrogates fitted on growing uniform samples of a table, with the
xgboost predictor on the final validation accuracy alongside for comparison.

``python -m predictors.surrogate.report tables/nb201-mnist1d [--fractions 0.01 0.05] [--seed 0]``
prints one JSON object per fraction (nothing is written to disk).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from predictors.surrogate.metrics import held_out_metrics, rank_scores, split_indices
from predictors.surrogate.model import SurrogateModel

FRACTIONS = (0.01, 0.05, 0.1, 0.5)


def xgb_scores(table: Any, train: np.ndarray, held_out: np.ndarray, seed: int) -> dict[str, Any]:
    """The registered "xgb" predictor's held-out scores on final valid and test accuracy."""
    from predictors.registry import load_predictors, make_predictor

    load_predictors()
    X = table.space.encode(np.arange(table.space.size), "onehot").astype(np.float64)
    out = {}
    for metric in ("valid_acc", "test_acc"):
        y = table.final(metric).astype(np.float64)
        model = make_predictor("xgb", random_state=seed).fit(X[train], y[train])
        out[metric] = rank_scores(y[held_out], model.predict(X[held_out]))
    return out


def quality(table: Any, fractions: Sequence[float] = FRACTIONS, seed: int = 0, xgb: bool = True) -> list[dict[str, Any]]:
    """One record per fraction: fit time, surrogate held-out metrics, and xgboost's."""
    records = []
    for fraction in fractions:
        train, held_out = split_indices(table, fraction, seed)
        start = time.perf_counter()
        model = SurrogateModel.fit(table, train, seed=seed)
        record = {"fraction": fraction, "train": len(train), "fit_seconds": round(time.perf_counter() - start, 1),
                  "surrogate": held_out_metrics(model, table, held_out)}
        if xgb:
            record["xgb"] = xgb_scores(table, train, held_out, seed)
        records.append(record)
        print(json.dumps(record), flush=True)
    return records


def main(argv: Sequence[str] | None = None) -> None:
    """Command-line entry: print the quality records of one table."""
    from nasbench.table import read_table

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("table")
    parser.add_argument("--fractions", type=float, nargs="+", default=list(FRACTIONS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-xgb", action="store_true")
    args = parser.parse_args(argv)
    quality(read_table(args.table), args.fractions, args.seed, xgb=not args.no_xgb)


if __name__ == "__main__":
    main()
