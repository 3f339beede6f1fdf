"""Which architectures a surrogate is fitted on: a uniform sample of the table, or (as
NAS-Bench-301 did) the architectures search strategies visited in recorded runs."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from nasbench.errors import InvalidParameterError, NasbenchError

SAMPLERS = ("uniform", "trajectories")


def sample_count(fraction: float, population: int) -> int:
    """``round(fraction * population)``, at least 8 and fewer than ``population``."""
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0.0 < fraction < 1.0:
        raise InvalidParameterError(f"train_fraction: expected a number in (0, 1), got {fraction!r}")
    count = int(round(fraction * population))
    if not 8 <= count < population:
        raise InvalidParameterError(f"train_fraction: {fraction:g} of {population:,} architectures is {count:,}; "
                                    "a surrogate needs at least 8 and leaves some out")
    return count


def uniform_sample(present: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """A uniform sample (sorted) of ``fraction`` of the ``present`` indices, drawn with ``seed``."""
    present = np.asarray(present, dtype=np.int64)
    chosen = np.random.default_rng(seed).choice(len(present), size=sample_count(fraction, len(present)), replace=False)
    return np.sort(present[chosen])


def visited_indices(result_files: Iterable[str | Path], table_sha256: str | None = None,
                    matches: object = None) -> dict[str, np.ndarray]:
    """strategy -> sorted unique indices its runs queried, from result files (nasbench run --out).
    ``matches(sha256)`` (a table's :meth:`matches`) refuses results of another table."""
    from nasbench.study import StudyResult

    visited: dict[str, set[int]] = {}
    for path in result_files:
        result = StudyResult.load(path)
        if matches is not None and not matches(result.table_sha256):  # type: ignore[operator]
            raise NasbenchError(f"result file {path}: ran on table {result.table} ({result.table_sha256[:12]}), "
                                "not this one")
        cells = visited.setdefault(result.strategy, set())
        for run in result.runs:
            cells.update(int(i) for i in run.trajectory.indices if i >= 0)
    return {name: np.array(sorted(cells), dtype=np.int64) for name, cells in sorted(visited.items())}


def trajectory_sample(visited: dict[str, np.ndarray], present: np.ndarray, fraction: float, seed: int,
                      exclude: str | None = None) -> np.ndarray:
    """``fraction`` of the table drawn uniformly (with ``seed``) from the cells the strategies
    visited (all but ``exclude``'s, for leave-one-strategy-out); an error when they visited fewer."""
    pools = [cells for name, cells in visited.items() if name != exclude]
    if exclude is not None and exclude in visited:
        pool = np.setdiff1d(np.unique(np.concatenate(pools)), visited[exclude]) if pools else np.empty(0, np.int64)
    else:
        pool = np.unique(np.concatenate(pools)) if pools else np.empty(0, np.int64)
    count = sample_count(fraction, len(present))
    if count > len(pool):
        raise InvalidParameterError(f"train_fraction: {fraction:g} is {count:,} architectures, but the trajectories "
                                    f"visit only {len(pool):,} ({len(pool) / len(present):.1%} of the table)")
    return np.sort(np.random.default_rng(seed).choice(pool, size=count, replace=False))


def unseen_cells(arch_hashes: np.ndarray, train: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """The ``candidates`` whose isomorphism class (canonical hash) has no member in ``train``.

    A table trains one cell per class and shares the record, so a held-out cell isomorphic
    to a training cell has the very same targets: scoring on it would flatter the surrogate.
    """
    seen = set(arch_hashes[np.asarray(train, dtype=np.int64)].tolist())
    candidates = np.asarray(candidates, dtype=np.int64)
    keep = np.fromiter((h not in seen for h in arch_hashes[candidates].tolist()), dtype=bool, count=len(candidates))
    return candidates[keep]
