"""NSGA-II: accuracy against latency by non-dominated sorting and crowding distance.

Deb, Pratap, Agarwal & Meyarivan, "A fast and elitist multiobjective genetic algorithm:
NSGA-II", IEEE Transactions on Evolutionary Computation 6(2), 2002.

Adapted to ask/tell: the first ``population_size`` asks are random architectures; after
that every ask is one child (binary tournament on (rank, crowding distance) for each of two
parents, uniform crossover of the edge ops with probability ``crossover_prob``, then one
:meth:`~strategies.base.Strategy.mutate_arch` with probability ``mutation_prob``). When a
whole generation of children has been told, parents and children are merged and the next
population is chosen by non-dominated sorting, the last front cut by crowding distance.
Objectives: the validation accuracy the oracle returned (maximised) and the latency on the
run's device (minimised).

Defaults: ``population_size=20``; ``crossover_prob=0.5``, below the paper's 0.9 because
uniform crossover of six NB201 edges is disruptive (40 seeds, 300 queries, synthetic table,
hypervolume gap: 3.20 at 0.9, 2.97 at 0.5, 2.89 at 0); ``mutation_prob=1.0``: one changed
edge per child, the paper's per-variable rate 1/n in expectation. Children that repeat an
evaluated architecture are redrawn (up to ``MAX_RESAMPLES`` times, then random samples).
Crossover mixes the edge ops of NB201 cells; cells with a graph of their own (NB101: a
matrix and vertex ops, where mixing ops across different graphs is meaningless) are only mutated.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nasbench.errors import NasbenchError
from nasbench.protocol import HardwareView, Observation
from nasbench.spaces import SearchSpace
from strategies.base import Strategy
from strategies.registry import register

#: Fresh children tried before a repeat of an evaluated architecture is accepted.
MAX_RESAMPLES = 10


def non_dominated_sort(objectives: np.ndarray) -> np.ndarray:
    """(n,) int rank of each row of an (n, m) array of objectives, all MINIMISED: 0 for the
    first non-dominated front, 1 for the front once it is removed, ... (Deb et al. 2002's
    fast sort, with the domination counts as one numpy matrix). Equal rows share a rank."""
    f = np.asarray(objectives, dtype=np.float64)
    if f.ndim != 2:
        raise NasbenchError(f"objectives: expected an (n, m) array, got shape {f.shape}")
    n = len(f)
    less_equal = np.all(f[:, None, :] <= f[None, :, :], axis=2)
    less = np.any(f[:, None, :] < f[None, :, :], axis=2)
    dominates = less_equal & less  # dominates[i, j]: i dominates j
    counts = dominates.sum(axis=0)  # how many dominate each point
    ranks = np.full(n, -1, dtype=np.int64)
    front = np.flatnonzero(counts == 0)
    rank = 0
    while len(front):
        ranks[front] = rank
        counts = counts - dominates[front].sum(axis=0)
        counts[ranks >= 0] = -1
        front = np.flatnonzero(counts == 0)
        rank += 1
    return ranks


def crowding_distance(objectives: np.ndarray) -> np.ndarray:
    """(n,) crowding distance of the rows of one front (Deb et al. 2002, Sec. III-B):
    boundary points of each objective get infinity, the others the sum over objectives of
    the normalised gap between their two neighbours. An objective equal on the whole front
    adds nothing (no infinite ends either; fronts of one or two points are all infinite).
    Ties are ordered by position (stable sort), so the result is deterministic."""
    f = np.asarray(objectives, dtype=np.float64)
    n, m = f.shape
    distance = np.zeros(n, dtype=np.float64)
    if n <= 2:
        distance[:] = np.inf
        return distance
    for k in range(m):
        order = np.argsort(f[:, k], kind="stable")
        values = f[order, k]
        span = values[-1] - values[0]
        if span > 0:  # a constant objective (duplicates only, on a front) marks no ends
            distance[order[0]] = distance[order[-1]] = np.inf
            distance[order[1:-1]] += (values[2:] - values[:-2]) / span
    return distance


def rank_and_crowding(objectives: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Non-domination rank and crowding distance (within its front) of every row."""
    ranks = non_dominated_sort(objectives)
    crowding = np.zeros(len(ranks), dtype=np.float64)
    for rank in np.unique(ranks):
        members = np.flatnonzero(ranks == rank)
        crowding[members] = crowding_distance(objectives[members])
    return ranks, crowding


