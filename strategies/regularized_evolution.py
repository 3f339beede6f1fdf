"""Regularized (aging) evolution: Real, Aggarwal, Huang & Le 2019, "Regularized Evolution
for Image Classifier Architecture Search" (AAAI), Algorithm 1.

A population of ``population_size`` architectures starts from random ones. Each cycle
draws ``sample_size`` members uniformly, mutates the best of them (by validation
accuracy) and, once the child has been evaluated, appends it and removes the *oldest*
member rather than the worst: aging regularises the search against lucky evaluations.

Defaults P=10, S=3 are those of NAS-Bench-201's REA baseline (Dong & Yang 2020,
``exps/NATS-algos/regularized_ea.py``: ``--ea_population 10 --ea_sample_size 3``).
As in Real et al. and that code, the tournament draws its S members uniformly *with*
replacement (a member may be drawn twice).
"""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np

from nasbench.errors import NasbenchError
from nasbench.params import positive_int
from nasbench.protocol import HardwareView, Observation
from nasbench.spaces import SearchSpace
from strategies.base import Strategy
from strategies.registry import register


@register("evolution")
class RegularizedEvolution(Strategy):
    """Aging evolution with tournament selection (ask/tell, one query at a time).

    ``population`` holds ``(arch, value)`` pairs, oldest first; ``last_sample_`` the
    population positions of the latest tournament and ``last_parent_`` its winner.
    """

    version = "1"

    def __init__(
        self,
        space: SearchSpace,
        rng: np.random.Generator,
        max_epochs: int | None = None,
        hardware: HardwareView | None = None,
        *,
        population_size: int = 10,
        sample_size: int = 3,
    ) -> None:
        super().__init__(space, rng, max_epochs, hardware)
        self.population_size = positive_int("population_size", population_size)
        self.sample_size = positive_int("sample_size", sample_size)
        if self.sample_size > self.population_size:
            raise NasbenchError(
                f"sample_size: must be at most population_size ({self.population_size}), got {sample_size!r}"
            )
        self._population: deque[tuple[Any, float]] = deque()
        self.last_sample_: tuple[int, ...] = ()
        self.last_parent_: tuple[Any, float] | None = None

    @property
    def population(self) -> tuple[tuple[Any, float], ...]:
        """The current population as ``(arch, value)`` pairs, oldest first."""
        return tuple(self._population)

    def ask(self) -> Any:
        """A random architecture while the population fills, then a mutated tournament winner."""
        population = self._population
        if len(population) < self.population_size:
            return self.sample_arch()
        sample = self.rng.integers(len(population), size=self.sample_size).tolist()
        parent = max((population[i] for i in sample), key=lambda member: member[1])
        self.last_sample_ = tuple(sample)
        self.last_parent_ = parent
        return self.mutate_arch(parent[0])

    def tell(self, observation: Observation) -> None:
        """Add the evaluated architecture; beyond ``population_size`` the oldest member dies."""
        self._population.append((observation.arch, observation.value))
        if len(self._population) > self.population_size:
            self._population.popleft()
