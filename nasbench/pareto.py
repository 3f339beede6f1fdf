"""Pareto fronts and 2-D hypervolume of accuracy (maximised) against latency (minimised),
and the evaluation of a multi-objective run: the hypervolume gap after each query.

The hypervolume indicator (Zitzler & Thiele 1998; "S metric") is the area dominated by a
front and bounded by a reference point; in two dimensions it is exact in O(n log n) after
one sort (as in Fonseca, Paquete & Lopez-Ibanez 2006, the 2-D base case). Protocol of a
run, as single-objective regret (:mod:`nasbench.evaluation`): the front *found* after t
queries is chosen by the validation accuracy the oracle returned, and scored afterwards
with the benchmark's final test accuracy (mean over seeds). Test accuracy is used only here.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nasbench.benchmarks import Benchmark, as_benchmark
from nasbench.errors import NasbenchError
from nasbench.evaluation import RegretCurve
from nasbench.oracle import Trajectory

#: Reference point in normalised objectives: accuracy 0 and the table's slowest latency.
REFERENCE = (0.0, 1.0)


def _pair(acc: Any, latency: Any) -> tuple[np.ndarray, np.ndarray]:
    acc = np.asarray(acc, dtype=np.float64).ravel()
    latency = np.asarray(latency, dtype=np.float64).ravel()
    if acc.shape != latency.shape:
        raise NasbenchError(f"latency: expected {acc.shape[0]} values (one per accuracy), got {latency.shape[0]}")
    return acc, latency


def pareto_mask(acc: Any, latency: Any) -> np.ndarray:
    """(n,) bool: the points no other point dominates (higher-or-equal accuracy and
    lower-or-equal latency, one of them strictly).

    Ties: points equal in both objectives are kept once, at the first position; a point
    with a NaN objective is never on the front. O(n log n): sort by latency (then by
    accuracy, descending) and keep each point that beats every accuracy before it.
    """
    acc, latency = _pair(acc, latency)
    mask = np.zeros(len(acc), dtype=bool)
    ok = np.flatnonzero(np.isfinite(acc) & np.isfinite(latency))
    if len(ok) == 0:
        return mask
    # lexsort: last key is primary -> latency up, accuracy down, position up (first duplicate first)
    order = ok[np.lexsort((ok, -acc[ok], latency[ok]))]
    sorted_acc = acc[order]
    best_before = np.concatenate(([-np.inf], np.maximum.accumulate(sorted_acc)[:-1]))
    mask[order[sorted_acc > best_before]] = True
    return mask


def hypervolume(acc: Any, latency: Any, reference: tuple[float, float]) -> float:
    """Area dominated by the points and bounded by ``reference = (acc_ref, latency_ref)``.

    Points no better than the reference in either objective add nothing. Along the front
    sorted by latency, accuracy rises, so the area is a sum of rectangles.
    """
    acc, latency = _pair(acc, latency)
    acc_ref, latency_ref = (float(r) for r in reference)
    inside = (acc > acc_ref) & (latency < latency_ref)  # NaN compares False: dropped
    acc, latency = acc[inside], latency[inside]
    if len(acc) == 0:
        return 0.0
    front = pareto_mask(acc, latency)
    acc, latency = acc[front], latency[front]
    order = np.argsort(latency, kind="stable")
    acc, latency = acc[order], latency[order]
    widths = np.diff(np.append(latency, latency_ref))
    return float(np.sum(widths * (acc - acc_ref)))


def _objectives(benchmark: Benchmark, device: str,
                feasible: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(normalised test accuracy, normalised latency, usable mask), each of the space's size."""
    latency = np.asarray(benchmark.hardware(device).latency_ms, dtype=np.float64)
    test = np.asarray(benchmark.final_test(), dtype=np.float64)
    usable = np.isfinite(latency) & np.isfinite(test)
    if not usable.any():
        raise NasbenchError(f"latency device {device!r}: benchmark {benchmark.name!r} has no architecture "
                            "with a latency")
    slowest = float(np.max(latency[usable]))
    if feasible is not None:
        usable &= np.asarray(feasible, dtype=bool)
    return test / 100.0, latency / slowest, usable


