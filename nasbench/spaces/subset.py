"""A space restricted to the architectures a table recorded, for searching a partial table.

A table generated for a subset of cells (``nasbench generate --archs 200``) can only answer
for those cells. Strategies search it through this view: architectures keep their indices,
strings and encodings (results stay comparable with the full space), while ``sample``
draws uniformly among the recorded cells, ``mutate`` re-draws the mutation until it lands
on a recorded cell (falling back to a recorded neighbour, then to a fresh sample) and
``neighbours`` lists only recorded ones. ``domain`` holds the recorded indices, which
strategies that enumerate the space use instead of ``range(size)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from nasbench.errors import OutOfDomainError
from nasbench.spaces.base import SearchSpace

if TYPE_CHECKING:
    import networkx as nx

MUTATION_TRIES = 100  # re-draws of a mutation before falling back to a recorded neighbour


class SubsetSpace(SearchSpace):
    """``base`` restricted to ``indices`` (which must be non-empty)."""

    def __init__(self, base: SearchSpace, indices: Sequence[int] | np.ndarray) -> None:
        domain = np.unique(np.asarray(indices, dtype=np.int64))
        if len(domain) == 0:
            raise OutOfDomainError(f"{base.name}: a subset space needs at least one architecture")
        domain.flags.writeable = False
        self.base = base
        self.name, self.size, self.encodings = base.name, base.size, base.encodings
        self.graph_shape = base.graph_shape
        self.domain = domain
        self._allowed = np.zeros(base.size or int(domain[-1]) + 1, dtype=bool)
        self._allowed[domain] = True

    def __repr__(self) -> str:
        return f"SubsetSpace({self.base.name}, {len(self.domain)} of {self.size} architectures)"

    def allows(self, arch: Any) -> bool:
        index = self.base.index(self.base.coerce(arch))
        return bool(index < len(self._allowed) and self._allowed[index])

    # -- restricted to the recorded cells ------------------------------------------------
    def sample(self, rng: np.random.Generator) -> Any:
        return self.base.from_index(int(self.domain[rng.integers(len(self.domain))]))

    def mutate(self, arch: Any, rng: np.random.Generator) -> Any:
        for _ in range(MUTATION_TRIES):
            child = self.base.mutate(arch, rng)
            if self.allows(child):
                return child
        recorded = self.neighbours(arch)
        return recorded[int(rng.integers(len(recorded)))] if recorded else self.sample(rng)

    def neighbours(self, arch: Any) -> list[Any]:
        return [n for n in self.base.neighbours(arch) if self.allows(n)]

    # -- the base space's own -----------------------------------------------------------
    def parse(self, text: str) -> Any:
        return self.base.parse(text)

    def to_string(self, arch: Any) -> str:
        return self.base.to_string(arch)

    def index(self, arch: Any) -> int:
        return self.base.index(arch)

    def from_index(self, index: int) -> Any:
        return self.base.from_index(index)

    def coerce(self, value: Any) -> Any:
        return self.base.coerce(value)

    def hash(self, arch: Any) -> str:
        return self.base.hash(arch)

    def to_graph(self, arch: Any) -> nx.DiGraph:
        return self.base.to_graph(arch)

    def encode(self, archs: Sequence[Any], kind: str) -> np.ndarray:
        return self.base.encode(archs, kind)

    def __getattr__(self, name: str) -> Any:  # the base space's extras (index_of, indices, ops, ...)
        if name == "base":  # not set yet (during unpickling): no recursion
            raise AttributeError(name)
        return getattr(self.base, name)
