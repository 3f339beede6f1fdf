"""The strategy protocol: ask for an architecture, be told what the oracle said.

A strategy sees the search space and its own numpy Generator, never the table or the
oracle: the run loop (nasbench.study) carries proposals to the oracle and observations
back. Every random choice must come from ``self.rng`` so that the same seed and the
same table give the same trajectory, bit for bit.

In a latency-aware run the strategy also gets ``self.hardware``, a free look-up of one
latency column (and, for a constrained search, the limit). Strategies that draw and
mutate architectures through :meth:`Strategy.sample_arch` and
:meth:`Strategy.mutate_arch` stay inside the limit without further work.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

import numpy as np

from nasbench.protocol import HardwareView, Observation
from nasbench.spaces import SearchSpace

MAX_MUTATION_TRIES = 100


class Strategy(ABC):
    """Base class of search strategies (ask/tell).

    ``ask`` returns an architecture (or a string/index the space understands), or a
    tuple ``(architecture, epochs)`` to ask for a lower fidelity. ``tell`` receives the
    :class:`~nasbench.oracle.Observation` of the latest query. Keyword arguments after
    ``hardware`` are the strategy's hyperparameters (``nasbench run --param k=v``).
    """

    name: ClassVar[str] = ""
    version: ClassVar[str] = "1"
    #: True for strategies that trade accuracy against latency (they need ``hardware``).
    multi_objective: ClassVar[bool] = False
    #: Names of the spaces the strategy models, None for any space (it only samples, mutates,
    #: lists neighbours or encodes through the SearchSpace contract).
    spaces: ClassVar[tuple[str, ...] | None] = None

    def __init__(
        self,
        space: SearchSpace,
        rng: np.random.Generator,
        max_epochs: int | None = None,
        hardware: HardwareView | None = None,
    ) -> None:
        self.space = space
        self.rng = rng
        self.max_epochs = max_epochs
        self.hardware = hardware

    @abstractmethod
    def ask(self) -> Any:
        """The next architecture to query."""

    def tell(self, observation: Observation) -> None:  # noqa: B027 - optional hook
        """Learn from the result of the latest query (default: ignore it)."""

    # -- helpers that respect a latency limit -------------------------------------------
    @property
    def constrained(self) -> bool:
        return self.hardware is not None and self.hardware.constrained

    def feasible(self, arch: Any) -> bool:
        """Whether ``arch`` may be proposed: recorded by a partial table (``space.domain``)
        and within the run's latency limit (always true for a whole space without one)."""
        return self.space.allows(arch) and (not self.constrained or self.hardware.feasible(arch))

    def allowed_indices(self) -> np.ndarray:
        """The indices of every architecture that may be proposed (an enumerable space)."""
        if self.constrained:  # the latency view has no value for unrecorded cells: already within the domain
            return self.hardware.feasible_indices
        return self.space.domain if self.space.domain is not None else np.arange(self.space.size)

    def sample_arch(self) -> Any:
        """A uniformly random architecture (a feasible one, under a latency limit)."""
        if self.constrained:
            indices = self.hardware.feasible_indices
            return self.space.from_index(int(indices[self.rng.integers(len(indices))]))
        return self.space.sample(self.rng)

    def mutate_arch(self, arch: Any) -> Any:
        """A random mutation of ``arch`` (under a limit: a feasible one, else a fresh sample)."""
        for _ in range(MAX_MUTATION_TRIES):
            child = self.space.mutate(arch, self.rng)
            if self.feasible(child):
                return child
        return self.sample_arch()

    def feasible_neighbours(self, arch: Any) -> list[Any]:
        """The space's neighbours of ``arch`` that meet the latency limit, in the space's order."""
        return [n for n in self.space.neighbours(arch) if self.feasible(n)]
