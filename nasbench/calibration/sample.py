"""A fixed, stratified sample of isomorphism classes for calibration, denser at the top.

Classes are ranked by a reference table's seed-mean final validation accuracy (by default
the v1 ``nb201-mnist1d``) and split into strata by rank; each stratum gives a fixed number
of classes, drawn with a seeded numpy Generator. Each sampled class carries the weight
(stratum size / classes drawn from it), so the figures of :mod:`nasbench.resolution`
estimate those of the whole space, while the top 1% -- where tables fail -- is measured on
dozens of classes instead of two. Each class is trained through its table representative
(``trained_as``: the cheapest member), as the generator does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# (upper rank share, classes drawn): 70 of the best 2%, 50 of 2-10%, 45 of 10-50%, 35 of the rest
STRATA: tuple[tuple[float, int], ...] = ((0.02, 70), (0.10, 50), (0.50, 45), (1.0, 35))


@dataclass(frozen=True)
class CalibrationSample:
    """Representative architecture indices, their weights and strata, and where they came from."""

    indices: np.ndarray  # (n,) architecture index of each class's representative
    weights: np.ndarray  # (n,) classes of the space each sampled class stands for
    strata: np.ndarray  # (n,) stratum number, 0 = top
    reference: str  # the table that ranked the classes, with its sha256
    seed: int

    def __len__(self) -> int:
        return len(self.indices)


def stratified_sample(reference_acc: np.ndarray, representatives: np.ndarray,
                      strata: tuple[tuple[float, int], ...] = STRATA, seed: int = 0,
                      reference: str = "") -> CalibrationSample:
    """Draw ``strata`` from classes ranked by ``reference_acc`` (one value per class, best
    first after sorting); ``representatives`` are the classes' architecture indices."""
    acc = np.asarray(reference_acc, dtype=np.float64)
    reps = np.asarray(representatives, dtype=np.int64)
    if acc.shape != reps.shape or acc.ndim != 1:
        raise ValueError(f"reference_acc and representatives: need equal 1-D shapes, got {acc.shape}, {reps.shape}")
    uppers = [upper for upper, _ in strata]
    if not strata or uppers != sorted(uppers) or len(set(uppers)) != len(uppers) or uppers[-1] != 1.0:
        raise ValueError(f"strata: upper rank shares must increase and end at 1.0, got {uppers}")
    order = np.argsort(-acc, kind="mergesort")
    rng = np.random.default_rng(seed)
    lo, chosen, weights, labels = 0, [], [], []
    for k, (upper, count) in enumerate(strata):
        hi = int(round(upper * len(order)))
        pool = order[lo:hi]
        if count > len(pool) or count < 1:
            raise ValueError(f"strata: stratum {k} has {len(pool)} classes, cannot draw {count}")
        picked = np.sort(rng.choice(pool, size=count, replace=False))
        chosen.append(reps[picked])
        weights.append(np.full(count, len(pool) / count))
        labels.append(np.full(count, k))
        lo = hi
    return CalibrationSample(np.concatenate(chosen), np.concatenate(weights), np.concatenate(labels),
                             reference, seed)


def sample_from_table(table, strata: tuple[tuple[float, int], ...] = STRATA, seed: int = 0) -> CalibrationSample:  # noqa: ANN001
    """The stratified sample of ``table``'s classes (ranked by their seed-mean final valid acc)."""
    from nasbench.resolution import table_arrays

    index = table.indices
    reps = index[table.scalar("trained_as")[index] == index]
    acc = table_arrays(table)[0].mean(axis=1)
    return stratified_sample(acc, reps, strata, seed, reference=f"{table.name} (sha256 {table.sha256[:16]})")