class _RunningFront:
    """The validation front of the queries so far, updated one query at a time."""

    def __init__(self) -> None:
        self.positions: list[int] = []  # query positions on the front, in arrival order
        self.values: list[tuple[float, float]] = []  # (validation accuracy, latency)

    def add(self, position: int, value: float, latency: float) -> bool:
        """Insert a query; False (front unchanged) if a front point dominates or equals it."""
        for v, lat in self.values:
            if v >= value and lat <= latency:
                return False
        keep = [i for i, (v, lat) in enumerate(self.values) if not (value >= v and latency <= lat)]
        self.positions = [self.positions[i] for i in keep] + [position]
        self.values = [self.values[i] for i in keep] + [(value, latency)]
        return True


def _found_fronts(trajectory: Trajectory, latency: np.ndarray, usable: np.ndarray):
    """For each query: (changed, query positions on the validation front so far)."""
    front = _RunningFront()
    for position, (index, value) in enumerate(zip(trajectory.indices.tolist(), trajectory.values.tolist())):
        changed = bool(usable[index]) and np.isfinite(value) and front.add(position, value, float(latency[index]))
        yield changed, front.positions


def hypervolume_curve(
    benchmark: Benchmark | Any, trajectory: Trajectory, device: str, feasible: np.ndarray | None = None
) -> RegretCurve:
    """Hypervolume gap after each query, in % of the unit box (a RegretCurve).

    gap = HV(benchmark's true front) - HV(found front), where the found front is the Pareto
    front of the queries' (validation accuracy returned, latency) pairs, scored with the
    benchmark's final test accuracy (mean over seeds). Objectives are normalised (accuracy/100,
    latency / the benchmark's slowest), the reference point is (0, 1), the gap is x100.
    Every query counts whatever its fidelity, as in :func:`~nasbench.evaluation.regret_curve`.
    With ``feasible`` (a (size,) bool mask, under a latency limit) only feasible
    architectures count, on both fronts. ``incumbents`` are all -1: a front has no single
    incumbent (see :func:`front_of` for its members).
    """
    acc, latency, usable = _objectives(as_benchmark(benchmark), device, feasible)
    best = hypervolume(acc[usable], latency[usable], REFERENCE)
    gaps = np.empty(len(trajectory), dtype=np.float64)
    found = 0.0
    for position, (changed, members) in enumerate(_found_fronts(trajectory, latency, usable)):
        if changed:
            indices = trajectory.indices[members]
            found = hypervolume(acc[indices], latency[indices], REFERENCE)
        gaps[position] = max(best - found, 0.0) * 100.0
    incumbents = np.full(len(trajectory), -1, dtype=np.int64)
    return RegretCurve(trajectory.elapsed, incumbents, gaps)


def front_of(
    benchmark: Benchmark | Any, trajectory: Trajectory, device: str, feasible: np.ndarray | None = None
) -> list[dict[str, Any]]:
    """The front a run found (chosen by validation, as :func:`hypervolume_curve`), fastest
    first: per member ``arch_index``, ``arch_str``, ``valid_acc`` (the value the oracle
    returned), ``test_acc`` (final, mean over seeds), ``latency_ms`` and ``query`` (1-based)."""
    benchmark = as_benchmark(benchmark)
    _, latency, usable = _objectives(benchmark, device, feasible)
    members: list[int] = []
    for _, members in _found_fronts(trajectory, latency, usable):
        pass
    test = benchmark.final_test()
    latency_ms = benchmark.hardware(device).latency_ms
    space = benchmark.space
    rows = []
    for position in members:
        index = int(trajectory.indices[position])
        rows.append({
            "arch_index": index,
            "arch_str": trajectory.archs[position] if trajectory.archs else space.to_string(space.from_index(index)),
            "valid_acc": float(trajectory.values[position]),
            "test_acc": float(test[index]),
            "latency_ms": float(latency_ms[index]),
            "query": position + 1,
        })
    rows.sort(key=lambda row: (row["latency_ms"], -row["valid_acc"], row["query"]))
    return rows