def environmental_selection(objectives: np.ndarray, size: int) -> np.ndarray:
    """Positions of the ``size`` survivors: whole fronts in rank order, the front that does
    not fit cut to its most widely spaced members (largest crowding distance first)."""
    ranks, crowding = rank_and_crowding(objectives)
    # lexsort: last key primary -> rank up, crowding down, position up
    order = np.lexsort((np.arange(len(ranks)), -crowding, ranks))
    return np.sort(order[:size])


@register("nsga2")
class NSGA2(Strategy):
    """NSGA-II over accuracy (max) and latency (min); see the module docstring."""

    version = "1"
    multi_objective = True

    def __init__(
        self,
        space: SearchSpace,
        rng: np.random.Generator,
        max_epochs: int | None = None,
        hardware: HardwareView | None = None,
        *,
        population_size: int = 20,
        crossover_prob: float = 0.5,
        mutation_prob: float = 1.0,
    ) -> None:
        super().__init__(space, rng, max_epochs, hardware)
        if isinstance(population_size, bool) or not isinstance(population_size, (int, np.integer)) \
                or population_size < 2:
            raise NasbenchError(f"population_size: must be an integer >= 2, got {population_size!r}")
        for name, value in (("crossover_prob", crossover_prob), ("mutation_prob", mutation_prob)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
                raise NasbenchError(f"{name}: must be a probability in [0, 1], got {value!r}")
        if hardware is None:
            raise NasbenchError("hardware: nsga2 trades accuracy against latency and needs a latency device")
        self.population_size = int(population_size)
        self.crossover_prob = float(crossover_prob)
        self.mutation_prob = float(mutation_prob)
        self.population: list[tuple[Any, float, float]] = []  # (arch, validation acc, latency ms)
        self.children: list[tuple[Any, float, float]] = []
        self.generation = 0
        self._ranks = np.empty(0, dtype=np.int64)
        self._crowding = np.empty(0)
        self._evaluated: set[int] = set()  # indices already proposed

    # -- ask -------------------------------------------------------------------------
    def ask(self) -> Any:
        initial = len(self.population) < self.population_size
        arch = None
        for _ in range(MAX_RESAMPLES):
            arch = self.sample_arch() if initial else self._child()
            if self._index(arch) not in self._evaluated:
                break
        else:
            for _ in range(MAX_RESAMPLES):  # the population is stuck on repeats: explore
                arch = self.sample_arch()
                if self._index(arch) not in self._evaluated:
                    break
        self._evaluated.add(self._index(arch))
        return arch

    def _index(self, arch: Any) -> int:
        return self.space.index(arch)

    def _tournament(self) -> Any:
        """Binary tournament: the better of two distinct random members by (rank, crowding);
        a full tie goes to the first drawn."""
        a, b = (int(i) for i in self.rng.choice(len(self.population), size=2, replace=False))
        if (self._ranks[b], -self._crowding[b]) < (self._ranks[a], -self._crowding[a]):
            a = b
        return self.population[a][0]

    def crossover(self, first: Any, second: Any) -> Any:
        """Uniform crossover: with probability ``crossover_prob`` each edge takes its op from
        either parent with equal chance; otherwise the first parent is copied."""
        if self.rng.random() >= self.crossover_prob or not hasattr(first, "ops") or hasattr(first, "matrix"):
            return first  # spaces whose architectures are not op tuples: mutation only
        take_second = self.rng.random(len(first.ops)) < 0.5
        ops = tuple(b if t else a for a, b, t in zip(first.ops, second.ops, take_second))
        return type(first)(ops)

    def _child(self) -> Any:
        child = self.crossover(self._tournament(), self._tournament())
        if self.rng.random() < self.mutation_prob:
            child = self.mutate_arch(child)
        return child if self.feasible(child) else self.sample_arch()

    # -- tell ------------------------------------------------------------------------
    def tell(self, observation: Observation) -> None:
        latency = observation.latency
        if latency is None:
            latency = self.hardware.latency(observation.arch)
        member = (observation.arch, float(observation.value), float(latency))
        if len(self.population) < self.population_size:
            self.population.append(member)
            if len(self.population) == self.population_size:
                self._rank_population()
            return
        self.children.append(member)
        if len(self.children) == self.population_size:
            merged = self.population + self.children
            keep = environmental_selection(self._objectives(merged), self.population_size)
            self.population = [merged[i] for i in keep]
            self.children = []
            self.generation += 1
            self._rank_population()

    @staticmethod
    def _objectives(members: list[tuple[Any, float, float]]) -> np.ndarray:
        """(n, 2) minimised objectives: (-validation accuracy, latency)."""
        return np.asarray([(-value, latency) for _, value, latency in members], dtype=np.float64)

    def _rank_population(self) -> None:
        self._ranks, self._crowding = rank_and_crowding(self._objectives(self.population))
