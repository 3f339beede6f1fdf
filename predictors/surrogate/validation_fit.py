"""How well a surrogate fits, by training-set size and sampler, and out of distribution.

NAS-Bench-301's checks on the table the surrogate imitates: fit on 1%, 5%, 10% and 50% of
the architectures, drawn uniformly and from search trajectories, and score the held-out rest
(R2, Kendall tau, sparse Kendall tau of the mean prediction; the noise model's calibration);
then leave one strategy out: fit without the cells its runs visited and test on them, which
is what a new strategy that explores elsewhere would meet. Scores count only cells with no
isomorph among the training cells (the table shares one record per isomorphism class).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from nasbench.errors import InvalidParameterError
from predictors.surrogate.metrics import held_out_metrics, rank_scores
from predictors.surrogate.model import SurrogateModel
from predictors.surrogate.sampling import trajectory_sample, uniform_sample, unseen_cells

Progress = Callable[[str], None] | None


def held_out(table: Any, train: np.ndarray) -> np.ndarray:
    """The cells a surrogate fitted on ``train`` is scored on: every other cell of the table
    that is not isomorphic to a training cell (isomorphs share the table's record)."""
    return unseen_cells(table.arch_hashes, train, np.setdiff1d(table.indices, train))


def training_cells(table: Any, sampler: str, fraction: float, visited: dict[str, np.ndarray], sample_seed: int) -> np.ndarray:
    """Indices to fit on: ``fraction`` of the table, uniform or from the visited cells."""
    if sampler == "uniform":
        return uniform_sample(table.indices, fraction, sample_seed)
    return trajectory_sample(visited, table.indices, fraction, sample_seed)


def fraction_rows(table: Any, fractions: Sequence[float], samplers: Sequence[str], visited: dict[str, np.ndarray],
                  sample_seed: int = 0, seed: int = 0, progress: Progress = None,
                  hyper: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """One row per (sampler, fraction): training cells and held-out metrics (or why it was skipped)."""
    rows = []
    for sampler in samplers:
        for fraction in fractions:
            if progress is not None:
                progress(f"fit {sampler} {fraction:g}")
            row: dict[str, Any] = {"sampler": sampler, "fraction": float(fraction)}
            try:
                train = training_cells(table, sampler, fraction, visited, sample_seed)
            except InvalidParameterError as exc:
                rows.append(row | {"skipped": str(exc)})
                continue
            model = SurrogateModel.fit(table, train, seed=seed, **(hyper or {}))
            rows.append(row | {"train": int(len(train)), "held_out": held_out_metrics(model, table, held_out(table, train))})
    return rows


def leave_one_strategy_out(table: Any, visited: dict[str, np.ndarray], seed: int = 0, progress: Progress = None,
                           hyper: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Per strategy: fit on every other strategy's visited cells except its own, test on its own."""
    from nasbench.table.reader import nanmean_quiet

    valid = nanmean_quiet(table.curve("valid_acc")[:, :, -1].astype(np.float64), axis=1)
    test = table.final("test_acc").astype(np.float64)
    rows = []
    for name, own in visited.items():
        others = [cells for other, cells in visited.items() if other != name]
        train = np.setdiff1d(np.unique(np.concatenate(others)), own) if others else np.empty(0, np.int64)
        if len(train) < 8 or len(own) < 3:
            rows.append({"strategy": name, "skipped": f"{len(train)} training and {len(own)} test cells"})
            continue
        if progress is not None:
            progress(f"leave out {name}")
        own = unseen_cells(table.arch_hashes, train, own)
        if len(own) < 3:
            rows.append({"strategy": name, "skipped": f"{len(own)} of its cells are not isomorphic to a training cell"})
            continue
        model = SurrogateModel.fit(table, train, seed=seed, **(hyper or {}))
        rows.append({"strategy": name, "train": int(len(train)), "test": int(len(own)),
                     "final_valid_acc": rank_scores(valid[own], model.mean_curves(own)[:, -1]),
                     "test_acc": rank_scores(test[own], model.test_accuracy(own))})
    return rows
