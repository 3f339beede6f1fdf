"""How many trained architectures a surrogate needs: held-out rank agreement by training-set size.

For a table that is itself a sample of a space too large to train (NB101's 423,624 cells),
the question a user asks of a surrogate is how its ranking of unseen cells improves with the
number of cells trained. One fixed held-out split (``test_fraction`` of the table, drawn once)
scores every fit; each size is fitted ``repeats`` times on different uniform draws from the
rest, so the spread between draws is reported beside the mean. The table's own seed-to-seed
agreement on the held-out cells is the ceiling: a surrogate that predicts the seed mean cannot
be expected to rank one seed's results better than another seed does. "Needed" is the smallest
size whose mean Kendall tau is within ``tolerance`` of the largest size's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from nasbench.errors import InvalidParameterError
from predictors.surrogate.model import SurrogateModel

Progress = Callable[[str], None] | None
TOLERANCE = 0.02  # Kendall tau within which a smaller training set counts as enough


@dataclass(frozen=True)
class SizeFit:
    """One fit: its size, draw, and held-out agreement on the test accuracy and final valid accuracy."""

    size: int
    repeat: int
    kendall_test: float
    spearman_test: float
    kendall_valid: float
    spearman_valid: float


def split(indices: np.ndarray, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(pool, test): a uniform held-out split of the table's architectures, sorted."""
    indices = np.asarray(indices, dtype=np.int64)
    if not 0.0 < test_fraction < 1.0:
        raise InvalidParameterError(f"test_fraction: expected a number in (0, 1), got {test_fraction!r}")
    count = int(round(test_fraction * len(indices)))
    if not 10 <= count <= len(indices) - 8:
        raise InvalidParameterError(f"test_fraction: {test_fraction:g} of {len(indices):,} architectures leaves "
                                    f"{count} to test on and {len(indices) - count} to fit on")
    chosen = np.random.default_rng(np.random.SeedSequence([seed, 0])).permutation(len(indices))[:count]
    test = np.sort(indices[chosen])
    return np.setdiff1d(indices, test), test


def agreement(truth: np.ndarray, predicted: np.ndarray) -> tuple[float, float]:
    """(Kendall tau, Spearman rho) of a prediction."""
    from scipy.stats import kendalltau, spearmanr

    return float(kendalltau(truth, predicted).statistic), float(spearmanr(truth, predicted).statistic)


def seed_ceiling(table: Any, cells: np.ndarray) -> dict[str, float] | None:
    """Kendall and Spearman between the table's first two seeds on ``cells`` (final test and
    valid accuracy): how well one training run ranks another's. None with fewer than 2 seeds."""
    test = table.curve("test_acc")[cells][:, :, -1].astype(np.float64)
    valid = table.curve("valid_acc")[cells][:, :, -1].astype(np.float64)
    if test.shape[1] < 2:
        return None
    ok = np.isfinite(test[:, :2]).all(axis=1) & np.isfinite(valid[:, :2]).all(axis=1)
    kt, st = agreement(test[ok, 0], test[ok, 1])
    kv, sv = agreement(valid[ok, 0], valid[ok, 1])
    return {"kendall_test": kt, "spearman_test": st, "kendall_valid": kv, "spearman_valid": sv, "cells": int(ok.sum())}


def size_fits(table: Any, sizes: Sequence[int], repeats: int = 3, test_fraction: float = 0.25, seed: int = 0,
              progress: Progress = None, hyper: dict[str, Any] | None = None,
              keep: Callable[[SurrogateModel, np.ndarray], None] | None = None) -> dict[str, Any]:
    """Fit every (size, repeat), score on the fixed held-out split; ``keep(model, train)`` is
    called with the first fit of the largest size (the surrogate worth shipping)."""
    from nasbench.table.reader import nanmean_quiet

    pool, test = split(table.indices, test_fraction, seed)
    sizes = sorted({int(s) for s in sizes})
    if not sizes or sizes[0] < 8 or sizes[-1] > len(pool):
        raise InvalidParameterError(f"sizes: each must be within 8..{len(pool)} (the cells outside the "
                                    f"held-out split), got {sizes}")
    if repeats < 1:
        raise InvalidParameterError(f"repeats: must be at least 1, got {repeats}")
    true_test = table.final("test_acc")[test].astype(np.float64)
    true_valid = nanmean_quiet(table.curve("valid_acc")[test][:, :, -1].astype(np.float64), axis=1)
    fits = []
    for size in sizes:
        draws = 1 if size == len(pool) else repeats  # the whole pool has one draw
        for r in range(draws):
            if progress is not None:
                progress(f"fit {size} cells, draw {r + 1} of {draws}")
            rng = np.random.default_rng(np.random.SeedSequence([seed, size, r]))
            train = np.sort(rng.choice(pool, size=size, replace=False))
            model = SurrogateModel.fit(table, train, seed=seed + r, **(hyper or {}))
            kt, st = agreement(true_test, model.test_accuracy(test))
            kv, sv = agreement(true_valid, model.mean_curves(test)[:, -1])
            fits.append(SizeFit(size, r, kt, st, kv, sv))
            if keep is not None and size == sizes[-1] and r == 0:
                keep(model, train)
    return {"test_fraction": test_fraction, "seed": seed, "repeats": repeats, "held_out": int(len(test)),
            "pool": int(len(pool)), "fits": [asdict(f) for f in fits], "summary": summarise(fits),
            "ceiling": seed_ceiling(table, test), "needed": needed(fits)}


def summarise(fits: Sequence[SizeFit]) -> list[dict[str, Any]]:
    """Per size: mean and min-max over draws of each agreement."""
    out = []
    for size in sorted({f.size for f in fits}):
        group = [f for f in fits if f.size == size]
        row: dict[str, Any] = {"size": size, "draws": len(group)}
        for name in ("kendall_test", "spearman_test", "kendall_valid", "spearman_valid"):
            values = np.array([getattr(f, name) for f in group])
            row[name] = {"mean": float(values.mean()), "min": float(values.min()), "max": float(values.max())}
        out.append(row)
    return out


def needed(fits: Sequence[SizeFit], tolerance: float = TOLERANCE) -> dict[str, Any]:
    """The smallest size whose mean test-accuracy Kendall tau is within ``tolerance`` of the largest's."""
    rows = summarise(fits)
    best = rows[-1]["kendall_test"]["mean"]
    size = next(r["size"] for r in rows if r["kendall_test"]["mean"] >= best - tolerance)
    return {"size": int(size), "tolerance": tolerance, "largest": int(rows[-1]["size"]), "largest_kendall": best}
